"""Referrals in the menu and on the home page (registered in ReferralsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.navigation import (
    HomePanel,
    MenuEntry,
    has_perm,
    register_home_panels,
    register_menu_entries,
)
from referrals.selectors import referral_inbox


def _inbox_panel(user: Any) -> dict[str, Any] | None:
    if not user.has_perm("referrals.process_referral"):
        return None
    count = referral_inbox(user).filter(status="sent").count()
    return {"count": count} if count else None


def register() -> None:
    register_menu_entries(
        MenuEntry(50, _("Referrals"), "referrals:list", "send", has_perm("referrals.add_referral")),
        MenuEntry(
            55,
            _("Clinic inbox"),
            "referrals:inbox",
            "inbox",
            has_perm("referrals.process_referral"),
        ),
    )
    register_home_panels(HomePanel(20, "referrals/panels/inbox.html", _inbox_panel, "inbox"))
