"""Template tags that show sensitive fields through the masking table, for the signed-in user.

    {% load masking %}
    {% masked child.notes "confidential_note" sensitive=child.notes_confidential as notes %}
    {% phone_link guardian.phone %}

Templates never decide themselves who may see what.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from institutions.masking import FieldKind, mask, may_see

register = template.Library()


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.simple_tag(takes_context=True)
def masked(
    context: template.Context,
    value: str | None,
    field_kind: str,
    sensitive: bool = True,
    in_scope: bool = True,
) -> str:
    """`value` whole or masked, as the masking table says for the signed-in user."""
    return mask(_user(context), field_kind, value, sensitive=sensitive, in_scope=in_scope)


@register.simple_tag(takes_context=True)
def phone_link(context: template.Context, value: str | None) -> SafeString | str:
    """A number to tap (tel: link) for those who may see it whole; the masked number otherwise."""
    if not value:
        return ""
    user = _user(context)
    if may_see(user, FieldKind.PHONE):
        return format_html('<a href="tel:{0}">{0}</a>', value)
    return mask(user, FieldKind.PHONE, value)
