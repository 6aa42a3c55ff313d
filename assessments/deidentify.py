"""What de-identification removes from this app's records (core.deidentify). Answers and scores
stay: they are numbers, and the dashboards count them."""

from __future__ import annotations

from core.deidentify import Scrub, register_scrubs, removed


def register() -> None:
    register_scrubs(
        # An assessment is otherwise never changed: its trigger lets this job blank the
        # correction's reason, and nothing else (assessments migration 0009).
        Scrub(
            "assessments.Assessment",
            child="child_id",
            values=removed("amendment_reason"),
            guard=True,
        ),
        Scrub("assessments.ScreeningAbsence", child="child_id", values=removed("reason")),
        Scrub("assessments.Alert", child="child_id", values=removed("note")),
        Scrub("assessments.GuardianInformed", child="alert__child_id", values=removed("note")),
    )
