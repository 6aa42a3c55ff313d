"""Exports of the lists (issue 12, point 5): the same rows as the list, Chinese headers and real
dates, formula-safe, masked per role or de-identified, logged with the children they hold, 404
for a region outside the user's scope, 403 without the permission; and a long export written by
the worker, with its progress, downloaded by its requester alone until it expires."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from assessments.screening.roster import screening_groups
from assessments.screening.services import screening_session_open
from cases.exports import CHILD_COLUMNS
from cases.models import Category, Child
from config.celery import app
from core.exports import export_file_bytes, export_job_run, export_jobs_purge
from core.models import AccessEvent, ExportChunk, ExportJob
from followups.models import Visit
from institutions.services import region_load
from tests.conftest import user
from tests.demo import NEIGHBOUR_COUNTY
from tests.factories import (
    AssessmentFactory,
    ChildFactory,
    GuardianFactory,
    ReferralFactory,
    VisitFactory,
    instrument,
    neighbouring_village,
)

pytestmark = pytest.mark.django_db

# A village of the demo county that only these tests fill: its children are exactly the ones
# made here (the county's agency supervisors see it).
VILLAGE = "990101003090"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECORD = re.compile(r"\d{6}-\d{8}")
NATIONAL_ID = "990101201301014512"  # synthetic: province 99 does not exist


def village() -> str:
    region_load(rows=[(VILLAGE, "导出测试村")])
    return VILLAGE


def children_here(n: int, **fields) -> list[Child]:
    code = village()
    return [ChildFactory(region=code, **fields) for _i in range(n)]


def workbook(response) -> list[list[object]]:
    """The rows of a downloaded workbook (sent whole, or piece by piece when it was kept)."""
    if response.streaming:
        content = b"".join(response.streaming_content)
        assert int(response["Content-Length"]) == len(content)
    else:
        content = response.content
    assert response.status_code == 200, content[:500]
    assert response["Content-Type"] == XLSX_TYPE
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    assert response.content.startswith("\ufeff".encode())  # the BOM Excel needs for Chinese
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def column(rows: list[list[object]], header: str) -> list[object]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def zh(text: object) -> str:
    with translation.override("zh-hans"):
        return str(text)


def export_url(name: str, *args: object, **query: str) -> str:
    url = reverse(name, args=args)
    return f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else url


# --- The children list ----------------------------------------------------------------------


def test_xlsx_has_chinese_headers_real_dates_and_exactly_the_filtered_rows(login):
    orphans = children_here(3, categories=[Category.ORPHAN], birth_date=date(2012, 3, 4))
    children_here(2, categories=[Category.MIGRANT])
    client = login("county_civil")
    query = f"region={VILLAGE}&category=orphan"

    rows = workbook(client.get(f"{reverse('cases:child_export')}?{query}&fmt=xlsx"))

    assert rows[0][:4] == ["档案编号", "姓名", "性别", "出生日期"]
    assert {"身份证号", "现居住地", "类别", "风险等级", "监护人"} <= set(rows[0])
    assert rows[0] == [zh(c.header) for c in CHILD_COLUMNS]  # whatever the user's language
    # Exactly the list's rows: the same children the page lists for the same query string.
    page = client.get(f"{reverse('cases:child_list')}?{query}").content.decode()
    listed = set(RECORD.findall(page))
    exported = column(rows, "档案编号")
    assert set(exported) == listed == {c.record_number for c in orphans}
    assert len(exported) == 3
    # Real dates, not text.
    born = column(rows, "出生日期")
    assert all(isinstance(v, datetime) for v in born)  # a date cell (openpyxl reads a datetime)
    assert {v.date() for v in born} == {date(2012, 3, 4)}
    assert all(isinstance(v, datetime) for v in column(rows, rows[0][-1]))  # registered at
    assert set(column(rows, "姓名")) == {c.name for c in orphans}


def test_csv_has_a_bom_and_text_that_looks_like_a_formula_stays_text(login):
    child = children_here(1, class_name="=1+2")[0]
    GuardianFactory(child=child, name="@SUM(A1)")
    client = login("county_civil")

    rows = csv_rows(client.get(export_url("cases:child_export", region=VILLAGE, fmt="csv")))

    assert rows[0][:2] == ["档案编号", "姓名"]
    assert column(rows, "班级") == ["'=1+2"]
    assert column(rows, "监护人") == ["'@SUM(A1)"]
    xlsx = openpyxl.load_workbook(
        io.BytesIO(client.get(export_url("cases:child_export", region=VILLAGE, fmt="xlsx")).content)
    ).worksheets[0]
    cell = next(c for c in xlsx[2] if c.value == "=1+2")
    assert cell.data_type == "s"  # a string, never a formula


def test_values_are_masked_for_a_role_without_the_unmasking_permissions(login):
    child = children_here(1, national_id=NATIONAL_ID)[0]
    GuardianFactory(child=child, phone="00012345678")

    # An agency supervisor reads names, not ID numbers or guardians' phones.
    rows = workbook(
        login("county_civil").get(export_url("cases:child_export", region=VILLAGE, fmt="xlsx"))
    )
    assert column(rows, "姓名") == [child.name]
    assert column(rows, "身份证号") == ["990101********4512"]
    assert NATIONAL_ID not in str(rows)
    assert "00012345678" not in str(rows) and "000****5678" in str(rows)

    # A child supervisor of the township, allowed to export, sees them whole.
    supervisor = user("supervisor_town")
    supervisor.user_permissions.add(Permission.objects.get(codename="export_child"))
    township_child = ChildFactory(region="990101001001", national_id="990101201301015516")
    rows = workbook(
        login("supervisor_town").get(
            export_url("cases:child_export", q=township_child.record_number, fmt="xlsx")
        )
    )
    assert column(rows, "身份证号") == ["990101201301015516"]


def test_deidentified_leaves_out_names_id_numbers_and_phones(login):
    child = children_here(1, national_id=NATIONAL_ID)[0]
    guardian = GuardianFactory(child=child, phone="00012345678")

    rows = workbook(
        login("county_civil").get(
            export_url("cases:child_export", region=VILLAGE, fmt="xlsx", deidentified="1")
        )
    )

    assert "姓名" not in rows[0] and "身份证号" not in rows[0] and "监护人" not in rows[0]
    assert "档案编号" in rows[0] and "出生日期" in rows[0]
    flat = " ".join(str(v) for row in rows for v in row)
    for secret in (child.name, guardian.name, "4512", "5678"):
        assert secret not in flat
    assert column(rows, "档案编号") == [child.record_number]


def test_the_access_log_has_the_export_with_each_child(login):
    children = children_here(2)
    client = login("county_civil")

    client.get(export_url("cases:child_export", region=VILLAGE, fmt="csv"))

    events = AccessEvent.objects.filter(
        user=user("county_civil"), action=AccessEvent.Action.EXPORT, detail__export="children"
    )
    assert {e.child_id for e in events} == {c.pk for c in children}
    assert all(e.detail["rows"] == 2 and e.detail["format"] == "csv" for e in events)
    assert all(e.path.startswith("/children/export/") for e in events)


def test_a_region_outside_the_users_scope_is_404(login):
    neighbouring_village()
    client = login("county_civil")
    for name in ("cases:child_export", "followups:visit_export"):
        response = client.get(export_url(name, region=NEIGHBOUR_COUNTY, fmt="xlsx"))
        assert response.status_code == 404, name
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.EXPORT).exists()


def test_an_invalid_filter_is_a_400_with_its_message_not_everything(login):
    response = login("county_civil").get(export_url("cases:child_export", region="12x", fmt="csv"))
    assert response.status_code == 400
    assert 'data-testid="export-errors"' in response.content.decode()


def test_without_the_export_permission_it_is_403_and_no_button(login):
    client = login("director_a")
    assert client.get(export_url("cases:child_export", fmt="xlsx")).status_code == 403
    assert client.get(export_url("referrals:export", fmt="xlsx")).status_code == 403
    assert (
        'data-testid="export-children"'
        not in client.get(reverse("cases:child_list")).content.decode()
    )
    page = login("county_civil").get(reverse("cases:child_list") + "?risk=3").content.decode()
    assert 'data-testid="export-children"' in page
    assert '<input type="hidden" name="risk" value="3">' in page  # the list's own filters
    # A filter changed on the page (htmx swaps the rows): the buttons carry the new filters.
    rows = (
        login("county_civil")
        .get(
            reverse("cases:child_list") + "?risk=2&sort=name",
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="child-rows",
        )
        .content.decode()
    )
    assert "<html" not in rows and 'data-testid="export-children"' in rows
    assert '<input type="hidden" name="risk" value="2">' in rows
    assert '<input type="hidden" name="sort" value="name">' in rows


def test_the_export_runs_a_fixed_number_of_queries_whatever_the_number_of_rows(login):
    client = login("county_civil")
    url = export_url("cases:child_export", region=VILLAGE, fmt="xlsx")
    counts = []
    for added, total in ((2, 2), (10, 12)):
        for child in children_here(added):
            GuardianFactory(child=child)
        with CaptureQueriesContext(connection) as captured:
            assert len(workbook(client.get(url))) == 1 + total  # the header and each child
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts


# --- The other lists --------------------------------------------------------------------------


def test_an_export_reads_its_rows_planned_for_the_whole_result():
    """Through the server-side cursor, PostgreSQL is told the export reads every row (it plans
    a cursor for its first tenth otherwise, and walked a province's list index for one county);
    the setting is back to its default afterwards."""
    from core.exports.spec import iterate_rows

    def fraction() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW cursor_tuple_fraction")
            return cursor.fetchone()[0]

    assert fraction() == "0.1"
    seen = []
    for child in iterate_rows(Child.objects.order_by("pk"), 50):
        seen.append((child.pk, fraction()))
    assert len(seen) == Child.objects.count() > 50
    assert {value for _pk, value in seen} == {"1"}
    assert fraction() == "0.1"


def test_visits_export_by_date_and_kind_with_confidential_notes_masked(login):
    child = children_here(1)[0]
    author = user("county_civil")
    VisitFactory(child=child, visited_on=date(2026, 1, 5), by=user("admin"))
    VisitFactory(
        child=child,
        visited_on=date(2026, 2, 5),
        kind=Visit.Kind.PHONE_CALL,
        note="机密内容",
        note_confidential=True,
    )
    client = login("county_civil")
    assert client.get(reverse("followups:visit_export")).status_code == 200  # the filters page

    rows = workbook(
        client.get(
            export_url(
                "followups:visit_export",
                region=VILLAGE,
                date_from="2026-02-01",
                date_to="2026-02-28",
                fmt="xlsx",
            )
        )
    )

    assert column(rows, "档案编号") == [child.record_number]
    assert [v.date() for v in column(rows, "日期")] == [date(2026, 2, 5)]
    assert "机密内容" not in str(rows)
    assert AccessEvent.objects.filter(
        user=author, action="export", child=child, detail__export="visits"
    ).exists()


def test_referrals_tasks_screenings_and_training_export(login):
    child = children_here(1, pupil=True)[0]
    ReferralFactory(child=child, send=True)
    client = login("county_civil")

    referrals = workbook(client.get(export_url("referrals:export", status="sent", fmt="xlsx")))
    assert child.record_number in column(referrals, "档案编号")
    assert "诊断" not in referrals[0]  # clinical details are never exported

    for name, query in (
        ("followups:task_export", {}),
        ("followups:task_export", {"scope": "team"}),
        ("training:training_report_export", {"year": "2026"}),
    ):
        url = export_url(name, fmt="xlsx", **query)
        assert len(workbook(client.get(url))[0]) > 3, url

    edu = login("county_edu")
    sessions = csv_rows(edu.get(export_url("assessments:screening_export", fmt="csv")))
    assert sessions[0][0] == "标题"


def test_a_screening_summary_exports_each_result_of_the_session(login):
    counselor = user("counselor")
    group = max(
        (g for g in screening_groups(user=counselor) if g.school is not None), key=lambda g: g.size
    )
    session = screening_session_open(
        group=group,
        instrument=instrument(),
        administered_on=timezone.localdate(),
        title="",
        by=counselor,
    )
    pupils = Child.objects.filter(
        school=group.school, grade=group.grade, class_name=group.class_name
    ).order_by("id")[:2]
    severe = AssessmentFactory(child=pupils[0], session=session, value=3)
    mild = AssessmentFactory(child=pupils[1], session=session, value=0)
    url = export_url("assessments:screening_summary_export", session.pk, fmt="xlsx")

    assert login("counselor").get(url).status_code == 403  # reads it, may not export it
    assert login("county_civil").get(url).status_code == 404  # not a school it supervises
    rows = workbook(login("county_edu").get(url))

    assert rows[0][:2] == ["档案编号", "姓名"]
    assert column(rows, "档案编号") == [severe.child.record_number, mild.child.record_number]
    assert column(rows, "总分") == [severe.total, mild.total]
    assert column(rows, "危急作答") == ["是", "否"]
    assert AccessEvent.objects.filter(
        action="export", detail__export="screening_summary", child=severe.child
    ).exists()


# --- A long export, through the real broker and worker -------------------------------------------

FINISHED = {ExportJob.Status.DONE, ExportJob.Status.FAILED}


def wait_for(job: ExportJob, seconds: float = 60) -> ExportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in FINISHED:
            return job
        time.sleep(0.2)
    raise AssertionError(f"the export is still {job.status}")


@pytest.mark.django_db(transaction=True)
def test_a_long_export_runs_in_the_worker_and_only_its_requester_downloads_it(
    demo_world, login, settings
):
    settings.EXPORT_SYNC_MAX_ROWS = 2
    children = children_here(3)
    client = login("county_civil")

    response = client.get(export_url("cases:child_export", region=VILLAGE, fmt="xlsx"))
    assert response.status_code == 302
    job = ExportJob.objects.get(requester=user("county_civil"))
    assert response["Location"] == reverse("exports:job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="queued"' in page and 'hx-trigger="every 2s"' in page
    assert 'role="progressbar"' in page

    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        job = wait_for(job)

    assert job.status == ExportJob.Status.DONE, job.error
    assert job.done == job.total == 3
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="done"' in partial and "hx-trigger" not in partial
    download = reverse("exports:download", args=[job.pk])
    assert download in partial

    rows = workbook(client.get(download))
    assert set(column(rows, "档案编号")) == {c.record_number for c in children}
    logged = AccessEvent.objects.filter(action="export", detail__export_job=job.pk)
    assert {e.child_id for e in logged if e.child_id} == {c.pk for c in children}

    # Nobody else reaches it, not even another supervisor allowed to export the same children.
    other = login("county_edu")
    assert other.get(download).status_code == 404
    assert other.get(reverse("exports:job", args=[job.pk])).status_code == 404

    # Once expired, the link says so (410), and the purge drops the file.
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = client.get(download)
    assert expired.status_code == 410
    assert 'data-testid="export-expired"' in expired.content.decode()
    assert export_jobs_purge() == 1
    assert export_file_bytes(ExportJob.objects.get(pk=job.pk)) is None
    assert not ExportChunk.objects.filter(job=job).exists()


def test_a_job_run_twice_writes_the_file_and_the_log_once(login, settings):
    settings.EXPORT_SYNC_MAX_ROWS = 1
    children_here(2)
    login("county_civil").get(export_url("cases:child_export", region=VILLAGE, fmt="csv"))
    job = ExportJob.objects.get(requester=user("county_civil"))

    export_job_run(job_id=job.pk)
    export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert AccessEvent.objects.filter(detail__export_job=job.pk).count() == 2
    assert export_file_bytes(job).startswith("\ufeff".encode())
    assert ExportChunk.objects.filter(job=job).count() == 1  # a second run replaced nothing


def test_a_long_exports_file_is_kept_and_sent_in_pieces(
    login, settings, django_assert_max_num_queries
):
    """Neither the worker nor the web worker holds a long export's file whole: it is stored in
    pieces of EXPORT_CHUNK_BYTES and sent so, and what arrives is the whole file."""
    settings.EXPORT_SYNC_MAX_ROWS = 1
    settings.EXPORT_CHUNK_BYTES = 2048
    children = children_here(30)
    client = login("county_civil")
    client.get(export_url("cases:child_export", region=VILLAGE, fmt="xlsx"))
    job = ExportJob.objects.get(requester=user("county_civil"))

    export_job_run(job_id=job.pk)

    job.refresh_from_db()
    pieces = list(ExportChunk.objects.filter(job=job).order_by("seq"))
    assert len(pieces) == -(-job.file_size // 2048) > 2
    assert all(len(p.data) == 2048 for p in pieces[:-1])
    response = client.get(reverse("exports:download", args=[job.pk]))
    assert response.streaming and int(response["Content-Length"]) == job.file_size
    with django_assert_max_num_queries(len(pieces) + 1):  # one query a piece, then the end
        rows = workbook(response)
    assert set(column(rows, "档案编号")) == {c.record_number for c in children}


def test_a_job_whose_requester_lost_the_permission_fails_without_a_file(login, settings):
    settings.EXPORT_SYNC_MAX_ROWS = 1
    children_here(2)
    login("county_civil").get(export_url("cases:child_export", region=VILLAGE, fmt="csv"))
    job = ExportJob.objects.get(requester=user("county_civil"))
    requester = user("county_civil")
    requester.groups.clear()

    export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and job.error == "refused"
    assert export_file_bytes(job) is None
    assert not AccessEvent.objects.filter(detail__export_job=job.pk).exists()
