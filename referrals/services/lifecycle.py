"""The steps after sending: the sending side withdraws; the clinic accepts or declines, books,
records the visit, treats and discharges with a follow-up recommendation; either side closes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import CareTeamMember, ChildAccessGrant
from cases.selectors.staff import staff_of
from cases.services.access import grants_expire_source
from core.notifications import notify
from followups.models import FollowupPlan, Task
from followups.services.plans import plan_from_discharge
from followups.services.schedule import tasks_fulfil, tasks_plan
from institutions.models import User
from referrals.models import Referral
from referrals.selectors import access_days_after_close
from referrals.services.grants import _end_access_now, _grant_clinic
from referrals.services.transitions import ReferralError, S, _lock, _require, _step, _tell_sender

# Who may follow up after discharge (the follow-up issue turns this into a plan).
FOLLOWUP_BY_CHOICES = [
    (value, label)
    for value, label in CareTeamMember.TeamRole.choices
    if value != CareTeamMember.TeamRole.PEER_PARTNER
]


def _answered(locked: Referral) -> None:
    """The clinic answered: the sender's "referral unanswered" task is done."""
    tasks_fulfil(
        child_id=locked.child_id,
        kind=Task.Kind.REFERRAL_UNANSWERED,
        record=f"referral:{locked.pk}",
        on=timezone.localdate(),
        source_id=locked.pk,
    )


@transaction.atomic
def referral_withdraw(*, referral: Referral, by: User, reason: str) -> Referral:
    """The sending side takes the referral back (before the child is seen), saying why."""
    reason = _require(reason, _("Say why the referral is withdrawn."), "no_reason")
    locked = _lock(referral, S.WITHDRAWN)
    was_sent = locked.sent_at is not None
    now = timezone.now()
    _step(
        locked,
        to_status=S.WITHDRAWN,
        by=by,
        note=reason,
        fields={"access_until": now} if was_sent else {},
    )
    if was_sent:
        _end_access_now(locked, by=by)
        tasks_plan(today=timezone.localdate(), child_ids=[locked.child_id])
        notify(
            recipients=[u for u in staff_of(institution=locked.to_institution) if u.pk != by.pk],
            kind="referral_withdrawn",
            child=locked.child,
            params={"referral": locked.pk},
        )
    return locked


@transaction.atomic
def referral_accept(*, referral: Referral, by: User, note: str = "") -> Referral:
    """The clinic accepts; of two people accepting at once, exactly one succeeds."""
    locked = _lock(referral, S.ACCEPTED)
    _step(locked, to_status=S.ACCEPTED, by=by, note=note, fields={"accepted_at": timezone.now()})
    _answered(locked)
    # Staff who joined the clinic since it was sent see the child too.
    _grant_clinic(locked, by=by)
    _tell_sender(
        locked,
        by=by,
        kind="referral_accepted",
    )
    return locked


@transaction.atomic
def referral_decline(*, referral: Referral, by: User, reason: str) -> Referral:
    """The clinic declines, saying why; its access to the child ends now."""
    reason = _require(reason, _("Say why the referral is declined."), "no_reason")
    locked = _lock(referral, S.DECLINED)
    now = timezone.now()
    _step(
        locked,
        to_status=S.DECLINED,
        by=by,
        note=reason,
        fields={"declined_at": now, "decline_reason": reason, "access_until": now},
    )
    _end_access_now(locked, by=by)
    _answered(locked)
    _tell_sender(
        locked,
        by=by,
        kind="referral_declined",
    )
    return locked


@transaction.atomic
def referral_book(
    *, referral: Referral, by: User, appointment_at: datetime, note: str = ""
) -> Referral:
    """Book (or move) the child's appointment."""
    locked = _lock(referral, S.APPOINTMENT)
    if locked.accepted_at and timezone.localdate(appointment_at) < timezone.localdate(
        locked.accepted_at
    ):
        raise ReferralError(
            _("The appointment cannot be before the referral was accepted."),
            code="appointment_too_early",
        )
    moved = locked.status == S.APPOINTMENT
    _step(
        locked,
        to_status=S.APPOINTMENT,
        by=by,
        note=note,
        fields={"appointment_at": appointment_at},
        detail={"moved": True} if moved else None,
    )
    return locked


def seen_before_appointment(referral: Referral, seen_at: datetime) -> bool:
    """Whether a visit at `seen_at` falls on a day before the booked appointment's: the clinic
    may record it, but only confirming it and saying why (the reason is the step's note)."""
    return referral.appointment_at is not None and timezone.localdate(seen_at) < timezone.localdate(
        referral.appointment_at
    )


@transaction.atomic
def referral_record_visit(
    *,
    referral: Referral,
    by: User,
    seen_at: datetime,
    diagnosis: str = "",
    early_reason: str = "",
) -> Referral:
    """The child was seen: the first time is kept for the indicators; a diagnosis may follow.
    A visit before the appointment's day needs `early_reason`, kept as the step's note."""
    locked = _lock(referral, S.SEEN)
    if locked.sent_at and timezone.localdate(seen_at) < timezone.localdate(locked.sent_at):
        raise ReferralError(
            _("The visit cannot be before the referral was sent."), code="seen_too_early"
        )
    note = ""
    if seen_before_appointment(locked, seen_at):
        note = _require(
            early_reason,
            _("Say why the child was seen before the booked appointment."),
            "seen_before_appointment",
        )
    fields: dict[str, Any] = {"first_seen_at": locked.first_seen_at or seen_at}
    if diagnosis.strip():
        fields["diagnosis"] = diagnosis.strip()
    return _step(
        locked,
        to_status=S.SEEN,
        by=by,
        note=note,
        fields=fields,
        detail={"before_appointment": True} if note else None,
    )


@transaction.atomic
def referral_start_treatment(
    *,
    referral: Referral,
    by: User,
    treatment_type: str,
    treatment: str = "",
    diagnosis: str = "",
) -> Referral:
    """Outpatient or inpatient treatment begins."""
    if treatment_type not in Referral.TreatmentType.values:
        raise ReferralError(_("Choose outpatient or inpatient."), code="treatment_type")
    locked = _lock(referral, S.IN_TREATMENT)
    fields: dict[str, Any] = {"treatment_type": treatment_type}
    if treatment.strip():
        fields["treatment"] = treatment.strip()
    if diagnosis.strip():
        fields["diagnosis"] = diagnosis.strip()
    return _step(locked, to_status=S.IN_TREATMENT, by=by, fields=fields)


FOLLOWUP_DAYS = (1, 365)  # how often a discharged child is followed up: every 1 to 365 days
FOLLOWUP_WEEKS = (1, 104)  # and for how long: 1 to 104 weeks


def followup_check(*, interval_days: int, by: str, weeks: int) -> None:
    """The rule for a discharge's follow-up recommendation; the form shows it on its fields."""
    if by not in dict(FOLLOWUP_BY_CHOICES):
        raise ReferralError(_("Choose who should follow up."), code="followup_by")
    low_days, high_days = FOLLOWUP_DAYS
    low_weeks, high_weeks = FOLLOWUP_WEEKS
    if not (low_days <= interval_days <= high_days) or not (low_weeks <= weeks <= high_weeks):
        raise ReferralError(
            _("Follow up every 1 to 365 days, for 1 to 104 weeks."), code="followup_range"
        )


@transaction.atomic
def referral_discharge(
    *,
    referral: Referral,
    by: User,
    outcome_summary: str,
    followup_interval_days: int,
    followup_by: str,
    followup_weeks: int,
    diagnosis: str = "",
    treatment: str = "",
) -> Referral:
    """Hand the child back: an outcome summary for the sending side and a follow-up
    recommendation (every N days, by whom, for how many weeks) for the follow-up plan."""
    summary = _require(
        outcome_summary, _("Write an outcome summary for the referring side."), "no_summary"
    )
    followup_check(interval_days=followup_interval_days, by=followup_by, weeks=followup_weeks)
    locked = _lock(referral, S.DISCHARGED)
    fields: dict[str, Any] = {
        "discharged_at": timezone.now(),
        "outcome_summary": summary,
        "followup_interval_days": followup_interval_days,
        "followup_by": followup_by,
        "followup_weeks": followup_weeks,
    }
    if diagnosis.strip():
        fields["diagnosis"] = diagnosis.strip()
    if treatment.strip():
        fields["treatment"] = treatment.strip()
    _step(locked, to_status=S.DISCHARGED, by=by, fields=fields)
    plan_from_discharge(referral=locked, by=by)
    _tell_sender(
        locked,
        by=by,
        kind="referral_discharged",
    )
    return locked


def followup_settled(referral: Referral) -> bool:
    """Whether a discharged referral's follow-up is settled: a follow-up plan was made from it,
    or for the child since the discharge, or the child has one running already."""
    return FollowupPlan.objects.filter(
        Q(referral=referral)
        | Q(child_id=referral.child_id, created_at__gte=referral.discharged_at)
        | Q(child_id=referral.child_id, status=FollowupPlan.Status.ACTIVE)
    ).exists()


@transaction.atomic
def referral_close(
    *, referral: Referral, by: User, note: str = "", no_followup_reason: str = ""
) -> Referral:
    """Close a discharged referral; the clinic keeps access for the configured days after.
    After a discharge it closes only once the follow-up is settled: a follow-up plan exists,
    or the person closing states why no follow-up is needed."""
    locked = _lock(referral, S.CLOSED)
    reason = (no_followup_reason or "").strip()
    if locked.discharged_at and not followup_settled(locked):
        if not reason:
            raise ReferralError(
                _("Make a follow-up plan for the child first, or say why no follow-up is needed."),
                code="followup_unsettled",
            )
        note = "\n".join(
            part
            for part in [note, _("No follow-up needed: %(reason)s") % {"reason": reason}]
            if part
        )
    now = timezone.now()
    until = now + timedelta(days=access_days_after_close())
    _step(
        locked,
        to_status=S.CLOSED,
        by=by,
        note=note,
        fields={"closed_at": now, "access_until": until},
    )
    if until <= now:
        _end_access_now(locked, by=by)
    else:
        grants_expire_source(
            source=ChildAccessGrant.Source.REFERRAL, source_id=locked.pk, expires_at=until
        )
    return locked
