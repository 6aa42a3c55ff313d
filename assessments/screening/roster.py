"""The groups a user may screen, a session's roster and its progress.

Reads here are scoped twice: the session comes from `sessions_visible_to(user)` (in the view), and
its roster is always intersected with `children_visible_to(user)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from assessments.models import Assessment, ScreeningAbsence, ScreeningSession
from assessments.services import instrument_fit_problem
from cases.models import Child, Consent, Guardian
from cases.selectors.scope import children_visible_to
from cases.services.family import consent_giver_check, may_consent_for_self
from institutions.models import Institution, User
from institutions.selectors import scope_for

DONE, PENDING, ABSENT = "done", "pending", "absent"


@dataclass(frozen=True)
class Group:
    """A class of a school, or all residents of an institution, that a user may screen."""

    key: str
    label: str
    size: int
    school: Institution | None = None
    grade: int | None = None
    class_name: str = ""
    institution: Institution | None = None


def screening_groups(*, user: User) -> list[Group]:
    """The classes of the user's schools and the residents of the user's institutions."""
    scope = scope_for(user)
    visible = children_visible_to(user).filter(status=Child.Status.ACTIVE)
    groups: list[Group] = []
    institutions = Institution.objects.in_bulk(
        [*scope.school_ids, *scope.residential_institution_ids]
    )
    if scope.school_ids:
        classes = (
            visible.filter(school_id__in=scope.school_ids, grade__isnull=False)
            .exclude(class_name="")
            .values("school_id", "grade", "class_name")
            .annotate(size=Count("id"))
            .order_by("school_id", "grade", "class_name")
        )
        for row in classes:
            school = institutions[row["school_id"]]
            groups.append(
                Group(
                    key=f"s:{school.pk}:{row['grade']}:{row['class_name']}",
                    label=_("%(school)s · grade %(grade)s · %(class)s (%(size)d children)")
                    % {
                        "school": school.name,
                        "grade": row["grade"],
                        "class": row["class_name"],
                        "size": row["size"],
                    },
                    size=row["size"],
                    school=school,
                    grade=row["grade"],
                    class_name=row["class_name"],
                )
            )
    if scope.residential_institution_ids:
        residents = (
            visible.filter(residential_institution_id__in=scope.residential_institution_ids)
            .values("residential_institution_id")
            .annotate(size=Count("id"))
            .order_by("residential_institution_id")
        )
        for row in residents:
            home = institutions[row["residential_institution_id"]]
            groups.append(
                Group(
                    key=f"i:{home.pk}",
                    label=_("%(institution)s · all residents (%(size)d children)")
                    % {"institution": home.name, "size": row["size"]},
                    size=row["size"],
                    institution=home,
                )
            )
    return groups


# -- roster and progress ------------------------------------------------------------------------


def roster_children(*, session: ScreeningSession, user: User) -> QuerySet[Child]:
    """The active children of the session's class or institution that `user` may see, and any
    child already screened in it (a pupil who changed class keeps their result)."""
    if session.school_id:
        group = Q(school_id=session.school_id, grade=session.grade, class_name=session.class_name)
    else:
        group = Q(residential_institution_id=session.institution_id)
    screened = Assessment.objects.filter(session=session).values("child_id")
    return children_visible_to(user).filter(
        (group & Q(status=Child.Status.ACTIVE)) | Q(pk__in=screened)
    )


def current_results(*, session: ScreeningSession) -> QuerySet[Assessment]:
    """The session's results that no later correction replaces."""
    return Assessment.objects.filter(session=session, amendments__isnull=True)


@dataclass
class RosterRow:
    """One child of the roster, with their result or absence and what entry needs."""

    child: Child
    result: Assessment | None
    absence: ScreeningAbsence | None
    consent_on_file: bool
    primary_guardian: Guardian | None
    fit_problem: str | None
    # Why the user cannot record consent given today (None: they can), by the consent rule.
    consent_problem: str | None = None

    @property
    def status(self) -> str:
        if self.result is not None:
            return DONE
        return ABSENT if self.absence is not None else PENDING

    @property
    def self_consent(self) -> bool:
        """Consent given today comes from the child (14 and older, no primary guardian)."""
        return self.primary_guardian is None and may_consent_for_self(self.child)

    @property
    def may_consent_today(self) -> bool:
        return self.consent_problem is None


def consent_today_problem(*, child: Child, guardian: Guardian | None, by: User) -> str | None:
    """Why `by` cannot record consent given today by the primary guardian (or, without one,
    the child): the one consent rule, as a message (an institution guardian consents
    through its responsible person)."""
    try:
        consent_giver_check(child=child, guardian=guardian, by=by)
    except ValidationError as error:
        if error.code == "child_under_14":
            return _(
                "No guardian on file can consent for this child under 14: "
                "add the guardian in the child's file first."
            )
        return " ".join(error.messages)
    return None


def session_roster(
    *, session: ScreeningSession, user: User, child_id: int | None = None
) -> list[RosterRow]:
    """The roster (or one child of it) in a fixed number of queries, whatever its size."""
    children = (
        roster_children(session=session, user=user)
        .annotate(
            consent_on_file=Exists(
                Consent.objects.filter(
                    child=OuterRef("pk"),
                    purpose=Consent.Purpose.ASSESSMENT,
                    withdrawn_at__isnull=True,
                )
            )
        )
        .prefetch_related(
            Prefetch(
                "guardians",
                queryset=Guardian.objects.filter(
                    is_active=True, is_primary_contact=True
                ).select_related("institution"),
                to_attr="primary_guardians",
            )
        )
        .order_by("name_pinyin", "record_number")
    )
    results = current_results(session=session)
    absences = ScreeningAbsence.objects.filter(session=session)
    if child_id is not None:
        children = children.filter(pk=child_id)
        results = results.filter(child_id=child_id)
        absences = absences.filter(child_id=child_id)
    by_child = {a.child_id: a for a in results}
    absent = {a.child_id: a for a in absences}
    instrument = session.instrument
    rows = []
    for child in children:
        guardian = next(iter(child.primary_guardians), None)
        rows.append(
            RosterRow(
                child=child,
                result=by_child.get(child.pk),
                absence=absent.get(child.pk),
                consent_on_file=bool(child.consent_on_file),
                primary_guardian=guardian,
                fit_problem=instrument_fit_problem(instrument=instrument, child=child),
                consent_problem=None
                if child.consent_on_file
                else consent_today_problem(child=child, guardian=guardian, by=user),
            )
        )
    return rows


@dataclass(frozen=True)
class Progress:
    """How far a session is: screened, not yet, absent."""

    done: int
    pending: int
    absent: int

    @property
    def total(self) -> int:
        return self.done + self.pending + self.absent

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def progress_of(rows: list[RosterRow]) -> Progress:
    statuses = [r.status for r in rows]
    return Progress(statuses.count(DONE), statuses.count(PENDING), statuses.count(ABSENT))


def session_progress(*, session: ScreeningSession, user: User) -> Progress:
    """The counts alone, in one query (after a row is saved)."""
    counts = (
        roster_children(session=session, user=user)
        .annotate(
            screened=Exists(current_results(session=session).filter(child=OuterRef("pk"))),
            away=Exists(ScreeningAbsence.objects.filter(session=session, child=OuterRef("pk"))),
        )
        .aggregate(
            total=Count("pk"),
            done=Count("pk", filter=Q(screened=True)),
            absent=Count("pk", filter=Q(screened=False, away=True)),
        )
    )
    return Progress(
        counts["done"], counts["total"] - counts["done"] - counts["absent"], counts["absent"]
    )
