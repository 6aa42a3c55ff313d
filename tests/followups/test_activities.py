"""Psycho-education activities: recording with attendance, refusing attendees out of scope
(nothing saved), who sees an activity and its attendees, the list, and the child's file."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Child
from cases.selectors.scope import children_visible_to
from core.models import AccessEvent
from followups.activities import (
    Attendee,
    activities_visible_to,
    activity_record,
    parse_record_numbers,
)
from followups.file_integration import activities as activities_file
from followups.models import Activity, ActivityAttendance
from institutions.models import Institution, Region
from tests.conftest import user
from tests.demo import CHILDRENS_HOME, SESSION_ACTIONS, TOWNSHIP_A, VILLAGE_A, VILLAGE_A2, VILLAGE_B

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def file_section_registered():
    # followups' AppConfig.ready() calls this; calling it again changes nothing.
    activities_file.register()


def village_children(code: str, n: int) -> list[Child]:
    """Children living in a village and registered there (not migrants): in that village's scope."""
    return list(
        Child.objects.filter(residence_region_id=code, household_region_id=code).order_by("id")[:n]
    )


def outside_director_a() -> Child:
    return (
        Child.objects.exclude(pk__in=children_visible_to(user("director_a")).values("pk"))
        .order_by("id")
        .first()
    )


def home() -> Institution:
    return Institution.objects.get(name=CHILDRENS_HOME)


def form_data(**overrides) -> dict[str, str]:
    data = {
        "kind": Activity.Kind.CLASS_MEETING,
        "topic": "认识情绪主题班会",
        "held_on": timezone.localdate().isoformat(),
        "region": VILLAGE_A,
        "venue": str(home().pk),
        "venue_text": "",
        "agency": "",
        "children": "",
        "guardian_children": "",
        "guardians_attending": "",
        "note": "",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int, int]:
    """Activities, attendances, and access-log entries about data (signing in aside)."""
    about_data = AccessEvent.objects.exclude(action__in=SESSION_ACTIONS)
    return Activity.objects.count(), ActivityAttendance.objects.count(), about_data.count()


def form_errors(html: str) -> str:
    match = re.search(r'data-testid="form-errors">(.*?)</div>', html, re.S)
    return match.group(1) if match else ""


def record(by: str, children: list[Child], *, region: str = VILLAGE_A, topic: str = "团体辅导"):
    return activity_record(
        by=user(by),
        kind=Activity.Kind.PEER_SUPPORT,
        topic=topic,
        held_on=timezone.localdate(),
        region=Region.objects.get(code=region),
        attendees=[Attendee(c.record_number) for c in children],
        venue=home(),
    )


class TestRecording:
    def test_director_records_an_activity_and_attendance_shows_on_the_file(self, login):
        first, second = village_children(VILLAGE_A, 2)
        client = login("director_a")
        assert client.get(reverse("activities:activity_create")).status_code == 200
        response = client.post(
            reverse("activities:activity_create"),
            form_data(
                children=f"{first.record_number}，{second.record_number.lower()}",
                guardian_children=second.record_number,
                guardians_attending="3",
            ),
        )
        assert response.status_code == 302
        activity = Activity.objects.get(topic="认识情绪主题班会")
        assert response["Location"] == reverse("activities:activity_detail", args=[activity.pk])
        assert activity.organiser == user("director_a")
        assert activity.venue == home() and activity.region_id == VILLAGE_A
        assert activity.guardians_attending == 3
        rows = {a.child_id: a.guardian_attended for a in activity.attendance.all()}
        assert rows == {first.pk: False, second.pk: True}
        # Each attendance is a change to the child's file, and is logged.
        assert (
            AccessEvent.objects.filter(
                action=AccessEvent.Action.CHANGE, detail__activity=activity.pk
            ).count()
            == 2
        )

        html = client.get(reverse("cases:child_detail", args=[second.pk])).content.decode()
        section = html.split('data-testid="activities-attended"')[1].split("</ul>")[0]
        assert "认识情绪主题班会" in section
        assert reverse("activities:activity_detail", args=[activity.pk]) in section
        assert 'href="#activities"' in html
        # …and on the timeline.
        timeline = html.split('data-testid="timeline"')[1]
        assert "认识情绪主题班会" in timeline

    def test_an_attendee_out_of_the_organisers_scope_is_refused_and_nothing_saved(self, login):
        inside = village_children(VILLAGE_A, 1)[0]
        outside = outside_director_a()
        before = counts()
        response = login("director_a").post(
            reverse("activities:activity_create"),
            form_data(children=f"{inside.record_number}\n{outside.record_number}"),
        )
        assert response.status_code == 200
        message = form_errors(response.content.decode())
        assert outside.record_number in message
        assert inside.record_number not in message
        assert counts() == before

    def test_an_unknown_record_number_is_refused_like_one_out_of_scope(self, login):
        inside = village_children(VILLAGE_A, 1)[0]
        before = counts()
        response = login("director_a").post(
            reverse("activities:activity_create"),
            form_data(children=f"{inside.record_number} NO-SUCH-1"),
        )
        assert "NO-SUCH-1" in form_errors(response.content.decode())
        assert counts() == before

    def test_the_service_refuses_the_whole_activity_before_writing(self):
        outside = outside_director_a()
        inside = village_children(VILLAGE_A, 3)
        before = counts()
        with pytest.raises(ValidationError) as refused:
            record("director_a", [*inside, outside])
        assert outside.record_number in refused.value.messages[0]
        assert counts() == before

    def test_fewer_guardians_than_named_is_refused(self, login):
        children = village_children(VILLAGE_A, 2)
        before = counts()
        response = login("director_a").post(
            reverse("activities:activity_create"),
            form_data(
                guardian_children=" ".join(c.record_number for c in children),
                guardians_attending="1",
            ),
        )
        assert response.status_code == 200 and form_errors(response.content.decode())
        assert counts() == before

    def test_guardians_named_count_when_the_total_is_left_empty(self):
        children = village_children(VILLAGE_A, 2)
        activity = activity_record(
            by=user("director_a"),
            kind=Activity.Kind.PARENT_SCHOOL,
            topic="家长学校：如何与孩子沟通",
            held_on=timezone.localdate(),
            region=Region.objects.get(code=VILLAGE_A),
            attendees=[Attendee(c.record_number, guardian_attended=True) for c in children],
            venue_text="村委会会议室",
        )
        assert activity.guardians_attending == 2

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("held_on", "2999-01-01"),
            ("region", VILLAGE_B),  # a village the director does not work in
            ("topic", ""),
            ("children", ""),  # nobody attended
        ],
    )
    def test_bad_input_is_refused_on_its_field(self, login, field, value):
        child = village_children(VILLAGE_A, 1)[0]
        data = form_data(children=child.record_number)
        data[field] = value
        before = counts()
        response = login("director_a").post(reverse("activities:activity_create"), data)
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert counts() == before

    def test_a_place_is_needed(self, login):
        child = village_children(VILLAGE_A, 1)[0]
        response = login("director_a").post(
            reverse("activities:activity_create"),
            form_data(children=child.record_number, venue=""),
        )
        assert "venue_text" in response.context["form"].errors

    def test_roles_without_the_permission_cannot_record(self, login):
        child = village_children(VILLAGE_A, 1)[0]
        for username in ("mentor", "volunteer", "clinician", "auditor"):
            client = login(username)
            assert client.get(reverse("activities:activity_create")).status_code == 403
            response = client.post(
                reverse("activities:activity_create"), form_data(children=child.record_number)
            )
            assert response.status_code == 403
        assert not Activity.objects.exists()

    def test_the_file_offers_to_record_an_activity_with_the_child(self, login):
        child = village_children(VILLAGE_A, 1)[0]
        client = login("director_a")
        html = client.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
        link = f"{reverse('activities:activity_create')}?child={child.record_number}"
        assert link in html
        form = client.get(link).context["form"]
        assert form.initial["children"] == child.record_number


def test_record_numbers_are_split_on_spaces_commas_and_lines():
    assert parse_record_numbers(" A-1,B-2，C-3、a-1\nD-4；E-5 ") == [
        "A-1",
        "B-2",
        "C-3",
        "D-4",
        "E-5",
    ]


class TestWhoSees:
    def township_activity(self) -> tuple[Activity, Child, Child]:
        """The township supervisor's activity with one child from each of two villages."""
        a = village_children(VILLAGE_A, 1)[0]
        a2 = village_children(VILLAGE_A2, 1)[0]
        activity = record("supervisor_town", [a, a2], region=TOWNSHIP_A, topic="乡镇心理讲座")
        return activity, a, a2

    def test_the_organiser_the_region_and_the_childrens_directors_see_it(self):
        activity, _a, _a2 = self.township_activity()
        for username in ("supervisor_town", "director_a", "county_civil"):
            assert activities_visible_to(user(username)).filter(pk=activity.pk).exists(), username
        for username in ("director_b", "social_worker", "clinician"):
            assert not activities_visible_to(user(username)).filter(pk=activity.pk).exists()

    def test_attendees_outside_the_viewers_scope_are_counted_not_named(self, login):
        activity, a, a2 = self.township_activity()
        html = (
            login("director_a")
            .get(reverse("activities:activity_detail", args=[activity.pk]))
            .content.decode()
        )
        attendees = html.split('data-testid="attendees"')[1].split("</ul>")[0]
        assert a.record_number in attendees and a.name in attendees
        assert a2.record_number not in html and a2.name not in html
        assert 'data-testid="others"' in html

        html = (
            login("supervisor_town")
            .get(reverse("activities:activity_detail", args=[activity.pk]))
            .content.decode()
        )
        assert a.record_number in html and a2.record_number in html
        assert 'data-testid="others"' not in html

    def test_an_outsider_gets_404(self, login):
        activity, _a, _a2 = self.township_activity()
        url = reverse("activities:activity_detail", args=[activity.pk])
        assert login("director_b").get(url).status_code == 404
        listing = login("director_b").get(reverse("activities:activity_list")).content.decode()
        assert "乡镇心理讲座" not in listing

    def test_a_file_out_of_scope_shows_nothing(self, login):
        _activity, _a, a2 = self.township_activity()
        response = login("director_a").get(reverse("cases:child_detail", args=[a2.pk]))
        assert response.status_code == 404


class TestList:
    def many(self, n: int) -> None:
        children = village_children(VILLAGE_A, 3)
        for i in range(n):
            record("director_a", children, topic=f"活动{i}")

    def list_queries(self, client, url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    def test_the_list_query_count_does_not_grow_with_rows(self, login):
        client = login("director_a")
        self.many(2)
        few = self.list_queries(client, reverse("activities:activity_list"))
        self.many(40)
        many = self.list_queries(client, reverse("activities:activity_list"))
        assert few == many
        page = client.get(reverse("activities:activity_list"))
        assert len(page.context["activities"]) == 25
        assert page.context["activities"][0].children_count == 3
        second = self.list_queries(client, reverse("activities:activity_list") + "?page=2")
        assert second == many

    def test_the_list_filters_by_kind_and_topic(self, login):
        child = village_children(VILLAGE_A, 1)[0]
        record("director_a", [child], topic="同伴互助小组")
        activity_record(
            by=user("director_a"),
            kind=Activity.Kind.HOME_GUIDANCE,
            topic="入户家庭教育指导",
            held_on=timezone.localdate() - timedelta(days=1),
            region=Region.objects.get(code=VILLAGE_A),
            attendees=[Attendee(child.record_number, guardian_attended=True)],
            venue_text="儿童家中",
        )
        client = login("director_a")
        html = client.get(reverse("activities:activity_list"), {"kind": "home_guidance"})
        text = html.content.decode()
        assert "入户家庭教育指导" in text and "同伴互助小组" not in text
        text = client.get(reverse("activities:activity_list"), {"q": "互助"}).content.decode()
        assert "同伴互助小组" in text and "入户家庭教育指导" not in text
        partial = client.get(
            reverse("activities:activity_list"),
            {"q": "互助"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="activity-rows",
        ).content.decode()
        assert "同伴互助小组" in partial and "<html" not in partial

    def test_the_file_page_query_count_does_not_grow_with_activities(self, login):
        child = village_children(VILLAGE_A, 1)[0]
        client = login("director_a")
        url = reverse("cases:child_detail", args=[child.pk])
        record("director_a", [child], topic="第一次")
        with CaptureQueriesContext(connection) as one:
            client.get(url)
        for i in range(6):
            record("director_a", [child], topic=f"更多{i}")
        with CaptureQueriesContext(connection) as seven:
            html = client.get(url).content.decode()
        assert len(one.captured_queries) == len(seven.captured_queries)
        assert html.count('href="/activities/') >= 7
