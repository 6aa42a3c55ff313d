"""Writing a referral (a draft with its checked attachments and any consent given now) and
sending it: consent or an emergency override, the clinic's access, and who is told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import Assessment
from cases.models import Child, Consent
from cases.selectors.staff import responsible_staff, staff_of
from cases.services.family import consent_record
from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from followups.models import Visit
from institutions.models import Agency, Institution, User
from institutions.roles import Role
from referrals.models import Referral, ReferralAttachment, ReferralEvent
from referrals.services.consent import ConsentGiven, _usable_consent
from referrals.services.grants import _grant_clinic
from referrals.services.transitions import ReferralError, S, _detail_link, _lock, _step


@dataclass(frozen=True)
class AttachmentData:
    """A checked upload: the form has verified its type (by its content) and size."""

    filename: str
    content_type: str
    content: bytes


MAX_ATTACHMENTS = 5  # per referral
# A referral that has ended takes no more attachments.
ENDED = (S.CLOSED, S.WITHDRAWN, S.DECLINED)


def _attachment_rows(
    referral: Referral, attachments: Sequence[AttachmentData], by: User
) -> list[ReferralAttachment]:
    return ReferralAttachment.objects.bulk_create(
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


@transaction.atomic
def referral_attach(
    *,
    referral: Referral,
    attachment: AttachmentData,
    by: User,
    request: HttpRequest | None = None,
) -> ReferralAttachment:
    """Attach one more checked file to a referral that has not ended (a report the clinic
    sends back, a letter the sender forgot), at most MAX_ATTACHMENTS in all; the change is
    logged. Refused with ReferralError: `ended` for an ended referral, `too_many` past the
    limit (checked under the referral's row lock, so two uploads cannot both pass)."""
    locked = Referral.objects.select_for_update(of=("self",)).get(pk=referral.pk)
    if locked.status in ENDED:
        raise ReferralError(
            _("This referral has ended: it takes no more attachments."), code="ended"
        )
    if locked.attachments.count() >= MAX_ATTACHMENTS:
        raise ReferralError(
            _("A referral holds at most %(count)d attachments.") % {"count": MAX_ATTACHMENTS},
            code="too_many",
        )
    (row,) = _attachment_rows(locked, [attachment], by)
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=locked.child,
        request=request,
        detail={"referral": locked.pk, "attachment": row.pk},
    )
    return row


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
        _attachment_rows(referral, attachments, by)
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
    notify(
        recipients=[u for u in staff_of(institution=locked.to_institution) if u.pk != by.pk],
        kind="referral_received",
        link=_detail_link(locked),
        child=child,
        params={"referral": locked.pk, "urgency": locked.urgency},
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
