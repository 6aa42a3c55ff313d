"""An htmx request that fails shows the error on the page instead of failing silently; a bad
filter value shows its message (reproduction 11 through the htmx filter)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_a_far_end_date_in_the_htmx_audit_filter_shows_its_message(phone):
    page = phone
    sign_in(page, "auditor", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/children/audit/")
    page.locator("#id_date_to").fill("9999-12-31")
    page.locator("#id_date_to").dispatch_event("change")
    errors = page.get_by_test_id("audit-filter-errors")
    errors.wait_for()
    assert "1900-01-01" in errors.inner_text()
    assert page.get_by_test_id("htmx-error").is_hidden()
    screenshot(page, "audit-far-date")


def test_a_server_error_on_an_htmx_request_is_shown(phone):
    page = phone
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/children/")
    alert = page.get_by_test_id("htmx-error")
    assert alert.is_hidden()

    def fail(route):
        if route.request.headers.get("hx-request"):
            route.fulfill(
                status=500,
                content_type="text/html; charset=utf-8",
                body="<html><body><h1>服务器错误</h1><p>出现了问题，已记录。</p></body></html>",
            )
        else:
            route.continue_()

    page.route("**/children/?*", fail)
    page.locator("#id_q").fill("张")
    alert.wait_for(state="visible")
    assert "出现了问题，已记录。" in alert.inner_text()
    assert "操作未成功" in alert.inner_text()
    screenshot(page, "htmx-server-error")
    page.unroute("**/children/?*")  # leaving the search box sends it again, now answered
    page.locator("[data-htmx-error-close]").click()
    alert.wait_for(state="hidden")


def test_a_network_failure_on_an_htmx_request_is_shown(phone):
    page = phone
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/children/")
    page.route(
        "**/children/?*",
        lambda route: (
            route.abort() if route.request.headers.get("hx-request") else route.continue_()
        ),
    )
    page.locator("#id_q").fill("李")
    alert = page.get_by_test_id("htmx-error")
    alert.wait_for(state="visible")
    assert "无法连接服务器" in alert.inner_text()
