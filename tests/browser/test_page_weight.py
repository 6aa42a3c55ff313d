"""Light pages for a phone on a weak signal (issue 16): served as in production (gunicorn,
collected static files with hashed names and brotli copies, a year-long cache), the visit form
costs under 150 KB on a first load and under 30 KB on a repeat load, counted as Chromium counts
the bytes it received; ECharts loads only where a chart is shown."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from followups.services.schedule import tasks_plan
from tests.browser.conftest import screenshot, sign_in
from tests.demo import DEMO_PASSWORD
from tests.servers import database_url_for_tests, web_on

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_LOAD_LIMIT = 150 * 1024
REPEAT_LOAD_LIMIT = 30 * 1024


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """The static files collected as the production image collects them."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env={**os.environ, "STATIC_ROOT": str(root), "STATIC_HASHED": "true"},
        cwd=settings.BASE_DIR,
        check=True,
    )
    return root


@pytest.fixture
def served(collected, demo_world) -> Iterator[str]:
    with web_on(database_url_for_tests(), STATIC_ROOT=str(collected), STATIC_HASHED="true") as base:
        yield base


class Received:
    """The bytes Chromium received over the network for one page load (compressed bodies and
    headers; nothing for what came from its cache), through the DevTools protocol."""

    def __init__(self, page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.by_url: dict[str, int] = {}
        self._urls: dict[str, str] = {}
        self.cdp.on("Network.requestWillBeSent", self._request)
        self.cdp.on("Network.loadingFinished", self._finished)

    def _request(self, event) -> None:
        self._urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event) -> None:
        url = self._urls.get(event["requestId"], "?")
        self.by_url[url] = self.by_url.get(url, 0) + int(event["encodedDataLength"])

    def reset(self) -> None:
        self.by_url.clear()

    @property
    def total(self) -> int:
        return sum(self.by_url.values())

    def clear_cache(self) -> None:
        self.cdp.send("Network.clearBrowserCache")


def test_the_visit_form_is_light_on_first_and_repeat_loads(browser, served):
    tasks_plan(today=timezone.localdate())
    # What HTTP caching and compression give (the service worker, which later serves these
    # files from its own copy, is tested in test_offline.py).
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        base_url=served,
        locale="zh-CN",
        is_mobile=True,
        service_workers="block",
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, "director_a", DEMO_PASSWORD)
    page.wait_for_url("**/")
    # The home page keeps the work list's visit forms for offline use: let it finish first.
    page.locator("body[data-offline-ready]").wait_for(state="attached")
    form_url = (
        page.get_by_test_id("my-tasks")
        .locator('li[data-kind="home_visit"]')
        .first.get_by_role("link", name="记录走访")
        .get_attribute("href")
    )
    received = Received(page)
    received.clear_cache()
    received.reset()
    page.goto(form_url, wait_until="networkidle")
    first = received.total
    first_files = dict(received.by_url)
    screenshot(page, "visit-form-weight")
    received.reset()
    page.goto(form_url, wait_until="networkidle")
    repeat = received.total
    print(f"visit form: first load {first / 1024:.1f} KB, repeat load {repeat / 1024:.1f} KB")
    assert first < FIRST_LOAD_LIMIT, sorted(first_files.items(), key=lambda kv: -kv[1])
    assert repeat < REPEAT_LOAD_LIMIT, sorted(received.by_url.items(), key=lambda kv: -kv[1])
    assert not [url for url in first_files if "echarts" in url]  # no chart on this page
    context.close()


def test_static_files_are_compressed_and_cached_for_a_year(browser, served):
    context = browser.new_context(base_url=served)
    page = context.new_page()
    answer = page.goto("/accounts/login/")
    assert answer is not None
    stylesheet = page.locator('link[rel="stylesheet"][href*="bootstrap.min"]').get_attribute("href")
    assert stylesheet and ".min." in stylesheet and stylesheet.count(".") >= 3  # a hashed name
    response = context.request.get(stylesheet, headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["content-encoding"] == "br"
    cache = response.headers["cache-control"]
    assert "immutable" in cache and "max-age=315360000" in cache
    context.close()
