"""`{% submission_key %}`: the hidden one-time key of a form (see core.submissions)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.submissions import FIELD_NAME, new_key, posted_key

register = template.Library()


@register.simple_tag(takes_context=True)
def submission_key(context: dict[str, Any]) -> SafeString:
    """A new key for a fresh form; the posted one when a form is shown again after errors,
    so that sending the corrected form still counts as the same submission."""
    request = context.get("request")
    key = posted_key(request) if request is not None else None
    return format_html(
        '<input type="hidden" name="{}" value="{}">', FIELD_NAME, str(key or new_key())
    )
