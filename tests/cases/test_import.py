"""The child import: the whole file is checked first; a file with any bad row imports nothing."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, timedelta

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from cases.identity import national_id_check_digit, national_id_hash
from cases.imports.job import child_import_fail, child_import_run
from cases.models import Category, Child, ChildImport
from cases.tasks import child_import_run_task
from config.celery import app
from core.models import AccessEvent
from institutions.models import Agency, Institution
from institutions.roles import Role
from institutions.services import membership_grant
from tests.conftest import user
from tests.demo import MIDDLE_SCHOOL, TOWNSHIP_A, VILLAGE_B, WELFARE
from tests.factories import ChildFactory, agency

ChildEvent = apps.get_model("cases", "ChildEvent")

# Written out here, not imported: the test holds the file format to what users were given.
HEADERS = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "现居住地代码",
    "户籍地代码",
    "类别",
    "学校",
    "年级",
    "班级",
    "所在机构",
    "备注",
]
FINISHED = {ChildImport.Status.DONE, ChildImport.Status.REJECTED, ChildImport.Status.FAILED}


def nid(born: date, sequence: str) -> str:
    """A synthetic ID number in the fictional province 99 (never a real person's)."""
    first17 = "990101" + born.strftime("%Y%m%d") + sequence
    return first17 + national_id_check_digit(first17)


def zh(message: str) -> str:
    """A message as the job words it (the site's language, Simplified Chinese)."""
    with translation.override("zh-hans"):
        return gettext(message)


def row(**cells: object) -> dict[str, object]:
    """A valid welfare-home resident, changed by the given cells (keyed by header)."""
    born = date(2015, 5, 5)
    base: dict[str, object] = {
        "姓名": "测试甲",
        "性别": "女",
        "出生日期": born.isoformat(),
        "身份证号": nid(born, "101"),
        "现居住地代码": "990101001001",
        "户籍地代码": "",
        "类别": "孤儿",
        "学校": "",
        "年级": "",
        "班级": "",
        "所在机构": WELFARE,
        "备注": "",
    }
    base.update(cells)
    return base


def xlsx(rows: list[dict[str, object]], headers: list[str] = HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(headers)
    for values in rows:
        sheet.append([values.get(h, "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(rows: list[dict[str, object]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for values in rows:
        writer.writerow([values.get(h, "") for h in HEADERS])
    return buffer.getvalue().encode(encoding)


def upload(client, content: bytes, name: str = "children.xlsx"):
    return client.post(reverse("cases:import_start"), {"file": SimpleUploadedFile(name, content)})


def job_of(response) -> ChildImport:
    assert response.status_code == 302, response.content.decode()[:2000]
    pk = int(re.search(r"/children/import/(\d+)/$", response["Location"]).group(1))
    return ChildImport.objects.get(pk=pk)


def run(job: ChildImport) -> ChildImport:
    """Run the job's task in this process (as the worker would) and reload it."""
    child_import_run_task(job.pk)
    job.refresh_from_db()
    return job


def wait_for(job: ChildImport, seconds: float = 60) -> ChildImport:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in FINISHED:
            return job
        time.sleep(0.2)
    raise AssertionError(f"the import is still {job.status}")


def give_schools_to(username: str) -> None:
    """Make the user also a child director of township 990101001, so the county's schools count."""
    membership_grant(
        user=user(username),
        role=Role.CHILD_DIRECTOR,
        agency=agency(Agency.Kind.CIVIL_AFFAIRS),
        jurisdiction=[TOWNSHIP_A],
    )


# --- Through the real broker and worker -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_clean_xlsx_imports_every_row_through_the_worker(demo_world, login):
    give_schools_to("welfare_staff")
    client = login("welfare_staff")
    before = Child.objects.count()
    rows = [
        row(),
        row(
            **{
                "姓名": "测试乙",
                "性别": "男",
                "出生日期": date(2013, 9, 1),  # an Excel date cell
                "身份证号": nid(date(2013, 9, 1), "203"),
                "现居住地代码": 990101001002,  # a code typed as a number
                "户籍地代码": "990101003001",
                "类别": "农村留守、流动",
                "学校": MIDDLE_SCHOOL,
                "年级": 7,
                "班级": "2班",
                "所在机构": "",
            }
        ),
        row(**{"姓名": "测试丙", "身份证号": "", "类别": "残疾；其他", "所在机构": ""}),
    ]
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        job = wait_for(job_of(upload(client, xlsx(rows))))
    assert job.status == ChildImport.Status.DONE, job.errors
    assert job.created_count == 3
    assert job.processed_rows == job.total_rows == 3
    assert Child.objects.count() == before + 3
    # The job wrote its history under one context naming the job, the import and who ran it.
    events = ChildEvent.objects.filter(
        pgh_obj__in=Child.objects.filter(created_by=user("welfare_staff"))
    )
    contexts = {event.pgh_context_id for event in events}
    assert len(events) == 3 and len(contexts) == 1 and None not in contexts
    metadata = events[0].pgh_context.metadata
    assert metadata["job"] == child_import_run_task.name and metadata["import_job"] == job.pk
    assert metadata["user"] == user("welfare_staff").pk

    first = Child.objects.get(national_id_hash=national_id_hash(rows[0]["身份证号"]))
    assert first.name == "测试甲"
    assert first.sex == Child.Sex.FEMALE
    assert first.residence_region_id == first.household_region_id == "990101001001"
    assert first.categories == [Category.ORPHAN]
    assert first.residential_institution == Institution.objects.get(name=WELFARE)
    assert first.record_number == f"990101-{first.pk:08d}"
    assert first.created_by == user("welfare_staff")
    assert first.national_id_masked and rows[0]["身份证号"] not in first.national_id_masked

    second = Child.objects.get(national_id_hash=national_id_hash(rows[1]["身份证号"]))
    assert second.birth_date == date(2013, 9, 1)
    assert second.sex == Child.Sex.MALE
    assert second.residence_region_id == "990101001002"
    assert second.household_region_id == "990101003001"
    assert second.categories == [Category.RURAL_LEFT_BEHIND, Category.MIGRANT]
    assert second.school == Institution.objects.get(name=MIDDLE_SCHOOL)
    assert (second.grade, second.class_name) == (7, "2班")

    third = Child.objects.get(name="测试丙")
    assert third.national_id_hash is None
    assert third.categories == [Category.DISABILITY, Category.OTHER]

    event = AccessEvent.objects.get(detail__import=job.pk)
    assert event.user == user("welfare_staff")
    assert event.action == AccessEvent.Action.CHANGE
    assert event.detail["created"] == 3

    page = client.get(reverse("cases:import_status", args=[job.pk])).content.decode()
    assert 'data-status="done"' in page
    assert reverse("cases:child_list") in page
    assert "hx-trigger" not in page  # polling stops once the job is finished


@pytest.mark.django_db(transaction=True)
def test_a_file_with_one_bad_row_imports_nothing_through_the_worker(demo_world, login):
    # A system administrator imports for any region; these rows name no institution.
    client = login("admin")
    before = Child.objects.count()
    good = nid(date(2014, 1, 2), "305")
    bad_id = good[:17] + ("0" if good[17] != "0" else "1")  # a typing error in the last digit
    rows = [
        row(**{"所在机构": ""}),
        row(**{"姓名": "测试乙", "身份证号": nid(date(2015, 5, 5), "202"), "所在机构": ""}),
        row(**{"姓名": "测试丙", "出生日期": "2014-01-02", "身份证号": bad_id, "所在机构": ""}),
        row(**{"姓名": "测试丁", "身份证号": "", "所在机构": ""}),
    ]
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        job = wait_for(job_of(upload(client, xlsx(rows))))
    assert job.status == ChildImport.Status.REJECTED
    message = zh("The ID number's check digit is wrong: please check it for a typing error.")
    assert job.errors == [{"row": 4, "field": "身份证号", "message": message}]
    assert Child.objects.count() == before
    assert not AccessEvent.objects.filter(detail__import=job.pk).exists()

    page = client.get(reverse("cases:import_status", args=[job.pk])).content.decode()
    assert 'data-testid="import-errors"' in page
    assert "<td>4</td><td>身份证号</td>" in page
    assert message.replace("'", "&#x27;") in page


# --- One bad row of each kind (the job run in this process) ---------------------------------

BAD_ROWS = [
    pytest.param(
        {"出生日期": (timezone.localdate() + timedelta(days=1)).isoformat(), "身份证号": ""},
        "出生日期",
        "The date of birth cannot be in the future.",
        {},
        id="future-birth-date",
    ),
    pytest.param(
        {"现居住地代码": "990101009009"},
        "现居住地代码",
        "There is no region with the code %(code)s.",
        {"code": "990101009009"},
        id="unknown-region",
    ),
    pytest.param(
        {"身份证号": nid(date(2015, 5, 5), "101")[:17] + "Y"},
        "身份证号",
        "An ID number has 17 digits followed by a digit or X.",
        {},
        id="malformed-id",
    ),
    pytest.param(
        {"身份证号": nid(date(2015, 6, 6), "101"), "出生日期": "2015-05-05"},
        "身份证号",
        "The ID number says the child was born on %(date)s, not on the date above.",
        {"date": "2015-06-06"},
        id="id-and-birth-date-disagree",
    ),
    pytest.param({"性别": "未知"}, "性别", "Write 男 (male) or 女 (female).", {}, id="sex"),
    pytest.param(
        {"类别": "孤儿、外星儿童"},
        "类别",
        "Unknown category %(value)s: use the names listed in the template.",
        {"value": "外星儿童"},
        id="category",
    ),
    pytest.param(
        {"学校": "不存在的学校"},
        "学校",
        "There is no school called %(name)s that you may choose.",
        {"name": "不存在的学校"},
        id="unknown-school",
    ),
    pytest.param(
        {"所在机构": "演示县人民医院"},  # exists, but is not a residential institution
        "所在机构",
        "There is no residential institution called %(name)s that you may choose.",
        {"name": "演示县人民医院"},
        id="not-a-residential-institution",
    ),
    pytest.param({"姓名": " "}, "姓名", "This field is required.", {}, id="no-name"),
    pytest.param(
        {"年级": "13"},
        "年级",
        "Ensure this value is less than or equal to %(limit_value)s.",
        {"limit_value": 12},
        id="grade",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("cells", "column", "message", "params"), BAD_ROWS)
def test_one_bad_row_rejects_the_file_with_its_row_and_reason(
    login, cells, column, message, params
):
    client = login("welfare_staff")
    before = Child.objects.count()
    rows = [
        row(**{"身份证号": nid(date(2015, 5, 5), "111")}),
        row(**{"身份证号": nid(date(2015, 5, 5), "112")}),
        row(**{"身份证号": nid(date(2015, 5, 5), "113")}),
        row(**cells),
        row(**{"身份证号": nid(date(2015, 5, 5), "114")}),
    ]
    job = run(job_of(upload(client, xlsx(rows))))
    assert job.status == ChildImport.Status.REJECTED
    expected = zh(message) % params if params else zh(message)
    assert job.errors == [{"row": 5, "field": column, "message": expected}]
    assert Child.objects.count() == before


@pytest.mark.django_db
def test_row_errors_are_in_simplified_chinese_when_translated(login):
    client = login("welfare_staff")
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    job = run(job_of(upload(client, xlsx([row(**{"出生日期": future, "身份证号": ""})]))))
    assert job.errors == [
        {
            "row": 2,
            "field": "出生日期",
            "message": zh("The date of birth cannot be in the future."),
        }
    ]


@pytest.mark.django_db
def test_every_bad_row_is_reported_not_only_the_first(login):
    client = login("welfare_staff")
    rows = [
        row(**{"性别": "x", "身份证号": ""}),
        row(**{"身份证号": nid(date(2015, 5, 5), "121")}),
        row(**{"现居住地代码": "990101009009", "身份证号": ""}),
    ]
    job = run(job_of(upload(client, xlsx(rows))))
    assert [(e["row"], e["field"]) for e in job.errors] == [(2, "性别"), (4, "现居住地代码")]
    assert not Child.objects.filter(national_id_hash=national_id_hash(rows[1]["身份证号"])).exists()


@pytest.mark.django_db
def test_an_id_number_excel_turned_into_a_number_is_explained(login):
    client = login("welfare_staff")
    mangled = float(nid(date(2015, 5, 5), "101")[:17] + "1")  # Excel keeps 15 digits
    job = run(job_of(upload(client, xlsx([row(**{"身份证号": mangled})]))))
    assert job.status == ChildImport.Status.REJECTED
    assert job.errors[0]["row"] == 2
    assert job.errors[0]["field"] == "身份证号"
    assert job.errors[0]["message"] == zh(
        "Excel stored this ID number as a number and lost its last digits: "
        "format the column as text and type it again."
    )


# --- Duplicate ID numbers ----------------------------------------------------------------------


@pytest.mark.django_db
def test_an_id_already_registered_is_reported_without_revealing_the_other_file(login):
    born = date(2014, 3, 4)
    existing = ChildFactory(
        name="档案中的孩子",
        sex=Child.Sex.MALE,
        birth_date=born,
        region=VILLAGE_B,
        categories=[Category.MIGRANT],
        national_id=nid(born, "404"),
        by=user("director_b"),
    )
    client = login("welfare_staff")
    before = Child.objects.count()
    rows = [
        row(),
        row(**{"姓名": "新名字", "出生日期": born.isoformat(), "身份证号": nid(born, "404")}),
    ]
    job = run(job_of(upload(client, xlsx(rows))))
    assert job.status == ChildImport.Status.REJECTED
    assert job.errors == [
        {
            "row": 3,
            "field": "身份证号",
            "message": zh("A child with this ID number is already registered."),
        }
    ]
    assert Child.objects.count() == before
    page = client.get(reverse("cases:import_status", args=[job.pk])).content.decode()
    for secret in (
        existing.name,
        existing.record_number,
        VILLAGE_B,
        "河口村",
        str(existing.pk),
    ):
        assert secret not in str(job.errors)
        assert secret not in page


@pytest.mark.django_db
def test_an_id_repeated_inside_the_file_is_reported_on_the_later_row(login):
    client = login("welfare_staff")
    before = Child.objects.count()
    same = nid(date(2015, 5, 5), "505")
    rows = [
        row(**{"身份证号": same, "性别": "?"}),  # another error on the first row does not hide it
        row(**{"身份证号": ""}),
        row(**{"身份证号": same.lower()}),
    ]
    job = run(job_of(upload(client, xlsx(rows))))
    assert job.status == ChildImport.Status.REJECTED
    assert job.errors == [
        {"row": 2, "field": "性别", "message": zh("Write 男 (male) or 女 (female).")},
        {
            "row": 4,
            "field": "身份证号",
            "message": zh("This ID number is also on row %(row)d of this file.") % {"row": 2},
        },
    ]
    assert Child.objects.count() == before


# --- Refused at upload ----------------------------------------------------------------------


def file_errors(response) -> list[str]:
    assert response.status_code == 200
    return list(response.context["form"].errors["file"])


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["children.xls", "children.txt", "children.pdf", "children"])
def test_a_wrong_file_type_is_refused_on_the_field(login, name):
    client = login("welfare_staff")
    response = upload(client, csv_file([row()]), name=name)
    errors = file_errors(response)
    assert len(errors) == 1
    assert ".xlsx" in errors[0] and ".csv" in errors[0]
    assert "is-invalid" in response.content.decode()
    assert not ChildImport.objects.exists()


@pytest.mark.django_db
def test_a_damaged_workbook_is_refused_on_the_field(login):
    client = login("welfare_staff")
    errors = file_errors(upload(client, b"PK\x03\x04 not really a workbook", "children.xlsx"))
    assert errors == [gettext("The file could not be read as an Excel workbook (.xlsx).")]
    assert not ChildImport.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(login, settings):
    settings.IMPORT_MAX_BYTES = 2048
    client = login("welfare_staff")
    content = csv_file([row(**{"身份证号": "", "备注": "长" * 800})])
    assert len(content) > 2048
    errors = file_errors(upload(client, content, "children.csv"))
    assert len(errors) == 1 and "2.0" in errors[0]
    assert not ChildImport.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_row_limit_is_refused(login, settings):
    settings.IMPORT_MAX_ROWS = 2
    client = login("welfare_staff")
    rows = [row(**{"身份证号": ""}) for _ in range(3)]
    errors = file_errors(upload(client, xlsx(rows)))
    assert len(errors) == 1 and "2" in errors[0]
    assert not ChildImport.objects.exists()
    # Exactly at the limit is accepted.
    assert upload(client, xlsx(rows[:2])).status_code == 302


@pytest.mark.django_db
def test_a_file_without_the_template_headers_is_refused(login):
    client = login("welfare_staff")
    headers = ["名字", *HEADERS[1:]]
    errors = file_errors(upload(client, xlsx([{"名字": "测试"}], headers=headers)))
    assert any("姓名" in e for e in errors)  # the missing column is named
    assert any("名字" in e for e in errors)  # and so is the unknown one
    assert not ChildImport.objects.exists()


@pytest.mark.django_db
def test_an_empty_template_is_refused(login):
    client = login("welfare_staff")
    errors = file_errors(upload(client, xlsx([])))
    assert len(errors) == 1
    assert not ChildImport.objects.exists()


# --- The template -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_xlsx_template_has_chinese_headers_and_reimports_when_filled(login):
    client = login("welfare_staff")
    response = client.get(reverse("cases:import_template", kwargs={"fmt": "xlsx"}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet.max_row == 1  # no example row that could be imported by mistake

    born = date(2012, 12, 12)
    for values in (
        row(),
        row(**{"姓名": "测试乙", "出生日期": born, "身份证号": nid(born, "606")}),
    ):
        sheet.append([values[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = Child.objects.count()
    job = run(job_of(upload(client, buffer.getvalue(), "填好的模板.xlsx")))
    assert job.status == ChildImport.Status.DONE, job.errors
    assert job.filename == "填好的模板.xlsx"
    assert Child.objects.count() == before + 2


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_the_csv_template_has_chinese_headers_and_reimports_when_filled(login, encoding):
    client = login("welfare_staff")
    response = client.get(reverse("cases:import_template", kwargs={"fmt": "csv"}))
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())  # so that Excel reads UTF-8
    template = response.content.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(template))) == HEADERS

    filled = io.StringIO()
    filled.write(template)
    csv.writer(filled).writerow([row(**{"类别": "家庭贫困,残疾"})[h] for h in HEADERS])
    before = Child.objects.count()
    job = run(job_of(upload(client, filled.getvalue().encode(encoding), "children.csv")))
    assert job.status == ChildImport.Status.DONE, job.errors
    assert Child.objects.count() == before + 1
    child = Child.objects.get(national_id_hash=national_id_hash(row()["身份证号"]))
    assert child.name == "测试甲"  # the Chinese text survived the encoding
    assert child.categories == [Category.FAMILY_POVERTY, Category.DISABILITY]


@pytest.mark.django_db
def test_the_start_page_links_the_templates_and_limits_the_file_input(login):
    page = login("admin").get(reverse("cases:import_start")).content.decode()
    assert reverse("cases:import_template", kwargs={"fmt": "xlsx"}) in page
    assert reverse("cases:import_template", kwargs={"fmt": "csv"}) in page
    assert 'accept=".xlsx,.csv"' in page
    assert 'enctype="multipart/form-data"' in page


# --- Who may import, and whose job ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["director_a", "county_civil", "counselor", "auditor"])
def test_a_user_without_the_import_permission_gets_403(login, username):
    assert not user(username).has_perm("cases.import_children")
    job = ChildImport.objects.create(uploaded_by=user(username), filename="x.csv", content=b"")
    client = login(username)
    assert client.get(reverse("cases:import_start")).status_code == 403
    assert upload(client, xlsx([row()])).status_code == 403
    assert client.get(reverse("cases:import_template", kwargs={"fmt": "xlsx"})).status_code == 403
    assert client.get(reverse("cases:import_status", args=[job.pk])).status_code == 403
    assert ChildImport.objects.count() == 1


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("cases:import_start"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_another_users_job_is_404(login):
    job = job_of(upload(login("welfare_staff"), xlsx([row()])))
    other = login("admin")
    assert other.get(reverse("cases:import_status", args=[job.pk])).status_code == 404
    assert (
        other.get(reverse("cases:import_status", args=[job.pk]), HTTP_HX_REQUEST="true").status_code
        == 404
    )
    assert job.filename not in other.get(reverse("cases:import_start")).content.decode()


# --- The job ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_running_the_job_twice_creates_nothing_the_second_time(login):
    client = login("welfare_staff")
    job = run(job_of(upload(client, xlsx([row(), row(**{"姓名": "测试乙", "身份证号": ""})]))))
    assert job.status == ChildImport.Status.DONE
    count, finished = Child.objects.count(), job.finished_at
    child_import_run(job_id=job.pk)
    child_import_run_task(job.pk)
    job.refresh_from_db()
    assert Child.objects.count() == count
    assert (job.status, job.created_count, job.finished_at) == (
        ChildImport.Status.DONE,
        2,
        finished,
    )
    assert AccessEvent.objects.filter(detail__import=job.pk).count() == 1


@pytest.mark.django_db
def test_a_rejected_job_run_again_stays_rejected(login):
    client = login("welfare_staff")
    job = run(job_of(upload(client, xlsx([row(**{"性别": "?"})]))))
    errors = job.errors
    child_import_run_task(job.pk)
    job.refresh_from_db()
    assert (job.status, job.errors) == (ChildImport.Status.REJECTED, errors)


@pytest.mark.django_db
def test_a_job_left_half_done_by_a_crashed_worker_is_taken_over(login):
    client = login("welfare_staff")
    job = job_of(upload(client, xlsx([row()])))
    # A worker died while checking: the status says CHECKING, nothing was saved.
    ChildImport.objects.filter(pk=job.pk).update(
        status=ChildImport.Status.CHECKING, processed_rows=1
    )
    before = Child.objects.count()
    job = run(job)
    assert job.status == ChildImport.Status.DONE
    assert Child.objects.count() == before + 1


@pytest.mark.django_db
def test_a_user_who_lost_the_permission_imports_nothing(login):
    client = login("welfare_staff")
    job = job_of(upload(client, xlsx([row()])))
    staff = user("welfare_staff")
    staff.memberships.update(is_active=False)
    staff.groups.clear()
    before = Child.objects.count()
    job = run(job)
    assert job.status == ChildImport.Status.FAILED
    assert Child.objects.count() == before


@pytest.mark.django_db
def test_a_job_that_stopped_unexpectedly_is_marked_failed_and_says_so(login):
    client = login("welfare_staff")
    job = job_of(upload(client, xlsx([row()])))
    done = run(job_of(upload(client, xlsx([row(**{"身份证号": ""})]))))
    ChildImport.objects.filter(pk=job.pk).update(status=ChildImport.Status.CHECKING)
    child_import_fail(job_id=job.pk)
    child_import_fail(job_id=done.pk)  # a finished job keeps its result
    job.refresh_from_db()
    done.refresh_from_db()
    assert job.status == ChildImport.Status.FAILED and job.finished_at is not None
    assert done.status == ChildImport.Status.DONE and not done.errors
    page = client.get(reverse("cases:import_status", args=[job.pk])).content.decode()
    assert 'data-status="failed"' in page and "hx-trigger" not in page
    assert job.errors[0]["message"] in page


@pytest.mark.django_db
def test_the_status_page_shows_progress_while_the_job_runs(login):
    client = login("welfare_staff")
    job = job_of(upload(client, xlsx([row()])))
    ChildImport.objects.filter(pk=job.pk).update(
        status=ChildImport.Status.CHECKING, total_rows=400, processed_rows=100
    )
    url = reverse("cases:import_status", args=[job.pk])

    page = client.get(url).content.decode()
    assert "<html" in page
    assert 'role="progressbar"' in page and 'aria-valuenow="25"' in page
    assert f'hx-get="{url}"' in page and 'hx-trigger="every 1s"' in page

    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert 'aria-valuenow="25"' in partial and 'hx-trigger="every 1s"' in partial

    ChildImport.objects.filter(pk=job.pk).update(status=ChildImport.Status.IMPORTING)
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'aria-valuenow="100"' in partial and 'hx-trigger="every 1s"' in partial

    run(job)
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="done"' in partial
    assert "hx-trigger" not in partial and 'role="progressbar"' not in partial


@pytest.mark.django_db
def test_progress_counts_every_row_of_a_larger_file(login):
    client = login("welfare_staff")
    rows = [row(**{"姓名": f"测试{i}", "身份证号": ""}) for i in range(450)]
    job = run(job_of(upload(client, csv_file(rows), "children.csv")))
    assert job.status == ChildImport.Status.DONE, job.errors[:3]
    assert (job.total_rows, job.processed_rows, job.progress_percent) == (450, 450, 100)
    assert job.created_count == 450
    record_numbers = set(
        Child.objects.filter(name__startswith="测试").values_list("record_number", flat=True)
    )
    assert len(record_numbers) == 450


@pytest.mark.django_db
def test_an_import_writes_its_history_under_one_context_naming_the_job(login):
    from cases.models import ChildEvent

    give_schools_to("welfare_staff")
    client = login("welfare_staff")
    job = run(job_of(upload(client, xlsx([row(), row(**{"姓名": "测试丁", "身份证号": ""})]))))
    assert job.status == ChildImport.Status.DONE, job.errors
    events = ChildEvent.objects.filter(pgh_obj__created_at__gte=job.created_at)
    contexts = {event.pgh_context_id for event in events}
    assert len(events) == 2 and len(contexts) == 1 and None not in contexts
    context = events[0].pgh_context
    assert context.metadata["import_job"] == job.pk
    assert context.metadata["user"] == user("welfare_staff").pk


@pytest.mark.django_db
def test_a_job_whose_worker_died_is_marked_failed_and_imported_again_on_request(login):
    give_schools_to("welfare_staff")
    client = login("welfare_staff")
    job = job_of(upload(client, xlsx([row()])))
    # Its run started long ago and never finished: the worker died and nothing took it over.
    ChildImport.objects.filter(pk=job.pk).update(
        status=ChildImport.Status.CHECKING,
        processed_rows=1,
        started_at=timezone.now() - timedelta(hours=1),
    )
    page = client.get(reverse("cases:import_status", args=[job.pk]))
    assert 'data-status="failed"' in page.content.decode()
    job.refresh_from_db()
    assert job.status == ChildImport.Status.FAILED
    assert 'data-testid="import-again"' in page.content.decode()
    response = client.post(reverse("cases:import_restart", args=[job.pk]))
    again = job_of(response)
    assert again.pk != job.pk and bytes(again.content) == bytes(job.content)
    assert run(again).status == ChildImport.Status.DONE and again.created_count == 1
    # A recent run is left alone, and only one's own failed import is imported again.
    recent = job_of(upload(client, xlsx([row(**{"身份证号": nid(date(2015, 5, 5), "102")})])))
    ChildImport.objects.filter(pk=recent.pk).update(
        status=ChildImport.Status.CHECKING, started_at=timezone.now()
    )
    client.get(reverse("cases:import_status", args=[recent.pk]))
    recent.refresh_from_db()
    assert recent.status == ChildImport.Status.CHECKING
    other = login("admin")
    assert other.post(reverse("cases:import_restart", args=[job.pk])).status_code in (403, 404)
