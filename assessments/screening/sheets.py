"""Importing a sheet (read and checked whole before anything is saved) and the sheet to fill in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from assessments.models import ScreeningSession
from assessments.scoring import Definition, Result
from assessments.screening.entry import SKIPPED, answer_messages, entry_problems
from assessments.screening.roster import DONE, RosterRow, session_roster
from cases.models import Child, Guardian
from cases.selectors.scope import children_visible_to
from core.spreadsheets import Sheet, UnreadableFile, csv_bytes, read_table, xlsx_bytes
from institutions.models import User
from institutions.roles import CONSENT_PERMISSION, Level

# The sheet format: these headers are the format itself, whatever the user's language.
RECORD_HEADER = "档案编号"
NAME_HEADER = "姓名"
CONSENT_HEADER = "知情同意"
ITEM_HEADER = re.compile(r"^(?:[Qq]|第)?\s*(\d{1,3})\s*(?:题)?$")
YES = {"是", "y", "yes", "1", "true", "√", "同意"}
NO = {"", "否", "n", "no", "0", "false", "不同意"}
MAX_REPORTED_ERRORS = 200


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
    # An optional question (such as PHQ-9's unscored one) may have no column: left unanswered.
    needed = {int(i["number"]) for i in definition.items if i.get("required", True)}
    missing = sorted(needed - set(items))
    if missing:
        problems.append(
            _("These questions have no column: %(numbers)s.")
            % {"numbers": "、".join(str(n) for n in missing)}
        )
    for header in sorted({h for h in headers if h and headers.count(h) > 1}):
        problems.append(_("The column %(column)s appears twice.") % {"column": header})
    return items, problems


def screening_sheet_check(
    *, session: ScreeningSession, user: User, upload: UploadedFile
) -> SheetCheck:
    """Read and check every row of a sheet against the roster, and whether `user` may save
    it (PermissionDenied when a child of the sheet is one the user may only read); nothing is
    saved here."""
    check = SheetCheck()
    definition = session.instrument.parsed
    content, filename = upload.read(), PurePath(upload.name or "").name
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
    screened = {row.child.pk for row in check.rows}
    if len(screened) != (
        children_visible_to(user, Level.CONTRIBUTE).filter(pk__in=screened).count()
    ):
        raise PermissionDenied  # a child of the sheet is one the user may only read
    consent_given = any(r.record_consent for r in check.rows)
    if check.ok and consent_given and not user.has_perm(CONSENT_PERMISSION):
        check.errors.append((None, _("You may not record consent.")))
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
