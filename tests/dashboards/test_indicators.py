"""The dashboards' indicators on a small hand-built county with known answers (issue 12): the
figures, the drill-down rows adding up to the region's figure, each number linking to exactly
the children behind it, each agency's view first, 404 outside the jurisdiction, and a query
count that does not grow with the children."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Child, RiskLevel
from dashboards.indicators import indicators
from dashboards.selectors import context_for, dashboard_tables
from institutions.models import Agency, Region
from institutions.roles import Role
from institutions.services import region_load
from tests.demo import DEMO_PASSWORD, WELFARE
from tests.factories import (
    AssessmentFactory,
    CarePlanFactory,
    ChildFactory,
    UserFactory,
    VisitFactory,
    agency,
    institution,
)

pytestmark = pytest.mark.django_db

COUNTY = "990103"
T1, T2 = "990103001", "990103002"
V1, V2 = "990103001001", "990103002001"


def load_county(code: str = COUNTY) -> None:
    region_load(
        rows=[
            (code, "测试县（演示）"),
            (code + "001", "一镇（演示）"),
            (code + "002", "二乡（演示）"),
            (code + "001001", "一村（演示）"),
            (code + "002001", "二村（演示）"),
        ]
    )


def supervisor(kind: str, code: str = COUNTY):
    return UserFactory(
        role=Role.AGENCY_SUPERVISOR, agency=agency(kind), jurisdiction=[code], is_demo=True
    )


def signed_in(user) -> Client:
    client = Client()
    assert (
        client.post(
            "/accounts/login/", {"username": user.username, "password": DEMO_PASSWORD}
        ).status_code
        == 302
    )
    return client


@pytest.fixture
def county():
    """Six active children and a closed one: V1 has a high-risk child without a plan, a
    screened one and a crisis child with a plan; V2 an unscreened child at moderate risk and one
    at none; a resident of the county welfare home is registered at the county itself."""
    load_county()
    today = timezone.localdate()
    kids = {
        "high_no_plan": ChildFactory(region=V1, risk_level=RiskLevel.HIGH),
        "screened": ChildFactory(region=V1),
        "crisis_plan": ChildFactory(region=V1, risk_level=RiskLevel.CRISIS),
        "none": ChildFactory(region=V2),
        "moderate": ChildFactory(region=V2),
        "closed": ChildFactory(region=V2, status=Child.Status.CLOSED, status_reason="测试"),
        "resident": ChildFactory(region=COUNTY, residential_institution=institution(WELFARE)),
    }
    AssessmentFactory(child=kids["screened"])
    AssessmentFactory(child=kids["moderate"], administered_on=today - timedelta(days=400))
    Child.objects.filter(pk=kids["moderate"].pk).update(risk_level=RiskLevel.MODERATE)
    CarePlanFactory(child=kids["crisis_plan"])
    director = UserFactory(role=Role.CHILD_DIRECTOR, jurisdiction=[V1], is_demo=True)
    VisitFactory(child=kids["high_no_plan"], by=director)
    return kids


def figures(table):
    """{region code: [values]} of a table, and the total's values."""
    rows = {row.code: [cell.value for cell in row.cells] for row in table.rows}
    return rows, [cell.value for cell in table.total.cells]


def tables_for(code: str = COUNTY):
    region = Region.objects.get(pk=code)
    subregions = list(Region.objects.filter(parent=region).order_by("code"))
    tables = dashboard_tables(context_for(region, 12), subregions=subregions, drill_url=str)
    return {table.indicator.key: table for group in tables.values() for table in group}


def test_the_indicators_of_a_county_have_the_known_answers(county):
    tables = tables_for()
    rows, total = figures(tables["registered"])
    assert rows == {T1: [3], T2: [2], COUNTY: [1]}  # the closed file is not counted
    assert total == [6]

    rows, total = figures(tables["needs_plan"])
    assert rows[T1] == [1] and rows[T2] == [0] and total == [1]

    rows, total = figures(tables["risk"])
    #          none, low, moderate, high, crisis
    assert rows[T1] == [1, 0, 0, 1, 1]
    assert rows[T2] == [1, 0, 1, 0, 0]
    assert total == [3, 0, 1, 1, 1]

    screened = tables["screened"]
    rows, total = figures(screened)
    assert rows[T1] == [1, 2, 3] and rows[T2] == [0, 2, 2] and total == [1, 5, 6]
    assert screened.rows[0].cells[0].share == pytest.approx(33.3)

    rows, total = figures(tables["residents_screened"])
    assert total == [0, 1, 1]

    rows, total = figures(tables["home_visits"])
    assert rows[T1] == [1, 1, pytest.approx(0.1)]
    assert total[:2] == [1, 1]


def test_the_drill_down_rows_add_up_to_the_region(county):
    for key, table in tables_for().items():
        if not table.indicator.additive:
            continue
        for i, column in enumerate(table.columns):
            rows_sum = sum(row.cells[i].value or 0 for row in table.rows)
            assert rows_sum == (table.total.cells[i].value or 0), (key, column.key)


def test_a_figure_links_to_exactly_the_children_behind_it(county):
    client = signed_in(supervisor(Agency.Kind.CIVIL_AFFAIRS))
    page = client.get(f"/dashboards/?region={COUNTY}").content.decode()
    link = re.search(
        r'data-testid="indicator-needs_plan".*?data-region="990103001".*?'
        r'<a href="([^"]+)" class="figure-link"',
        page,
        re.S,
    ).group(1)
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert county["high_no_plan"].record_number in listed
    for other in ("screened", "crisis_plan", "none", "moderate", "resident"):
        assert county[other].record_number not in listed


def test_each_agency_sees_its_own_indicators_first(county):
    def order(kind):
        page = signed_in(supervisor(kind)).get("/dashboards/").content.decode()
        return re.findall(r'data-testid="group-(\w+)"', page)

    assert order(Agency.Kind.CIVIL_AFFAIRS)[0] == "children"
    assert order(Agency.Kind.EDUCATION)[:2] == ["screening", "risk"]
    assert order(Agency.Kind.HEALTH)[0] == "referrals"
    # Everything else is one tap away on the same page.
    assert set(order(Agency.Kind.EDUCATION)) == set(order(Agency.Kind.HEALTH))


def test_a_supervisor_lands_on_the_dashboard_of_their_county(county):
    client = signed_in(supervisor(Agency.Kind.CIVIL_AFFAIRS))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/dashboards/"
    page = client.get("/dashboards/").content.decode()
    assert "测试县（演示）" in page and 'data-testid="as-of"' in page


def test_another_countys_region_is_404(county):
    client = signed_in(supervisor(Agency.Kind.CIVIL_AFFAIRS))
    assert client.get(f"/dashboards/?region={T1}").status_code == 200
    assert client.get("/dashboards/?region=990101").status_code == 404
    assert client.get("/dashboards/?region=990101001").status_code == 404
    assert client.get("/dashboards/?region=not-a-code").status_code == 404
    demo = Client()
    demo.post("/accounts/login/", {"username": "county_civil", "password": DEMO_PASSWORD})
    assert demo.get(f"/dashboards/?region={COUNTY}").status_code == 404
    # Roles without a dashboard get 404 too.
    director = Client()
    director.post("/accounts/login/", {"username": "director_a", "password": DEMO_PASSWORD})
    assert director.get("/dashboards/").status_code == 404


def _children(code: str, how_many: int) -> None:
    village = Region.objects.get(pk=code + "001001")
    Child.objects.bulk_create(
        Child(
            record_number=f"Q{code}-{i}",
            name=f"测试批量{i}",
            name_pinyin=f"ceshipiliang{i}",
            sex="F" if i % 2 else "M",
            birth_date=timezone.localdate() - timedelta(days=3000 + i),
            residence_region=village,
            household_region=village,
            risk_level=i % 5,
        )
        for i in range(how_many)
    )


def test_the_dashboard_costs_the_same_queries_for_10_and_1000_children():
    load_county("990104")
    load_county("990105")
    _children("990104", 10)
    _children("990105", 1000)
    client = signed_in(
        UserFactory(
            role=Role.AGENCY_SUPERVISOR,
            agency=agency(Agency.Kind.CIVIL_AFFAIRS),
            jurisdiction=["990104", "990105"],
            is_demo=True,
        )
    )
    counts = []
    for code in ("990104", "990105"):
        client.get(f"/dashboards/?region={code}")  # warm the session and permissions
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/dashboards/?region={code}")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert len(indicators()) >= 15


def test_the_indicator_tables_export_to_xlsx_and_csv_and_are_logged(county):
    import io

    import openpyxl

    from core.models import AccessEvent

    user = supervisor(Agency.Kind.CIVIL_AFFAIRS)
    client = signed_in(user)
    response = client.get(f"/dashboards/export/?region={COUNTY}&fmt=xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    assert ("指标", "行政区划代码", "行政区划", "数据项", "数值") in rows
    registered = [r for r in rows if r[0] == "已登记儿童" and r[3] == "儿童"]
    assert {(r[1], r[4]) for r in registered} == {(T1, 3), (T2, 2), (COUNTY, 1), (COUNTY, 6)}
    csv = client.get(f"/dashboards/export/?region={COUNTY}&fmt=csv")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    assert (
        AccessEvent.objects.filter(
            user=user, action=AccessEvent.Action.EXPORT, detail__dashboard=COUNTY
        ).count()
        == 2
    )
    assert client.get("/dashboards/export/?region=990101&fmt=xlsx").status_code == 404


def test_referrals_alerts_tasks_activities_and_training_have_the_known_answers(county):
    from decimal import Decimal

    from cases.services.care import care_team_add
    from followups.activities import Attendee, activity_record
    from followups.models import Activity
    from followups.services.schedule import tasks_plan
    from institutions.training import training_record
    from referrals.models import Referral
    from referrals.services.lifecycle import referral_decline
    from tests.conftest import user as demo_user
    from tests.referrals import advance, sent

    kids = county
    today = timezone.localdate()
    # Two referrals from V1: one accepted and seen, one declined; none from V2.
    advance(sent(kids["high_no_plan"]), Referral.Status.SEEN)
    declined = sent(kids["screened"])
    referral_decline(referral=declined, by=demo_user("clinician"), reason="测试：暂不接收")
    # An open alert in V2 (a flagged talk).
    VisitFactory(
        child=kids["none"],
        kind="talk",
        concerns=["self_harm_talk"],
        by=UserFactory(role=Role.CHILD_DIRECTOR, jurisdiction=[V2], is_demo=True),
    )
    # An activity in T1 with two children, three guardians; a family-guidance one in T2.
    organiser = supervisor(Agency.Kind.WOMENS_FEDERATION)
    activity_record(
        by=organiser,
        kind=Activity.Kind.CLASS_MEETING,
        topic="测试主题班会",
        held_on=today,
        region=Region.objects.get(pk=V1),
        attendees=[
            Attendee(kids["screened"].record_number, False),
            Attendee(kids["crisis_plan"].record_number, False),
        ],
        guardians_attending=3,
    )
    activity_record(
        by=organiser,
        kind=Activity.Kind.PARENT_SCHOOL,
        topic="测试家长学校",
        held_on=today,
        region=Region.objects.get(pk=V2),
        attendees=[],
        guardians_attending=5,
    )
    # A 2.5-hour training in T1 attended by two people.
    people = [UserFactory(role=Role.CHILD_DIRECTOR, jurisdiction=[V1], is_demo=True) for _ in "ab"]
    training_record(
        by=organiser,
        topic="测试培训",
        held_on=today,
        hours=Decimal("2.5"),
        organiser="测试县妇联",
        region=Region.objects.get(pk=T1),
        attendees=[p.username for p in people],
    )
    volunteer = UserFactory(role=Role.VOLUNTEER, is_demo=True)
    care_team_add(child=kids["moderate"], team_role="volunteer", user=volunteer, by=organiser)
    tasks_plan(today=today)
    tables = tables_for()

    rows, total = figures(tables["volunteers"])
    assert rows[T2] == [1, 1] and rows[T1] == [None, None] and total == [1, 1]

    rows, total = figures(tables["referrals"])
    steps = [c.key for c in tables["referrals"].columns]
    assert rows[T1][steps.index("seen")] == 1
    assert rows[T1][steps.index("declined")] == 1
    assert sum(rows[T2]) == 0
    assert total[steps.index("seen")] == 1

    # The seen referral was accepted and seen at once: medians of about no days; the declined
    # one was never accepted, so it counts in neither median.
    rows, total = figures(tables["referral_times"])
    assert rows[T1][0] == pytest.approx(0, abs=0.1) and rows[T1][1] == pytest.approx(0, abs=0.1)
    assert rows[T2] == [None, None]

    rows, total = figures(tables["open_alerts"])
    assert rows[T2][:2] == [1, 1]  # one alert, one child
    assert total[:2] == [1, 1] and total[3] == 0  # raised today

    rows, total = figures(tables["activities"])
    assert rows[T1] == [1, 0, 2, 3]
    assert rows[T2] == [1, 1, 0, 5]
    assert total == [2, 1, 2, 8]

    rows, total = figures(tables["training"])
    assert rows[T1] == [1, 2, 5.0]
    assert total == [1, 2, 5.0]

    rows, total = figures(tables["tasks"])
    assert total[0] == sum(r[0] for r in rows.values()) > 0


def test_overdue_visits_follow_up_times_and_children_no_questionnaire_fits(county):
    from cases.services.risk import child_refresh_risk
    from dashboards.indicators import Context
    from followups.models import Visit
    from followups.services.plans import Schedule
    from followups.services.schedule import tasks_plan
    from tests.factories.followups import FollowupPlanFactory

    kids = county
    today = timezone.localdate()
    mentor = UserFactory(role=Role.MENTOR_TEACHER, is_demo=True)
    # A follow-up plan in V1 started 20 days ago, weekly: its first visit was due 13 days ago
    # and is logged today, late.
    FollowupPlanFactory(
        child=kids["crisis_plan"],
        partners=[mentor],
        schedule=Schedule.every(7),
        start_on=today - timedelta(days=20),
    )
    VisitFactory(child=kids["crisis_plan"], kind=Visit.Kind.FOLLOWUP_VISIT, by=mentor)
    # A two-year-old in V2: no questionnaire is made for that age.
    ChildFactory(region=V2, birth_date=today - timedelta(days=2 * 365 + 30))
    # The flagged talk raises the risk of a V2 child today.
    VisitFactory(
        child=kids["none"],
        kind=Visit.Kind.TALK,
        concerns=[Visit.Concern.SELF_HARM_TALK],
        by=UserFactory(role=Role.CHILD_DIRECTOR, jurisdiction=[V2], is_demo=True),
    )
    child_refresh_risk(child=kids["none"])
    tasks_plan(today=today)
    tables = tables_for()

    rows, total = figures(tables["followup"])
    assert rows[T1] == [0, 1, 0] and total == [0, 1, 0]

    rows, total = figures(tables["no_instrument"])
    assert rows[T2] == [1] and total == [1]

    rows, total = figures(tables["risk_change"])
    assert rows[T2] == [1, 0] and total == [1, 0]

    # A hundred days on, every active child is overdue for a home visit: the one visited today
    # is at high risk (visited every 14 days), the others were never visited at home.
    region = Region.objects.get(pk=COUNTY)
    later = Context(region=COUNTY, months=12, today=today + timedelta(days=100))
    tasks_plan(today=later.today)
    subregions = list(Region.objects.filter(parent=region).order_by("code"))
    overdue = next(
        t
        for group in dashboard_tables(later, subregions=subregions, drill_url=str).values()
        for t in group
        if t.indicator.key == "visit_overdue"
    )
    rows, total = figures(overdue)
    active = Child.objects.filter(
        residence_region__pk__startswith=COUNTY, status=Child.Status.ACTIVE
    ).count()
    assert total == [active] == [7]
    assert rows[T1] == [3] and rows[T2] == [3] and rows[COUNTY] == [1]
