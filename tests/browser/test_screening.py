"""A counsellor on a phone screens a class with PHQ-9 by keyboard; a critical answer reaches the
care team, and the child's mentor opens the alert."""

from __future__ import annotations

import re

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from assessments.models import Alert, Assessment, ScreeningSession
from assessments.selectors import current_instruments
from cases.models import CareTeamMember, Child, Consent
from cases.services.care import care_team_add
from cases.services.family import consent_record
from core.models import Notification
from institutions.models import Institution
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD, user
from tests.demo import MIDDLE_SCHOOL
from tests.demo import TOWNSHIP_A as TOWNSHIP  # supervisor_town's jurisdiction

pytestmark = pytest.mark.browser


def choose_class(school: Institution) -> tuple[int, str]:
    """A class with at least three pupils, one of whom lives in the supervisor's township."""
    classes = (
        Child.objects.filter(school=school, status="active")
        .values("grade", "class_name")
        .annotate(
            size=Count("id"),
            local=Count("id", filter=Q(residence_region__code__startswith=TOWNSHIP)),
        )
        .filter(size__gte=3, local__gte=1)
        .order_by("-size", "grade", "class_name")
    )
    return classes[0]["grade"], classes[0]["class_name"]


def row(page, child: Child):
    return page.get_by_test_id(f"row-{child.record_number}")


def enter(page, child: Child, digits: str) -> None:
    """Click the child's line, type the digits and press Enter, as a counsellor would."""
    row(page, child).get_by_test_id("answers").click()
    page.keyboard.type(digits)
    page.keyboard.press("Enter")


def wait_done(page, child: Child) -> None:
    page.locator(f'[data-testid="row-{child.record_number}"][data-status="done"]').wait_for()


def wait_focus_in(page, testid: str) -> None:
    """Wait until the keyboard focus is in the given roster line."""
    page.wait_for_function(
        "id => document.activeElement?.closest('[data-screening-row]')?.dataset.testid === id",
        arg=testid,
    )


def test_counselor_screens_a_class_and_the_alert_reaches_the_care_team(phone, browser, live_server):
    counselor, mentor, supervisor = user("counselor"), user("mentor"), user("supervisor_town")
    school = Institution.objects.get(name=MIDDLE_SCHOOL)
    grade, class_name = choose_class(school)
    roster = list(
        Child.objects.filter(school=school, grade=grade, class_name=class_name, status="active")
    )
    critical = next(c for c in roster if c.residence_region_id.startswith(TOWNSHIP))
    calm, mild = [c for c in roster if c != critical][:2]
    # Two have consent on file; the guardian of the third consents today, recorded on the page.
    for child in (critical, calm):
        consent_record(
            child=child,
            purpose=Consent.Purpose.ASSESSMENT,
            given_on=timezone.localdate(),
            by=counselor,
            guardian=child.guardians.get(is_primary_contact=True),
        )
    care_team_add(
        child=critical, team_role=CareTeamMember.TeamRole.MENTOR, user=mentor, by=counselor
    )
    phq9 = current_instruments().get(code="PHQ-9")

    # 1. Open a session for the class.
    page = phone
    sign_in(page, "counselor", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/assessments/screenings/")
    page.get_by_test_id("new-screening").click()
    page.locator("#id_instrument").select_option(str(phq9.pk))
    page.locator("#id_group").select_option(f"s:{school.pk}:{grade}:{class_name}")
    page.get_by_test_id("open-screening").click()
    page.wait_for_url(re.compile(r".*/assessments/screenings/\d+/$"))
    session = ScreeningSession.objects.get(opened_by=counselor)
    assert page.locator("[data-screening-row]").count() == len(roster)
    order = page.locator("[data-screening-row]").evaluate_all(
        "rows => rows.map(r => r.dataset.testid)"
    )

    # 2. Keyboard entry: Enter saves the line and the cursor moves to the next child's line.
    enter(page, calm, "000000000")
    wait_done(page, calm)
    position = order.index(f"row-{calm.record_number}")
    if position + 1 < len(order):
        wait_focus_in(page, order[position + 1])
    enter(page, critical, "012301232")  # item 9 answered 2
    wait_done(page, critical)
    assert row(page, critical).get_by_test_id("critical").is_visible()

    # 3. A mistake and missing consent are shown on the line; nothing is saved until fixed.
    enter(page, mild, "11111111")
    row(page, mild).get_by_test_id("row-errors").wait_for()
    wait_focus_in(page, f"row-{mild.record_number}")  # the cursor stays to correct the line
    assert not Assessment.objects.filter(session=session, child=mild).exists()
    row(page, mild).get_by_test_id("consent").check()
    row(page, mild).get_by_test_id("answers").fill("")
    enter(page, mild, "111111110")
    wait_done(page, mild)
    assert page.get_by_test_id("progress").get_attribute("data-done") == "3"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "screening-roster")

    # 4. The summary: bands, the child above the threshold, the critical flag.
    page.get_by_test_id("summary-link").click()
    page.wait_for_url("**/summary/")
    bands = page.get_by_test_id("band")
    counts = {b.get_attribute("data-risk"): b.get_attribute("data-count") for b in bands.all()}
    assert counts["0"] == "1" and counts["1"] == "1" and counts["2"] == "1"
    above = page.get_by_test_id("above-threshold")
    assert above.get_by_test_id(f"above-{critical.record_number}").is_visible()
    assert above.get_by_test_id(f"above-{mild.record_number}").count() == 0
    assert (
        above.get_by_test_id(f"above-{critical.record_number}")
        .get_by_test_id("critical")
        .is_visible()
    )
    assert critical.name in page.get_by_test_id("critical-list").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "screening-summary")

    # 5. The alert reached the care team and the township supervisor, in the app.
    alert = Alert.objects.get(child=critical)
    assert alert.reason == Alert.Reason.CRITICAL_ANSWER
    assert Consent.objects.filter(child=mild, purpose="assessment").exists()
    for recipient in (mentor, supervisor):
        assert Notification.objects.filter(
            recipient=recipient, kind="alert", child=critical
        ).exists(), recipient
    notice = Notification.objects.get(recipient=mentor, kind="alert", child=critical)

    # 6. The mentor opens it from their notifications.
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, base_url=live_server.url, locale="zh-CN"
    )
    try:
        mentor_page = context.new_page()
        mentor_page.set_default_timeout(15_000)
        sign_in(mentor_page, "mentor", DEMO_PASSWORD)
        mentor_page.wait_for_url("**/")
        # On the phone the menu is folded, the bell and its unread count are not.
        assert mentor_page.get_by_test_id("unread-badge").is_visible()
        mentor_page.get_by_test_id("notifications-bell").click()
        mentor_page.wait_for_url("**/notifications/")
        mentor_page.get_by_test_id("notification").filter(
            has_text=critical.record_number
        ).first.click()
        mentor_page.wait_for_url(f"**/assessments/alerts/{alert.pk}/")
        notice.refresh_from_db()
        assert notice.read_at is not None
        assert critical.record_number in mentor_page.locator("main").inner_text()
        # A mentor is told, but a responsible person closes it (issue 10).
        assert mentor_page.get_by_test_id("who-closes").is_visible()
        assert mentor_page.get_by_test_id("acknowledge-form").count() == 0
        screenshot(mentor_page, "screening-alert-mentor")
    finally:
        context.close()
