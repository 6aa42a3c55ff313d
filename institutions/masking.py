"""Field masking: the one table of which fields are sensitive, who sees them whole, and what
everyone else sees.

Every page, API serializer, export, notification and e-mail asks `mask(user, kind, value)` (in
templates, the `{% masked %}` and `{% phone_link %}` tags of `institutions.templatetags.masking`;
in the API, `MaskedField`) rather than deciding in place, so one rule holds everywhere
(DESIGN.md §5, layer 3).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext
from rest_framework import serializers

from institutions.models import User

MASK = "*"


def mask_name(name: str) -> str:
    """张小明 → 张**; Zhang Wei → Z*** W**: enough to recognise, not to identify."""
    name = (name or "").strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(part[0] + MASK * (len(part) - 1) for part in name.split())
    return name[0] + MASK * max(len(name) - 1, 1)


def mask_national_id(value: str) -> str:
    """110101200801011234 → 110101********1234 (region kept, birth date and sequence hidden)."""
    value = (value or "").strip()
    if len(value) <= 10:
        return MASK * len(value)
    return value[:6] + MASK * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678."""
    value = (value or "").strip()
    if len(value) < 7:
        return MASK * len(value)
    return value[:3] + MASK * (len(value) - 7) + value[-4:]


def mask_note(value: str) -> str:
    """A confidential note is replaced as a whole by a fixed mark."""
    return gettext("[confidential]") if value else ""


class FieldKind(enum.StrEnum):
    """The kinds of sensitive field; templates name them as plain strings ("phone")."""

    NAME = "name"
    NATIONAL_ID = "national_id"
    PHONE = "phone"
    CONFIDENTIAL_NOTE = "confidential_note"


@dataclass(frozen=True)
class FieldRule:
    """Who sees one kind of field whole (a permission), and what everyone else sees."""

    permission: str
    masker: Callable[[str], str]


# THE masking table. A value is shown whole only to a user holding the permission, and only for
# a child in the user's scope: a child found outside it (the duplicate search) is always masked.
# Names stay readable to whoever may read the file, since the work needs them.
MASKING_TABLE: dict[FieldKind, FieldRule] = {
    FieldKind.NAME: FieldRule("cases.view_child", mask_name),
    FieldKind.NATIONAL_ID: FieldRule("cases.view_child_identity", mask_national_id),
    FieldKind.PHONE: FieldRule("cases.view_contact_details", mask_phone),
    FieldKind.CONFIDENTIAL_NOTE: FieldRule("cases.view_confidential_notes", mask_note),
}

# Kept for callers that only need the permission of a kind.
FIELD_PERMISSIONS = {kind.value: rule.permission for kind, rule in MASKING_TABLE.items()}


def may_see(user: User | AnonymousUser | None, field_kind: str) -> bool:
    """Whether `user` may see a field of this kind unmasked."""
    permission = MASKING_TABLE[FieldKind(field_kind)].permission
    return bool(user is not None and user.is_authenticated and user.has_perm(permission))


def masked(field_kind: str, value: str | None) -> str:
    """The masked form of a value, whoever asks (for a child outside the user's scope)."""
    return MASKING_TABLE[FieldKind(field_kind)].masker(value or "")


def mask(
    user: User | AnonymousUser | None,
    field_kind: str,
    value: str | None,
    *,
    in_scope: bool = True,
    sensitive: bool = True,
) -> str:
    """`value` as `user` may see it: whole, or masked by the table's rule for `field_kind`.

    `sensitive=False` says this row's value is not sensitive after all (a note not marked
    confidential); `in_scope=False` masks whatever the user's permissions.
    """
    value = value or ""
    if not sensitive or (in_scope and may_see(user, field_kind)):
        return value
    return masked(field_kind, value)


class MaskedField(serializers.CharField):
    """A read-only API field shown through the masking table for the requesting user."""

    def __init__(self, field_kind: FieldKind, **kwargs: Any) -> None:
        self.field_kind = field_kind
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str:
        request = self.context.get("request")
        return mask(getattr(request, "user", None), self.field_kind, str(value or ""))
