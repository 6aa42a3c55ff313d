"""A child director on a phone signs in and sees the children of their village only."""

from __future__ import annotations

import pytest
from django.db.models import Q

from cases.models import Child
from tests.browser.conftest import open_menu, screenshot, sign_in
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_director_a_sees_only_their_village_on_a_phone(phone):
    page = phone
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    screenshot(page, "home-director_a")
    # The menu is collapsed on a phone: open it, then go to the children list.
    open_menu(page)
    page.get_by_role("link", name="儿童").first.click()
    page.wait_for_url("**/children/")
    screenshot(page, "children-director_a")

    seen: set[str] = set()
    while True:
        links = page.locator('[data-testid="child-table"] tbody a')
        seen.update(links.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
        next_link = page.get_by_role("link", name="下一页")
        if next_link.count() == 0:
            break
        next_link.click()
        page.wait_for_load_state()

    expected = Child.objects.filter(
        Q(residence_region_id="990101001001") | Q(household_region_id="990101001001")
    )
    assert seen == {f"/children/{pk}/" for pk in expected.values_list("pk", flat=True)}
    # Nothing is wider than the phone screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_language_switch_shows_english(phone):
    page = phone
    sign_in(page, "county_civil", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.locator("#language").select_option("en")
    page.get_by_role("button", name="切换").click()
    page.wait_for_load_state()
    # The county supervisor lands on the dashboard, now in English.
    assert page.get_by_test_id("as-of").inner_text().startswith("Figures as of")
    assert page.get_by_role("heading", name="Children registered").first.is_visible()
    screenshot(page, "home-english")


def test_out_of_scope_file_is_not_found(phone):
    page = phone
    outside = Child.objects.filter(residence_region_id="990101003003").order_by("id")[0]
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    response = page.goto(f"/children/{outside.pk}/")
    assert response.status == 404
    assert outside.name not in page.content()


def test_wrong_password_is_explained_on_the_form(phone):
    page = phone
    sign_in(page, "director_a", "wrong-password-0")
    assert page.locator(".alert-danger:not([hidden])").is_visible()
    screenshot(page, "login-error")
