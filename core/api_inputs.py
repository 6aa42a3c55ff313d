"""API input, read and checked the way the pages check theirs: JSON that names no key twice, the
pages' forms as the validators of API input (so that a rule lives in one place), and a service's
refusal as the API's 400 on the field it is about. Every app's API views use these.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

NON_FIELD = "non_field_errors"
# The largest id a URL or an input may name (PostgreSQL's bigint).
ID_MAX = 2**63 - 1


class IdField(serializers.IntegerField):
    """A record's id in API input: a whole number that fits the database (400 otherwise);
    an optional one may be null."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        if kwargs.get("required") is False:
            kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)


class DuplicateKey(ValueError):
    """A JSON object names the same key twice."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(key)
        seen[key] = value
    return seen


class UniqueKeysJSONParser(JSONParser):
    """JSON in which an object gives a key twice is refused (400) rather than read as its last
    value: `{"answers": {"1": 0, "1": 3}}` must not become item 1 = 3 unnoticed. The API's
    JSON parser (settings.REST_FRAMEWORK)."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.load(codecs.getreader(encoding)(stream), object_pairs_hook=_unique_keys)
        except DuplicateKey as repeated:
            raise ParseError(
                _("The key %(key)s is given twice.") % {"key": json.dumps(str(repeated))}
            ) from repeated
        except ValueError as error:
            raise ParseError(_("The request is not valid JSON.")) from error


def form_errors(form: forms.BaseForm, renamed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A bound form's errors as the API's field errors: each field's messages under its name
    (or the API's name for it in `renamed`), the form's own under non_field_errors."""
    renamed = renamed or {}
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        key = NON_FIELD if name == NON_FIELD_ERRORS else name
        errors.setdefault(renamed.get(key, key), []).extend(str(m) for m in messages)
    return errors


def validated_by(form: forms.BaseForm, renamed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run the page's form on the input (every rule it checks applies): its cleaned data, or
    its errors as a 400 naming the fields."""
    if not form.is_valid():
        raise serializers.ValidationError(form_errors(form, renamed))
    return dict(form.cleaned_data)


def service_errors(
    error: DjangoValidationError, field: str | None = None
) -> serializers.ValidationError:
    """A rule a service checks again at the moment of writing, as a 400: on `field` when
    given, else on the fields the error names, else on the input as a whole."""
    if field is not None:
        return serializers.ValidationError({field: list(error.messages)})
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(
            {
                NON_FIELD if name == NON_FIELD_ERRORS else name: messages
                for name, messages in error.message_dict.items()
            }
        )
    return serializers.ValidationError({NON_FIELD: list(error.messages)})


def present(data: Mapping[str, Any]) -> dict[str, Any]:
    """The values a client gave, as a form's data: absent and null leave the field empty."""
    return {name: value for name, value in data.items() if value is not None}


def _form_value(value: Any) -> str:
    """One value as a browser would post it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Model):
        return str(value.pk)
    return str(value)


def form_data(values: Mapping[str, Any]) -> MultiValueDict:
    """Validated API input as the form data of a page's form (lists as repeated keys)."""
    data: MultiValueDict[str, str] = MultiValueDict()
    for name, value in values.items():
        if isinstance(value, list | tuple):
            data.setlist(name, [_form_value(item) for item in value])
        else:
            data[name] = _form_value(value)
    return data
