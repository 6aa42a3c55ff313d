"""The trend chart of a child's questionnaire totals labels days, not clock hours, even when
the results share a day (ECharts' time axis alone would then tick by the hour)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import ARTIFACTS, sign_in
from tests.conftest import DEMO_PASSWORD, user
from tests.demo import VILLAGE_A
from tests.factories import AssessmentFactory, ChildFactory

pytestmark = pytest.mark.browser

CLOCK = re.compile(r"\d{1,2}:\d{2}")


def _axis_labels(page) -> list[str]:
    chart = page.locator('[data-chart="trend"]').first
    chart.scroll_into_view_if_needed()
    chart.locator("svg text").first.wait_for()
    texts = chart.locator("svg text").evaluate_all("els => els.map(e => e.textContent)")
    return [t.strip() for t in texts if t and t.strip()]


def test_results_of_one_day_are_charted_against_days_not_hours(phone):
    today = timezone.localdate()
    child = ChildFactory(region=VILLAGE_A, name="韩十五", by=user("director_a"))
    AssessmentFactory(child=child, value=1)
    AssessmentFactory(child=child, value=2)  # the same day: a re-test after a mistake

    page = phone
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/children/{child.pk}/#assessments")
    labels = _axis_labels(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("figure").first.screenshot(path=str(ARTIFACTS / "trend-chart-one-day.png"))

    assert not [text for text in labels if CLOCK.search(text)], labels
    dates = [text for text in labels if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)]
    assert f"{today:%Y-%m-%d}" in dates
    assert len(dates) == len(set(dates))  # each day once

    # The tooltip of a point names its day, without a time of day either.
    page.evaluate(
        """() => {
          const el = document.querySelector('[data-chart="trend"]');
          echarts.getInstanceByDom(el).dispatchAction({type: 'showTip', seriesIndex: 0,
                                                       dataIndex: 0});
        }"""
    )
    tip = page.locator('[data-chart="trend"] div').filter(has_text="PHQ-9").last
    tip.wait_for()
    assert f"{today:%Y-%m-%d}" in tip.inner_text()
    assert not CLOCK.search(tip.inner_text())


def test_results_weeks_apart_are_labelled_by_day(phone):
    today = timezone.localdate()
    child = ChildFactory(region=VILLAGE_A, name="杨十六", by=user("director_a"))
    AssessmentFactory(child=child, value=1, administered_on=today - timedelta(days=21))
    AssessmentFactory(child=child, value=2)

    page = phone
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/children/{child.pk}/#assessments")
    labels = _axis_labels(page)
    assert not [text for text in labels if CLOCK.search(text)], labels
    assert [text for text in labels if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)]
