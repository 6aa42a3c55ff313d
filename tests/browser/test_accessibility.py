"""Accessibility (issue 16): axe-core finds no serious or critical violation on the pages a
child director, a counsellor and a supervisor use most, in Simplified Chinese and in English;
the visit form can be filled in with the keyboard alone; no template carries an untranslated
text in an attribute a person hears or sees (aria-label, title, placeholder, alt).

axe-core comes bundled in the axe-playwright-python package: it runs offline, without a CDN."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import timezone

from assessments.screening.roster import screening_groups
from assessments.screening.services import screening_session_open
from assessments.selectors import current_instruments
from cases.models import Child
from followups.services.schedule import tasks_plan
from tests.conftest import DEMO_PASSWORD, user
from tests.demo import VILLAGE_A
from tests.referrals import pupil

BASE = Path(settings.BASE_DIR)
LANGUAGES = ["zh-hans", "en"]
SERIOUS = {"serious", "critical"}
# Each page is checked as a phone shows it and as a desktop does (the menu unfolded).
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}

axe = Axe()


def switch_language(page, language: str) -> None:
    """As a person does: the footer's language form (it sets the language cookie)."""
    page.locator("#language").select_option(language)
    with page.expect_navigation():
        page.locator("footer form button[type=submit]").click()
    assert page.locator("html").get_attribute("lang") == language


def open_context(browser, live_server, language: str):
    """A phone-sized context whose first page is the sign-in page, in the given language."""
    context = browser.new_context(
        viewport=PHONE,
        base_url=live_server.url,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/accounts/login/")
    if language != settings.LANGUAGE_CODE:
        switch_language(page, language)
    return context, page


def sign_in_as(page, username: str) -> None:
    """Sign in whatever the page's language (the fields by their ids, not their labels)."""
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/accounts/login/" not in page.url, f"{username} could not sign in"


def serious_violations(page, where: str) -> list[str]:
    """axe-core's serious and critical violations on the page, at a phone's width and at a
    desktop's, one line per element."""
    page.wait_for_load_state("networkidle")
    found = []
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] not in SERIOUS:
                continue
            for node in violation["nodes"]:
                target = " ".join(str(part) for part in node["target"])
                found.append(
                    f"{where} at {size['width']} px: {violation['id']} ({violation['impact']})"
                    f" at {target}: {violation['help']}"
                )
    page.set_viewport_size(PHONE)
    return found


def send_empty(page) -> None:
    """Send the form untouched, so that its error messages show."""
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    page.locator(".invalid-feedback").first.wait_for()


# A page to check: its name, its address, and what to do there first (if anything).
Check = tuple[str, str, Callable[..., None] | None]


def visit_pages(page, where: str, checks: list[Check]) -> list[str]:
    found: list[str] = []
    for name, path, action in checks:
        response = page.goto(path)
        assert response is not None and response.ok, f"{where} {name}: {path} answered an error"
        if action:
            action(page)
        # Folded parts (<details>) are checked too: axe looks only at what is shown.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        found += serious_violations(page, f"{where} {name} ({path})")
    return found


@pytest.fixture
def pages(demo_world) -> dict[str, list[Check]]:
    """The pages to check, by the demo user who opens them."""
    tasks_plan(today=timezone.localdate())  # the director's work list, as the scheduler makes it
    child = Child.objects.filter(residence_region_id=VILLAGE_A).order_by("id")[0]
    counselor = user("counselor")
    session = screening_session_open(
        group=screening_groups(user=counselor)[0],
        instrument=current_instruments().get(code="PHQ-9"),
        administered_on=timezone.localdate(),
        title="",
        by=counselor,
    )
    referred = pupil()
    return {
        "director_a": [
            ("home", "/", None),
            ("children list", "/children/", None),
            ("child's file", f"/children/{child.pk}/", None),
            ("visit form", f"/visits/new/{child.pk}/", None),
        ],
        "counselor": [
            ("screening roster", f"/assessments/screenings/{session.pk}/", None),
            ("referral form", f"/referrals/new/{referred.pk}/", None),
            ("referral form with errors", f"/referrals/new/{referred.pk}/", send_empty),
        ],
        "county_civil": [("dashboard", "/dashboards/", None)],
    }


@pytest.mark.browser
def test_axe_finds_no_serious_violation_on_the_main_pages_in_both_languages(
    browser, live_server, pages
):
    found: list[str] = []
    for language in LANGUAGES:
        context, page = open_context(browser, live_server, language)
        found += serious_violations(page, f"[{language}] sign-in page")
        context.close()
        for username, paths in pages.items():
            context, page = open_context(browser, live_server, language)
            sign_in_as(page, username)
            found += visit_pages(page, f"[{language}] {username}", paths)
            context.close()
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)


@pytest.mark.browser
def test_every_control_of_the_visit_form_is_reached_with_the_tab_key(browser, live_server, pages):
    context, page = open_context(browser, live_server, settings.LANGUAGE_CODE)
    sign_in_as(page, "director_a")
    page.goto(pages["director_a"][3][1])  # the visit form
    form = page.get_by_test_id("visit-form")
    # What a keyboard must reach: each field (a group of radio buttons is one stop, its
    # choices are then chosen with the arrow keys), each checkbox, and both submit buttons.
    wanted = set(
        form.locator("input:not([type=hidden]), select, textarea, button").evaluate_all(
            """els => els.map(el => el.type === 'radio' ? 'radio:' + el.name
                                  : el.id || el.dataset.testid)"""
        )
    )
    reached: set[str] = set()
    outline: dict[str, bool] = {}
    page.locator("body").focus()
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || !el.closest('[data-testid=visit-form]')) return null;
                // The focus ring: an outline or a box-shadow on the element, or on its
                // label when the input itself is visually hidden (Bootstrap's .btn-check).
                const label = el.id && document.querySelector(`label[for="${el.id}"]`);
                const ring = [el, label].filter(Boolean).some(node => {
                    const style = getComputedStyle(node);
                    return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                        || style.boxShadow !== 'none';
                });
                const key = el.type === 'radio' ? 'radio:' + el.name : el.id || el.dataset.testid;
                return {key, ring};
            }"""
        )
        if focused is None:
            if reached:
                break  # past the form
            continue
        reached.add(focused["key"])
        outline[focused["key"]] = focused["ring"]
    assert wanted <= reached, f"not reached with the Tab key: {sorted(wanted - reached)}"
    unmarked = sorted(key for key, ring in outline.items() if not ring)
    assert not unmarked, f"no visible focus indicator on: {unmarked}"
    context.close()


# Attributes a person hears (screen reader) or sees (tooltip, hint, replacement text).
SPOKEN_ATTRIBUTE = re.compile(r"""(?<![\w-])(aria-label|title|placeholder|alt)=(["'])(.*?)\2""")
# A value that is only a template expression or tag (translated where it is made) is fine.
TEMPLATE_ONLY = re.compile(r"^(\s*(\{\{.*?\}\}|\{%.*?%\})\s*)*$")


def template_files() -> list[Path]:
    roots = [BASE / "templates", *BASE.glob("*/templates")]
    return sorted(path for root in roots for path in root.rglob("*.html"))


def test_no_template_has_an_untranslated_text_in_a_spoken_attribute():
    untranslated = []
    for path in template_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for match in SPOKEN_ATTRIBUTE.finditer(line):
                value = match.group(3)
                if re.search(r"[A-Za-z\u4e00-\u9fff]", value) and not TEMPLATE_ONLY.match(value):
                    untranslated.append(f"{path.relative_to(BASE)}:{number}: {match.group(0)}")
    assert not untranslated, "attributes with literal text:\n" + "\n".join(untranslated)
