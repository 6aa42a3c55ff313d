"""Work lists (issue 11, point 6): each person's open tasks on the home page, overdue first, then
by the child's risk and due date, counted and paged, each row one tap from the form whose record
completes it; a supervisor's view of the team's overdue tasks by person and of what was
escalated to them. Tasks are made by the scheduler's own planning from real records."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import CareTeamMember, Child, RiskLevel
from cases.services.care import care_team_remove
from followups.models import Task
from followups.selectors import my_tasks
from followups.services.plans import Schedule
from followups.services.schedule import tasks_escalate, tasks_plan
from institutions.models import User
from institutions.roles import Role
from tests.conftest import user
from tests.demo import FAR_VILLAGE, VILLAGE_A2
from tests.factories import (
    AssessmentFactory,
    CarePlanFactory,
    CareTeamMemberFactory,
    ChildFactory,
    ReferralFactory,
    UserFactory,
    VisitFactory,
)
from tests.factories.followups import FollowupPlanFactory

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def director() -> User:
    """A child director of 西岭村, which no demo user serves: every task they hold is one the
    test made (the demo's own tasks fall to the demo directors and the township supervisor)."""
    return UserFactory(role=Role.CHILD_DIRECTOR, jurisdiction=[VILLAGE_A2])


def village_child(*, risk: int = RiskLevel.NONE, visited_days_ago: int | None = None) -> Child:
    """A child of the director's village (their home visits and reassessments fall to them),
    at `risk`, last visited at home that many days ago (None: never)."""
    child = ChildFactory(region=VILLAGE_A2, risk_level=risk)
    if visited_days_ago is not None:
        VisitFactory(child=child, visited_on=today() - timedelta(days=visited_days_ago))
    return child


def plan(*children: Child, day=None) -> None:
    """What the scheduler's planning job does, for these children, as of `day`."""
    tasks_plan(today=day or today(), child_ids=[c.pk for c in children])


def rows(html: str, section: str = "my-tasks") -> list[int]:
    """The ids of the task rows in a section of a page, in the order shown."""
    part = html.split(f'data-testid="{section}"', 1)[1].split("</section>", 1)[0]
    return [int(pk) for pk in re.findall(r'data-testid="task-(\d+)"', part)]


def list_rows(html: str) -> list[int]:
    """The ids of the task rows of one page of the full list, in the order shown."""
    part = html.split('data-testid="tasks"', 1)[1].split("</ul>", 1)[0]
    return [int(pk) for pk in re.findall(r'data-testid="task-(\d+)"', part)]


def whole_list(client) -> str:
    """Every page of the signed-in user's full task list, one after the other."""
    url, pages = reverse("followups:my_tasks"), []
    for number in range(1, 50):
        html = client.get(f"{url}?page={number}").content.decode()
        pages.append(html)
        if 'data-testid="next-page"' not in html:
            return "".join(pages)
    raise AssertionError("the list does not end")


def pending_of(who: User) -> set[int]:
    return set(
        Task.objects.filter(assignee=who, status__in=Task.PENDING).values_list("pk", flat=True)
    )


def link_of(html: str, task: Task) -> str:
    """Where the row's one tap leads."""
    found = re.search(rf'href="([^"]+)" data-testid="do-task-{task.pk}"', html)
    assert found, f"no link for task {task.pk}"
    return found.group(1).replace("&amp;", "&")


def pending(child: Child, kind: str) -> Task:
    return Task.objects.get(child=child, kind=kind, status__in=Task.PENDING)


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_a_crisis_childs_overdue_task_comes_first(login, director):
    long_ago = village_child(visited_days_ago=100)  # every 90 days: 10 days overdue
    moderate = village_child(risk=RiskLevel.MODERATE, visited_days_ago=40)  # 30: 10 overdue
    crisis = village_child(risk=RiskLevel.CRISIS, visited_days_ago=10)  # weekly: 3 overdue
    never = village_child(risk=RiskLevel.HIGH)  # due today, not overdue
    plan(long_ago, moderate, crisis, never)

    home = login(director.username).get("/").content.decode()
    shown = rows(home)
    assert shown == [
        pending(crisis, Task.Kind.HOME_VISIT).pk,  # overdue the least, but at crisis risk
        pending(moderate, Task.Kind.HOME_VISIT).pk,
        pending(long_ago, Task.Kind.HOME_VISIT).pk,
        # Then what is not overdue yet, by risk, then due date.
        pending(crisis, Task.Kind.REASSESSMENT).pk,
        pending(never, Task.Kind.HOME_VISIT).pk,
        pending(never, Task.Kind.REASSESSMENT).pk,
        pending(moderate, Task.Kind.REASSESSMENT).pk,
        pending(long_ago, Task.Kind.REASSESSMENT).pk,
    ]
    assert set(shown) == pending_of(director)
    first_row = home.split(f'data-testid="task-{shown[0]}"', 1)[1].split("</li>", 1)[0]
    assert 'data-overdue="1"' in first_row and 'data-testid="task-overdue"' in first_row
    assert crisis.name in first_row and "risk-4" in first_row  # the name and its risk badge
    never_row = home.split(f'data-testid="task-{shown[4]}"', 1)[1].split("</li>", 1)[0]
    assert 'data-testid="task-overdue"' not in never_row and "risk-3" in never_row


def test_the_order_holds_for_everyone_with_the_demo_worlds_tasks():
    """The demo world's own tasks (planned by seed_demo) for the township supervisor, plus one
    overdue: overdue first, then risk from highest, then due date."""
    village_child(visited_days_ago=100)  # nobody serves 西岭村 here: the supervisor's task
    supervisor = user("supervisor_town")
    tasks = list(my_tasks(supervisor))
    assert len(tasks) > 20
    keys = [(not t.is_overdue, -t.child.risk_level, t.due_on, t.pk) for t in tasks]
    assert keys == sorted(keys)
    assert tasks[0].is_overdue


def test_the_home_page_says_how_many_and_the_full_list_pages_past_twenty(login, director):
    children = [village_child() for _ in range(13)]  # a home visit and a reassessment each
    plan(*children)
    mine = pending_of(director)
    assert len(mine) == 26

    client = login(director.username)
    home = client.get("/").content.decode()
    assert len(rows(home)) == 20
    count = home.split('data-testid="task-count"', 1)[1].split("</span>", 1)[0]
    assert re.findall(r"\d+", count) == ["20", "26"]
    assert f'href="{reverse("followups:my_tasks")}"' in home

    first = client.get(reverse("followups:my_tasks")).content.decode()
    second = client.get(reverse("followups:my_tasks") + "?page=2").content.decode()
    assert "26" in first.split('data-testid="task-count"', 1)[1].split("</p>", 1)[0]
    assert list_rows(first) == rows(home)  # the home page shows the list's first page
    assert len(list_rows(second)) == 6
    assert set(list_rows(first)) | set(list_rows(second)) == mine
    assert 'data-testid="next-page"' in first and 'data-testid="next-page"' not in second


def test_each_row_leads_in_one_tap_to_the_form_that_completes_it(login, director):
    visit_due = village_child(visited_days_ago=100)
    followed = village_child()
    # A follow-up plan after treatment pairing the director with the child, started ten days
    # ago, weekly: the first follow-up visit was due three days ago.
    followup = FollowupPlanFactory(
        child=followed,
        partners=[director],
        partner_role=CareTeamMember.TeamRole.CHILD_DIRECTOR,
        schedule=Schedule.every(7),
        start_on=today() - timedelta(days=10),
        by=director,
    )
    care_plan = CarePlanFactory(
        child=village_child(risk=RiskLevel.HIGH),
        review_date=today() + timedelta(days=3),
        by=director,
    )
    plan(visit_due, followed, care_plan.child)

    client = login(director.username)
    home = client.get("/").content.decode()

    home_visit = client.get(link_of(home, pending(visit_due, Task.Kind.HOME_VISIT)))
    assert home_visit.status_code == 200
    assert home_visit.context["child"] == visit_due
    assert home_visit.context["form"].initial["kind"] == "home_visit"
    assert 'value="home_visit" checked' in home_visit.content.decode()

    task = pending(followed, Task.Kind.FOLLOWUP_VISIT)
    assert task.assignee == director and task.source_id == followup.pk
    followup_visit = client.get(link_of(home, task))
    assert followup_visit.status_code == 200
    assert followup_visit.context["child"] == followed
    assert followup_visit.context["form"].initial["kind"] == "followup_visit"
    assert 'value="followup_visit" checked' in followup_visit.content.decode()

    reassessment = pending(visit_due, Task.Kind.REASSESSMENT)
    assert link_of(home, reassessment) == reverse(
        "assessments:assessment_create", args=[visit_due.pk]
    )
    assert client.get(link_of(home, reassessment)).status_code == 200

    review_task = pending(care_plan.child, Task.Kind.CARE_PLAN_REVIEW)
    assert review_task.assignee == director and review_task.source_id == care_plan.pk
    assert link_of(home, review_task) == reverse("cases:care_plan_review", args=[care_plan.pk])
    review = client.get(link_of(home, review_task))
    assert review.status_code == 200 and "form" in review.context


def test_a_referral_or_an_alert_waiting_leads_to_its_page(login):
    referral = ReferralFactory(send=True)  # the counsellor's, unanswered for its 7 days
    plan(referral.child, day=today() + timedelta(days=8))
    task = pending(referral.child, Task.Kind.REFERRAL_UNANSWERED)
    assert task.assignee == user("counselor") and task.source_id == referral.pk
    counsellor = login("counselor")
    page = whole_list(counsellor)
    assert link_of(page, task) == reverse("referrals:detail", args=[referral.pk])
    assert counsellor.get(link_of(page, task)).status_code == 200

    assessment = AssessmentFactory(child=ChildFactory(pupil=True), value=3)  # severe: an alert
    plan(assessment.child, day=today() + timedelta(days=1))
    task = pending(assessment.child, Task.Kind.ALERT_UNREVIEWED)
    assert task.assignee == user("supervisor_town")
    supervisor = login("supervisor_town")
    page = whole_list(supervisor)
    assert link_of(page, task) == reverse("assessments:alert_detail", args=[task.source_id])
    assert supervisor.get(link_of(page, task)).status_code == 200


def test_a_kind_that_is_no_visit_kind_leaves_the_visit_form_at_a_home_visit(login, director):
    child = village_child()
    url = reverse("followups:visit_create", args=[child.pk])
    response = login(director.username).get(url + "?kind=<script>")
    assert response.context["form"].initial["kind"] == "home_visit"


def test_another_persons_tasks_never_show(login, director):
    mine = village_child(visited_days_ago=100)
    theirs = ChildFactory(region=VILLAGE_A2, risk_level=RiskLevel.CRISIS)
    plan(mine, theirs)
    # The same village's child, but its care team's child director holds its home visits.
    CareTeamMemberFactory(
        child=theirs, user=user("director_a"), team_role=CareTeamMember.TeamRole.CHILD_DIRECTOR
    )
    plan(theirs)
    theirs_task = pending(theirs, Task.Kind.HOME_VISIT)
    assert theirs_task.assignee == user("director_a")

    client = login(director.username)
    home = client.get("/").content.decode()
    listed = whole_list(client)
    assert pending(mine, Task.Kind.HOME_VISIT).pk in rows(home)
    assert theirs_task.pk not in rows(home) and theirs_task.pk not in list_rows(listed)
    assert set(rows(home)) == pending_of(director)  # nobody else's, not the demo's
    # The township supervisor sees the village's children, but not the director's tasks.
    supervisor = whole_list(login("supervisor_town"))
    assert not pending_of(director) & set(list_rows(supervisor))


def test_a_child_outside_the_users_scope_never_shows(login, director):
    far = ChildFactory(region=FAR_VILLAGE)
    member = CareTeamMemberFactory(
        child=far, user=director, team_role=CareTeamMember.TeamRole.CHILD_DIRECTOR
    )
    plan(far)
    task = pending(far, Task.Kind.HOME_VISIT)
    assert task.assignee == director
    assert task.pk in rows(login(director.username).get("/").content.decode())  # on the team

    care_team_remove(member=member, by=user("county_civil"))  # the access it gave ends
    # Until the scheduler's next run hands the task on, it may still name the director.
    Task.objects.filter(pk=task.pk).update(assignee=director)
    client = login(director.username)
    home = client.get("/").content.decode()
    listed = whole_list(client)
    assert task.pk not in rows(home) and task.pk not in list_rows(listed)
    assert far.name not in home and far.name not in listed


def test_a_supervisor_sees_the_teams_overdue_tasks_by_person_and_what_was_escalated(
    login, director
):
    recent = village_child(visited_days_ago=100)  # 10 days overdue
    old = village_child(visited_days_ago=120)  # 30 days overdue: past the 14 days allowed
    fine = village_child()  # due today: not overdue
    plan(recent, old, fine)
    supervisor = user("supervisor_town")
    assert tasks_escalate(today=today()).get(supervisor.pk) == 1
    old_task = pending(old, Task.Kind.HOME_VISIT)
    assert old_task.status == Task.Status.ESCALATED and old_task.escalated_to == supervisor

    client = login("supervisor_town")
    page = client.get(reverse("followups:team_tasks")).content.decode()
    people = dict(
        re.findall(r'data-testid="team-person" data-assignee="(\w+)" data-tasks="(\d+)"', page)
    )
    assert people == {str(director.pk): "2"}  # the demo's own tasks are not overdue
    by_person = page.split('data-testid="team-by-person"', 1)[1].split("</section>", 1)[0]
    assert str(director) in by_person
    assert (today() - timedelta(days=30)).isoformat() in by_person  # the oldest due date
    assert rows(page, "escalated-tasks") == [old_task.pk]
    escalated = page.split('data-testid="escalated-tasks"', 1)[1]
    assert str(director) in escalated and old.name in escalated  # whose task, which child

    home = client.get("/").content.decode()
    panel = home.split('data-testid="team-tasks-panel"', 1)[1].split("</section>", 1)[0]
    assert f'data-assignee="{director.pk}" data-tasks="2"' in panel
    assert 'data-testid="escalated-to-me"' in panel
    assert reverse("followups:team_tasks") in panel


def test_tasks_nobody_holds_show_as_unassigned_to_the_county(login):
    far = ChildFactory(region=FAR_VILLAGE)  # nobody serves its township
    VisitFactory(child=far, visited_on=today() - timedelta(days=100))
    plan(far)
    assert pending(far, Task.Kind.HOME_VISIT).assignee is None
    page = login("county_civil").get(reverse("followups:team_tasks")).content.decode()
    assert re.search(r'data-testid="team-person" data-assignee="none" data-tasks="1"', page)


def test_the_team_page_is_not_found_for_those_who_do_not_supervise(login, director):
    village_child(visited_days_ago=100)
    for username in ("director_a", director.username):
        client = login(username)
        assert client.get(reverse("followups:team_tasks")).status_code == 404
        assert 'data-testid="team-tasks-panel"' not in client.get("/").content.decode()


def test_the_work_lists_need_sign_in(client):
    for name in ("followups:my_tasks", "followups:team_tasks"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_query_counts_do_not_grow_with_the_number_of_tasks(login, director):
    def counts() -> list[int]:
        mine, supervisor = login(director.username), login("supervisor_town")
        full_list = reverse("followups:my_tasks")
        return [
            count_queries(mine, "/"),
            count_queries(mine, full_list),
            count_queries(mine, full_list + "?page=2"),
            count_queries(supervisor, "/"),
            count_queries(supervisor, reverse("followups:team_tasks")),
        ]

    # Five tasks: two children's home visits (overdue, one escalated) and reassessments, and
    # a third child's home visit (its reassessment is done).
    few = [village_child(visited_days_ago=100), village_child(visited_days_ago=130)]
    assessed = village_child(visited_days_ago=110)
    AssessmentFactory(child=assessed, by=director)
    plan(*few, assessed)
    tasks_escalate(today=today())
    assert len(pending_of(director)) == 5
    before = counts()

    many = [village_child(visited_days_ago=100 + 5 * n) for n in range(12)]  # 24 more
    AssessmentFactory(child=many[0], by=director)
    many.append(village_child(visited_days_ago=150))
    plan(*many)
    tasks_escalate(today=today())
    assert len(pending_of(director)) == 30
    assert counts() == before
