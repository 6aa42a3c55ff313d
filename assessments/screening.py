"""Class and institution screenings: opening a session, its roster and progress, entering one
child's answers, absences, importing a sheet (checked whole before anything is saved), the summary.

Reads here are scoped twice: the session comes from `sessions_visible_to(user)` (in the view), and
its roster is always intersected with `children_visible_to(user)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.forms import check_instrument_fits
from assessments.models import Assessment, Instrument, ScreeningAbsence, ScreeningSession
from assessments.scoring import TOTAL, Definition, Result, text_in
from assessments.selectors import assessments_visible_to
from assessments.services import assessment_submit
from cases.models import Child, Consent, Guardian, RiskLevel
from cases.selectors import children_visible_to
from cases.services.family import consent_record
from core.access_log import access_record
from core.models import AccessEvent
from core.spreadsheets import Sheet, UnreadableFile, csv_bytes, read_table, xlsx_bytes
from institutions.models import Institution, User
from institutions.selectors import scope_for

THRESHOLD = RiskLevel.MODERATE  # "above the threshold" in the summary, unless chosen otherwise
DONE, PENDING, ABSENT = "done", "pending", "absent"

# The sheet format: these headers are the format itself, whatever the user's language.
RECORD_HEADER = "档案编号"
NAME_HEADER = "姓名"
CONSENT_HEADER = "知情同意"
ITEM_HEADER = re.compile(r"^(?:[Qq]|第)?\s*(\d{1,3})\s*(?:题)?$")
YES = {"是", "y", "yes", "1", "true", "√", "同意"}
NO = {"", "否", "n", "no", "0", "false", "不同意"}
SEPARATORS = re.compile(r"[\s,，、;；/]+")
SKIPPED = {"-", "_", "."}  # typed for an optional question left unanswered
MAX_REPORTED_ERRORS = 200


class ScreeningConflict(Exception):
    """Someone else closed the session or saved this child's result first."""


# -- opening ------------------------------------------------------------------------------------


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


@transaction.atomic
def screening_session_open(
    *, group: Group, instrument: Instrument, administered_on: date, title: str, by: User
) -> ScreeningSession:
    """Open a session for a class or an institution's residents (the form chose the group)."""
    if not title:
        where = (
            f"{group.school.name} "
            + _("grade %(grade)s") % {"grade": group.grade}
            + f" {group.class_name}"
            if group.school
            else str(group.institution.name if group.institution else "")
        )
        title = f"{instrument.code} · {where} · {administered_on:%Y-%m-%d}"
    return ScreeningSession.objects.create(
        title=title[:200],
        instrument=instrument,
        school=group.school,
        grade=group.grade,
        class_name=group.class_name,
        institution=group.institution,
        administered_on=administered_on,
        opened_by=by,
    )


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

    @property
    def status(self) -> str:
        if self.result is not None:
            return DONE
        return ABSENT if self.absence is not None else PENDING

    @property
    def self_consent(self) -> bool:
        """Consent given today comes from the child (14 and older, no primary guardian)."""
        return self.primary_guardian is None and self.child.age() >= Consent.SELF_CONSENT_AGE

    @property
    def may_consent_today(self) -> bool:
        return self.primary_guardian is not None or self.self_consent


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
                queryset=Guardian.objects.filter(is_active=True, is_primary_contact=True),
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
    return [
        RosterRow(
            child=child,
            result=by_child.get(child.pk),
            absence=absent.get(child.pk),
            consent_on_file=bool(child.consent_on_file),
            primary_guardian=next(iter(child.primary_guardians), None),
            fit_problem=check_instrument_fits(instrument, child),
        )
        for child in children
    ]


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


# -- entering one child's answers -----------------------------------------------------------


def parse_typed(text: str, definition: Definition) -> tuple[dict[int, int], list[str]]:
    """Answers typed in order, one digit per question ("012301232"), or separated by spaces or
    commas for answers of more than one digit; "-" leaves an optional question unanswered."""
    text = text.strip()
    numbers = [int(item["number"]) for item in definition.items]
    tokens = [t for t in SEPARATORS.split(text) if t] if SEPARATORS.search(text) else list(text)
    if not tokens:
        return {}, [_("Type the answers, one digit per question.")]
    if len(tokens) != len(numbers):
        return {}, [
            _("Type %(expected)d answers, one per question; there are %(typed)d.")
            % {"expected": len(numbers), "typed": len(tokens)}
        ]
    answers: dict[int, int] = {}
    errors: list[str] = []
    for number, token in zip(numbers, tokens, strict=True):
        if token in SKIPPED:
            continue
        try:
            answers[number] = int(token)
        except ValueError:
            errors.append(
                _("Question %(n)d: %(value)s is not a number.") % {"n": number, "value": token}
            )
    if not errors:
        errors = answer_messages(definition, answers)
    return answers, errors


def answer_messages(definition: Definition, answers: dict[int, int]) -> list[str]:
    """The definition's answer errors, each naming its question."""
    problems = definition.answer_errors(dict(answers))
    return [
        _("Question %(n)d: %(message)s") % {"n": number, "message": message}
        for number, message in sorted(problems.items())
    ]


def entry_problems(*, session: ScreeningSession, row: RosterRow, consent_today: bool) -> list[str]:
    """Why this child's answers cannot be saved in this session now (answers aside)."""
    problems = []
    if session.status != ScreeningSession.Status.OPEN:
        problems.append(_("This screening is closed."))
    if row.result is not None:
        problems.append(
            _("This child already has a result in this screening; correct it from the result page.")
        )
    if row.fit_problem:
        problems.append(row.fit_problem)
    if not row.consent_on_file:
        if not consent_today:
            problems.append(
                _("No consent for assessment is on file, and none is recorded as given today.")
            )
        elif not row.may_consent_today:
            problems.append(
                _(
                    "No guardian on file can consent for this child under 14: "
                    "add the guardian in the child's file first."
                )
            )
    return problems


@transaction.atomic
def screening_result_save(
    *,
    session: ScreeningSession,
    child: Child,
    answers: dict[int, int],
    result: Result,
    by: User,
    record_consent: bool = False,
    consent_guardian: Guardian | None = None,
) -> Assessment:
    """Save one child's checked answers in the session, recording the consent given today first
    (from `consent_guardian`, or the child when None); the result raises any alert."""
    locked = ScreeningSession.objects.select_for_update().get(pk=session.pk)
    if locked.status != ScreeningSession.Status.OPEN:
        raise ScreeningConflict(_("This screening was closed meanwhile."))
    if current_results(session=locked).filter(child=child).exists():
        raise ScreeningConflict(_("Someone saved a result for this child meanwhile."))
    if record_consent:
        consent_record(
            child=child,
            purpose=Consent.Purpose.ASSESSMENT,
            given_on=timezone.localdate(),
            by=by,
            guardian=consent_guardian,
            note=_("Given at the screening %(title)s") % {"title": locked.title[:200]},
        )
    return assessment_submit(
        child=child,
        instrument=locked.instrument,
        answers=answers,
        result=result,
        setting=Assessment.Setting.SCHOOL_SCREENING
        if locked.school_id
        else Assessment.Setting.INSTITUTION_PERIODIC,
        administered_on=locked.administered_on,
        by=by,
        session=locked,
    )


@transaction.atomic
def screening_absence_record(
    *, session: ScreeningSession, child: Child, reason: str, by: User
) -> ScreeningAbsence:
    """Note that a child of the roster was not screened, and why (once per session)."""
    absence, created = ScreeningAbsence.objects.get_or_create(
        session=session, child=child, defaults={"reason": reason[:200], "recorded_by": by}
    )
    if created:
        access_record(
            user=by,
            action=AccessEvent.Action.CHANGE,
            child=child,
            detail={"screening_absence": session.pk},
        )
    return absence


@transaction.atomic
def screening_session_close(*, session: ScreeningSession, by: User) -> ScreeningSession:
    """Close the session: no more entries. Closing twice changes nothing."""
    ScreeningSession.objects.filter(pk=session.pk, status=ScreeningSession.Status.OPEN).update(
        status=ScreeningSession.Status.CLOSED, closed_at=timezone.now()
    )
    session.refresh_from_db()
    return session


# -- importing a sheet ----------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    """One checked row of a sheet, ready to save."""

    number: int
    child: Child
    answers: dict[int, int]
    result: Result
    record_consent: bool
    consent_guardian: Guardian | None


@dataclass
class SheetCheck:
    """Everything a sheet holds; `errors` (row number or None for the file, message) is empty
    when every row can be saved."""

    rows: list[SheetRow] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def sheet_columns(headers: list[str], definition: Definition) -> tuple[dict[int, str], list[str]]:
    """Item number → header, and the problems with the header row."""
    items: dict[int, str] = {}
    problems: list[str] = []
    known = {int(i["number"]) for i in definition.items}
    for header in headers:
        match = ITEM_HEADER.match(header)
        if not match:
            continue
        number = int(match.group(1))
        if number in items:
            problems.append(_("Question %(n)d has two columns.") % {"n": number})
        elif number not in known:
            problems.append(_("This instrument has no question %(n)s.") % {"n": number})
        items[number] = header
    if RECORD_HEADER not in headers:
        problems.append(
            _("The first row must name the column %(column)s (the record number).")
            % {"column": RECORD_HEADER}
        )
    missing = sorted(known - set(items))
    if missing:
        problems.append(
            _("These questions have no column: %(numbers)s.")
            % {"numbers": "、".join(str(n) for n in missing)}
        )
    for header in sorted({h for h in headers if h and headers.count(h) > 1}):
        problems.append(_("The column %(column)s appears twice.") % {"column": header})
    return items, problems


def screening_sheet_check(
    *, session: ScreeningSession, user: User, content: bytes, filename: str
) -> SheetCheck:
    """Read and check every row of a sheet against the roster; nothing is saved here."""
    check = SheetCheck()
    definition = session.instrument.parsed
    try:
        table = read_table(content=content, filename=filename)
        items, problems = sheet_columns(table.headers, definition)
        check.errors += [(None, p) for p in problems]
        used = {RECORD_HEADER, NAME_HEADER, CONSENT_HEADER, *items.values()}
        check.ignored_columns = [h for h in table.headers if h and h not in used]
        if problems:
            return check
        roster = {
            r.child.record_number.upper(): r for r in session_roster(session=session, user=user)
        }
        seen: dict[str, int] = {}
        for count, (number, values) in enumerate(table.rows, start=1):
            if count > settings.IMPORT_MAX_ROWS:
                check.errors.append(
                    (
                        None,
                        _("The sheet has more than %(max)d rows.")
                        % {"max": settings.IMPORT_MAX_ROWS},
                    )
                )
                break
            for message in _row_problems(
                number, values, items, roster, seen, definition, session, check
            ):
                check.errors.append((number, message))
            if len(check.errors) >= MAX_REPORTED_ERRORS:
                break
    except UnreadableFile as exc:
        check.errors.append((None, str(exc)))
        return check
    if not check.rows and not check.errors:
        check.errors.append((None, _("The sheet has no rows of answers.")))
    return check


def _row_problems(
    number: int,
    values: dict[str, Any],
    items: dict[int, str],
    roster: dict[str, RosterRow],
    seen: dict[str, int],
    definition: Definition,
    session: ScreeningSession,
    check: SheetCheck,
) -> list[str]:
    """The problems of one row; a row without any is added to `check.rows`."""
    record = _text(values.get(RECORD_HEADER)).upper()
    if not record:
        return [_("The record number is empty.")]
    row = roster.get(record)
    if row is None:
        return [
            _("No child with the record number %(record)s is on this screening's roster.")
            % {"record": record}
        ]
    if record in seen:
        return [_("The same child is already in row %(row)d.") % {"row": seen[record]}]
    seen[record] = number
    problems = []
    name = _text(values.get(NAME_HEADER)).replace(" ", "")
    if name and name != row.child.name.replace(" ", ""):
        problems.append(
            _("The name %(name)s does not match the record %(record)s.")
            % {"name": name, "record": row.child.record_number}
        )
    consent_text = _text(values.get(CONSENT_HEADER)).lower()
    if consent_text not in YES | NO:
        problems.append(
            _("%(column)s must be 是 or 否, not %(value)s.")
            % {"column": CONSENT_HEADER, "value": consent_text}
        )
    problems += entry_problems(session=session, row=row, consent_today=consent_text in YES)
    answers: dict[int, int] = {}
    for item_number, header in items.items():
        raw = _text(values.get(header))
        if raw in ("", *SKIPPED):
            continue
        try:
            answers[item_number] = int(raw)
        except ValueError:
            problems.append(
                _("Question %(n)d: %(value)s is not a number.") % {"n": item_number, "value": raw}
            )
    if not problems:
        problems = answer_messages(definition, answers)
    if not problems:
        check.rows.append(
            SheetRow(
                number=number,
                child=row.child,
                answers=answers,
                result=definition.score(answers),
                record_consent=not row.consent_on_file,
                consent_guardian=row.primary_guardian,
            )
        )
    return problems


@transaction.atomic
def screening_sheet_import(
    *, session: ScreeningSession, rows: list[SheetRow], by: User
) -> list[Assessment]:
    """Save every row of a checked sheet, or none of them."""
    return [
        screening_result_save(
            session=session,
            child=row.child,
            answers=row.answers,
            result=row.result,
            by=by,
            record_consent=row.record_consent,
            consent_guardian=row.consent_guardian,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class SheetTemplate:
    """A workbook to fill in, and the children it lists (each one's export is logged)."""

    content: bytes
    child_ids: list[int]


def sheet_template(*, session: ScreeningSession, user: User, fmt: str = "xlsx") -> SheetTemplate:
    """A workbook (or CSV file) to fill in: the format's headers and the children not yet
    screened."""
    numbers = [str(i["number"]) for i in session.instrument.parsed.items]
    children = [
        row.child for row in session_roster(session=session, user=user) if row.status != DONE
    ]
    sheet = Sheet(
        title=session.instrument.code,
        header=[RECORD_HEADER, NAME_HEADER, CONSENT_HEADER, *numbers],
        rows=[[child.record_number, child.name, ""] for child in children],
        bold_header=False,
    )
    content = csv_bytes([sheet.header, *sheet.rows]) if fmt == "csv" else xlsx_bytes([sheet])
    return SheetTemplate(content=content, child_ids=[child.pk for child in children])


# -- summary ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BandCount:
    label: str
    min: int
    max: int
    risk: int
    count: int


@dataclass(frozen=True)
class CriticalResult:
    """A result with a critical answer, and what each critical answer means."""

    assessment: Assessment
    labels: list[str]


@dataclass(frozen=True)
class Summary:
    """Results by band, and the children at or above the threshold (critical answers first)."""

    progress: Progress
    bands: list[BandCount]
    above: list[Assessment]
    critical: list[CriticalResult]
    threshold: int


def session_summary(
    *, session: ScreeningSession, user: User, threshold: int = THRESHOLD
) -> Summary:
    """The summary a counsellor acts on, from the results of children the user may see."""
    definition = session.instrument.parsed
    results = list(
        assessments_visible_to(user)
        .filter(session=session, amendments__isnull=True)
        .order_by("-risk_level", "-total", "child__name_pinyin", "id")
    )
    bands = []
    for band in sorted((b for b in definition.bands if b.scale == TOTAL), key=lambda b: b.min):
        count = sum(1 for r in results if band.contains(r.total))
        bands.append(BandCount(text_in(band.label), band.min, band.max, band.risk, count))
    meaning = {
        int(rule["item"]): text_in(rule["label"]) if rule.get("label") else ""
        for rule in definition.critical
    }
    critical = [
        CriticalResult(
            r,
            [meaning.get(n) or _("question %(n)d") % {"n": n} for n in r.critical_items],
        )
        for r in results
        if r.critical_items
    ]
    return Summary(
        progress=progress_of(session_roster(session=session, user=user)),
        bands=bands,
        above=[r for r in results if r.risk_level >= threshold or r.critical_items],
        critical=critical,
        threshold=threshold,
    )
