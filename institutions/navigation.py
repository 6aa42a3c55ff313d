"""Venues, training and the admin site in the menu (registered in InstitutionsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.navigation import MenuEntry, always, has_any_perm, register_menu_entries
from institutions.selectors import scope_for


def _may_use_admin_site(user: Any) -> bool:
    return scope_for(user).may_use_admin_site


def register() -> None:
    register_menu_entries(
        MenuEntry(95, _("Venues"), "venues:venue_list", "geo-alt", always),
        MenuEntry(
            96,
            _("Training"),
            "training:training_list",
            "mortarboard",
            has_any_perm("institutions.add_training", "institutions.view_training_report"),
        ),
        MenuEntry(99, _("Administration"), "admin:index", "gear", _may_use_admin_site),
    )
