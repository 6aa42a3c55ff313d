"""Care teams (with the access they carry) and care plans."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.urls import reverse

from cases.models import CarePlan, CarePlanReview, CareTeamMember, Child, ChildAccessGrant
from cases.services.access import grant_open
from cases.services.child import EditConflict, end_team_membership
from core.access_log import access_record
from core.models import AccessEvent
from core.notifications import notify
from core.signals import child_record_saved
from institutions.models import User
from institutions.roles import Level


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
        grant_open(
            child=child,
            user=user,
            level=Level.CONTRIBUTE,
            source=ChildAccessGrant.Source.CARE_TEAM,
            source_id=member.pk,
            by=by,
        )
        notify(
            recipients=[user] if user.pk != by.pk else [],
            kind="care_team_added",
            link=reverse("cases:child_detail", args=[child.pk]),
            child=child,
            params={"team_role": team_role},
        )
    access_record(
        user=by,
        action=AccessEvent.Action.CHANGE,
        child=child,
        detail={"care_team_added": member.pk, "role": team_role},
    )
    child_record_saved.send(sender=CareTeamMember, child_id=child.pk, by=by)
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
        # Tasks that fell to the member go to whoever the child's tasks fall to now.
        child_record_saved.send(sender=CareTeamMember, child_id=member.child_id, by=by)
    return member


@transaction.atomic
def care_plan_create(
    *, child: Child, data: dict[str, Any], by: User, replacing: int | None = None
) -> CarePlan:
    """Start a care plan; an active plan it replaces is marked completed.

    `replacing` is the active plan the author saw (0: none); when someone else has started or
    ended a plan since, EditConflict carries the child and nothing is written.
    """
    active = list(
        CarePlan.objects.select_for_update().filter(child=child, status=CarePlan.Status.ACTIVE)
    )
    if replacing is not None and replacing != (active[0].pk if active else 0):
        raise EditConflict(child)
    CarePlan.objects.filter(pk__in=[p.pk for p in active]).update(status=CarePlan.Status.COMPLETED)
    plan = CarePlan.objects.create(child=child, created_by=by, **data)
    access_record(
        user=by, action=AccessEvent.Action.CHANGE, child=child, detail={"care_plan": plan.pk}
    )
    child_record_saved.send(sender=CarePlan, child_id=child.pk, record_id=plan.pk, by=by)
    return plan


def care_plan_state(plan: CarePlan) -> str:
    """What a plan's review form is based on: the plan's status and review date."""
    return f"{plan.status}:{plan.review_date.isoformat()}"


@transaction.atomic
def care_plan_review(
    *,
    plan: CarePlan,
    reviewed_on: date,
    note: str,
    by: User,
    next_review_date: date | None = None,
    new_status: str | None = None,
    expected_state: str | None = None,
) -> CarePlanReview:
    """Record a review; it can set the next review date and end the plan.

    `expected_state` is the plan's `care_plan_state` when the review form was opened: if
    someone has changed the plan since, EditConflict carries the plan as it is now and nothing
    is written, so the later review does not undo the earlier one's date or status.
    """
    plan = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if expected_state is not None and care_plan_state(plan) != expected_state:
        raise EditConflict(plan)
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
    child_record_saved.send(
        sender=CarePlanReview, child_id=plan.child_id, record_id=review.pk, on=reviewed_on, by=by
    )
    return review
