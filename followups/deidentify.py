"""What de-identification removes from this app's records (core.deidentify): the free text of
visits and follow-up plans."""

from __future__ import annotations

from core.deidentify import Scrub, register_scrubs, removed


def register() -> None:
    register_scrubs(
        Scrub(
            "followups.Visit",
            child="child_id",
            values=removed("note", "review_note", "guardian_informed_note"),
        ),
        Scrub("followups.FollowupPlan", child="child_id", values=removed("goal", "end_reason")),
    )
