"""The loop after treatment on a phone (issue 11, acceptance): the clinician discharges a child
with "every 14 days by the mentor for 12 weeks"; a follow-up plan exists with the child's
mentor named; the mentor's home page lists the first follow-up visit due; the mentor taps it and
logs the visit; that task is done and the next one is due 14 days after the visit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import CareTeamMember
from followups.models import FollowupPlan, Task, Visit
from referrals.models import Referral
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD, user
from tests.factories import CareTeamMemberFactory, ChildFactory
from tests.referrals import advance, sent

pytestmark = pytest.mark.browser

OUTCOME = "门诊治疗六周，情绪明显好转，可返校正常学习。"


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def followup_tasks(child) -> list[Task]:
    return list(Task.objects.filter(child=child, kind=Task.Kind.FOLLOWUP_VISIT).order_by("id"))


def test_discharge_plan_mentor_visit_and_the_next_visit_due(phone):
    page = phone
    mentor = user("mentor")
    # A pupil whose care team has the demo mentor, treated at the county hospital.
    child = ChildFactory(pupil=True)
    CareTeamMemberFactory(child=child, user=mentor, team_role=CareTeamMember.TeamRole.MENTOR)
    referral = advance(sent(child), Referral.Status.IN_TREATMENT)

    # 1. The clinician discharges: every 14 days by the mentor, for 12 weeks.
    sign_in(page, "clinician", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/referrals/{referral.pk}/")
    page.get_by_test_id("action-discharge").click()
    page.locator("#id_outcome_summary").fill(OUTCOME)
    page.locator("#id_followup_interval_days").fill("14")
    page.locator("#id_followup_by").select_option("mentor")
    page.locator("#id_followup_weeks").fill("12")
    page.get_by_test_id("step-submit").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")

    # 2. The plan exists, made from the discharge, with the mentor named.
    plan = FollowupPlan.objects.get(child=child)
    today = timezone.localdate()
    assert plan.referral_id == referral.pk
    assert list(plan.partners.all()) == [mentor]
    assert plan.end_on == plan.start_on + timedelta(weeks=12)
    page.get_by_test_id("followup-plan-link").click()
    page.wait_for_url(f"**/followup-plans/{plan.pk}/")
    expect(page.get_by_test_id("plan-partners")).to_contain_text(str(mentor))
    first_due = plan.start_on + timedelta(days=14)
    expect(page.get_by_test_id("plan-next-due-date")).to_have_text(f"{first_due:%Y-%m-%d}")

    # 3. The mentor's home page lists the first follow-up visit due.
    page.context.clear_cookies()
    sign_in(page, "mentor", DEMO_PASSWORD)
    page.wait_for_url("**/")
    row = page.get_by_test_id("my-tasks").locator('li[data-kind="followup_visit"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text(child.name)
    expect(row).to_contain_text(f"{first_due:%Y-%m-%d}")
    fits_the_phone(page)
    screenshot(page, "followup-home-list")
    [first] = followup_tasks(child)
    assert (first.status, first.assignee, first.due_on) == (Task.Status.OPEN, mentor, first_due)

    # 4. One tap opens the visit form with the follow-up visit chosen; the mentor logs it.
    row.get_by_role("link").click()
    page.wait_for_url(f"**/visits/new/{child.pk}/?kind=followup_visit")
    expect(page.locator('input[name="kind"][value="followup_visit"]')).to_be_checked()
    fits_the_phone(page)
    page.get_by_test_id("save-visit-top").click()
    page.wait_for_url(f"**/children/{child.pk}/#timeline")
    visit = Visit.objects.get(child=child)
    assert (visit.kind, visit.visitor, visit.visited_on) == ("followup_visit", mentor, today)

    # 5. That task is done; the next is due 14 days after the visit, on the plan and at home.
    first.refresh_from_db()
    assert first.status == Task.Status.DONE
    assert first.closed_by_record == f"visit:{visit.pk}"
    next_due = visit.visited_on + timedelta(days=14)
    pending = [t for t in followup_tasks(child) if t.status in Task.PENDING]
    assert [(t.due_on, t.assignee) for t in pending] == [(next_due, mentor)]
    page.goto(f"/followup-plans/{plan.pk}/")
    expect(page.get_by_test_id("plan-next-due-date")).to_have_text(f"{next_due:%Y-%m-%d}")
    expect(page.get_by_test_id("plan-visits")).to_contain_text(f"{today:%Y-%m-%d}")
    fits_the_phone(page)
    # Where the brief asks for the plan page at 375 px (a fixed name, read by a person).
    page.screenshot(path="/tmp/plans-375.png", full_page=True)  # noqa: S108
    screenshot(page, "followup-plan")
    page.goto("/")
    row = page.get_by_test_id("my-tasks").locator('li[data-kind="followup_visit"]')
    expect(row).to_contain_text(f"{next_due:%Y-%m-%d}")
