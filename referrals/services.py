"""Writes of referrals: creating and sending, each step of the life cycle, the clinic's access
that follows the referral, and the review of an emergency consent override.

Every step locks the referral (`select_for_update`) and checks the transition table before it
writes, so an illegal or a racing step is refused with a message and nothing is saved; exactly
one of two concurrent accepts wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Assessment
from cases.models import CareTeamMember, Child, ChildAccessGrant, Consent, Guardian
from cases.selectors import responsible_staff, staff_of
from cases.services.access import grant_open, grants_end, grants_end_expired, grants_expire_source
from cases.services.family import consent_record
from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from followups.models import Visit
from institutions.models import Agency, Institution, User
from institutions.roles import Level, Role
from referrals.models import Referral, ReferralAttachment, ReferralEvent
from referrals.selectors import (
    access_days_after_close,
)

S = Referral.Status

# The life cycle: which step may follow which. Anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SENT, S.WITHDRAWN}),
    S.SENT: frozenset({S.ACCEPTED, S.DECLINED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.APPOINTMENT, S.WITHDRAWN}),
    # Booking again moves the appointment.
    S.APPOINTMENT: frozenset({S.APPOINTMENT, S.SEEN, S.WITHDRAWN}),
    # Seen once may be enough: discharge with a recommendation, or start treatment.
    S.SEEN: frozenset({S.IN_TREATMENT, S.DISCHARGED}),
    S.IN_TREATMENT: frozenset({S.DISCHARGED}),
    S.DISCHARGED: frozenset({S.CLOSED}),
    S.DECLINED: frozenset(),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# Who may follow up after discharge (the follow-up issue turns this into a plan).
FOLLOWUP_BY_CHOICES = [
    (value, label)
    for value, label in CareTeamMember.TeamRole.choices
    if value != CareTeamMember.TeamRole.PEER_PARTNER
]


class ReferralError(ValidationError):
    """A referral write refused: the message says why, and nothing was saved."""


@dataclass(frozen=True)
class ConsentGiven:
    """Consent to the referral given now: by a guardian, or (guardian None) by the child."""

    guardian: Guardian | None
    given_on: date


@dataclass(frozen=True)
class AttachmentData:
    """A checked upload: the form has verified its type (by its content) and size."""

    filename: str
    content_type: str
    content: bytes


def allowed_steps(status: str) -> frozenset[str]:
    """The statuses a referral in `status` may move to."""
    return TRANSITIONS.get(status, frozenset())


def referral_last_step(referral: Referral) -> int:
    """The id of the referral's latest step: what a step form is based on (0: none yet)."""
    return referral.events.order_by("-id").values_list("id", flat=True).first() or 0


def referral_unchanged_since(*, referral: Referral, seen_step: int | None) -> None:
    """Refuse a step taken on an older state: someone else took a step after the form was
    opened (a second booking, a status change), and this one must not be written over it.
    Call it in the step's transaction; it holds the referral's row lock until the step is done."""
    if seen_step is None:
        return
    locked = Referral.objects.select_for_update(of=("self",)).get(pk=referral.pk)
    if referral_last_step(locked) != seen_step:
        raise ReferralError(
            _(
                "Someone else took a step on this referral after you opened the form (it is now "
                "“%(current)s”). Nothing was done: look at the referral again."
            )
            % {"current": _label(locked.status)},
            code="changed",
        )


def _label(status: str) -> str:
    return str(S(status).label)


def _lock(referral: Referral, to_status: str) -> Referral:
    """The referral re-read under a row lock, or ReferralError when the step is not allowed."""
    locked = Referral.objects.select_for_update(of=("self",)).get(pk=referral.pk)
    if to_status not in allowed_steps(locked.status):
        if locked.status == to_status:
            raise ReferralError(
                _("This referral is already “%(current)s”.") % {"current": _label(locked.status)},
                code="already",
            )
        raise ReferralError(
            _("A referral that is “%(current)s” cannot move to “%(next)s”.")
            % {"current": _label(locked.status), "next": _label(to_status)},
            code="illegal_step",
        )
    return locked


def _step(
    locked: Referral,
    *,
    to_status: str,
    by: User,
    note: str = "",
    fields: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> Referral:
    """Write one step: the new status and fields, the event, and the access-log entry."""
    from_status = locked.status
    values = dict(fields or {})
    values["status"] = to_status
    for name, value in values.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(values))
    ReferralEvent.objects.create(
        referral=locked, from_status=from_status, to_status=to_status, actor=by, note=note
    )
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=locked.child,
        detail={"referral": locked.pk, "step": to_status, **(detail or {})},
    )
    return locked


def _detail_link(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.pk])


def _check_destination(*, to_institution: Institution, service: str) -> None:
    if not to_institution.is_active:
        raise ReferralError(
            _("%(institution)s is no longer active.") % {"institution": to_institution.name},
            code="inactive_institution",
        )
    if service not in (to_institution.services or []):
        label = dict(Institution.Service.choices).get(service, service)
        raise ReferralError(
            _("%(institution)s does not offer %(service)s.")
            % {"institution": to_institution.name, "service": label},
            code="service_not_offered",
        )


def _usable_consent(*, child: Child, consent: Consent | None) -> Consent | None:
    """The consent the referral links: the one given, else the newest on file, if unwithdrawn."""
    qs = Consent.objects.filter(
        child=child, purpose=Consent.Purpose.REFERRAL, withdrawn_at__isnull=True
    )
    if consent is not None:
        return qs.filter(pk=consent.pk).first()
    return qs.order_by("-given_on", "-id").first()


def _grant_clinic(referral: Referral, *, by: User) -> None:
    """Every active member of the receiving institution reads the child's file while the
    referral lasts (its clinical steps are allowed by the referral itself, not by the grant)."""
    for member in staff_of(institution=referral.to_institution):
        grant_open(
            child=referral.child,
            user=member,
            level=Level.READ,
            source=ChildAccessGrant.Source.REFERRAL,
            source_id=referral.pk,
            by=by,
        )


@transaction.atomic
def referral_create(
    *,
    child: Child,
    by: User,
    to_institution: Institution,
    service: str,
    reason: str,
    urgency: str = Referral.Urgency.ROUTINE,
    from_agency: Agency | None = None,
    from_institution: Institution | None = None,
    assessment: Assessment | None = None,
    visit: Visit | None = None,
    consent: Consent | None = None,
    consent_given: ConsentGiven | None = None,
    emergency_override: bool = False,
    override_reason: str = "",
    attachments: Sequence[AttachmentData] = (),
    send: bool = False,
) -> Referral:
    """Write a referral as a draft, with its attachments and any consent given now; `send`
    sends it at once (all in one transaction: if sending is refused, nothing is saved)."""
    _check_destination(to_institution=to_institution, service=service)
    if assessment is not None and assessment.child_id != child.pk:
        raise ReferralError(_("The assessment is not this child's."), code="wrong_child")
    if visit is not None and visit.child_id != child.pk:
        raise ReferralError(_("The visit is not this child's."), code="wrong_child")
    if not reason.strip():
        raise ReferralError(_("Say why the child is referred."), code="no_reason")
    referral = Referral.objects.create(
        child=child,
        from_user=by,
        from_agency=from_agency,
        from_institution=from_institution,
        to_institution=to_institution,
        service=service,
        reason=reason.strip(),
        urgency=urgency,
        assessment=assessment,
        visit=visit,
        emergency_override=bool(emergency_override and override_reason.strip()),
        override_reason=override_reason.strip() if emergency_override else "",
    )
    ReferralEvent.objects.create(referral=referral, from_status="", to_status=S.DRAFT, actor=by)
    if attachments:
        ReferralAttachment.objects.bulk_create(
            ReferralAttachment(
                referral=referral,
                filename=a.filename[:200],
                content_type=a.content_type,
                size=len(a.content),
                content=a.content,
                uploaded_by=by,
            )
            for a in attachments
        )
    if consent_given is not None:
        consent = consent_record(
            child=child,
            purpose=Consent.Purpose.REFERRAL,
            given_on=consent_given.given_on,
            by=by,
            guardian=consent_given.guardian,
        )
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=child,
        detail={"referral": referral.pk, "step": S.DRAFT},
    )
    if send:
        locked = _lock(referral, S.SENT)
        _send(
            locked,
            by=by,
            consent=consent,
            emergency_override=emergency_override,
            override_reason=override_reason,
            note="",
        )
        referral.refresh_from_db()
    return referral


def _send(
    locked: Referral,
    *,
    by: User,
    consent: Consent | None,
    emergency_override: bool,
    override_reason: str,
    note: str,
) -> Referral:
    _check_destination(to_institution=locked.to_institution, service=locked.service)
    used = _usable_consent(child=locked.child, consent=consent)
    override = False
    reason = ""
    if used is None:
        override = emergency_override or locked.emergency_override
        reason = (override_reason or locked.override_reason).strip()
        if not override:
            raise ReferralError(
                _(
                    "Guardian consent to the referral is required: record it first, or, in an "
                    "emergency, send without it and say why."
                ),
                code="consent_required",
            )
        if locked.urgency != Referral.Urgency.EMERGENCY:
            raise ReferralError(
                _("Only an emergency referral can be sent without consent."),
                code="override_not_emergency",
            )
        if not reason:
            raise ReferralError(_("Say why consent could not wait."), code="override_needs_reason")
    now = timezone.now()
    _step(
        locked,
        to_status=S.SENT,
        by=by,
        note=note or (reason if override else ""),
        fields={
            "sent_at": now,
            "consent": used,
            "emergency_override": override,
            "override_reason": reason if override else "",
        },
        detail={"emergency_override": True, "override_reason": reason} if override else None,
    )
    _grant_clinic(locked, by=by)
    child = locked.child
    urgency = locked.get_urgency_display()
    notify(
        recipients=[u for u in staff_of(institution=locked.to_institution) if u.pk != by.pk],
        kind="referral_received",
        text=_("New referral of %(record)s (%(urgency)s).")
        % {"record": child.record_number, "urgency": urgency},
        link=_detail_link(locked),
        child=child,
        params={"referral": locked.pk},
    )
    if override:
        notify(
            recipients=[
                u
                for u in responsible_staff(
                    region_code=child.residence_region_id,
                    roles=(Role.CHILD_SUPERVISOR, Role.AGENCY_SUPERVISOR),
                )
                if u.pk != by.pk
            ],
            kind="referral_override",
            text=_(
                "A referral of %(record)s was sent without guardian consent (emergency): "
                "please review it."
            )
            % {"record": child.record_number},
            link=reverse("referrals:review", args=[locked.pk]),
            child=child,
            params={"referral": locked.pk},
        )
    return locked


@transaction.atomic
def referral_send(
    *,
    referral: Referral,
    by: User,
    consent: Consent | None = None,
    consent_given: ConsentGiven | None = None,
    emergency_override: bool = False,
    override_reason: str = "",
    note: str = "",
) -> Referral:
    """Send a draft: consent on file (or given now), or an emergency override with a reason;
    the clinic's staff get access to the child and are told."""
    locked = _lock(referral, S.SENT)
    if consent_given is not None:
        consent = consent_record(
            child=locked.child,
            purpose=Consent.Purpose.REFERRAL,
            given_on=consent_given.given_on,
            by=by,
            guardian=consent_given.guardian,
        )
    return _send(
        locked,
        by=by,
        consent=consent,
        emergency_override=emergency_override,
        override_reason=override_reason,
        note=note,
    )


def _require(text: str, message: str, code: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ReferralError(message, code=code)
    return text


def _end_access_now(locked: Referral, *, by: User) -> None:
    """Declined or withdrawn: this referral's grants end at once (other sources' stay)."""
    grants_end(
        source=ChildAccessGrant.Source.REFERRAL, source_id=locked.pk, by=by, child=locked.child
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
        notify(
            recipients=[u for u in staff_of(institution=locked.to_institution) if u.pk != by.pk],
            kind="referral_withdrawn",
            text=_("The referral of %(record)s was withdrawn.")
            % {"record": locked.child.record_number},
            child=None,
            params={"referral": locked.pk},
        )
    return locked


def _tell_sender(locked: Referral, *, by: User, kind: str, text: str) -> None:
    if locked.from_user_id != by.pk:
        notify(
            recipients=[locked.from_user],
            kind=kind,
            text=text,
            link=_detail_link(locked),
            child=locked.child,
            params={"referral": locked.pk},
        )


@transaction.atomic
def referral_accept(*, referral: Referral, by: User, note: str = "") -> Referral:
    """The clinic accepts; of two people accepting at once, exactly one succeeds."""
    locked = _lock(referral, S.ACCEPTED)
    _step(locked, to_status=S.ACCEPTED, by=by, note=note, fields={"accepted_at": timezone.now()})
    # Staff who joined the clinic since it was sent see the child too.
    _grant_clinic(locked, by=by)
    _tell_sender(
        locked,
        by=by,
        kind="referral_accepted",
        text=_("%(institution)s accepted the referral of %(record)s.")
        % {"institution": locked.to_institution.name, "record": locked.child.record_number},
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
    _tell_sender(
        locked,
        by=by,
        kind="referral_declined",
        text=_("%(institution)s declined the referral of %(record)s.")
        % {"institution": locked.to_institution.name, "record": locked.child.record_number},
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


@transaction.atomic
def referral_record_visit(
    *, referral: Referral, by: User, seen_at: datetime, diagnosis: str = ""
) -> Referral:
    """The child was seen: the first time is kept for the indicators; a diagnosis may follow."""
    locked = _lock(referral, S.SEEN)
    if locked.sent_at and timezone.localdate(seen_at) < timezone.localdate(locked.sent_at):
        raise ReferralError(
            _("The visit cannot be before the referral was sent."), code="seen_too_early"
        )
    fields: dict[str, Any] = {"first_seen_at": locked.first_seen_at or seen_at}
    if diagnosis.strip():
        fields["diagnosis"] = diagnosis.strip()
    return _step(locked, to_status=S.SEEN, by=by, fields=fields)


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
    if followup_by not in dict(FOLLOWUP_BY_CHOICES):
        raise ReferralError(_("Choose who should follow up."), code="followup_by")
    if not (1 <= followup_interval_days <= 365) or not (1 <= followup_weeks <= 104):
        raise ReferralError(
            _("Follow up every 1 to 365 days, for 1 to 104 weeks."), code="followup_range"
        )
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
    _tell_sender(
        locked,
        by=by,
        kind="referral_discharged",
        text=_(
            "%(institution)s discharged %(record)s: read the outcome and the follow-up "
            "recommendation."
        )
        % {"institution": locked.to_institution.name, "record": locked.child.record_number},
    )
    return locked


@transaction.atomic
def referral_close(*, referral: Referral, by: User, note: str = "") -> Referral:
    """Close a discharged referral; the clinic keeps access for the configured days after."""
    locked = _lock(referral, S.CLOSED)
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


@transaction.atomic
def referral_review_override(*, referral: Referral, by: User, note: str) -> Referral:
    """A supervisor's review of a referral sent without consent; the first review stands."""
    note = _require(note, _("Write what you found."), "no_note")
    if not referral.emergency_override:
        raise ReferralError(_("This referral was not sent without consent."), code="no_override")
    updated = Referral.objects.filter(
        pk=referral.pk, emergency_override=True, override_reviewed_at__isnull=True
    ).update(
        override_reviewed_by=by, override_reviewed_at=timezone.now(), override_review_note=note
    )
    if not updated:
        raise ReferralError(_("This override was already reviewed."), code="already_reviewed")
    referral.refresh_from_db()
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=referral.child,
        detail={"referral": referral.pk, "override_reviewed": True},
    )
    return referral


@transaction.atomic
def referral_expire_access(*, now: datetime) -> int:
    """Mark the grants whose access period has passed as ended (set-based and idempotent: a
    second run finds nothing). Returns how many grants ended."""
    return grants_end_expired(now=now)
