"""The children's file in the menu and on the home page (registered in CasesConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from cases.selectors.access import emergency_accesses_to_review, pending_access_requests
from core.navigation import (
    HomePanel,
    MenuEntry,
    has_perm,
    register_home_panels,
    register_menu_entries,
)
from institutions.selectors import scope_for


def _has_a_scope(user: Any) -> bool:
    scope = scope_for(user)
    return bool(scope.region_prefixes or scope.school_ids or scope.residential_institution_ids)


def _emergency_panel(user: Any) -> dict[str, Any] | None:
    if not user.has_perm("cases.review_emergency_access"):
        return None
    count = emergency_accesses_to_review(user=user).count()
    return {"count": count} if count else None


def _requests_panel(user: Any) -> dict[str, Any] | None:
    count = pending_access_requests(user=user).count()
    return {"count": count} if count else None


def register() -> None:
    audit = has_perm("core.view_accessevent")
    register_menu_entries(
        MenuEntry(20, _("Children"), "cases:child_list", "people", has_perm("cases.view_child")),
        MenuEntry(70, _("Handed over"), "cases:handover_list", "truck", _has_a_scope),
        MenuEntry(80, _("Audit log"), "cases:audit_log", "journal-text", audit),
        MenuEntry(
            81, _("Administrators' actions"), "cases:audit_admin_actions", "person-gear", audit
        ),
        MenuEntry(
            82, _("Emergency accesses"), "cases:emergency_reviews", "exclamation-octagon", audit
        ),
    )
    register_home_panels(
        HomePanel(10, "cases/panels/emergency_reviews.html", _emergency_panel, "emergency"),
        HomePanel(60, "cases/panels/access_requests.html", _requests_panel, "access_requests"),
        HomePanel(70, "cases/panels/actions.html", lambda user: {}, "actions"),
    )
