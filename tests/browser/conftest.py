"""Playwright in the system Chromium; skipped, with the reason printed, where it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Playwright's sync API runs an event loop in the test thread; the ORM calls in these tests are
# ordinary synchronous calls, so Django's async-safety guard does not apply to them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

INSTALL_HINT = (
    "browser tests need the system Chromium at /usr/bin/chromium: "
    "apt-get install chromium fonts-wqy-microhei"
)


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=INSTALL_HINT)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if not CHROMIUM.exists():
        terminalreporter.write_line(f"NOTE: {INSTALL_HINT}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, live_server, demo_world):
    """A fresh browser context the size of a phone (375 × 812), pointed at the live server.

    Service workers are blocked (Playwright's advice for predictable tests): the home page's
    worker installs in the background, fetching pages while the test runs, and takes control of
    the open page part-way through, so whether a request a test fails on purpose with
    ``page.route`` reaches the route depended on timing (a CI run saw an htmx search succeed that
    the route should have aborted). The offline tests open their own context with workers allowed
    (test_offline.py)."""
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        base_url=live_server.url,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        service_workers="block",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_menu(page) -> None:
    """Open the collapsed menu of a phone and wait until it has finished unfolding: a tap while
    it slides open can land where an item was a moment before (seen on a loaded machine)."""
    page.get_by_role("button", name="菜单").click()
    page.locator("#mainnav.collapse.show").wait_for()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
