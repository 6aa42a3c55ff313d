"""What the cases app's API resources share: input validated by the pages' own forms, the child
an input names fetched at the level the write needs, lists that log which children they showed,
and the answers to a stale or conflicting write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import Child
from core.access import fetch
from core.api_inputs import ID_MAX, IdField
from core.inputs import BoundedSerializerMixin
from institutions.api import PreconditionFailed, PreconditionRequired
from institutions.roles import Level

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the record as last read (GET); a record changed since answers "
    "412, a request without it 428.",
)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A record's id as a list filter: a whole number, or a 400 naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


class ChildInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """Input that names a child: fetched first, at the level the write needs (out of scope
    answers 404 before any other field is looked at, read only 403)."""

    child_level: ClassVar[Level] = Level.MANAGE

    child = IdField(help_text="The child's id.")

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


class NoPutMixin:
    """Updates are partial (PATCH) only: PUT answers 405."""

    http_method_names: Sequence[str] = ["get", "post", "patch", "head", "options"]

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed(request.method or "PUT")
