"""Referrals in the menu and on the home page (registered in ReferralsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.navigation import (
    HomePanel,
    MenuEntry,
    has_any_perm,
    register_home_panels,
    register_menu_entries,
)
from referrals.selectors import referral_inbox

# Who sends referrals, and the supervisors who review those sent without consent, work from
# the referrals of their children; a clinic works from its inbox.
_SENDS_OR_REVIEWS = has_any_perm("referrals.add_referral", "referrals.review_override")


def _clinic_only(user: Any) -> bool:
    """A clinic's "Referrals" is its inbox."""
    return user.has_perm("referrals.process_referral") and not _SENDS_OR_REVIEWS(user)


def _clinic_and_sender(user: Any) -> bool:
    """Someone who also sends or reviews has both lists: the inbox gets its own entry."""
    return user.has_perm("referrals.process_referral") and _SENDS_OR_REVIEWS(user)


def _inbox_panel(user: Any) -> dict[str, Any] | None:
    if not user.has_perm("referrals.process_referral"):
        return None
    count = referral_inbox(user).filter(status="sent").count()
    return {"count": count} if count else None


def register() -> None:
    register_menu_entries(
        MenuEntry(50, _("Referrals"), "referrals:list", "send", _SENDS_OR_REVIEWS),
        MenuEntry(50, _("Referrals"), "referrals:inbox", "inbox", _clinic_only),
        MenuEntry(55, _("Clinic inbox"), "referrals:inbox", "inbox", _clinic_and_sender),
    )
    register_home_panels(HomePanel(20, "referrals/panels/inbox.html", _inbox_panel, "inbox"))
