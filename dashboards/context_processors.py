"""Navigation by role: each user sees the menu entries the apps registered for them."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from core.navigation import menu_entries
from core.notifications import unread_badge_count


@cache
def _menu_url(url_name: str, urlconf: str | None, prefix: str) -> str:
    """A menu entry's URL, reversed once per process (every page writes the whole menu)."""
    return reverse(url_name, urlconf=urlconf)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    items: list[dict[str, Any]] = []
    unread = 0
    if user.is_authenticated:
        items = [
            {
                "label": entry.label,
                "url": _menu_url(entry.url_name, get_urlconf(), get_script_prefix()),
                "icon": entry.icon,
            }
            for entry in menu_entries()
            if entry.visible(user)
        ]
        unread = unread_badge_count(user)
    return {
        "nav_items": items,
        "unread_notifications": unread,
        "demo_mode": settings.DJANGO_ENV != "production",
        "request_path": request.path,
    }
