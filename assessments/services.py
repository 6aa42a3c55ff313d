"""Writes for assessments: submitting and amending results, alerts, the child's derived risk."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Alert, Assessment, GuardianInformed, Instrument, ScreeningSession
from assessments.scoring import Result
from cases.models import Child, Guardian, RiskLevel
from cases.selectors.staff import care_team_users, responsible_staff
from cases.services.risk import child_refresh_risk
from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from core.signals import child_record_saved
from institutions.models import Membership, User
from institutions.roles import Role

ALERT_FROM = RiskLevel.HIGH


class AlreadyCorrected(Exception):
    """Someone corrected this result first; nothing was written."""


def instrument_fit_problem(
    *, instrument: Instrument, child: Child, on: date | None = None
) -> str | None:
    """The rule for which questionnaire fits a child: the reason this one cannot be used for
    this child (on the day it is taken), or None. The service enforces it; forms, the API and
    the screening roster show it."""
    age = child.age(on)
    if not instrument.fits_age(age):
        return str(
            _("%(name)s is for ages %(min)d to %(max)d; this child is %(age)d.")
            % {
                "name": instrument.code,
                "min": instrument.min_age,
                "max": instrument.max_age,
                "age": age,
            }
        )
    if not instrument.is_active:
        return str(_("%(name)s is no longer in use.") % {"name": instrument.code})
    return None


@transaction.atomic
def assessment_submit(
    *,
    child: Child,
    instrument: Instrument,
    answers: dict[int, int],
    result: Result,
    setting: str,
    administered_on: date,
    by: User,
    session: ScreeningSession | None = None,
    amends: Assessment | None = None,
    amendment_reason: str = "",
) -> Assessment:
    """Store a scored result (computed by the form from the answers), update the child's risk,
    and raise an alert for a critical answer or a severe result."""
    if amends is None and (
        problem := instrument_fit_problem(instrument=instrument, child=child, on=administered_on)
    ):
        raise ValidationError(problem, code="instrument_does_not_fit")
    if amends is not None:
        # Lock the original so that of two simultaneous corrections one wins cleanly.
        Assessment.objects.select_for_update().get(pk=amends.pk)
        if Assessment.objects.filter(amends=amends).exists():
            raise AlreadyCorrected
    assessment = Assessment.objects.create(
        child=child,
        instrument=instrument,
        answers={str(k): v for k, v in sorted(answers.items())},
        scores=result.as_scores(),
        total=result.total,
        band_label=result.band.label if result.band else {},
        risk_level=result.risk,
        critical_items=result.critical_items,
        valid=result.valid,
        setting=setting,
        session=session,
        administered_on=administered_on,
        administered_by=by,
        amends=amends,
        amendment_reason=amendment_reason,
    )
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=child,
        detail={"assessment": assessment.pk, "instrument": instrument.code},
    )
    if amends is not None:
        alerts_settle_corrected(original=amends, by=by, reason=amendment_reason)
    if result.is_critical or result.risk >= ALERT_FROM:
        alert_raise(
            child=child,
            assessment=assessment,
            reason=Alert.Reason.CRITICAL_ANSWER
            if result.is_critical
            else Alert.Reason.SEVERE_RESULT,
            risk_level=result.risk,
            by=by,
        )
    child_refresh_risk(child=child)
    child_record_saved.send(
        sender=Assessment,
        child_id=child.pk,
        record_id=assessment.pk,
        on=administered_on,
        by=by,
    )
    return assessment


def current_assessments(*, child_ids: Any = None) -> Any:
    """Assessments not corrected by a later amendment."""
    qs = Assessment.objects.filter(amendments__isnull=True)
    if child_ids is not None:
        qs = qs.filter(child_id__in=child_ids)
    return qs


def latest_result_risks(child: Child) -> list[int]:
    """The risk of the latest current result of each instrument by assessment date, then by
    entry (a source of the child's risk). A result entered late with an earlier date does not
    replace a newer one here; its alert keeps its risk (`open_alert_risks`)."""
    latest_per_code = (
        current_assessments()
        .filter(child=child, instrument__code=OuterRef("instrument__code"))
        .order_by("-administered_on", "-id")
        .values("id")[:1]
    )
    return list(
        current_assessments()
        .filter(child=child, id=Subquery(latest_per_code))
        .values_list("risk_level", flat=True)
    )


def open_alert_risks(child: Child) -> list[int]:
    """The risk of every alert of the child not yet closed (a source of the child's risk): a
    newer, lower score cannot lower the risk until a responsible person closes the alert."""
    return list(
        Alert.objects.filter(child=child, acknowledged_at__isnull=True).values_list(
            "risk_level", flat=True
        )
    )


def alert_recipients(*, child: Child) -> list[User]:
    """The child's care team, the child directors and supervisors of the child's residence,
    and the counsellors of the child's school."""
    recipients = [
        *care_team_users(child=child),
        *responsible_staff(region_code=child.residence_region_id),
    ]
    if child.school_id:
        counsellors = Membership.objects.filter(
            institution_id=child.school_id, role=Role.SCHOOL_COUNSELLOR, is_active=True
        ).values("user_id")
        recipients += list(User.objects.filter(pk__in=counsellors, is_active=True))
    unique = {u.pk: u for u in recipients if u is not None}
    return list(unique.values())


@transaction.atomic
def alert_raise(
    *, child: Child, assessment: Assessment | None, reason: str, risk_level: int, by: User
) -> Alert:
    """One open alert per child and cause: a later result with the same cause attaches to the
    open alert (raising its risk if higher); otherwise a new alert tells everyone responsible,
    except the person who entered it, in the app now and by e-mail."""
    alert = (
        Alert.objects.select_for_update()
        .filter(child=child, reason=reason, acknowledged_at__isnull=True)
        .first()
    )
    if alert is None:
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    child=child,
                    assessment=assessment,
                    reason=reason,
                    risk_level=risk_level,
                    raised_by=by,
                )
        except IntegrityError:
            # Someone raised the same cause at the same moment: attach to theirs.
            alert = Alert.objects.select_for_update().get(
                child=child, reason=reason, acknowledged_at__isnull=True
            )
        else:
            if assessment is not None:
                alert.results.add(assessment)
            _alert_tell(alert=alert, by=by)
            return alert
    if assessment is not None:
        alert.results.add(assessment)
    if risk_level > alert.risk_level:
        Alert.objects.filter(pk=alert.pk).update(risk_level=risk_level)
        alert.risk_level = risk_level
    return alert


def _alert_tell(*, alert: Alert, by: User) -> None:
    """Notify the responsible people of a new alert, but not the one who raised it."""
    child = alert.child
    # E-mail and text messages go out as each recipient chose (followups.delivery).
    notify(
        recipients=[u for u in alert_recipients(child=child) if u.pk != by.pk],
        kind="alert",
        link=reverse("assessments:alert_detail", args=[alert.pk]),
        child=child,
        params={"alert": alert.pk, "reason": alert.reason},
    )


def alerts_settle_corrected(*, original: Assessment, by: User, reason: str) -> None:
    """After a correction: an open alert whose results have all been corrected is closed with
    a note (outcome "result corrected"); one that still lists a current result stays open, its
    risk the highest of its current results. The correction raises its own alert if it must."""
    for alert in Alert.objects.select_for_update().filter(
        results=original, acknowledged_at__isnull=True
    ):
        current = list(
            alert.results.filter(amendments__isnull=True).values_list("risk_level", flat=True)
        )
        if current:
            Alert.objects.filter(pk=alert.pk).update(risk_level=max(current))
            continue
        note = _("The result was corrected: %(reason)s") % {"reason": reason}
        Alert.objects.filter(pk=alert.pk).update(
            acknowledged_by=by,
            acknowledged_at=timezone.now(),
            note=note,
            outcome=Alert.Outcome.RESULT_CORRECTED,
        )
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=alert.child,
            detail={"alert_closed": alert.pk, "outcome": Alert.Outcome.RESULT_CORRECTED},
        )
        child_record_saved.send(sender=Alert, child_id=alert.child_id, record_id=alert.pk, by=by)


# The outcomes a person chooses when closing an alert (the others are set by the system).
CLOSING_OUTCOMES = (
    Alert.Outcome.REFERRED,
    Alert.Outcome.CARE_PLAN_STARTED,
    Alert.Outcome.GUARDIAN_INFORMED,
    Alert.Outcome.FALSE_POSITIVE,
)


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User, note: str, outcome: str) -> Alert:
    """Close an alert with a note and an outcome, recording who and when, and refresh the
    child's risk (the alert no longer holds it up); the first closing wins, later ones change
    nothing."""
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=by, acknowledged_at=timezone.now(), note=note, outcome=outcome
    )
    alert.refresh_from_db()
    if updated:
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=alert.child,
            detail={"alert_acknowledged": alert.pk, "outcome": outcome},
        )
        child_refresh_risk(child=alert.child)
        child_record_saved.send(sender=Alert, child_id=alert.child_id, record_id=alert.pk, by=by)
    return alert


def guardian_informed_problems(
    *, alert: Alert, guardian: Guardian | None, informed_at: datetime | None
) -> dict[str, str]:
    """The rule for a record that a guardian was told: a current guardian of the alert's child,
    at a time not in the future. Field name → message; empty when all is well."""
    problems = {}
    if guardian is None or guardian.child_id != alert.child_id or not guardian.is_active:
        problems["guardian"] = str(_("Choose a current guardian of this child."))
    if informed_at is not None and informed_at > timezone.now():
        problems["informed_at"] = str(_("The time cannot be in the future."))
    return problems


@transaction.atomic
def alert_guardian_informed(
    *, alert: Alert, by: User, guardian: Guardian, informed_at: datetime, note: str
) -> GuardianInformed:
    """Record that a guardian of the alert's child was told (与监护人沟通): who, when, which
    guardian and a note. The alert stays open and keeps the child's risk."""
    if problems := guardian_informed_problems(
        alert=alert, guardian=guardian, informed_at=informed_at
    ):
        raise ValidationError(problems)
    record = GuardianInformed.objects.create(
        alert=alert, guardian=guardian, informed_at=informed_at, note=note, recorded_by=by
    )
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=alert.child,
        detail={"alert_guardian_informed": alert.pk, "guardian": guardian.pk},
    )
    return record
