"""What the cases app's API resources share: input validated by the pages' own forms, the child
an input names fetched at the level the write needs, lists that log which children they showed,
and the answers to a stale or conflicting write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import Child
from core.access import fetch
from core.access_log import access_record_many
from core.inputs import BoundedSerializerMixin
from core.models import AccessEvent
from institutions.api import PreconditionFailed, PreconditionRequired
from institutions.roles import Level
from institutions.selectors import signed_in_user

# The largest id a URL or a filter may name (PostgreSQL's bigint).
ID_MAX = 2**63 - 1

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the record as last read (GET); a record changed since answers "
    "412, a request without it 428.",
)


class Conflict(exceptions.APIException):
    """The write collides with what is on file now (a consent already withdrawn, a care plan
    started meanwhile); nothing was written."""

    status_code = 409
    default_code = "conflict"
    default_detail = _("The record changed meanwhile: read it again before retrying.")


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A record's id as a list filter: a whole number, or a 400 naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


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


def form_errors(form: forms.BaseForm, rename: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A page form's errors under the API's field names."""
    rename = {"__all__": "non_field_errors", **(rename or {})}
    return {
        rename.get(name, name): [str(message) for message in messages]
        for name, messages in form.errors.items()
    }


def clean_with_form(
    form: forms.BaseForm, rename: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run the page's form on the input (every rule it checks applies), or answer 400."""
    if not form.is_valid():
        raise serializers.ValidationError(form_errors(form, rename))
    return dict(form.cleaned_data)


def service_error(error: DjangoValidationError, field: str) -> serializers.ValidationError:
    """A rule a service checks again at the moment of writing, as a 400 on `field`."""
    return serializers.ValidationError({field: list(error.messages)})


class ChildInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """Input that names a child: fetched first, at the level the write needs (out of scope
    answers 404 before any other field is looked at, read only 403)."""

    child_level: ClassVar[Level] = Level.MANAGE

    child = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text="The child's id.")

    def validate_child(self, value: int) -> Child:
        request = self.context["request"]
        return fetch(request._request, Child, value, level=self.child_level, api=True)


def check_if_match(request: Request, etag: str) -> None:
    """If-Match must name `etag`, the record as it is now: 428 without it, 412 otherwise."""
    given = request.headers.get("If-Match")
    if not given:
        raise PreconditionRequired()
    tags = {tag.strip() for tag in given.split(",")}
    if "*" not in tags and etag not in tags:
        raise PreconditionFailed()


class LoggedChildListMixin:
    """A list of records about children writes one "listed" event per child it showed, as the
    children list does (`listed` names what was listed)."""

    listed: ClassVar[str] = ""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        queryset = view.filter_queryset(view.get_queryset())
        page = view.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        access_record_many(
            user=signed_in_user(request),
            action=AccessEvent.Action.LIST,
            child_ids=[row.child_id for row in rows],
            request=request._request,
            detail={"api": True, "listed": self.listed},
        )
        data = view.get_serializer(rows, many=True).data
        return view.get_paginated_response(data) if page is not None else Response(data)


class NoPutMixin:
    """Updates are partial (PATCH) only: PUT answers 405."""

    http_method_names: Sequence[str] = ["get", "post", "patch", "head", "options"]

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed(request.method or "PUT")
