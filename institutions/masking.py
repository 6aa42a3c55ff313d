"""Field masking: sensitive values are shown whole only to roles whose permissions allow it.

Views, serializers and templates call these helpers rather than deciding in place, so one rule
holds on a page, in the API and in an export (DESIGN.md §5, layer 3).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from institutions.models import User

MASK = "*"

# Which permission unmasks which kind of field.
FIELD_PERMISSIONS = {
    "national_id": "cases.view_child_identity",
    "confidential_note": "cases.view_confidential_notes",
}


def may_see(user: User | AnonymousUser, field_kind: str) -> bool:
    """Whether `user` may see a field of this kind unmasked."""
    permission = FIELD_PERMISSIONS[field_kind]
    return bool(user.is_authenticated and user.has_perm(permission))


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


def masked_text(user: User | AnonymousUser, value: str, *, field_kind: str, masker=None) -> str:
    """The value itself if `user` may see it, otherwise its masked form (or a fixed mark)."""
    if may_see(user, field_kind):
        return value
    if masker is not None:
        return masker(value)
    from django.utils.translation import gettext

    return gettext("[confidential]") if value else ""
