"""Reading one row of an import: the cells turned into the child form's data, the row's errors
under the file's own column names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from cases.forms.child import ChildForm
from cases.forms.places import institutions_for
from cases.imports.template import (
    CATEGORY_NAMES,
    CATEGORY_SEPARATORS,
    COLUMNS,
    FIELD_HEADERS,
    SEXES,
)
from cases.models import Category
from core.spreadsheets import cell_value
from institutions.models import Institution, User


def category_lookup() -> dict[str, str]:
    """Every accepted spelling of a category (policy name, label in each language, code)."""
    lookup: dict[str, str] = {}
    for value, names in CATEGORY_NAMES.items():
        for name in (*names, value):
            lookup[name.casefold()] = value
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for value, label in Category.choices:
                lookup.setdefault(str(label).casefold(), value)
    return lookup


def _names_to_pks(queryset: QuerySet[Institution]) -> dict[str, int | None]:
    """Name → pk; None marks a name two institutions share (it cannot be told apart)."""
    found: dict[str, int | None] = {}
    for pk, name in queryset.values_list("pk", "name"):
        key = " ".join(name.split())
        found[key] = None if key in found else pk
    return found


class RowChecker:
    """Turns one row into ChildForm data, and reports its errors under the file's column names."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.categories = category_lookup()
        self.schools = _names_to_pks(institutions_for(user, {Institution.Kind.SCHOOL}))
        self.institutions = _names_to_pks(
            institutions_for(user, set(Institution.RESIDENTIAL_KINDS))
        )

    def _institution(self, name: str, names: dict[str, int | None], unknown: str) -> Any:
        key = " ".join(name.split())
        if key not in names:
            raise forms.ValidationError(unknown % {"name": key})
        pk = names[key]
        if pk is None:
            raise forms.ValidationError(
                _("Several institutions are called %(name)s: ask an administrator to rename one.")
                % {"name": key}
            )
        return pk

    def _prepare(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Form data from the cells, and errors the form could not word well."""
        data: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for header, field in COLUMNS.items():
            value = values.get(header, "")
            if field == "national_id" and isinstance(value, float):
                errors[field] = _(
                    "Excel stored this ID number as a number and lost its last digits: "
                    "format the column as text and type it again."
                )
                continue
            data[field] = cell_value(value)
        sex = str(data.get("sex", ""))
        if sex:
            data["sex"] = SEXES.get(sex.upper())
            if data["sex"] is None:
                errors["sex"] = _("Write 男 (male) or 女 (female).")
        categories = []
        for name in CATEGORY_SEPARATORS.split(str(data.get("categories", ""))):
            name = name.strip()
            if not name:
                continue
            value = self.categories.get(name.casefold())
            if value is None:
                errors["categories"] = _(
                    "Unknown category %(value)s: use the names listed in the template."
                ) % {"value": name}
            elif value not in categories:
                categories.append(value)
        data["categories"] = categories
        data["grade"] = str(data.get("grade", "")).removesuffix("年级").strip()
        for field, names, unknown in (
            ("school", self.schools, _("There is no school called %(name)s that you may choose.")),
            (
                "residential_institution",
                self.institutions,
                _("There is no residential institution called %(name)s that you may choose."),
            ),
        ):
            name = str(data.get(field, ""))
            if name:
                try:
                    data[field] = self._institution(name, names, unknown)
                except forms.ValidationError as exc:
                    errors[field] = exc.messages[0]
                    data[field] = ""
        return data, errors

    def check(self, values: dict[str, Any]) -> tuple[ChildForm, list[tuple[str, str]]]:
        """The validated form and the row's errors as (column, message) pairs."""
        data, own_errors = self._prepare(values)
        form = ChildForm(data=data, user=self.user)
        errors = [(FIELD_HEADERS[field], message) for field, message in own_errors.items()]
        if not form.is_valid():
            for field, messages in form.errors.items():
                if field in own_errors:
                    continue  # already said, in the file's own terms
                for message in messages:
                    errors.append((FIELD_HEADERS.get(field, ""), str(message)))
        return form, errors
