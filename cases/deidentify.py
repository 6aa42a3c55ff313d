"""What de-identification removes from a child's file and the records of this app
(core.deidentify; the job is cases.retention)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Cast, ExtractYear, Left, Lower

from core.deidentify import Scrub, register_scrubs, removed


def _mid_year(column: str) -> models.Func:
    """The 1st of July of the date's year: the age stays right within a year."""
    return models.Func(
        Cast(ExtractYear(column), models.IntegerField()),
        models.Value(7),
        models.Value(1),
        function="make_date",
        output_field=models.DateField(),
    )


def register() -> None:
    register_scrubs(
        Scrub(
            "cases.Child",
            child="pk",
            values={
                # The record number is the system's own; it stands in for the name.
                "name": models.F("record_number"),
                "name_pinyin": Lower("record_number"),
                "birth_date": _mid_year("birth_date"),
                "national_id_hash": None,
                "national_id_encrypted": "",
                "national_id_masked": "",
                # Regions are kept down to the county (6 digits of the code): a village or a
                # township with few such children could name the child.
                "residence_region_id": Left("residence_region_id", 6),
                "household_region_id": Left("household_region_id", 6),
                **removed("class_name", "status_reason", "notes"),
                "notes_confidential": False,
            },
        ),
        Scrub(
            "cases.Guardian",
            child="child_id",
            values={**removed("name", "work_location"), "phone": ""},
        ),
        Scrub("cases.Consent", child="child_id", values=removed("note", "withdrawal_reason")),
        Scrub("cases.CareTeamMember", child="child_id", values=removed("peer_name")),
        Scrub("cases.CarePlan", child="child_id", values=removed("goals", "other_intervention")),
        Scrub("cases.CarePlanReview", child="plan__child_id", values=removed("note")),
        Scrub("cases.Handover", child="child_id", values={**removed("reason"), "snapshot": {}}),
        # Why someone asked for or broke the glass into the file (the access log keeps who,
        # when and which child).
        Scrub("cases.AccessRequest", child="child_id", values=removed("reason", "decision_note")),
        Scrub("cases.EmergencyAccess", child="child_id", values=removed("reason", "review_note")),
    )
