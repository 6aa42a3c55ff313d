"""Retention of files (issue 15, item 7): a file closed longer than RETENTION_YEARS_AFTER_CLOSE
is de-identified by a job that reports what it did. Afterwards no table of the database, the
change history included, holds the child's name, identity number, or a guardian's name or
phone; the dates, scores and choices stay for statistics; the job says what it changed and the
access log has one row per child."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from assessments.models import Assessment
from cases.models import Child, Guardian
from cases.services.access import access_request_create
from cases.services.care import care_plan_review
from cases.services.child import child_close, child_reopen
from core.deidentify import GUARD_SETTING
from core.models import AccessEvent
from followups.models import Visit
from referrals.models import Referral, ReferralAttachment
from referrals.services.sending import AttachmentData, referral_attach
from tests.cases.test_identity import make_id
from tests.demo import COUNTY, VILLAGE_A, user
from tests.factories import (
    AssessmentFactory,
    CarePlanFactory,
    CareTeamMemberFactory,
    ChildFactory,
    ConsentFactory,
    GuardianFactory,
    ReferralFactory,
    VisitFactory,
)
from tests.factories.cases import thirteen_years_ago

pytestmark = pytest.mark.django_db

NAME = "测试去标识童"
GUARDIAN = "测试去标识母"
PHONE = "00098765432"


def _tables_holding(text: str) -> list[str]:
    """Every table of the database whose rows, as text, contain `text`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        )
        tables = [name for (name,) in cursor.fetchall()]
        found = []
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {quoted} t WHERE t::text LIKE %s)",  # noqa: S608
                [f"%{text}%"],
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return sorted(found)


def _close(child: Child, *, years_ago: float) -> Child:
    closed = child_close(
        child=child,
        reason="测试：已迁出本省",
        expected_version=child.version,
        by=user("county_civil"),
    )
    Child.objects.filter(pk=child.pk).update(
        closed_at=timezone.now() - timedelta(days=round(365.25 * years_ago))
    )
    closed.refresh_from_db()
    return closed


def _full_file() -> tuple[Child, str]:
    """A pupil with every kind of record, the name and family written into their free text."""
    born = thirteen_years_ago()
    number = make_id(born=born, seq="777")
    child = ChildFactory(
        pupil=True, name=NAME, national_id=number, notes=f"{NAME}的备注", birth_date=born
    )
    guardian = GuardianFactory(child=child, name=GUARDIAN, phone=PHONE, work_location="测试市工地")
    ConsentFactory(child=child, guardian=guardian, note=f"{GUARDIAN}签字")
    CareTeamMemberFactory(child=child, peer=True, peer_name="测试同伴甲")
    plan = CarePlanFactory(child=child, goals=f"{NAME}每周谈心")
    care_plan_review(
        plan=plan, reviewed_on=timezone.localdate(), note=f"{NAME}好转", by=user("county_civil")
    )
    VisitFactory(child=child, note=f"{NAME}与{GUARDIAN}在家")
    first = AssessmentFactory(child=child, value=1)
    AssessmentFactory(child=child, value=0, amends=first, amendment_reason=f"{NAME}的答案录错了")
    access_request_create(child=child, by=user("director_b"), reason=f"想了解{NAME}的情况")
    referral = ReferralFactory(child=child, reason=f"{NAME}持续低落", send=True)
    referral_attach(
        referral=referral,
        attachment=AttachmentData(
            filename=f"{NAME}.pdf",
            content_type="application/pdf",
            content=b"%PDF-1.4 " + PHONE.encode(),
        ),
        by=user("counselor"),
    )
    return child, number


def test_a_file_closed_past_the_retention_is_de_identified_everywhere_and_reported(settings):
    settings.RETENTION_YEARS_AFTER_CLOSE = 10
    child, number = _full_file()
    # Before: the name, the number, the guardian and the phone are in the file and its history.
    assert "cases_childevent" in _tables_holding(NAME)
    assert "cases_guardianevent" in _tables_holding(PHONE)
    results = list(
        Assessment.objects.filter(child=child).order_by("pk").values_list("total", "answers")
    )
    old = _close(child, years_ago=11)
    recent = _close(ChildFactory(), years_ago=9)
    open_file = ChildFactory()

    out = StringIO()
    call_command("deidentify_closed_files", stdout=out)
    report = out.getvalue()

    assert "de-identified 1 files" in report
    assert "cases.Child: 1 rows" in report
    assert "cases.ChildEvent:" in report and "referrals.ReferralAttachment: 1 rows" in report
    for text in (NAME, number, GUARDIAN, PHONE):
        assert _tables_holding(text) == [], text
    child = Child.objects.get(pk=old.pk)
    assert child.name == child.record_number
    assert child.national_id_hash is None and child.national_id_masked == ""
    assert child.birth_date == date(thirteen_years_ago().year, 7, 1)  # the year stays
    assert child.residence_region_id == COUNTY and VILLAGE_A.startswith(COUNTY)
    assert child.status == Child.Status.CLOSED and child.deidentified_at is not None
    assert child.version == old.version + 1  # a form opened before is refused
    guardian = Guardian.objects.get(child=child)
    assert (guardian.name, guardian.phone, guardian.relation) == ("—", "", Guardian.Relation.MOTHER)
    assert Visit.objects.get(child=child).note == "—"  # something was written, now removed
    assert Referral.objects.get(child=child).reason == "—"
    attachment = ReferralAttachment.objects.get(referral__child=child)
    assert (bytes(attachment.content), attachment.size) == (b"", 0)
    # Scores, dates and choices stay for statistics.
    kept = Assessment.objects.filter(child=child).order_by("pk").values_list("total", "answers")
    assert list(kept) == results and len(results) == 2
    assert Assessment.objects.get(child=child, amends__isnull=False).amendment_reason == "—"
    # The job's report in the access log: one row per child, by nobody.
    logged = AccessEvent.objects.filter(action=AccessEvent.Action.DEIDENTIFIED)
    assert list(logged.values_list("child_id", "user_id")) == [(child.pk, None)]
    # Files closed more recently, and open ones, are untouched.
    assert Child.objects.get(pk=recent.pk).name == recent.name
    assert Child.objects.get(pk=open_file.pk).name == open_file.name
    # A second run finds nothing more to do.
    again = StringIO()
    call_command("deidentify_closed_files", stdout=again)
    assert "de-identified 0 files" in again.getvalue()


def test_the_dry_run_counts_what_is_due_and_changes_nothing(settings):
    settings.RETENTION_YEARS_AFTER_CLOSE = 3
    due = _close(ChildFactory(), years_ago=4)
    _close(ChildFactory(), years_ago=2)
    out = StringIO()
    call_command("deidentify_closed_files", "--dry-run", stdout=out)
    assert "1 files closed before" in out.getvalue()
    assert Child.objects.get(pk=due.pk).name == due.name


def test_closing_dates_the_file_reopening_stops_the_clock_and_a_de_identified_file_stays_closed(
    settings, login
):
    settings.RETENTION_YEARS_AFTER_CLOSE = 1
    child = ChildFactory(resident=True)  # the welfare institution's: still theirs afterwards
    closed = _close(child, years_ago=0)
    assert closed.closed_at is not None
    reopened = child_reopen(child=closed, expected_version=closed.version, by=user("county_civil"))
    assert reopened.closed_at is None
    closed = _close(reopened, years_ago=2)
    call_command("run_scheduled_jobs", only=["cases.deidentify_closed_files"], verbosity=0)
    closed.refresh_from_db()
    assert closed.deidentified_at is not None
    with pytest.raises(ValidationError):
        child_reopen(child=closed, expected_version=closed.version, by=user("county_civil"))
    client = login("welfare_staff")
    page = client.get(f"/children/{closed.pk}/close/")
    assert 'data-testid="deidentified"' in page.content.decode()
    assert 'name="reopen"' not in page.content.decode()
    answer = client.post(
        f"/children/{closed.pk}/close/", {"reopen": "1", "version": closed.version}, follow=True
    )
    closed.refresh_from_db()
    assert closed.status == Child.Status.CLOSED and answer.status_code == 200


def test_the_job_may_blank_an_assessments_correction_reason_and_nothing_else():
    first = AssessmentFactory(value=1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [GUARD_SETTING])
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(
                "UPDATE assessments_assessment SET total = total + 1 WHERE id = %s",
                [first.pk],
            )
        cursor.execute(
            "UPDATE assessments_assessment SET amendment_reason = '—' WHERE id = %s", [first.pk]
        )
        cursor.execute("SELECT set_config(%s, '', true)", [GUARD_SETTING])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE assessments_assessment SET amendment_reason = '' WHERE id = %s", [first.pk]
        )
