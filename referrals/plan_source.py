"""A discharge as the start of a follow-up plan made by hand: `?referral=<id>` on the new-plan
page pre-fills the clinic's recommendation (registered in ReferralsConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from cases.models import Child
from followups.plan_sources import PlanSource, register_plan_source
from referrals.models import Referral


def discharge_source(child: Child, value: str) -> PlanSource | None:
    """The child's discharged referral `value`, as the plan's starting values (None when the
    id names no discharge of this child)."""
    try:
        pk = int(value)
    except ValueError:
        return None
    referral = (
        Referral.objects.filter(pk=pk, child=child, discharged_at__isnull=False)
        .select_related("to_institution")
        .first()
    )
    if referral is None or not referral.followup_interval_days:
        return None
    return PlanSource(
        record=referral,
        partner_role=referral.followup_by,
        interval_days=referral.followup_interval_days,
        weeks=referral.followup_weeks or 4,
        goal=_("Regular follow-up after discharge from %(institution)s.")
        % {"institution": referral.to_institution.name},
    )


def register() -> None:
    register_plan_source("referral", discharge_source)
