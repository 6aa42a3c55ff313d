"""The county civil-affairs supervisor's dashboard on a phone (issue 12, acceptance): signing in
lands on the dashboard; a tap drills down to township 990101001; the figure "high risk without a
care plan" opens exactly the children behind it; they export to XLSX, the file holds exactly
those rows, and the export is in the access log."""

from __future__ import annotations

import io

import openpyxl
import pytest
from playwright.sync_api import expect

from cases.models import Child, RiskLevel
from cases.selectors.children import needs_care_plan_q
from core.models import AccessEvent
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD, user
from tests.demo import TOWNSHIP_A, VILLAGE_A
from tests.factories import ChildFactory

pytestmark = pytest.mark.browser


def test_county_civil_drills_down_to_the_children_without_a_care_plan(phone):
    page = phone
    # At least one such child in the township, whatever the demo world holds.
    ChildFactory(region=VILLAGE_A, risk_level=RiskLevel.HIGH)
    expected = set(
        Child.objects.filter(
            needs_care_plan_q(),
            residence_region__pk__startswith=TOWNSHIP_A,
            status=Child.Status.ACTIVE,
        ).values_list("record_number", flat=True)
    )
    sign_in(page, "county_civil", DEMO_PASSWORD)
    expect(page).to_have_url(f"{page.url.split('/dashboards')[0]}/dashboards/")
    expect(page.get_by_test_id("dashboard-region")).to_contain_text("990101")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "dashboard-county-375")

    page.get_by_test_id("indicator-registered").get_by_test_id(f"drill-{TOWNSHIP_A}").click()
    expect(page.get_by_test_id("dashboard-region")).to_contain_text(TOWNSHIP_A)
    screenshot(page, "dashboard-township-375")

    needs_plan = page.get_by_test_id("indicator-needs_plan")
    total = needs_plan.get_by_test_id("total-needs_plan")
    expect(total).to_contain_text(str(len(expected)))
    total.locator("a.figure-link").click()
    rows = page.locator('[data-testid="child-table"] tbody tr')
    expect(rows).to_have_count(len(expected))
    texts = rows.all_inner_texts()
    assert all(any(number in text for text in texts) for number in expected)
    screenshot(page, "dashboard-children-375")

    with page.expect_download() as download:
        page.get_by_test_id("export-children").get_by_role("button", name="XLSX").click()
    with open(download.value.path(), "rb") as handle:
        sheet = openpyxl.load_workbook(io.BytesIO(handle.read())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    number = rows[0].index("档案编号")
    assert {row[number] for row in rows[1:]} == expected
    assert len(rows) - 1 == len(expected)
    logged = AccessEvent.objects.filter(
        user=user("county_civil"), action=AccessEvent.Action.EXPORT, detail__export="children"
    )
    assert set(logged.values_list("child__record_number", flat=True)) == expected
