"""The scheduler's view of referrals: a referral sent and not answered within its time limit
becomes a task for the person who sent it (registered in ReferralsConfig.ready)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncDate

from core.access import any_of
from followups.models import Task
from followups.scheduling import register_task_kind, rows
from referrals.models import Referral


def referrals_unanswered(today: date, child_ids: list[int] | None) -> QuerySet[Any]:
    """Each sent referral not yet accepted or declined: due when its time limit for an answer
    (by urgency) runs out, for its sender, who chases it or sends it elsewhere."""
    limit = Case(
        *[
            When(urgency=urgency, then=Value(delta))
            for urgency, delta in settings.REFERRAL_ANSWER_LIMITS.items()
        ],
        default=Value(settings.REFERRAL_ANSWER_LIMITS["routine"]),
    )
    qs = Referral.objects.filter(status=Referral.Status.SENT, sent_at__isnull=False)
    if child_ids is not None:
        qs = qs.filter(any_of("child_id", child_ids))
    deadline = ExpressionWrapper(F("sent_at") + limit, output_field=DateTimeField())
    return rows(
        qs.order_by("child_id", "sent_at"),
        child=F("child_id"),
        due=Cast(TruncDate(deadline), DateField()),
        assignee=F("from_user_id"),
        source=F("pk"),
    )


def register() -> None:
    register_task_kind(Task.Kind.REFERRAL_UNANSWERED, referrals_unanswered)
