"""Psycho-education activities (心理健康教育): recording one with its attendance, and the scoped
reads of activities (list, detail, the regions, venues and agencies an organiser may name)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Upper
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.models import Child
from cases.selectors.scope import child_scope_q, children_visible_to
from core.models import AccessEvent
from followups.models import Activity, ActivityAttendance
from institutions.models import Agency, Institution, Membership, Region, User
from institutions.roles import Level
from institutions.selectors import minimal_prefixes, scope_for

# An activity is a class, a session or a village gathering, not a mass event.
MAX_ATTENDEES = 500
_SEPARATORS = re.compile(r"[\s,，、;；]+")


@dataclass(frozen=True)
class Attendee:
    """One child on the attendance list, by record number, and whether a guardian came."""

    record_number: str
    guardian_attended: bool = False


def parse_record_numbers(text: str) -> list[str]:
    """Record numbers typed or pasted: split on spaces, new lines and (Chinese) commas."""
    seen: dict[str, str] = {}
    for token in _SEPARATORS.split(text or ""):
        token = token.strip()
        if token:
            seen.setdefault(token.upper(), token)
    return list(seen.values())


def merge_attendees(*, children: Sequence[str], guardians_of: Sequence[str]) -> list[Attendee]:
    """One attendee per child: listed as attending, or whose guardian attended (or both)."""
    merged: dict[str, Attendee] = {}
    for number in children:
        merged.setdefault(number.upper(), Attendee(number))
    for number in guardians_of:
        current = merged.get(number.upper())
        merged[number.upper()] = Attendee(
            current.record_number if current else number, guardian_attended=True
        )
    return list(merged.values())


# ---------------------------------------------------------------------------------- selectors


def activity_scope_q(user: User | AnonymousUser, level: Level = Level.READ) -> Q:
    """Activities `user` organised, held in a region their scope reaches at `level`, or
    attended by a child they reach at `level`."""
    scope = scope_for(user)
    if scope.user_id is None:
        return Q(pk__in=[])
    q = Q(organiser_id=scope.user_id)
    for prefix in scope.region_prefixes_at(level):
        q |= Q(region__code__startswith=prefix)
    attended = ActivityAttendance.objects.filter(
        child_scope_q(user, level=level, via="child__"), activity=OuterRef("pk")
    )
    return q | Q(Exists(attended))


def activities_visible_to(user: User | AnonymousUser) -> QuerySet[Activity]:
    """Activities `user` organised, held in a region of their scope, or attended by a child
    they may see. Out of scope is indistinguishable from missing."""
    if scope_for(user).user_id is None:
        return Activity.objects.none()
    return Activity.objects.filter(activity_scope_q(user))


def _attendee_count() -> Subquery:
    counts = (
        ActivityAttendance.objects.filter(activity=OuterRef("pk"))
        .order_by()
        .values("activity")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))  # type: ignore[return-value]


def activity_list(*, user: User, kind: str = "", search: str = "") -> QuerySet[Activity]:
    """The activities page: scoped, newest first, with the columns a list shows (one query)."""
    qs = (
        activities_visible_to(user)
        .select_related("venue", "region", "organiser", "agency")
        .annotate(children_count=_attendee_count())
    )
    if kind:
        qs = qs.filter(kind=kind)
    if search.strip():
        qs = qs.filter(
            Q(topic__icontains=search.strip())
            | Q(venue_text__icontains=search.strip())
            | Q(venue__name__icontains=search.strip())
        )
    return qs.order_by("-held_on", "-id")


def activity_detail_queryset() -> QuerySet[Activity]:
    """Activities with what their page shows (unscoped: the one fetch applies the scope)."""
    return Activity.objects.select_related(
        "venue__region", "region", "organiser", "agency"
    ).annotate(children_count=_attendee_count())


def attendance_visible_to(*, user: User, activity: Activity) -> QuerySet[ActivityAttendance]:
    """The attendees of an activity that `user` may see; the others are only counted."""
    return (
        ActivityAttendance.objects.filter(child_scope_q(user, via="child__"), activity=activity)
        .select_related("child")
        .order_by("child__name_pinyin", "child_id")
    )


def organiser_region_prefixes(*, user: User) -> tuple[str, ...]:
    """Where a user may hold an activity: their jurisdiction, or the region of their school or
    institution (counsellors and institution staff have no jurisdiction of their own)."""
    scope = scope_for(user)
    codes = set(scope.region_prefixes)
    codes.update(
        Membership.objects.filter(user=user, is_active=True, institution__isnull=False)
        .values_list("institution__region_id", flat=True)
        .distinct()
    )
    return minimal_prefixes(codes)


def _prefix_q(field: str, prefixes: Sequence[str]) -> Q:
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def activity_regions_for(*, user: User) -> QuerySet[Region]:
    """Regions an organiser may name for an activity."""
    prefixes = organiser_region_prefixes(user=user)
    return Region.objects.filter(_prefix_q("code", prefixes)).order_by("code")


def activity_venues_for(*, user: User) -> QuerySet[Institution]:
    """Registered venues an organiser may choose: active ones in the county (or wider area) of
    the regions they work in, where a township's activity is often held at the county's venues."""
    areas = {prefix[:6] for prefix in organiser_region_prefixes(user=user)}
    return (
        Institution.objects.filter(_prefix_q("region__code", sorted(areas)), is_active=True)
        .select_related("region")
        .order_by("region_id", "name")
    )


def activity_agencies_for(*, user: User) -> QuerySet[Agency]:
    """Agencies an organiser may record an activity for: theirs, or those over their institution."""
    memberships = Membership.objects.filter(user=user, is_active=True)
    return Agency.objects.filter(
        Q(pk__in=memberships.values("agency_id"))
        | Q(pk__in=memberships.values("institution__supervising_agency_id")),
        is_active=True,
    ).order_by("region_id", "kind")


# ----------------------------------------------------------------------------------- services


@transaction.atomic
def activity_record(
    *,
    by: User,
    kind: str,
    topic: str,
    held_on: date,
    region: Region,
    attendees: Sequence[Attendee],
    venue: Institution | None = None,
    venue_text: str = "",
    agency: Agency | None = None,
    guardians_attending: int | None = None,
    note: str = "",
) -> Activity:
    """Record an activity with its attendance, all or nothing.

    Every attendee must be a child `by` may see: one outside their scope (or unknown) refuses the
    whole activity, naming the record numbers, before anything is written. `guardians_attending`
    counts every guardian present; None means the guardians named on the attendance list.
    """
    unique = merge_attendees(
        children=[a.record_number for a in attendees if not a.guardian_attended],
        guardians_of=[a.record_number for a in attendees if a.guardian_attended],
    )
    if len(unique) > MAX_ATTENDEES:
        raise ValidationError(
            _("An activity lists at most %(max)s children.") % {"max": MAX_ATTENDEES},
            code="too_many",
        )
    wanted = {a.record_number.upper(): a for a in unique}
    found: dict[str, Child] = {
        child.rn_upper: child
        for child in children_visible_to(by)
        .annotate(rn_upper=Upper("record_number"))
        .filter(rn_upper__in=list(wanted))
        .only("pk", "record_number")
    }
    # Unknown and out of scope answer alike: a record number reveals nothing about other regions.
    refused = sorted(wanted[key].record_number for key in wanted if key not in found)
    if refused:
        raise ValidationError(
            ngettext(
                "Not saved: %(records)s is not a child in your scope. "
                "Remove it, or ask the child's director to record the activity.",
                "Not saved: %(records)s are not children in your scope. "
                "Remove them, or ask the children's directors to record the activity.",
                len(refused),
            )
            % {"records": "、".join(refused)},
            code="out_of_scope",
        )
    named_guardians = sum(1 for a in unique if a.guardian_attended)
    if guardians_attending is None:
        guardians_attending = named_guardians
    elif guardians_attending < named_guardians:
        raise ValidationError(
            _(
                "Not saved: %(named)s guardians are named on the list, "
                "more than the %(count)s guardians attending."
            )
            % {"named": named_guardians, "count": guardians_attending},
            code="guardians",
        )
    if venue is not None and not venue.is_active:
        raise ValidationError(_("Not saved: this venue is closed."), code="venue_closed")

    activity = Activity.objects.create(
        kind=kind,
        topic=topic,
        held_on=held_on,
        region=region,
        venue=venue,
        venue_text=venue_text,
        organiser=by,
        agency=agency,
        guardians_attending=guardians_attending,
        note=note,
    )
    rows = [
        ActivityAttendance(
            activity=activity, child=found[key], guardian_attended=attendee.guardian_attended
        )
        for key, attendee in wanted.items()
    ]
    ActivityAttendance.objects.bulk_create(rows)
    # The attendance is now part of each child's file: one audit entry per child.
    AccessEvent.objects.bulk_create(
        AccessEvent(
            user=by,
            child=row.child,
            action=AccessEvent.Action.CHANGE,
            detail={"activity": activity.pk, "guardian_attended": row.guardian_attended},
        )
        for row in rows
    )
    return activity
