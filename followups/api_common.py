"""What the followups app's API views share: the pages' form and service errors as the API's
400, the 409 of a step someone else took first, and lists that log the children they name."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.access_log import access_record_many
from core.inputs import whole_number
from core.models import AccessEvent
from institutions.selectors import signed_in_user


class Conflict(exceptions.APIException):
    """The step was taken meanwhile (reviewed, ended): nothing was changed."""

    status_code = 409
    default_code = "conflict"
    default_detail = _("Someone else changed this record first: read it again.")


def _field(name: str) -> str:
    return "non_field_errors" if name == "__all__" else name


def form_errors(form: forms.BaseForm) -> serializers.ValidationError:
    """A page's form refused the input: its messages, on the fields they name (400)."""
    return serializers.ValidationError(
        {_field(name): [str(m) for m in messages] for name, messages in form.errors.items()}
    )


def service_errors(error: DjangoValidationError) -> serializers.ValidationError:
    """A service refused the input (a Django ValidationError): the same messages (400)."""
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(
            {_field(name): messages for name, messages in error.message_dict.items()}
        )
    return serializers.ValidationError({"non_field_errors": error.messages})


def pk_detail(view: Any, key: str) -> dict[str, Any] | None:
    """What the access log names as read (`{"visit": 12}`), from the URL's id."""
    number = whole_number(str(view.kwargs.get("pk", "")))
    return {key: number} if number is not None else None  # not a number: 404 anyway


class LoggedListMixin:
    """A list whose rows name children: one LIST entry in the access log per child on the page
    (one query), as the pages log their lists."""

    list_log_detail: ClassVar[dict[str, Any]] = {}

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
            detail={"api": True, **self.list_log_detail},
        )
        data = view.get_serializer(rows, many=True).data
        return view.get_paginated_response(data) if page is not None else Response(data)
