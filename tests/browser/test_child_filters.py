"""The children list's filters on a phone: tappable chips in a plain GET form (they work with
JavaScript off), the active filters as chips above the list that remove themselves, and nothing
wider than a 375 px screen."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from cases.models import Child
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD
from tests.demo import VILLAGE_A

pytestmark = pytest.mark.browser


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def shown_children(page) -> set[str]:
    links = page.locator('[data-testid="child-table"] tbody a')
    return set(links.evaluate_all("els => els.map(e => e.getAttribute('href'))"))


@pytest.fixture
def no_script_phone(browser, live_server, demo_world):
    """A phone with JavaScript turned off (a GET form and links must be enough)."""
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        base_url=live_server.url,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def open_the_filters(page) -> None:
    """Signed in as director_a: the children list, its filter panel open."""
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/children/")
    page.get_by_test_id("filters").locator("summary").click()


def test_filter_chips_work_without_javascript(no_script_phone):
    page = no_script_phone
    open_the_filters(page)
    filters = page.get_by_test_id("filters")
    filters.locator('label[for="id_sex_1"]').click()  # 女
    filters.get_by_text("高", exact=True).click()  # risk: high
    filters.get_by_text("中", exact=True).click()  # risk: moderate
    page.get_by_test_id("apply-filters").click()
    page.wait_for_load_state()
    assert query(page)["sex"] == ["F"] and sorted(query(page)["risk"]) == ["2", "3"]
    expected = Child.objects.filter(
        residence_region_id=VILLAGE_A, sex="F", risk_level__in=[2, 3]
    ).values_list("pk", flat=True)
    assert shown_children(page) == {f"/children/{pk}/" for pk in expected}
    chips = page.get_by_test_id("active-filter")
    assert chips.count() == 3
    # Tapping the chip of a filter removes it and keeps the others.
    page.locator('[data-testid="active-filter"][data-filter="sex"]').click()
    page.wait_for_load_state()
    assert "sex" not in query(page) and sorted(query(page)["risk"]) == ["2", "3"]
    assert page.get_by_test_id("active-filter").count() == 2


def test_filter_chips_fit_a_phone_and_update_the_list_in_place(phone):
    page = phone
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/children/?age=12-14&screened=no")
    assert page.get_by_test_id("active-filter").count() == 2
    page.get_by_test_id("filters").locator("summary").click()
    # With JavaScript a tap on a chip refreshes the list and its chips at once.
    page.get_by_test_id("filters").locator('label[for="id_sex_1"]').click()
    page.wait_for_url("**sex=F**")
    page.locator('[data-testid="active-filter"][data-filter="sex"]').wait_for()
    assert page.get_by_test_id("active-filter").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "children-filters-375")


def test_a_school_among_many_is_found_by_name_and_filters_the_list(phone):
    """Past thirty schools the filter's select is searched, not listed (core.widgets.SearchSelect):
    typing part of the name offers the schools found, choosing one filters the list."""
    from institutions.models import Institution
    from tests.factories import child_in_scope_of
    from tests.factories.institutions import InstitutionFactory

    schools = [
        InstitutionFactory(name=f"检索{i:02d}小学（演示）", kind=Institution.Kind.SCHOOL)
        for i in range(31)
    ]
    pupil = child_in_scope_of("director_a")
    Child.objects.filter(pk=pupil.pk).update(school=schools[7])
    page = phone
    open_the_filters(page)
    select = page.locator("#id_school")
    assert select.locator("option").count() == 1  # only "any": the schools are searched
    page.locator("#id_school_search").fill("检索07")
    page.locator(f'#id_school option[value="{schools[7].pk}"]').wait_for(state="attached")
    assert "school_search" not in page.url  # searching the options did not reload the list
    page.locator("#id_school").select_option(str(schools[7].pk))
    page.wait_for_url(f"**school={schools[7].pk}**")
    page.locator('[data-testid="active-filter"][data-filter="school"]').wait_for()
    assert shown_children(page) == {f"/children/{pupil.pk}/"}
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "children-filter-school-search")
