"""`{% export_buttons url kind %}`: the XLSX and CSV buttons of a list, with the "leave out names
and ID numbers" checkbox, carrying the list's current filters (the same query string) and any
`name=value` given to the tag (`{% export_buttons url "tasks" scope="team" %}`). Shown only to
users the export's spec lets export."""

from __future__ import annotations

from typing import Any

from django import template

from core.exports import NOT_FILTERS, export_spec

register = template.Library()


@register.inclusion_tag("core/partials/export_buttons.html", takes_context=True)
def export_buttons(context: dict[str, Any], url: str, kind: str, **extra: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    shown = bool(user is not None and user.is_authenticated and export_spec(kind).may_export(user))
    hidden: list[tuple[str, Any]] = []
    if shown and request is not None:
        hidden = [
            (name, value)
            for name, values in request.GET.lists()
            if name not in NOT_FILTERS and name not in extra
            for value in values
        ]
        hidden += list(extra.items())
    return {"shown": shown, "url": url, "kind": kind, "hidden": hidden}
