"""The file as it was at a hand-over: frozen when the child moves, for the sending side to read.

`file_snapshot` takes it from the live rows inside the hand-over's transaction and the service
stores it on the hand-over; the page renders only from that stored data, so nothing changed
after the hand-over shows there. Hand-overs made before snapshots were stored are rebuilt from
the change history (django-pghistory) as it stood when the hand-over was written
(`snapshot_from_history`). The national ID is kept masked only; phone numbers and confidential
notes are kept whole and masked when shown, by the reader's role.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.utils.timezone import localdate

from cases.models import (
    CarePlan,
    CarePlanReview,
    CareTeamMember,
    Category,
    Child,
    Consent,
    Guardian,
    Handover,
    RiskLevel,
)
from institutions.masking import mask
from institutions.models import Agency, Institution, Region, User

SCHEMA = 1


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _names(model: Any, pks: set[Any]) -> dict[Any, str]:
    pks = {pk for pk in pks if pk}
    if not pks:
        return {}
    return {obj.pk: str(obj.name) for obj in model.objects.filter(pk__in=pks).only("name")}


def _user_names(pks: set[Any]) -> dict[Any, str]:
    pks = {pk for pk in pks if pk}
    return {u.pk: str(u) for u in User.objects.filter(pk__in=pks)} if pks else {}


def _child_part(child: Any) -> dict[str, Any]:
    """The identity part from a Child or a ChildEvent (the same field names)."""
    regions = _names(Region, {child.residence_region_id, child.household_region_id})
    places = _names(Institution, {child.school_id, child.residential_institution_id})
    return {
        "name": child.name,
        "record_number": child.record_number,
        "sex": child.sex,
        "birth_date": _day(child.birth_date),
        "national_id_masked": child.national_id_masked,
        "residence_region": {
            "code": child.residence_region_id,
            "name": regions.get(child.residence_region_id, ""),
        },
        "household_region": {
            "code": child.household_region_id,
            "name": regions.get(child.household_region_id, ""),
        },
        "school": places.get(child.school_id, ""),
        "grade": child.grade,
        "class_name": child.class_name,
        "residential_institution": places.get(child.residential_institution_id, ""),
        "categories": list(child.categories or []),
        "status": child.status,
        "status_reason": child.status_reason,
        "risk_level": child.risk_level,
        "notes": child.notes,
        "notes_confidential": child.notes_confidential,
        "version": child.version,
    }


def _guardian_part(guardian: Any) -> dict[str, Any]:
    return {
        "name": guardian.name,
        "relation": guardian.relation,
        "phone": guardian.phone,
        "lives_with_child": guardian.lives_with_child,
        "works_away": guardian.works_away,
        "work_location": guardian.work_location,
        "is_primary_contact": guardian.is_primary_contact,
    }


def _consents_part(consents: list[Consent], at: datetime | None) -> list[dict[str, Any]]:
    guardians = _names(Guardian, {c.guardian_id for c in consents})
    agencies = _names(Agency, {c.shared_with_id for c in consents})
    rows = []
    for consent in consents:
        withdrawn_at = consent.withdrawn_at
        withdrawn = withdrawn_at is not None and (at is None or withdrawn_at < at)
        rows.append(
            {
                "purpose": consent.purpose,
                "given_by_child": consent.given_by_child,
                "guardian": guardians.get(consent.guardian_id, ""),
                "shared_with": agencies.get(consent.shared_with_id, ""),
                "given_on": _day(consent.given_on),
                "note": consent.note,
                "withdrawn_on": _day(localdate(withdrawn_at))
                if withdrawn_at and withdrawn
                else None,
                "withdrawal_reason": consent.withdrawal_reason if withdrawn else "",
            }
        )
    return rows


def _plans_part(plans: list[Any], reviews: list[CarePlanReview]) -> list[dict[str, Any]]:
    users = _user_names({p.owner_id for p in plans} | {r.reviewed_by_id for r in reviews})
    by_plan: dict[int, list[dict[str, Any]]] = {}
    for review in reviews:
        by_plan.setdefault(review.plan_id, []).append(
            {
                "reviewed_on": _day(review.reviewed_on),
                "note": review.note,
                "next_review_date": _day(review.next_review_date),
                "reviewed_by": users.get(review.reviewed_by_id, ""),
            }
        )
    return [
        {
            "classification": plan.classification,
            "goals": plan.goals,
            "interventions": list(plan.interventions or []),
            "other_intervention": plan.other_intervention,
            "owner": users.get(plan.owner_id, ""),
            "start_date": _day(plan.start_date),
            "review_date": _day(plan.review_date),
            "status": plan.status,
            "reviews": by_plan.get(plan.id, []),
        }
        for plan in plans
    ]


def _team_part(members: list[Any]) -> list[dict[str, Any]]:
    users = _user_names({m.user_id for m in members})
    return [
        {
            "team_role": member.team_role,
            "name": users.get(member.user_id, "") or member.peer_name,
            "since": _day(member.started_on),
        }
        for member in members
    ]


def file_snapshot(child: Child) -> dict[str, Any]:
    """The file as it is now, from the live rows (call it inside the hand-over's transaction)."""
    plans = list(CarePlan.objects.filter(child=child).order_by("-start_date", "-id"))
    return {
        "schema": SCHEMA,
        "child": _child_part(child),
        "guardians": [
            _guardian_part(g) for g in Guardian.objects.filter(child=child, is_active=True)
        ],
        "consents": _consents_part(
            list(Consent.objects.filter(child=child).order_by("-given_on", "-id")), None
        ),
        "care_plans": _plans_part(
            plans,
            list(CarePlanReview.objects.filter(plan__in=plans).order_by("-reviewed_on", "-id")),
        ),
        "care_team": _team_part(
            list(CareTeamMember.objects.filter(child=child, is_active=True).order_by("team_role"))
        ),
    }


def _as_it_was(event_model: Any, cut: datetime, **filters: Any) -> list[Any]:
    """The last history row of each object written before `cut`."""
    rows = (
        event_model.objects.filter(pgh_created_at__lt=cut, **filters)
        .order_by("pgh_obj_id", "-pgh_id")
        .distinct("pgh_obj_id")
    )
    return list(rows)


def snapshot_from_history(handover: Handover) -> dict[str, Any] | None:
    """For a hand-over stored without a snapshot: the file rebuilt from the change history as
    it stood just before the hand-over was written; None when the history does not reach it."""
    child_events = apps.get_model("cases", "ChildEvent").objects.filter(
        pgh_obj_id=handover.child_id
    )
    before = child_events.filter(version=handover.child_version).order_by("-pgh_id").first()
    if before is None:
        return None
    # Every row the hand-over's own transaction wrote carries that transaction's start time,
    # the time of the child's next version; anything earlier was written before it.
    moved = child_events.filter(version=handover.child_version + 1).order_by("pgh_id").first()
    cut = moved.pgh_created_at if moved is not None else handover.at
    guardians = [
        g
        for g in _as_it_was(
            apps.get_model("cases", "GuardianEvent"), cut, child_id=handover.child_id
        )
        if g.is_active
    ]
    members = [
        m
        for m in _as_it_was(
            apps.get_model("cases", "CareTeamMemberEvent"), cut, child_id=handover.child_id
        )
        if m.is_active
    ]
    plans = sorted(
        _as_it_was(apps.get_model("cases", "CarePlanEvent"), cut, child_id=handover.child_id),
        key=lambda p: (p.start_date, p.pgh_obj_id),
        reverse=True,
    )
    reviews = list(
        CarePlanReview.objects.filter(
            plan_id__in=[p.pgh_obj_id for p in plans], created_at__lt=cut
        ).order_by("-reviewed_on", "-id")
    )
    consents = list(
        Consent.objects.filter(child_id=handover.child_id, recorded_at__lt=cut).order_by(
            "-given_on", "-id"
        )
    )
    return {
        "schema": SCHEMA,
        "rebuilt": True,
        "child": _child_part(before),
        "guardians": [_guardian_part(g) for g in guardians],
        "consents": _consents_part(consents, cut),
        "care_plans": _plans_part(plans, reviews),
        "care_team": _team_part(sorted(members, key=lambda m: m.team_role)),
    }


def _label(choices: Any, value: Any) -> str:
    return str(dict(choices).get(value, value or ""))


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def snapshot_for_display(snapshot: dict[str, Any], user: Any) -> dict[str, Any]:
    """The stored snapshot with labels in the reader's language and fields masked by role."""
    child = dict(snapshot["child"])
    child.update(
        birth_date=_date(child["birth_date"]),
        sex_label=_label(Child.Sex.choices, child["sex"]),
        category_labels=[_label(Category.choices, c) for c in child["categories"]],
        risk_label=_label(RiskLevel.choices, child["risk_level"]),
        status_label=_label(Child.Status.choices, child["status"]),
        notes=mask(
            user, "confidential_note", child["notes"], sensitive=child["notes_confidential"]
        ),
    )
    guardians = [
        {
            **g,
            "relation_label": _label(Guardian.Relation.choices, g["relation"]),
            "phone": mask(user, "phone", g["phone"]),
        }
        for g in snapshot.get("guardians", [])
    ]
    consents = [
        {
            **c,
            "purpose_label": _label(Consent.Purpose.choices, c["purpose"]),
            "given_on": _date(c["given_on"]),
            "withdrawn_on": _date(c["withdrawn_on"]),
        }
        for c in snapshot.get("consents", [])
    ]
    plans = [
        {
            **p,
            "classification_label": _label(CarePlan.Classification.choices, p["classification"]),
            "intervention_labels": [
                _label(CarePlan.Intervention.choices, i) for i in p["interventions"]
            ],
            "status_label": _label(CarePlan.Status.choices, p["status"]),
            "start_date": _date(p["start_date"]),
            "review_date": _date(p["review_date"]),
            "reviews": [
                {
                    **r,
                    "reviewed_on": _date(r["reviewed_on"]),
                    "next_review_date": _date(r["next_review_date"]),
                }
                for r in p["reviews"]
            ],
        }
        for p in snapshot.get("care_plans", [])
    ]
    team = [
        {
            **m,
            "role_label": _label(CareTeamMember.TeamRole.choices, m["team_role"]),
            "since": _date(m["since"]),
        }
        for m in snapshot.get("care_team", [])
    ]
    return {
        "child": child,
        "guardians": guardians,
        "consents": consents,
        "plans": plans,
        "team": team,
        "rebuilt": bool(snapshot.get("rebuilt")),
    }
