"""Bounds on what people type, so that out-of-range input is a clear field error and never a
500: dates within sane years, whole numbers that fit the database, free text of a sensible
length. One mechanism for every form and filter (`BoundedInputMixin`, which the project's form
base class includes) and every API input serializer (`BoundedSerializerMixin`).

A field that needs other bounds says so itself: an explicit `max_length`, `max_value` /
`min_value`, or a `DateBounds(...)` validator of its own is kept as it is.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

EARLIEST_DATE = date(1900, 1, 1)
FUTURE_YEARS = 10  # how far ahead a date may be, unless a field says otherwise
TEXT_MAX_LENGTH = 2000  # free text (notes, reasons, searches) unless a field says otherwise
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1  # PostgreSQL's integer
DECIMAL_LIMIT = Decimal(10**12)

_MARK = "_input_bounded"


def years_after(day: date, years: int) -> date:
    """The same day `years` later (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@deconstructible
class DateBounds:
    """A date (or the local date of a time) from `earliest` to `future_years` after today."""

    message = _("Enter a date between %(earliest)s and %(latest)s.")
    code = "date_out_of_range"

    def __init__(self, *, earliest: date = EARLIEST_DATE, future_years: int = FUTURE_YEARS):
        self.earliest = earliest
        self.future_years = future_years

    def latest(self) -> date:
        return years_after(timezone.localdate(), self.future_years)

    def __call__(self, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, datetime):
            day = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        else:
            day = value
        latest = self.latest()
        if not self.earliest <= day <= latest:
            raise ValidationError(
                self.message,
                code=self.code,
                params={"earliest": self.earliest.isoformat(), "latest": latest.isoformat()},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateBounds) and (self.earliest, self.future_years) == (
            other.earliest,
            other.future_years,
        )

    def __hash__(self) -> int:
        return hash((self.earliest, self.future_years))


def _has(validators: list[Any], kind: type) -> bool:
    return any(isinstance(v, kind) for v in validators)


def bound_form_field(field: forms.Field) -> None:
    """Give one form field the default bounds it lacks (once; later calls do nothing)."""
    if getattr(field, _MARK, False):
        return
    setattr(field, _MARK, True)
    if isinstance(field, forms.MultiValueField):  # date ranges and split date-times
        for inner in field.fields:
            bound_form_field(inner)
    if isinstance(field, forms.DateField | forms.DateTimeField):
        if not _has(field.validators, DateBounds):
            field.validators.append(DateBounds())
    elif isinstance(field, forms.CharField):
        if field.max_length is None:
            field.max_length = TEXT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
            if not field.widget.is_hidden:
                field.widget.attrs.setdefault("maxlength", str(TEXT_MAX_LENGTH))
    elif isinstance(field, forms.DecimalField | forms.FloatField):
        if field.max_value is None:
            field.validators.append(MaxValueValidator(DECIMAL_LIMIT))
        if field.min_value is None:
            field.validators.append(MinValueValidator(-DECIMAL_LIMIT))
    elif isinstance(field, forms.IntegerField):
        if field.max_value is None:
            field.max_value = INTEGER_MAX
            field.validators.append(MaxValueValidator(INTEGER_MAX))
        if field.min_value is None:
            field.min_value = INTEGER_MIN
            field.validators.append(MinValueValidator(INTEGER_MIN))


class BoundedInputMixin:
    """Applies the default bounds to every field of a form, including fields added after
    `__init__` (they are bounded again, at no cost, before validation)."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bound_fields()

    def bound_fields(self) -> None:
        for field in self.fields.values():
            bound_form_field(field)

    def full_clean(self) -> None:
        self.bound_fields()
        super().full_clean()  # type: ignore[misc]


def bound_serializer_field(field: serializers.Field) -> None:
    """The same default bounds for a DRF field (and the items of list and dict fields)."""
    if getattr(field, _MARK, False):
        return
    setattr(field, _MARK, True)
    child = getattr(field, "child", None)
    if isinstance(child, serializers.Field):
        bound_serializer_field(child)
    if isinstance(field, serializers.DateField | serializers.DateTimeField):
        if not _has(field.validators, DateBounds):
            field.validators.append(DateBounds())
    elif isinstance(field, serializers.CharField) and not isinstance(
        field, serializers.ChoiceField
    ):
        if field.max_length is None:
            field.max_length = TEXT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
    elif isinstance(field, serializers.IntegerField):
        if field.max_value is None:
            field.max_value = INTEGER_MAX
            field.validators.append(MaxValueValidator(INTEGER_MAX))
        if field.min_value is None:
            field.min_value = INTEGER_MIN
            field.validators.append(MinValueValidator(INTEGER_MIN))
    elif isinstance(field, serializers.DecimalField | serializers.FloatField):
        if field.max_value is None:
            field.validators.append(MaxValueValidator(DECIMAL_LIMIT))
        if field.min_value is None:
            field.validators.append(MinValueValidator(-DECIMAL_LIMIT))


class BoundedSerializerMixin:
    """Applies the default bounds to every field of an input serializer: bad input is a 400
    with field errors."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = super().get_fields()  # type: ignore[misc]
        for field in fields.values():
            bound_serializer_field(field)
        return fields


# A number typed into a URL or a form is at most this many digits (a bigint id has 19).
_MAX_DIGITS = 18


def is_ascii_digits(raw: str | None) -> bool:
    """Only the digits 0 to 9: `str.isdigit()` also accepts "²" or "１２", which `int()` refuses
    or reads differently, so every request value is checked with this instead."""
    return bool(raw) and raw.isascii() and raw.isdigit()  # type: ignore[union-attr]


def whole_number(
    raw: str | None, *, default: int | None = None, low: int | None = None, high: int | None = None
) -> int | None:
    """A request value as a non-negative whole number within [low, high], or `default` when it
    is missing, not ASCII digits, too long, or out of bounds. Never raises."""
    raw = (raw or "").strip()
    if not is_ascii_digits(raw) or len(raw) > _MAX_DIGITS:
        return default
    value = int(raw)
    if (low is not None and value < low) or (high is not None and value > high):
        return default
    return value


def person_name(value: str) -> str:
    """A person's name as typed, spaces collapsed; refused (a field error) unless it holds a
    letter of some script (a Chinese character counts), so that `{}` or `123` is not a name."""
    name = " ".join(str(value).split())
    if not any(unicodedata.category(character).startswith("L") for character in name):
        raise ValidationError(_("A name must contain letters."), code="no_letters")
    return name
