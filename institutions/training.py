"""Staff training (能力建设): recording a training with who attended, the scoped reads of
trainings, and the supervisor's report of hours trained per staff member this year."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.inputs import whole_number
from institutions.models import Agency, Membership, Region, Training, TrainingAttendance, User
from institutions.roles import Level, Role
from institutions.selectors import scope_for

# Training years follow the calendar in China's time zone, wherever the server runs.
REPORT_ZONE = ZoneInfo("Asia/Shanghai")
MAX_ATTENDEES = 1000
_SEPARATORS = re.compile(r"[\s,，、;；]+")


def parse_usernames(text: str) -> list[str]:
    """User names typed or pasted: split on spaces, new lines and (Chinese) commas."""
    return list(dict.fromkeys(t for t in _SEPARATORS.split(text or "") if t))


def report_year_today() -> int:
    return timezone.localdate(timezone=REPORT_ZONE).year


def report_year(raw: str) -> int:
    """The year a report asks for (`?year=`): 2000 up to this year, this year otherwise."""
    this_year = report_year_today()
    year = whole_number(raw, default=this_year, low=2000, high=this_year)
    return this_year if year is None else year


def _prefix_q(field: str, prefixes: Sequence[str]) -> Q:
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def _is_system_admin(user: User | AnonymousUser) -> bool:
    return Role.SYSTEM_ADMIN in scope_for(user).roles


# ---------------------------------------------------------------------------------- selectors


def training_scope_q(user: User | AnonymousUser, level: Level = Level.READ) -> Q:
    """Trainings `user` recorded or attended, or held in a region of their scope; system
    administrators, who record trainings for any region, reach them all. Trainings hold no
    child's data: the level does not narrow them."""
    scope = scope_for(user)
    if scope.user_id is None:
        return Q(pk__in=[])
    if _is_system_admin(user):
        return Q()
    attended = TrainingAttendance.objects.filter(training=OuterRef("pk"), user_id=scope.user_id)
    return (
        Q(recorded_by_id=scope.user_id)
        | _prefix_q("region__code", scope.region_prefixes)
        | Q(Exists(attended))
    )


def trainings_visible_to(user: User | AnonymousUser) -> QuerySet[Training]:
    """Trainings `user` recorded or attended, or held in a region of their scope (see
    training_scope_q)."""
    if scope_for(user).user_id is None:
        return Training.objects.none()
    return Training.objects.filter(training_scope_q(user))


def _attendee_count() -> Coalesce:
    counts = (
        TrainingAttendance.objects.filter(training=OuterRef("pk"))
        .order_by()
        .values("training")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def training_list(*, user: User, search: str = "") -> QuerySet[Training]:
    """The trainings page: scoped, newest first, with the number who attended (one query)."""
    qs = (
        trainings_visible_to(user)
        .select_related("region", "agency")
        .annotate(attendee_count=_attendee_count())
    )
    text = search.strip()
    if text:
        qs = qs.filter(Q(topic__icontains=text) | Q(organiser__icontains=text))
    return qs.order_by("-held_on", "-id")


def training_detail_queryset() -> QuerySet[Training]:
    """Trainings with what their page shows (unscoped: the one fetch applies the scope)."""
    return Training.objects.select_related("region", "agency", "recorded_by")


def training_attendees(*, training: Training) -> QuerySet[User]:
    return User.objects.filter(trainings__training=training).order_by("username")


def training_regions_for(*, user: User) -> QuerySet[Region]:
    """Regions a user may record a training for: their jurisdiction (administrators: any)."""
    if _is_system_admin(user):
        return Region.objects.order_by("code")
    return Region.objects.filter(_prefix_q("code", scope_for(user).region_prefixes)).order_by(
        "code"
    )


def training_agencies_for(*, user: User) -> QuerySet[Agency]:
    """Agencies a training may be recorded for: the user's own, and those in their regions."""
    if _is_system_admin(user):
        return Agency.objects.filter(is_active=True).order_by("region_id", "kind")
    own = Membership.objects.filter(user=user, is_active=True).values("agency_id")
    return Agency.objects.filter(
        Q(pk__in=own) | _prefix_q("region__code", scope_for(user).region_prefixes), is_active=True
    ).order_by("region_id", "kind")


def staff_under(user: User | AnonymousUser) -> QuerySet[User]:
    """Active staff a supervisor oversees: an active membership whose jurisdiction, or whose
    agency's or institution's region, lies under one of the supervisor's region prefixes."""
    prefixes = scope_for(user).region_prefixes
    if not prefixes:
        return User.objects.none()
    # Region codes are digits only, so they are safe inside the pattern.
    pattern = r"(^|,)(" + "|".join(prefixes) + ")"
    codes = Func(
        F("jurisdiction"), Value(","), function="array_to_string", output_field=CharField()
    )
    members = (
        Membership.objects.filter(is_active=True)
        .annotate(codes=codes)
        .filter(
            Q(codes__regex=pattern)
            | _prefix_q("agency__region__code", prefixes)
            | _prefix_q("institution__region__code", prefixes)
        )
        .values("user_id")
    )
    return User.objects.filter(pk__in=members, is_active=True)


REPORT_SORTS = {
    "hours": ("hours", "username"),
    "-hours": ("-hours", "username"),
    "name": ("display_name", "username"),
}


def training_hours_report(
    *, user: User, year: int, search: str = "", sort: str = "hours"
) -> QuerySet[User]:
    """Staff under `user` with the hours and trainings they attended in `year`, fewest hours
    first by default: one query (correlated subqueries, no GROUP BY), whatever the page size."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    attended = (
        TrainingAttendance.objects.filter(
            user=OuterRef("pk"), training__held_on__gte=start, training__held_on__lt=end
        )
        .order_by()
        .values("user")
    )
    hours = Subquery(
        attended.annotate(total=Sum("training__hours")).values("total"),
        output_field=DecimalField(max_digits=8, decimal_places=1),
    )
    sessions = Subquery(attended.annotate(n=Count("pk")).values("n"), output_field=IntegerField())
    organisation = Subquery(
        Membership.objects.filter(user=OuterRef("pk"), is_active=True)
        .order_by("id")
        .annotate(org=Coalesce("agency__name", "institution__name"))
        .values("org")[:1],
        output_field=CharField(),
    )
    qs = staff_under(user).annotate(
        hours=Coalesce(hours, Value(Decimal("0.0")), output_field=DecimalField()),
        sessions=Coalesce(sessions, Value(0)),
        organisation=organisation,
    )
    text = search.strip()
    if text:
        qs = qs.filter(Q(username__icontains=text) | Q(display_name__icontains=text))
    return qs.order_by(*REPORT_SORTS.get(sort, REPORT_SORTS["hours"]))


# ----------------------------------------------------------------------------------- services


@transaction.atomic
def training_record(
    *,
    by: User,
    topic: str,
    held_on: date,
    hours: Decimal,
    organiser: str,
    region: Region,
    attendees: Sequence[str],
    agency: Agency | None = None,
) -> Training:
    """Record a training and who attended (by user name), all or nothing: an unknown or
    inactive user name refuses the whole record, naming it, before anything is written."""
    if not Decimal("0") < hours <= Decimal("200"):
        raise ValidationError(_("Hours must be more than 0 and at most 200."), code="hours")
    names = list(dict.fromkeys(attendees))
    if len(names) > MAX_ATTENDEES:
        raise ValidationError(
            _("A training lists at most %(max)s people.") % {"max": MAX_ATTENDEES},
            code="too_many",
        )
    found = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    unknown = [name for name in names if name not in found]
    if unknown:
        raise ValidationError(
            ngettext(
                "Not saved: there is no active user named %(names)s.",
                "Not saved: there are no active users named %(names)s.",
                len(unknown),
            )
            % {"names": "、".join(unknown)},
            code="unknown_user",
        )
    training = Training.objects.create(
        topic=topic,
        held_on=held_on,
        hours=hours,
        organiser=organiser,
        region=region,
        agency=agency,
        recorded_by=by,
    )
    TrainingAttendance.objects.bulk_create(
        TrainingAttendance(training=training, user=found[name]) for name in names
    )
    return training
