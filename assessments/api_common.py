"""What the API views of this app (and of the apps above it) share: JSON that names no key
twice, the pages' forms as the validators of API input (so that a rule lives in one place), and
the answer for a step that the record's current state refuses.

They belong with `core.api_errors` once that module takes them; until then they live here, on
the lowest floor that uses them.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


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
    value: `{"answers": {"1": 0, "1": 3}}` must not become item 1 = 3 unnoticed."""

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


class Conflict(exceptions.APIException):
    """The record's state refuses the step (already closed, already sent, taken meanwhile)."""

    status_code = 409
    default_code = "conflict"
    default_detail = gettext_lazy("The record is not in a state that allows this.")


def form_errors(form: forms.BaseForm, renamed: dict[str, str] | None = None) -> dict[str, Any]:
    """A bound form's errors as the API's field errors: each field's messages under its name
    (or the API's name for it in `renamed`), the form's own under non_field_errors."""
    renamed = renamed or {}
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        key = "non_field_errors" if name == NON_FIELD_ERRORS else name
        errors.setdefault(renamed.get(key, key), []).extend(str(m) for m in messages)
    return errors


def validated_by(form: forms.BaseForm, renamed: dict[str, str] | None = None) -> dict[str, Any]:
    """The form's cleaned data; its errors as a 400 naming the fields."""
    if not form.is_valid():
        raise serializers.ValidationError(form_errors(form, renamed))
    return form.cleaned_data


def present(data: dict[str, Any]) -> dict[str, Any]:
    """The values a client gave, as a form's data: absent and null leave the field empty."""
    return {name: value for name, value in data.items() if value is not None}
