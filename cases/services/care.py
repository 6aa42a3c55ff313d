"""Care teams (with the access they carry) and care plans."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from cases.models import AccessEvent, CarePlan, CarePlanReview, CareTeamMember, Child
from cases.services.access import access_record, child_grant_access
from cases.services.child import end_team_membership
from followups.services import notify
from institutions.models import User


@transaction.atomic
def care_team_add(
    *, child: Child, team_role: str, by: User, user: User | None = None, peer_name: str = ""
) -> CareTeamMember:
    """Add a staff member (who then sees this child) or a peer partner (a name only)."""
    if team_role == CareTeamMember.TeamRole.PEER_PARTNER:
        member = CareTeamMember.objects.create(
            child=child, team_role=team_role, peer_name=peer_name, added_by=by
        )
    else:
        if user is None:
            raise ValueError("a staff role needs a user")  # the form guarantees one
        member, _created = CareTeamMember.objects.get_or_create(
            child=child,
            team_role=team_role,
            user=user,
            is_active=True,
            defaults={"added_by": by},
        )
        child_grant_access(child=child, user=user, by=by)
        notify(
            recipients=[user] if user.pk != by.pk else [],
            kind="care_team_added",
            text=_("You were added to the care team of %(record)s as %(role)s.")
            % {"record": child.record_number, "role": member.get_team_role_display()},
            link=reverse("cases:child_detail", args=[child.pk]),
            child=child,
        )
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=child,
        detail={"care_team_added": member.pk, "role": team_role},
    )
    return member


@transaction.atomic
def care_team_remove(*, member: CareTeamMember, by: User) -> CareTeamMember:
    """End a membership; a staff member loses the access it gave unless still on the team."""
    if member.is_active:
        end_team_membership(member=member, by=by)
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=member.child,
            detail={"care_team_removed": member.pk},
        )
    return member


@transaction.atomic
def care_plan_create(*, child: Child, data: dict[str, Any], by: User) -> CarePlan:
    """Start a care plan; an active plan it replaces is marked completed."""
    CarePlan.objects.filter(child=child, status=CarePlan.Status.ACTIVE).update(
        status=CarePlan.Status.COMPLETED
    )
    plan = CarePlan.objects.create(child=child, created_by=by, **data)
    access_record(
        user=by, action=AccessEvent.Action.CHANGE, child=child, detail={"care_plan": plan.pk}
    )
    return plan


@transaction.atomic
def care_plan_review(
    *,
    plan: CarePlan,
    reviewed_on: date,
    note: str,
    by: User,
    next_review_date: date | None = None,
    new_status: str | None = None,
) -> CarePlanReview:
    """Record a review; it can set the next review date and end the plan."""
    review = CarePlanReview.objects.create(
        plan=plan,
        reviewed_on=reviewed_on,
        note=note,
        next_review_date=next_review_date,
        reviewed_by=by,
    )
    fields = []
    if next_review_date is not None:
        plan.review_date = next_review_date
        fields.append("review_date")
    if new_status and new_status != plan.status:
        plan.status = new_status
        fields.append("status")
    if fields:
        plan.save(update_fields=fields)
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=plan.child,
        detail={"care_plan_review": review.pk},
    )
    return review
