"""Forms without typing codes (issue 16): on a phone, director_a registers a child and sets up
the child's care (guardian, consent, care team, care plan) in at most 30 interactions, without
typing a region code or a user name; the file's section tabs all stay reachable at 375 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.models import CarePlan, CareTeamMember, Child, Consent, Guardian
from institutions.models import Region
from tests.browser.conftest import ARTIFACTS, screenshot, sign_in
from tests.conftest import DEMO_PASSWORD
from tests.demo import FAR_VILLAGE, VILLAGE_A

pytestmark = pytest.mark.browser

MAX_INTERACTIONS = 30


class Interactions:
    """Does what a user does, one interaction each (a click, a fill, a choice, a tick), and
    keeps count of them and of everything typed."""

    def __init__(self) -> None:
        self.count = 0
        self.typed: list[str] = []

    def click(self, locator) -> None:
        self.count += 1
        locator.click()

    def fill(self, locator, value: str) -> None:
        self.count += 1
        self.typed.append(value)
        locator.fill(value)

    def select(self, locator, **option: str) -> None:
        self.count += 1
        locator.select_option(**option)

    def check(self, locator) -> None:
        self.count += 1
        locator.check()


def test_a_director_registers_a_child_and_sets_up_care_without_typing_a_code(phone):
    page, user = phone, Interactions()
    page.goto("/accounts/login/")
    user.fill(page.get_by_label("用户名"), "director_a")
    user.fill(page.get_by_label("密码"), DEMO_PASSWORD)
    user.click(page.get_by_role("button", name="登录"))
    page.wait_for_url("**/")

    # Register the child: the residence is picked by name (her own village is already chosen).
    user.click(page.get_by_role("link", name="登记儿童").first)
    page.wait_for_url("**/children/new/")
    user.fill(page.get_by_label("姓名"), "测试小禾")
    user.check(page.get_by_label("女"))
    user.fill(page.get_by_label("出生日期"), "2017-04-09")
    residence = page.get_by_label("现居住地")
    assert residence.input_value() == VILLAGE_A
    user.select(residence, label="东岭村")
    screenshot(page, "register-region-picker")
    user.click(page.get_by_role("button", name="登记", exact=True))
    page.wait_for_url("**/children/*/")
    child = Child.objects.get(name="测试小禾")
    assert (child.residence_region_id, child.household_region_id) == (VILLAGE_A, VILLAGE_A)

    # A guardian.
    user.click(page.get_by_role("link", name="添加监护人"))
    user.fill(page.get_by_label("姓名"), "测试外婆")
    user.select(page.get_by_label("关系"), value="grandparent")
    user.fill(page.get_by_label("电话"), "13800000001")
    user.click(page.get_by_role("button", name="保存"))
    page.wait_for_url(f"**/children/{child.pk}/#family")

    # Consent, given by the guardian (the 9-year-old is not offered to consent herself).
    user.click(page.get_by_role("link", name="记录知情同意"))
    given_by = page.get_by_label("同意人")
    assert "child" not in given_by.locator("option").evaluate_all("os => os.map(o => o.value)")
    user.select(given_by, index=0)  # the one guardian
    user.click(page.get_by_role("button", name="保存"))
    page.wait_for_url(f"**/children/{child.pk}/#family")

    # A colleague on the care team, found by name.
    user.click(page.locator("#team").get_by_role("link", name="添加"))
    user.select(page.get_by_label("团队角色"), value="mentor")
    user.select(page.get_by_label("工作人员"), label="演示·成长导师")
    screenshot(page, "care-team-colleague-picker")
    user.click(page.get_by_role("button", name="保存"))
    page.wait_for_url(f"**/children/{child.pk}/#team")

    # A care plan: start today and a review in 90 days are already filled in.
    user.click(page.locator("#plan").get_by_role("link", name="新建关爱方案"))
    user.select(page.get_by_label("分类"), value="general")
    user.fill(page.get_by_label("目标"), "测试目标：每周谈心一次")
    user.check(page.get_by_label("心理辅导"))
    user.click(page.get_by_role("button", name="保存"))
    page.wait_for_url(f"**/children/{child.pk}/#plan")
    screenshot(page, "child-file-after-setup")

    assert Guardian.objects.filter(child=child, name="测试外婆", is_active=True).exists()
    assert Consent.objects.filter(child=child, guardian__name="测试外婆").exists()
    assert CareTeamMember.objects.filter(
        child=child, user__username="mentor", team_role="mentor", is_active=True
    ).exists()
    assert CarePlan.objects.filter(child=child, status=CarePlan.Status.ACTIVE).exists()
    assert not Region.objects.filter(code__in=user.typed).exists(), user.typed
    assert "mentor" not in user.typed
    assert user.count <= MAX_INTERACTIONS, user.count


def test_every_section_tab_of_the_file_is_visible_on_a_phone(phone):
    page = phone
    child = Child.objects.filter(residence_region_id=VILLAGE_A).order_by("id")[0]
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/children/{child.pk}/")
    tabs = page.get_by_test_id("section-tabs").get_by_role("link")
    assert tabs.count() >= 6
    for index in range(tabs.count()):
        box = tabs.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, tabs.nth(index).inner_text()
    assert "时间线" in page.get_by_test_id("section-tabs").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "child-file-tabs-375")
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_test_id("section-tabs").screenshot(path=str(ARTIFACTS / "section-tabs-375.png"))


def test_a_household_registered_elsewhere_is_found_by_name_on_a_phone(phone):
    page = phone
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/children/new/")
    household = page.get_by_label("户籍地")
    assert household.input_value() == ""  # the same as the residence, unless told otherwise
    page.get_by_test_id("household-search").fill("新庄")
    expect(page.locator("#id_household_region")).to_have_value(FAR_VILLAGE)
    assert "新庄村" in page.get_by_label("户籍地").locator("option:checked").inner_text()
    page.get_by_label("姓名").fill("测试小苗")
    page.get_by_label("男").check()
    page.get_by_label("出生日期").fill("2015-06-01")
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url("**/children/*/")
    child = Child.objects.get(name="测试小苗")
    assert (child.residence_region_id, child.household_region_id) == (VILLAGE_A, FAR_VILLAGE)
