"""Staff training: recording a training with attendees by user name (all or nothing), who sees
it, and the supervisor's report of hours trained this calendar year per staff member."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from institutions.models import Region, Training, TrainingAttendance
from institutions.selectors import scope_for
from institutions.training import (
    report_year_today,
    staff_under,
    training_hours_report,
    training_record,
    trainings_visible_to,
)
from tests.conftest import user
from tests.demo import COUNTY, TOWNSHIP_A, TOWNSHIP_B

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict[str, str]:
    data = {
        "topic": "儿童心理危机识别",
        "held_on": timezone.localdate().isoformat(),
        "hours": "3.5",
        "organiser": "演示县民政局",
        "agency": "",
        "region": TOWNSHIP_A,
        "attendees": "director_a, supervisor_town",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int]:
    return Training.objects.count(), TrainingAttendance.objects.count()


def held(
    topic: str, on: date, hours: str, *attendees: str, by: str = "county_civil", region=COUNTY
):
    return training_record(
        by=user(by),
        topic=topic,
        held_on=on,
        hours=Decimal(hours),
        organiser="演示县民政局",
        region=Region.objects.get(code=region),
        attendees=list(attendees),
    )


class TestRecording:
    def test_a_supervisor_records_a_training_with_attendees_by_user_name(self, login):
        client = login("supervisor_town")
        page = client.get(reverse("training:training_create"))
        assert page.status_code == 200
        assert "director_a" in page.content.decode()  # the staff hint list
        response = client.post(reverse("training:training_create"), form_data())
        assert response.status_code == 302
        training = Training.objects.get(topic="儿童心理危机识别")
        assert response["Location"] == reverse("training:training_detail", args=[training.pk])
        assert training.hours == Decimal("3.5") and training.region_id == TOWNSHIP_A
        assert training.recorded_by == user("supervisor_town")
        assert {a.user.username for a in training.attendance.all()} == {
            "director_a",
            "supervisor_town",
        }
        html = client.get(response["Location"]).content.decode()
        assert "演示·东岭村儿童主任" in html and "director_a" in html

    def test_an_unknown_user_name_refuses_the_whole_training(self, login):
        before = counts()
        response = login("supervisor_town").post(
            reverse("training:training_create"),
            form_data(attendees="director_a nobody_here"),
        )
        assert response.status_code == 200
        errors = response.content.decode().split('data-testid="form-errors">')[1].split("</div>")[0]
        assert "nobody_here" in errors and "director_a" not in errors
        assert counts() == before

    def test_the_service_refuses_inactive_users_before_writing(self):
        gone = user("volunteer")
        gone.is_active = False
        gone.save()
        before = counts()
        with pytest.raises(ValidationError) as refused:
            held("培训", timezone.localdate(), "2", "director_a", "volunteer")
        assert "volunteer" in refused.value.messages[0]
        assert counts() == before

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("hours", "0"),
            ("hours", "201"),
            ("held_on", "2999-01-01"),
            ("region", TOWNSHIP_B),  # a township the supervisor does not oversee
            ("attendees", " , "),
        ],
    )
    def test_bad_input_is_refused_on_its_field(self, login, field, value):
        before = counts()
        response = login("supervisor_town").post(
            reverse("training:training_create"), form_data(**{field: value})
        )
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert counts() == before

    def test_roles_without_the_permission_cannot_record(self, login):
        for username in ("director_a", "counselor", "social_worker", "auditor"):
            client = login(username)
            assert client.get(reverse("training:training_create")).status_code == 403
            response = client.post(reverse("training:training_create"), form_data())
            assert response.status_code == 403
        assert not Training.objects.exists()

    def test_administrators_record_for_any_region(self, login):
        response = login("admin").post(
            reverse("training:training_create"),
            form_data(region=TOWNSHIP_B, attendees="director_b"),
        )
        assert response.status_code == 302


class TestWhoSees:
    def test_attendees_the_recorder_and_the_region_see_a_training_others_get_404(self, login):
        training = held("乡镇培训", timezone.localdate(), "2", "director_a", region=TOWNSHIP_A)
        url = reverse("training:training_detail", args=[training.pk])
        for username in ("director_a", "county_civil", "supervisor_town"):
            assert login(username).get(url).status_code == 200, username
        for username in ("director_b", "counselor"):
            assert login(username).get(url).status_code == 404, username
            assert not trainings_visible_to(user(username)).filter(pk=training.pk).exists()
        listing = login("director_a").get(reverse("training:training_list")).content.decode()
        assert "乡镇培训" in listing


class TestHoursReport:
    def test_hours_this_year_per_staff_member_under_the_supervisor(self, login):
        today = timezone.localdate()
        held("第一期", today, "3.5", "director_a", "supervisor_town")
        held("第二期", date(today.year, 1, 1), "2", "director_a")
        held("去年", date(today.year - 1, 12, 31), "8", "director_a", "director_b")
        response = login("supervisor_town").get(reverse("training:training_report"))
        assert response.status_code == 200
        rows = {p.username: (p.hours, p.sessions) for p in response.context["rows"]}
        assert rows["director_a"] == (Decimal("5.5"), 2)
        assert rows["supervisor_town"] == (Decimal("3.5"), 1)
        # Staff of another township are not under this supervisor.
        assert "director_b" not in rows and "social_worker" not in rows
        # Fewest hours first by default.
        hours = [p.hours for p in response.context["rows"]]
        assert hours == sorted(hours)

        county = login("county_civil").get(reverse("training:training_report"))
        rows = {p.username: p.hours for p in county.context["rows"]}
        assert rows["director_b"] == Decimal("0") and rows["director_a"] == Decimal("5.5")
        assert "counselor" in rows  # a school of the county: its institution's region

        last_year = login("county_civil").get(
            reverse("training:training_report"), {"year": today.year - 1}
        )
        rows = {p.username: p.hours for p in last_year.context["rows"]}
        assert rows["director_b"] == Decimal("8") and rows["director_a"] == Decimal("8")

    def test_staff_under_follows_jurisdiction_and_organisation_regions(self):
        town = set(staff_under(user("supervisor_town")).values_list("username", flat=True))
        assert {"director_a", "supervisor_town", "counselor", "mentor"} <= town
        assert not town & {"director_b", "social_worker", "county_civil", "welfare_staff"}
        assert not staff_under(user("admin")).exists()  # no region of their own

    def test_only_supervisors_with_the_permission_see_the_report(self, login):
        for username in ("director_a", "admin", "counselor", "auditor"):
            assert login(username).get(reverse("training:training_report")).status_code == 403

    def test_the_report_is_one_query_and_its_page_count_does_not_grow(self, login):
        supervisor = user("county_civil")
        year = report_year_today()
        scope_for(supervisor)  # resolved once per request, before any view reads
        with CaptureQueriesContext(connection) as report:
            rows = list(training_hours_report(user=supervisor, year=year)[:50])
        assert len(report.captured_queries) == 1 and rows

        client = login("county_civil")
        url = reverse("training:training_report")

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            return len(captured.captured_queries)

        few = queries()
        everyone = list(staff_under(supervisor).values_list("username", flat=True))
        for i in range(12):
            held(f"培训{i}", timezone.localdate(), "1.5", *everyone)
        assert queries() == few
        row = next(p for p in client.get(url).context["rows"] if p.username == "director_b")
        assert row.hours == Decimal("18.0") and row.sessions == 12

    def test_the_year_is_the_calendar_year_in_china(self):
        with timezone.override("UTC"):
            assert report_year_today() == datetime.now(ZoneInfo("Asia/Shanghai")).year
