"""Navigation by role: each user sees the menu entries the apps registered for them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core.lists import kept_reverse
from core.navigation import menu_entries
from core.notifications import unread_badge_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    items: list[dict[str, Any]] = []
    unread = 0
    if user.is_authenticated:
        items = [
            {
                "label": entry.label,
                "url": kept_reverse(entry.url_name),
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
