"""Assessments in the menu (registered in AssessmentsConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.navigation import MenuEntry, has_perm, register_menu_entries


def register() -> None:
    register_menu_entries(
        MenuEntry(30, _("Alerts"), "assessments:alert_list", "bell", has_perm("cases.view_child")),
        MenuEntry(
            40,
            _("Screenings"),
            "assessments:screening_list",
            "clipboard-check",
            has_perm("assessments.view_screeningsession"),
        ),
        MenuEntry(
            85,
            _("Instruments"),
            "assessments:instrument_list",
            "ui-checks",
            has_perm("assessments.view_instrument"),
        ),
    )
