"""What de-identification removes from this app's records (core.deidentify): the free text of
referrals and their steps, and the attached documents themselves."""

from __future__ import annotations

from core.deidentify import REMOVED, Scrub, register_scrubs, removed

_TEXT = (
    "override_reason",
    "override_review_note",
    "diagnosis",
    "treatment",
    "outcome_summary",
    "decline_reason",
)


def register() -> None:
    register_scrubs(
        Scrub(
            "referrals.Referral",
            child="child_id",
            values=removed("reason", *_TEXT),
        ),
        Scrub("referrals.ReferralEvent", child="referral__child_id", values=removed("note")),
        Scrub(
            "referrals.ReferralAttachment",
            child="referral__child_id",
            values={"content": b"", "size": 0, "filename": REMOVED},
        ),
    )
