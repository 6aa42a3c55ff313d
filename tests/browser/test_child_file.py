"""A child director on a phone registers a child, meets a duplicate, and adds a guardian."""

from __future__ import annotations

import pytest

from cases.models import Child, Guardian
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def fill_child(page, name: str, birth: str) -> None:
    page.get_by_label("姓名").fill(name)
    page.get_by_label("女").check()
    page.get_by_label("出生日期").fill(birth)
    page.get_by_label("现居住地").select_option("990101001001")


def test_director_registers_a_child_meets_a_duplicate_and_adds_a_guardian(phone):
    page = phone
    existing = Child.objects.filter(residence_region_id="990101002003").order_by("id")[0]
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")

    # 1. Register a new child.
    page.goto("/children/new/")
    fill_child(page, "演示新童", "2016-03-08")
    page.get_by_role("button", name="登记").click()
    page.wait_for_url("**/children/*/")
    assert page.get_by_test_id("child-name").inner_text().startswith("演示新童")
    created = Child.objects.get(name="演示新童")

    # 2. Try to register a child who already has a file in another village: warned, masked.
    page.goto("/children/new/")
    fill_child(page, existing.name, existing.birth_date.isoformat())
    page.get_by_label("出生日期").blur()
    warning = page.get_by_test_id("duplicates")
    warning.wait_for()
    assert existing.name not in warning.inner_text()
    assert existing.name[0] + "*" in warning.inner_text()
    screenshot(page, "duplicate-warning")
    page.get_by_role("button", name="登记").click()
    page.get_by_test_id("confirm-new").wait_for()
    assert Child.objects.filter(name=existing.name).count() == 1

    # 3. Open the new child's file and add a guardian.
    page.goto(f"/children/{created.pk}/")
    page.get_by_role("link", name="添加监护人").click()
    page.get_by_label("姓名").fill("演示奶奶")
    page.get_by_label("关系").select_option("grandparent")
    page.get_by_label("电话").fill("13800000000")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"**/children/{created.pk}/#family")
    assert "演示奶奶" in page.get_by_test_id("guardians").inner_text()
    assert Guardian.objects.filter(child=created, name="演示奶奶", is_primary_contact=True).exists()
    screenshot(page, "child-file")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
