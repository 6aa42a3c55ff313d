"""The referral's life cycle as a table, and what every step shares: the row lock and the
transition check before it writes, the step's event and access-log entry, and the refusal
(`ReferralError`) when a step is illegal, stale or racing.

Every step locks the referral (`select_for_update`) and checks the transition table before it
writes, so an illegal or a racing step is refused with a message and nothing is saved; exactly
one of two concurrent accepts wins.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from institutions.models import User
from referrals.models import Referral, ReferralEvent

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


class ReferralError(ValidationError):
    """A referral write refused: the message says why, and nothing was saved."""


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


def _require(text: str, message: str, code: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ReferralError(message, code=code)
    return text


def _tell_sender(locked: Referral, *, by: User, kind: str) -> None:
    """Tell the referring person of the clinic's step (the message names the clinic)."""
    if locked.from_user_id != by.pk:
        notify(
            recipients=[locked.from_user],
            kind=kind,
            link=_detail_link(locked),
            child=locked.child,
            params={"referral": locked.pk, "institution": locked.to_institution.name},
        )
