"""A child director logs a visit due on their work list (the home page) on a phone in a couple
of taps; a flagged visit reaches the township supervisor's work list."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases.models import Child
from followups.models import Visit
from followups.services.schedule import tasks_plan
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


class Counter:
    """Counts the interactions (clicks, taps, typed fields) a person makes."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def click(self, locator):
        self.count += 1
        locator.click()


def test_a_routine_home_visit_takes_at_most_8_interactions_from_home(phone):
    page = phone
    tasks_plan(today=timezone.localdate())  # as the scheduler does (and seed_demo): idempotent
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    screenshot(page, "home-work-list")
    taps = Counter(page)
    first_row = page.get_by_test_id("my-tasks").locator('li[data-kind="home_visit"]').first
    child_name = first_row.get_by_test_id("task-child").inner_text()
    taps.click(first_row.get_by_role("link", name="记录走访"))
    page.wait_for_url("**/visits/new/*/?kind=home_visit")
    screenshot(page, "visit-form")
    taps.click(page.get_by_test_id("save-visit-top"))
    page.wait_for_url("**/children/*/#timeline")
    assert taps.count <= 8
    visit = Visit.objects.select_related("child").get()
    assert visit.child.name == child_name
    assert visit.kind == "home_visit" and visit.visitor.username == "director_a"
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "家访" in timeline
    screenshot(page, "visit-on-timeline")


def test_a_flagged_visit_reaches_the_supervisors_work_list(phone, browser, live_server):
    page = phone
    child = Child.objects.filter(residence_region_id="990101001001").order_by("id")[0]
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/visits/new/{child.pk}/")
    page.get_by_text("谈心谈话", exact=True).click()
    page.get_by_text("有自伤言语", exact=True).click()
    page.get_by_text("低落", exact=True).click()
    page.get_by_test_id("save-visit").click()
    page.wait_for_url("**/visits/*/")
    assert page.get_by_test_id("flagged").is_visible()
    assert Visit.objects.get(child=child).flagged

    supervisor = browser.new_context(
        viewport={"width": 375, "height": 812}, base_url=live_server.url, locale="zh-CN"
    )
    other = supervisor.new_page()
    sign_in(other, "supervisor_town", DEMO_PASSWORD)
    other.wait_for_url("**/")
    flagged = other.get_by_test_id("flagged-visits")
    assert child.name in flagged.inner_text()
    screenshot(other, "supervisor-work-list")
    supervisor.close()
