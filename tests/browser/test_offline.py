"""Offline visit logging (issue 16): a child director on a village road logs a visit with no
network; it waits on the phone, survives closing the page, and reaches the server exactly once
when the network returns. What the phone keeps is the work list's children only, and nothing
at all after signing out."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases.models import Child
from cases.services.child import child_close
from followups.models import Visit
from followups.services.schedule import tasks_plan
from tests.browser.conftest import open_menu, screenshot, sign_in
from tests.demo import DEMO_PASSWORD, user

pytestmark = pytest.mark.browser

KEPT_FORMS = """async () => {
  const cache = await caches.open("xq-pages");
  return (await cache.keys()).map((request) => new URL(request.url).pathname);
}"""
QUEUE = """async () => new Promise((resolve) => {
  const open = indexedDB.open("xinqiao-offline", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("visits", { keyPath: "key" });
  open.onsuccess = () => {
    const tx = open.result.transaction("visits", "readonly");
    const all = tx.objectStore("visits").getAll();
    all.onsuccess = () => { resolve(all.result); open.result.close(); };
  };
})"""


@pytest.fixture
def field_phone(browser, live_server, demo_world):
    """director_a's phone, signed in on the home page, with the work list kept offline."""
    tasks_plan(today=timezone.localdate())
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        base_url=live_server.url,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        service_workers="allow",
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    # The service worker installed and in charge of the page (its `clients.claim()`).
    assert page.evaluate(
        "navigator.serviceWorker.ready.then(() => new Promise((resolve) => {"
        " const check = () => navigator.serviceWorker.controller ? resolve(true)"
        " : setTimeout(check, 100); check(); }))"
    )
    page.locator("body[data-offline-ready]").wait_for(state="attached")
    links = page.get_by_test_id("my-tasks").locator("a[href*='/visits/new/']")
    wanted = {
        href.split("?")[0]
        for href in links.evaluate_all("(a) => a.map((x) => x.getAttribute('href'))")
    }
    assert wanted and set(page.evaluate(KEPT_FORMS)) == wanted | {"/"}
    yield page
    context.close()


def _first_visit_task(page):
    row = page.get_by_test_id("my-tasks").locator('li[data-kind="home_visit"]').first
    name = row.get_by_test_id("task-child").inner_text()
    href = row.get_by_role("link", name="记录走访").get_attribute("href")
    child = Child.objects.get(pk=int(href.split("/")[3]))
    assert child.name == name
    return row, child


def _visit_kept_offline(page):
    """The network gone, the first visit of the work list saved on the phone: its child."""
    row, child = _first_visit_task(page)
    page.context.set_offline(True)
    row.get_by_role("link", name="记录走访").click()
    page.get_by_test_id("save-visit-top").click()
    page.get_by_test_id("visit-kept").wait_for()
    return child


def test_a_visit_logged_offline_waits_on_the_phone_and_is_sent_once(field_phone):
    page = field_phone
    context = page.context
    row, child = _first_visit_task(page)
    before = Visit.objects.filter(child=child).count()

    context.set_offline(True)
    row.get_by_role("link", name="记录走访").click()
    page.wait_for_url("**/visits/new/*/?kind=home_visit")
    page.get_by_test_id("save-visit-top").click()
    kept = page.get_by_test_id("visit-kept")
    kept.wait_for()
    assert "等待发送" in kept.inner_text()
    screenshot(page, "offline-visit-kept")
    page.close()

    # The page closed and opened again, still without a network: the visit is listed, waiting.
    page = context.new_page()
    answer = page.goto("/")
    assert answer is not None and answer.from_service_worker
    queue = page.get_by_test_id("offline-queue")
    queue.wait_for()
    assert child.name in queue.inner_text() and "等待发送" in queue.inner_text()
    screenshot(page, "offline-queue")
    assert Visit.objects.filter(child=child).count() == before

    context.set_offline(False)  # the network returns: the queue sends itself
    queue.wait_for(state="hidden")
    visits = Visit.objects.filter(child=child)
    assert visits.count() == before + 1
    visit = visits.latest("pk")
    assert visit.visitor.username == "director_a" and visit.kind == "home_visit"
    assert page.evaluate(QUEUE) == []
    page.evaluate("window.xinqiaoOfflineSync()")  # syncing again sends nothing more
    assert Visit.objects.filter(child=child).count() == before + 1


def test_a_visit_for_a_file_closed_meanwhile_is_kept_and_the_director_told(field_phone):
    page = field_phone
    context = page.context
    child = _visit_kept_offline(page)
    child_close(
        child=child, reason="测试：迁出", expected_version=child.version, by=user("director_a")
    )
    page.goto("/")
    context.set_offline(False)
    item = page.locator('[data-testid="offline-visit"][data-state="attention"]')
    item.wait_for()
    assert "关闭" in item.inner_text()  # the file was closed: said, and the visit kept
    assert not Visit.objects.filter(child=child).exists()
    assert len(page.evaluate(QUEUE)) == 1


def test_signing_out_erases_what_the_phone_kept(field_phone):
    page = field_phone
    assert page.evaluate(KEPT_FORMS)
    open_menu(page)
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/accounts/login/**")
    page.locator("body[data-offline-wiped]").wait_for(state="attached")
    assert page.evaluate("caches.keys()") == []
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0
    databases = page.evaluate("indexedDB.databases().then((d) => d.map((x) => x.name))")
    assert "xinqiao-offline" not in databases


def test_signing_out_with_visits_waiting_asks_first(field_phone):
    """A visit not yet sent is not erased without the director's say: cancelling keeps her signed
    in with the visit still waiting."""
    page = field_phone
    _visit_kept_offline(page)
    page.goto("/")
    page.get_by_test_id("offline-queue").wait_for()
    questions = []

    def cancel(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", cancel)
    open_menu(page)
    page.get_by_role("button", name="退出").click()
    page.get_by_test_id("offline-queue").wait_for()
    assert questions and "1" in questions[0]
    assert "/accounts/login/" not in page.url
    assert len(page.evaluate(QUEUE)) == 1
