"""What the second reading of issues 11 and 12 found, each as a test: closing one alert closes
only its own task; an export page outside the scope is 404 before any format is chosen; task
lists write the children they show to the access log; numbers typed as other digits ("²")
never give a 500."""

from __future__ import annotations

import pytest
from django.utils import timezone

from assessments.models import Alert
from assessments.services import alert_acknowledge
from core.models import AccessEvent
from followups.models import Task, Visit
from followups.selectors import my_tasks
from followups.services.schedule import tasks_plan
from tests.conftest import user
from tests.factories import AssessmentFactory, VisitFactory, child_in_scope_of

pytestmark = pytest.mark.django_db


def test_closing_one_alert_leaves_the_task_about_the_other_open():
    child = child_in_scope_of("director_a")
    AssessmentFactory(child=child, value=3)  # a critical answer: alert one
    VisitFactory(  # a flagged visit: alert two, same child
        child=child,
        kind=Visit.Kind.TALK,
        concerns=[Visit.Concern.SELF_HARM_TALK],
        by=user("director_a"),
    )
    tasks_plan(today=timezone.localdate() + timezone.timedelta(days=2))
    first, second = Alert.objects.filter(child=child).order_by("id")
    task = Task.objects.get(child=child, kind=Task.Kind.ALERT_UNREVIEWED, status__in=Task.PENDING)
    assert task.source_id == first.pk
    alert_acknowledge(
        alert=second, by=user("supervisor_town"), note="测试：已家访核实", outcome="false_positive"
    )
    task.refresh_from_db()
    assert task.status in Task.PENDING and task.source_id == first.pk
    alert_acknowledge(
        alert=first, by=user("supervisor_town"), note="测试：已转介", outcome="referred"
    )
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


@pytest.mark.parametrize(
    "url", ["/children/export/?region=990102", "/visits/export/?region=990102"]
)
def test_an_export_page_outside_the_scope_is_404_before_a_format_is_chosen(url, login):
    assert login("county_civil").get(url).status_code == 404


def test_the_task_lists_log_the_children_they_show(login):
    client = login("director_a")
    shown = {t.child_id for t in my_tasks(user("director_a"))[:20]}  # the first page
    assert shown
    for url in ("/tasks/", "/"):
        since = timezone.now()
        assert client.get(url).status_code == 200
        logged = AccessEvent.objects.filter(
            user=user("director_a"), action="list", at__gte=since
        ).values_list("child_id", flat=True)
        assert set(logged) == shown, url


@pytest.mark.parametrize(
    "username,method,url,data",
    [
        ("director_a", "post", "/notifications/read/", {"id": "²"}),
        ("county_civil", "get", "/trainings/report/?year=²", None),
        ("county_civil", "get", "/trainings/report/export/?year=²&fmt=csv", None),
        ("county_civil", "get", "/assessments/screenings/?threshold=²", None),
    ],
)
def test_other_digits_never_give_a_server_error(username, method, url, data, login):
    client = login(username)
    response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    assert response.status_code < 500
