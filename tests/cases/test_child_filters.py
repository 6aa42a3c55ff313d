"""The children list's filters that the dashboards' figures link to (sex, age band, residence,
screened, open alert, overdue visits), on a hand-built set of children in a county of their own;
with region and the older filters; in the page and the API; bad values; the query count; and
the referrals entry of the menu."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from assessments.models import Alert
from assessments.services import alert_acknowledge
from cases.models import Category, Child
from cases.selectors.demographics import AGE_BANDS, years_before
from followups.services.schedule import tasks_plan
from institutions.models import User
from institutions.roles import Role
from institutions.services import membership_grant, region_load
from tests.demo import (
    NEIGHBOUR_COUNTY,
    NEIGHBOUR_TOWNSHIP,
    NEIGHBOUR_VILLAGE,
    VILLAGE_A2,
    WELFARE,
    user,
)
from tests.factories import (
    AssessmentFactory,
    ChildFactory,
    UserFactory,
    VisitFactory,
    agency,
    institution,
    neighbouring_village,
)
from tests.factories.followups import FollowupPlanFactory

pytestmark = pytest.mark.django_db

V1 = NEIGHBOUR_VILLAGE  # 990102001001
V2 = NEIGHBOUR_TOWNSHIP + "002"  # 990102001002, loaded below


def today() -> date:
    return timezone.localdate()


def born(age: int) -> date:
    """A birth date that makes the child `age` today, a month past the birthday."""
    return years_before(today(), age) - timedelta(days=30)


@dataclass
class World:
    """Eight children of a neighbouring county no demo user sees, and a social worker who sees
    exactly them (so every list below holds only these, on one page)."""

    worker: User
    a: Child  # V1, girl of 3, lives in an institution, orphan
    b: Child  # V1, boy of 13, screened 10 days ago
    c: Child  # V1, girl of 16, severe result 200 days ago: alert open, high risk
    d: Child  # V2, boy of 8, left behind, home visit 200 days ago: overdue
    e: Child  # V2, girl of 14, severe result 400 days ago (alert closed), follow-up overdue
    f: Child  # V1, boy of 17, result of 10 days ago corrected: really 400 days ago
    h: Child  # V2, boy of 10, home visit 200 days ago and again today: not overdue


@pytest.fixture
def world() -> World:
    neighbouring_village()
    region_load(rows=[(V2, "邻村二（演示）")])
    worker = UserFactory(role=Role.SOCIAL_WORKER, jurisdiction=[NEIGHBOUR_COUNTY])
    a = ChildFactory(
        region=V1,
        birth_date=born(3),
        residential_institution=institution(WELFARE),
        categories=[Category.ORPHAN],
    )
    b = ChildFactory(region=V1, sex=Child.Sex.MALE, birth_date=born(13))
    AssessmentFactory(child=b, administered_on=today() - timedelta(days=10))
    c = ChildFactory(region=V1, birth_date=born(16))
    AssessmentFactory(child=c, value=3, administered_on=today() - timedelta(days=200))
    d = ChildFactory(
        region=V2,
        sex=Child.Sex.MALE,
        birth_date=born(8),
        categories=[Category.RURAL_LEFT_BEHIND],
    )
    VisitFactory(child=d, visited_on=today() - timedelta(days=200))
    e = ChildFactory(region=V2, birth_date=born(14))
    AssessmentFactory(child=e, value=3, administered_on=today() - timedelta(days=400))
    for alert in Alert.objects.filter(child=e):
        alert_acknowledge(
            alert=alert, by=user("supervisor_town"), note="测试：已处理", outcome="referred"
        )
    FollowupPlanFactory(child=e, start_on=today() - timedelta(days=60))
    f = ChildFactory(region=V1, sex=Child.Sex.MALE, birth_date=born(17))
    wrong = AssessmentFactory(child=f, administered_on=today() - timedelta(days=10))
    AssessmentFactory(
        child=f,
        amends=wrong,
        amendment_reason="测试：日期填错",
        administered_on=today() - timedelta(days=400),
    )
    h = ChildFactory(region=V2, sex=Child.Sex.MALE, birth_date=born(10))
    VisitFactory(child=h, visited_on=today() - timedelta(days=200))
    VisitFactory(child=h)
    # As the scheduler's planning job does every night.
    tasks_plan(today=today(), child_ids=[x.pk for x in (a, b, c, d, e, f, h)])
    return World(worker, a, b, c, d, e, f, h)


@pytest.fixture
def client_of(login):
    """A client signed in (through the login form) as a user a test made."""
    return lambda who: login(who.username)


@pytest.fixture
def client(world, client_of):
    return client_of(world.worker)


def listed(client, **params) -> set[int]:
    """The ids of the children the list page shows for these filters (all on one page)."""
    response = client.get("/children/", params)
    assert response.status_code == 200
    assert not response.context["filter"].errors, response.context["filter"].errors
    return {child.pk for child in response.context["children"]}


def ids(*children: Child) -> set[int]:
    return {child.pk for child in children}


def test_the_worker_sees_exactly_the_hand_built_children(world, client):
    w = world
    assert listed(client) == ids(w.a, w.b, w.c, w.d, w.e, w.f, w.h)


def test_sex_and_age_band(world, client):
    w = world
    assert listed(client, sex="F") == ids(w.a, w.c, w.e)
    assert listed(client, sex="M") == ids(w.b, w.d, w.f, w.h)
    assert listed(client, age="0-5") == ids(w.a)
    assert listed(client, age="6-11") == ids(w.d, w.h)
    assert listed(client, age="12-14") == ids(w.b, w.e)
    assert listed(client, age="15-17") == ids(w.c, w.f)


def test_age_bands_count_completed_years_on_the_birthday(world, client):
    """Turning 6 today is 6; turning 6 tomorrow is still 5; turning 18 today is in no band."""
    six_today = ChildFactory(region=V1, birth_date=years_before(today(), 6))
    six_tomorrow = ChildFactory(region=V1, birth_date=years_before(today(), 6) + timedelta(days=1))
    eighteen_today = ChildFactory(region=V1, birth_date=years_before(today(), 18))
    seventeen = ChildFactory(region=V1, birth_date=years_before(today(), 18) + timedelta(days=1))
    assert six_today.pk in listed(client, age="6-11")
    assert six_tomorrow.pk in listed(client, age="0-5")
    assert seventeen.pk in listed(client, age="15-17")
    banded = set().union(*(listed(client, age=band.key) for band in AGE_BANDS))
    assert eighteen_today.pk not in banded
    # The bands agree with the age the file shows.
    for child in Child.objects.filter(residence_region_id__in=[V1, V2]):
        age = child.age()
        if age <= 17:
            band = next(b.key for b in AGE_BANDS if b.low <= age <= b.high)
            assert child.pk in listed(client, age=band), (child.birth_date, age)


def test_resident(world, client):
    assert listed(client, resident="on") == ids(world.a)


def test_screened_within_the_last_year_unless_said(world, client):
    w = world
    # f's result of 10 days ago was corrected to 400 days ago: only current results count.
    assert listed(client, screened="yes") == ids(w.b, w.c)
    assert listed(client, screened="no") == ids(w.a, w.d, w.e, w.f, w.h)
    assert listed(client, screened="yes", screened_within="30") == ids(w.b)
    assert listed(client, screened="yes", screened_within="500") == ids(w.b, w.c, w.e, w.f)
    assert listed(client, screened="no", screened_within="500") == ids(w.a, w.d, w.h)
    # Without "screened" the period narrows nothing.
    assert listed(client, screened_within="30") == listed(client)


def test_open_alert(world, client):
    # e's alert was closed; c's is open.
    assert listed(client, open_alert="on") == ids(world.c)


def test_overdue_home_and_follow_up_visits(world, client):
    w = world
    # h was visited again today: the task that was overdue is done.
    assert listed(client, visit_overdue="on") == ids(w.d)
    assert listed(client, followup_due="on") == ids(w.e)


def test_new_filters_combine_with_region_and_the_older_filters(world, client):
    w = world
    assert listed(client, region=V1, sex="F") == ids(w.a, w.c)
    assert listed(client, region=V2, screened="no") == ids(w.d, w.e, w.h)
    assert listed(client, region=V1, visit_overdue="on") == set()
    assert listed(client, region=V2, visit_overdue="on") == ids(w.d)
    assert listed(client, region=V1, age="15-17", open_alert="on") == ids(w.c)
    assert listed(client, region=NEIGHBOUR_COUNTY, followup_due="on", sex="F") == ids(w.e)
    assert listed(client, category=Category.RURAL_LEFT_BEHIND, visit_overdue="on") == ids(w.d)
    assert listed(client, category=Category.ORPHAN, resident="on", age="0-5") == ids(w.a)
    w.c.refresh_from_db()
    assert listed(client, risk=str(w.c.risk_level), open_alert="on", needs_plan="on") == ids(w.c)
    assert listed(client, status="active", screened="yes", sex="M") == ids(w.b)
    assert listed(client, status="closed", screened="yes") == set()


def test_active_filters_are_chips_that_remove_themselves(world, client):
    response = client.get("/children/", {"region": V2, "sex": "M", "visit_overdue": "on"})
    chips = {chip["name"]: chip for chip in response.context["filter"].active()}
    assert set(chips) == {"region", "sex", "visit_overdue"}
    html = response.content.decode()
    assert html.count('data-testid="active-filter"') == 3
    # Following a chip's link drops that filter and keeps the others.
    without_sex = client.get(f"/children/?{chips['sex']['remove']}")
    assert {c.pk for c in without_sex.context["children"]} == ids(world.d)
    assert [c["name"] for c in without_sex.context["filter"].active()] == [
        "region",
        "visit_overdue",
    ]
    # The filters are tappable chips (checkboxes and radio buttons), not list boxes.
    assert 'class="btn-check" name="category"' in html
    assert 'type="radio" class="btn-check" name="age"' in html
    assert "<select" not in html.split('data-testid="chips-category"')[1].split("</fieldset>")[0]
    assert 'name="category" multiple' not in html and 'name="risk" multiple' not in html


def test_the_form_carries_every_filter(world, client):
    """Changing one chip submits the form: a filter it has no input for would be lost (a
    dashboard's link sets any of them)."""
    response = client.get("/children/")
    form = response.content.decode().split('role="search"', 1)[1].split("</form>", 1)[0]
    for name in response.context["filter"].form.fields:
        assert f'name="{name}"' in form, name


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"age": "3-7"}, "age"),
        ({"sex": "X"}, "sex"),
        ({"screened": "maybe"}, "screened"),
        ({"screened": "yes", "screened_within": "0"}, "screened_within"),
        ({"screened": "yes", "screened_within": "3651"}, "screened_within"),
        ({"screened": "yes", "screened_within": "1.5"}, "screened_within"),
        ({"screened": "yes", "screened_within": "abc"}, "screened_within"),
    ],
)
def test_a_bad_value_is_a_form_error_not_a_crash(world, client, params, field):
    response = client.get("/children/", params)
    assert response.status_code == 200
    errors = response.context["filter"].errors
    assert field in errors
    html = response.content.decode()
    # The message is on the page, with the field's name.
    shown = html.split('data-testid="filter-errors"', 1)[1].split("</div>", 1)[0]
    assert escape(errors[field][0]) in shown
    # Nothing is listed rather than everything.
    assert response.context["children"] == []
    api = client.get("/api/v1/children/", params)
    assert api.status_code == 400
    assert field in api.json()["fields"]


def test_the_api_list_takes_the_same_filters(world, client):
    w = world

    def api(**params) -> set[int]:
        response = client.get("/api/v1/children/", params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert api(region=V1, sex="F") == ids(w.a, w.c)
    assert api(age="6-11") == ids(w.d, w.h)
    assert api(resident="true") == ids(w.a)
    assert api(screened="yes", screened_within="30") == ids(w.b)
    assert api(screened="no", region=V2) == ids(w.d, w.e, w.h)
    assert api(open_alert="true") == ids(w.c)
    assert api(visit_overdue="true") == ids(w.d)
    assert api(followup_due="on") == ids(w.e)


def count_queries(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), len(response.context["children"])


def test_the_query_count_does_not_grow_with_the_children_found(world, client):
    every_filter = (
        f"/children/?region={V2}&sex=M&age=6-11&status=active&risk=0&risk=1"
        f"&category={Category.RURAL_LEFT_BEHIND}&screened=no&screened_within=200"
        "&visit_overdue=on&resident=&open_alert=&followup_due="
    )
    alerts = "/children/?open_alert=on&followup_due=on&screened=yes&resident=on&age=15-17"
    before, found = count_queries(client, every_filter)
    alerts_before, _found = count_queries(client, alerts)
    assert found == 1
    for _i in range(6):
        more = ChildFactory(
            region=V2,
            sex=Child.Sex.MALE,
            birth_date=born(9),
            categories=[Category.RURAL_LEFT_BEHIND],
        )
        VisitFactory(child=more, visited_on=today() - timedelta(days=200))
    after, found = count_queries(client, every_filter)
    assert found == 7
    assert after == before
    assert count_queries(client, alerts)[0] == alerts_before


def menu(client) -> dict[str, str]:
    """The menu of the signed-in user: url -> label."""
    response = client.get(reverse("cases:child_list"))
    return {item["url"]: str(item["label"]) for item in response.context["nav_items"]}


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("director_a", "/referrals/"),  # sends referrals
        ("counselor", "/referrals/"),
        ("supervisor_town", "/referrals/"),  # sends and reviews
        ("county_health", "/referrals/"),  # reviews referrals sent without consent
        ("county_civil", "/referrals/"),
        ("clinician", "/referrals/inbox/"),  # receives them
    ],
)
def test_the_roles_that_handle_referrals_have_them_in_the_menu(login, username, url):
    client = login(username)
    entries = menu(client)
    assert entries.get(url) == gettext("Referrals"), entries
    # One "Referrals" entry each, and it opens.
    assert list(entries.values()).count(gettext("Referrals")) == 1
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("username", ["mentor", "volunteer"])
def test_roles_without_referrals_have_no_entry(login, username):
    entries = menu(login(username))
    assert "/referrals/" not in entries and "/referrals/inbox/" not in entries


def test_a_clinician_who_also_refers_has_the_list_and_the_inbox(client_of):
    both = UserFactory(role=Role.CLINICIAN)
    membership_grant(
        user=both, role=Role.CHILD_DIRECTOR, agency=agency(), jurisdiction=[VILLAGE_A2]
    )
    entries = menu(client_of(both))
    assert entries.get("/referrals/") == gettext("Referrals")
    assert entries.get("/referrals/inbox/") == gettext("Clinic inbox")
