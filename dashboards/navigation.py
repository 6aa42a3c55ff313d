"""The home page's own entries: the work list, the user's roles and account security."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.navigation import (
    HomePanel,
    MenuEntry,
    always,
    register_home_panels,
    register_menu_entries,
)
from dashboards.selectors import DASHBOARD_PERMISSION
from institutions.principal import principal_for
from institutions.twofactor import two_factor_required


def has_dashboard(user: Any) -> bool:
    return bool(user.has_perm(DASHBOARD_PERMISSION))


def _roles_panel(user: Any) -> dict[str, Any]:
    # The principal holds them (read with the scope, kept between requests).
    principal = principal_for(user)
    return {"memberships": principal.roles if principal is not None else ()}


def _security_panel(user: Any) -> dict[str, Any]:
    # The principal knows the user's confirmed devices (authenticator apps, the only kind).
    principal = principal_for(user)
    return {
        "enrolled": principal is not None and principal.has_device,
        "required": two_factor_required(user),
    }


def register() -> None:
    register_menu_entries(
        MenuEntry(10, _("Work list"), "home", "house", always),
        MenuEntry(15, _("Dashboard"), "dashboards:dashboard", "bar-chart", has_dashboard),
    )
    register_home_panels(
        HomePanel(50, "dashboards/panels/roles.html", _roles_panel, "roles"),
        HomePanel(90, "dashboards/panels/security.html", _security_panel, "security"),
    )
