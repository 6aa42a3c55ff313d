"""The followups app's API (issue 14): visits logged and reviewed through the pages' form and
services, activities with their attendance, follow-up plans made, paired and ended, the work
list, and each user's own notifications; scope, levels, masking, the access log and query
counts as on the pages."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Alert
from cases.models import CareTeamMember, Child, ChildAccessGrant, RiskLevel
from cases.services.access import grant_open
from core.models import AccessEvent, Notification
from core.notifications import notify
from followups.models import Activity, ActivityAttendance, FollowupPlan, Task, Visit
from institutions.roles import Level
from tests.api.scope_cases.followups import notification_of_another
from tests.conftest import user
from tests.demo import FAR_VILLAGE, VILLAGE_A
from tests.factories import (
    ChildFactory,
    ReferralFactory,
    VisitFactory,
    child_in_scope_of,
    child_out_of_scope_of,
)
from tests.factories.followups import FollowupPlanFactory

pytestmark = pytest.mark.django_db

VISITS = "/api/v1/visits/"
ACTIVITIES = "/api/v1/activities/"
PLANS = "/api/v1/followup-plans/"
TASKS = "/api/v1/tasks/"
NOTIFICATIONS = "/api/v1/notifications/"


def post(client: Client, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    return client.post(
        path, data=json.dumps(body or {}), content_type="application/json", headers=headers
    )


def queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def today():
    return timezone.localdate()


# --- Visits -------------------------------------------------------------------------------------


class TestVisitLogging:
    def test_a_visit_is_logged_with_the_forms_defaults(self, login):
        child = child_in_scope_of("director_a")
        response = post(login("director_a"), VISITS, {"child": child.pk})
        assert response.status_code == 201, response.content
        body = response.json()
        visit = Visit.objects.get(pk=body["id"])
        assert (visit.child_id, visit.visitor) == (child.pk, user("director_a"))
        assert visit.kind == Visit.Kind.HOME_VISIT and visit.visited_on == today()
        assert visit.present == [Visit.Present.CHILD, Visit.Present.GUARDIAN]
        assert body["flagged"] is False and body["child_name"] == child.name

    def test_a_serious_concern_flags_the_visit_raises_an_alert_and_the_childs_risk(self, login):
        child = child_in_scope_of("director_a")
        response = post(
            login("director_a"),
            VISITS,
            {"child": child.pk, "concerns": ["self_harm_talk"], "note": "说想离家出走"},
        )
        assert response.status_code == 201, response.content
        assert response.json()["flagged"] is True
        assert Visit.objects.get(pk=response.json()["id"]).flagged
        assert Alert.objects.filter(child=child, reason=Alert.Reason.FLAGGED_VISIT).exists()
        child.refresh_from_db()
        assert child.risk_level >= RiskLevel.HIGH

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"visited_on": "2999-01-01"}, "visited_on"),
            ({"visited_on": str(timezone.localdate() + timedelta(days=1))}, "visited_on"),
            ({"guardian_informed": True}, "guardian_informed_note"),
            ({"kind": "seance"}, "kind"),
            ({"concerns": ["bad_luck"]}, "concerns"),
        ],
    )
    def test_the_visit_forms_rules_refuse_bad_input_naming_the_field(self, login, body, field):
        child = child_in_scope_of("director_a")
        response = post(login("director_a"), VISITS, {"child": child.pk, **body})
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "invalid"
        # A list's item is named with its index ("concerns.0").
        assert any(name.split(".")[0] == field for name in response.json()["fields"])
        assert not Visit.objects.filter(child=child).exists()

    def test_a_read_only_tie_cannot_log_a_visit(self, login):
        shared = child_out_of_scope_of("director_a")
        grant_open(
            child=shared,
            user=user("director_a"),
            level=Level.READ,
            source=ChildAccessGrant.Source.SHARE,
            by=user("admin"),
        )
        response = post(login("director_a"), VISITS, {"child": shared.pk})
        assert response.status_code == 403
        assert not Visit.objects.filter(child=shared).exists()

    def test_a_role_without_the_permission_cannot_log_a_visit(self, login):
        child = child_in_scope_of("county_civil")  # read only, and no visits to log
        response = post(login("county_civil"), VISITS, {"child": child.pk})
        assert response.status_code == 403
        assert not Visit.objects.filter(child=child).exists()


class TestVisitReading:
    def test_a_confidential_note_is_masked_for_roles_that_may_not_read_it(self, login):
        child = ChildFactory(region=VILLAGE_A)
        response = post(
            login("director_a"),
            VISITS,
            {"child": child.pk, "note": "家中有家暴迹象", "note_confidential": True},
        )
        visit_url = f"{VISITS}{response.json()['id']}/"
        assert response.json()["note"] == "家中有家暴迹象"  # its visitor reads it
        assert login("supervisor_town").get(visit_url).json()["note"] == "家中有家暴迹象"
        county = login("county_civil").get(visit_url)
        assert county.status_code == 200
        assert county.json()["note"] not in ("", "家中有家暴迹象")  # the mark, not the note

    def test_reading_a_visit_is_logged(self, login):
        visit = VisitFactory(child=child_in_scope_of("director_a"))
        before = AccessEvent.objects.filter(child=visit.child).count()
        response = login("director_a").get(f"{VISITS}{visit.pk}/")
        assert response.status_code == 200
        assert AccessEvent.objects.filter(
            child=visit.child, action=AccessEvent.Action.API_VIEW, user=user("director_a")
        ).exists()
        assert AccessEvent.objects.filter(child=visit.child).count() == before + 1

    def test_the_list_is_filtered_as_the_visits_export(self, login):
        child = child_in_scope_of("director_a")
        old = VisitFactory(child=child, visited_on=today() - timedelta(days=40))
        talk = VisitFactory(child=child, kind=Visit.Kind.TALK)
        client = login("director_a")
        since = str(today() - timedelta(days=7))
        listed = client.get(VISITS, {"child": child.pk, "date_from": since}).json()["results"]
        assert {row["id"] for row in listed} == {talk.pk}
        listed = client.get(VISITS, {"child": child.pk, "kind": "home_visit"}).json()["results"]
        assert {row["id"] for row in listed} == {old.pk}
        listed = client.get(VISITS, {"region": VILLAGE_A, "page_size": 100}).json()["results"]
        assert {old.pk, talk.pk} <= {row["id"] for row in listed}

    def test_a_region_outside_the_scope_is_404_and_bad_dates_are_400(self, login):
        client = login("director_a")
        assert client.get(VISITS, {"region": FAR_VILLAGE}).status_code == 404
        response = client.get(VISITS, {"date_from": "2024-05-01", "date_to": "2024-04-01"})
        assert response.status_code == 400
        assert "date_to" in response.json()["fields"]
        assert client.get(VISITS, {"child": "1.5"}).status_code == 400

    def test_the_list_logs_each_child_it_names(self, login):
        child = child_in_scope_of("director_a")
        VisitFactory(child=child)
        response = login("director_a").get(VISITS, {"child": child.pk})
        assert response.status_code == 200 and response.json()["results"]
        assert AccessEvent.objects.filter(
            child=child, action=AccessEvent.Action.LIST, user=user("director_a")
        ).exists()

    def test_the_list_query_count_does_not_grow_with_page_size(self, login):
        client = login("county_civil")
        for _ in range(3):
            VisitFactory(child=child_in_scope_of("county_civil"))
        assert queries(client, f"{VISITS}?page_size=2") == queries(client, f"{VISITS}?page_size=50")


class TestVisitReview:
    def flagged(self) -> Visit:
        return VisitFactory(child=ChildFactory(region=VILLAGE_A), concerns=["self_harm_talk"])

    def test_the_supervisor_reviews_a_flagged_visit_and_the_first_review_stands(self, login):
        visit = self.flagged()
        url = f"{VISITS}{visit.pk}/review/"
        response = post(login("supervisor_town"), url, {"note": "已电话联系监护人，转介心理咨询"})
        assert response.status_code == 200, response.content
        assert response.json()["review_note"] == "已电话联系监护人，转介心理咨询"
        visit.refresh_from_db()
        assert visit.reviewed_by == user("supervisor_town") and visit.reviewed_at is not None

        again = post(login("supervisor_town"), url, {"note": "第二次复核"})
        assert again.status_code == 409
        assert again.json()["code"] == "conflict"
        visit.refresh_from_db()
        assert visit.review_note == "已电话联系监护人，转介心理咨询"

    def test_a_review_needs_a_note(self, login):
        visit = self.flagged()
        response = post(login("supervisor_town"), f"{VISITS}{visit.pk}/review/", {"note": " "})
        assert response.status_code == 400
        assert "note" in response.json()["fields"]
        visit.refresh_from_db()
        assert visit.reviewed_at is None

    def test_only_a_flagged_visit_is_reviewed(self, login):
        visit = VisitFactory(child=ChildFactory(region=VILLAGE_A))
        response = post(login("supervisor_town"), f"{VISITS}{visit.pk}/review/", {"note": "好"})
        assert response.status_code == 409
        visit.refresh_from_db()
        assert visit.reviewed_at is None

    def test_a_director_may_not_review(self, login):
        visit = self.flagged()
        response = post(login("director_a"), f"{VISITS}{visit.pk}/review/", {"note": "好"})
        assert response.status_code == 403
        visit.refresh_from_db()
        assert visit.reviewed_at is None


# --- Activities ---------------------------------------------------------------------------------


def activity_body(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "class_meeting",
        "topic": "测试：情绪管理主题班会",
        "held_on": str(today()),
        "region": VILLAGE_A,
        "venue_text": "东岭村村委会",
        **changes,
    }


class TestActivities:
    def test_an_activity_is_recorded_with_its_attendance(self, login):
        one, two = child_in_scope_of("director_a"), child_in_scope_of("director_a")
        response = post(
            login("director_a"),
            ACTIVITIES,
            activity_body(children=[one.record_number], guardian_children=[two.record_number]),
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["children_count"] == 2 and body["guardians_attending"] == 1
        assert {a["child"] for a in body["attendees"]} == {one.pk, two.pk}
        rows = ActivityAttendance.objects.filter(activity_id=body["id"])
        assert {(r.child_id, r.guardian_attended) for r in rows} == {
            (one.pk, False),
            (two.pk, True),
        }

    def test_a_child_outside_the_scope_refuses_the_whole_activity_naming_it(self, login):
        mine, other = child_in_scope_of("director_a"), child_out_of_scope_of("director_a")
        before = Activity.objects.count()
        response = post(
            login("director_a"),
            ACTIVITIES,
            activity_body(children=[mine.record_number, other.record_number]),
        )
        assert response.status_code == 400
        assert other.record_number in " ".join(response.json()["fields"]["children"])
        assert Activity.objects.count() == before

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"region": FAR_VILLAGE}, "region"),
            ({"venue_text": ""}, "venue_text"),
            ({"children": [], "guardians_attending": None}, "children"),
            ({"held_on": "2999-01-01"}, "held_on"),
        ],
    )
    def test_the_activity_forms_rules_apply(self, login, changes, field):
        child = child_in_scope_of("director_a")
        body = activity_body(**{"children": [child.record_number], **changes})
        before = Activity.objects.count()
        response = post(login("director_a"), ACTIVITIES, body)
        assert response.status_code == 400, response.content
        assert field in response.json()["fields"]
        assert Activity.objects.count() == before

    def test_a_reader_sees_the_attendees_in_scope_and_a_count_of_the_others(self, login):
        mine = ChildFactory(region=VILLAGE_A)
        far = ChildFactory(region=FAR_VILLAGE)
        response = post(
            login("county_civil"),
            ACTIVITIES,
            activity_body(region=VILLAGE_A, children=[mine.record_number, far.record_number]),
        )
        assert response.status_code == 201, response.content
        detail = login("director_a").get(f"{ACTIVITIES}{response.json()['id']}/").json()
        assert [a["child"] for a in detail["attendees"]] == [mine.pk]
        assert detail["others"] == 1

    def test_the_list_filters_by_kind_and_search(self, login):
        child = child_in_scope_of("director_a")
        client = login("director_a")
        made = post(
            client,
            ACTIVITIES,
            activity_body(
                topic="测试：家长学校第三讲", kind="parent_school", children=[child.record_number]
            ),
        ).json()
        found = client.get(ACTIVITIES, {"q": "家长学校第三讲"}).json()["results"]
        assert [row["id"] for row in found] == [made["id"]]
        assert (
            client.get(ACTIVITIES, {"q": "家长学校第三讲", "kind": "other"}).json()["results"] == []
        )
        assert client.get(ACTIVITIES, {"kind": "seance"}).status_code == 400

    def test_a_role_without_the_permission_cannot_record_one(self, login):
        child = child_in_scope_of("mentor")
        response = post(login("mentor"), ACTIVITIES, activity_body(children=[child.record_number]))
        assert response.status_code == 403

    def test_the_list_query_count_does_not_grow_with_page_size(self, login):
        client = login("director_a")
        for _ in range(3):
            post(
                client,
                ACTIVITIES,
                activity_body(children=[child_in_scope_of("director_a").record_number]),
            )
        assert queries(client, f"{ACTIVITIES}?page_size=2") == queries(
            client, f"{ACTIVITIES}?page_size=50"
        )


# --- Follow-up plans ----------------------------------------------------------------------------


def plan_body(child: Child, **changes: Any) -> dict[str, Any]:
    return {
        "child": child.pk,
        "partners": [user("director_a").pk],
        "partner_role": CareTeamMember.TeamRole.CHILD_DIRECTOR,
        "first_interval_days": 7,
        "first_period_days": 28,
        "interval_days": 30,
        "end_on": str(today() + timedelta(weeks=12)),
        "goal": "测试：出院后情绪稳定，按时服药",
        **changes,
    }


class TestFollowupPlans:
    def test_a_plan_is_made_and_the_partner_joins_the_care_team(self, login):
        child = child_in_scope_of("director_a")
        response = post(login("director_a"), PLANS, plan_body(child))
        assert response.status_code == 201, response.content
        body = response.json()
        assert [p["id"] for p in body["partners"]] == [user("director_a").pk]
        assert body["status"] == "active" and body["visits_done"] == 0
        plan = FollowupPlan.objects.get(pk=body["id"])
        assert (plan.first_interval_days, plan.first_period_days, plan.interval_days) == (7, 28, 30)
        assert CareTeamMember.objects.filter(
            child=child, user=user("director_a"), team_role="child_director", is_active=True
        ).exists()

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"goal": ""}, "goal"),
            ({"interval_days": 0}, "interval_days"),
            ({"end_on": str(timezone.localdate() + timedelta(weeks=200))}, "end_on"),
            ({"partners": []}, "partners"),
            ({"partner_role": "peer_partner"}, "partner_role"),
        ],
    )
    def test_the_plans_rules_refuse_bad_input_naming_the_field(self, login, changes, field):
        child = child_in_scope_of("director_a")
        response = post(login("director_a"), PLANS, plan_body(child, **changes))
        assert response.status_code == 400, response.content
        assert field in response.json()["fields"]
        assert not FollowupPlan.objects.filter(child=child).exists()

    def test_someone_who_may_not_be_paired_is_refused(self, login):
        child = child_in_scope_of("director_a")
        response = post(
            login("director_a"), PLANS, plan_body(child, partners=[user("clinician").pk])
        )
        assert response.status_code == 400
        assert "partners" in response.json()["fields"]

    def test_a_referral_that_is_no_discharge_of_the_child_is_refused(self, login):
        child = child_in_scope_of("director_a")
        referral = ReferralFactory(child=child, send=True)  # sent, not discharged
        body = plan_body(child, referral=referral.pk)
        response = post(login("director_a"), PLANS, body)
        assert response.status_code == 400
        assert "referral" in response.json()["fields"]
        assert not FollowupPlan.objects.filter(child=child).exists()

    def test_a_child_has_one_active_plan(self, login):
        child = child_in_scope_of("director_a")
        FollowupPlanFactory(child=child)
        response = post(login("director_a"), PLANS, plan_body(child))
        assert response.status_code == 400
        assert "non_field_errors" in response.json()["fields"]
        assert FollowupPlan.objects.filter(child=child).count() == 1

    def test_a_reader_may_read_but_not_make_pair_or_end(self, login):
        child = child_in_scope_of("county_civil")
        plan = FollowupPlanFactory(child=child)
        client = login("county_civil")
        assert client.get(f"{PLANS}{plan.pk}/").status_code == 200
        assert post(client, PLANS, plan_body(child)).status_code == 403
        assert post(client, f"{PLANS}{plan.pk}/end/", {"reason": "x"}).status_code == 403
        plan.refresh_from_db()
        assert plan.status == FollowupPlan.Status.ACTIVE

    def test_a_plan_is_ended_with_a_reason_once(self, login):
        plan = FollowupPlanFactory(child=child_in_scope_of("director_a"))
        client = login("director_a")
        url = f"{PLANS}{plan.pk}/end/"
        missing = post(client, url, {"reason": ""})
        assert missing.status_code == 400 and "reason" in missing.json()["fields"]
        ended = post(client, url, {"reason": "孩子随家人迁往外省"})
        assert ended.status_code == 200, ended.content
        assert ended.json()["status"] == "ended"
        plan.refresh_from_db()
        assert plan.end_reason == "孩子随家人迁往外省" and plan.ended_by == user("director_a")
        again = post(client, url, {"reason": "再次结束"})
        assert again.status_code == 409
        plan.refresh_from_db()
        assert plan.end_reason == "孩子随家人迁往外省"
        assert post(client, f"{PLANS}{plan.pk}/pair/", {"partners": []}).status_code == 409

    def test_someone_is_paired_with_the_child(self, login):
        child = child_in_scope_of("director_a")
        plan = FollowupPlanFactory(child=child)
        response = post(
            login("director_a"), f"{PLANS}{plan.pk}/pair/", {"partners": [user("director_a").pk]}
        )
        assert response.status_code == 200, response.content
        assert [p["id"] for p in response.json()["partners"]] == [user("director_a").pk]
        assert user("director_a") in plan.partners.all()
        assert CareTeamMember.objects.filter(
            child=child, user=user("director_a"), team_role=plan.partner_role, is_active=True
        ).exists()

    def test_the_list_filters_by_child_and_logs_the_children(self, login):
        child = child_in_scope_of("director_a")
        plan = FollowupPlanFactory(child=child)
        response = login("director_a").get(PLANS, {"child": child.pk})
        assert [row["id"] for row in response.json()["results"]] == [plan.pk]
        assert AccessEvent.objects.filter(
            child=child, action=AccessEvent.Action.LIST, user=user("director_a")
        ).exists()

    def test_the_list_query_count_does_not_grow_with_page_size(self, login):
        for _ in range(3):
            FollowupPlanFactory(
                child=child_in_scope_of("county_civil"), partners=[user("director_a")]
            )
        client = login("county_civil")
        assert queries(client, f"{PLANS}?page_size=2") == queries(client, f"{PLANS}?page_size=50")


# --- Tasks --------------------------------------------------------------------------------------


def task(child: Child, assignee: str, *, due: int = 0, kind: str = Task.Kind.REASSESSMENT) -> Task:
    return Task.objects.create(
        child=child, kind=kind, due_on=today() + timedelta(days=due), assignee=user(assignee)
    )


class TestTasks:
    def test_the_work_list_holds_the_callers_own_tasks(self, login):
        mine = task(child_in_scope_of("director_a"), "director_a", due=-3)
        theirs = task(ChildFactory(region=VILLAGE_A), "supervisor_town")
        listed = login("director_a").get(TASKS, {"page_size": 100}).json()["results"]
        ids = {row["id"] for row in listed}
        assert mine.pk in ids and theirs.pk not in ids
        row = next(row for row in listed if row["id"] == mine.pk)
        assert row["is_overdue"] is True and row["kind"] == "reassessment"

    def test_overdue_and_kind_narrow_the_list(self, login):
        late = task(child_in_scope_of("director_a"), "director_a", due=-3)
        soon = task(child_in_scope_of("director_a"), "director_a", due=3)
        client = login("director_a")
        overdue = {r["id"] for r in client.get(TASKS, {"overdue": "true"}).json()["results"]}
        assert late.pk in overdue and soon.pk not in overdue
        other_kind = client.get(TASKS, {"kind": "home_visit", "page_size": 100}).json()
        assert late.pk not in {r["id"] for r in other_kind["results"]}

    def test_the_team_view_is_the_supervisors_alone(self, login):
        late = task(ChildFactory(region=VILLAGE_A), "director_a", due=-5)
        team = login("supervisor_town").get(TASKS, {"scope": "team", "page_size": 100})
        assert team.status_code == 200
        assert late.pk in {row["id"] for row in team.json()["results"]}
        assert login("director_a").get(TASKS, {"scope": "team"}).status_code == 404
        assert login("director_a").get(TASKS, {"scope": "everyone"}).status_code == 400

    def test_one_task_reads_with_the_child(self, login):
        row = task(child_in_scope_of("director_a"), "director_a")
        response = login("director_a").get(f"{TASKS}{row.pk}/")
        assert response.status_code == 200
        assert response.json()["child"] == row.child_id

    def test_the_list_query_count_does_not_grow_with_page_size(self, login):
        for due in range(3):
            task(child_in_scope_of("director_a"), "director_a", due=due)
        client = login("director_a")
        assert queries(client, f"{TASKS}?page_size=2") == queries(client, f"{TASKS}?page_size=50")


# --- Notifications ------------------------------------------------------------------------------


def tell(username: str, overdue: int = 2) -> Notification:
    (row,) = notify(
        recipients=[user(username)],
        kind="tasks_due",
        params={"overdue": overdue, "today": 0, "soon": 1},
        in_app_only=True,
    )
    return row


class TestNotifications:
    def test_the_list_holds_the_callers_own_in_their_language(self, login):
        mine = tell("director_a", overdue=7)
        other = notification_of_another("director_a")
        client = login("director_a")
        response = client.get(NOTIFICATIONS, {"page_size": 100}, headers={"Accept-Language": "en"})
        rows = {row["id"]: row for row in response.json()["results"]}
        assert mine.pk in rows and other.pk not in rows
        assert "7 overdue tasks" in rows[mine.pk]["message"]
        assert rows[mine.pk]["read"] is False

    def test_one_is_marked_read_and_anothers_is_not_found(self, login):
        mine, other = tell("director_a"), notification_of_another("director_a")
        client = login("director_a")
        response = post(client, f"{NOTIFICATIONS}{mine.pk}/read/")
        assert response.status_code == 200 and response.json()["read"] is True
        mine.refresh_from_db()
        assert mine.read_at is not None
        assert post(client, f"{NOTIFICATIONS}{other.pk}/read/").status_code == 404
        assert client.get(f"{NOTIFICATIONS}{other.pk}/").status_code == 404
        other.refresh_from_db()
        assert other.read_at is None
        unread = client.get(NOTIFICATIONS, {"unread": "true", "page_size": 100}).json()
        assert mine.pk not in {row["id"] for row in unread["results"]}

    def test_all_the_callers_own_are_marked_read_and_nobody_elses(self, login):
        tell("director_a")
        other = notification_of_another("director_a")
        unread = Notification.objects.filter(recipient=user("director_a"), read_at__isnull=True)
        count = unread.count()
        response = post(login("director_a"), f"{NOTIFICATIONS}read-all/")
        assert response.status_code == 200
        assert response.json() == {"marked": count}
        assert not unread.exists()
        other.refresh_from_db()
        assert other.read_at is None

    def test_the_list_query_count_does_not_grow_with_page_size(self, login):
        for n in range(3):
            tell("director_a", overdue=n)
        VisitFactory(child=ChildFactory(region=VILLAGE_A), concerns=["self_harm_talk"])
        client = login("director_a")
        assert queries(client, f"{NOTIFICATIONS}?page_size=2") == queries(
            client, f"{NOTIFICATIONS}?page_size=50"
        )
