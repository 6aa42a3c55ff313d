"""The closed loop on a phone: the counsellor refers a child to the county hospital; the
clinician accepts, books, records the visit and discharges with a follow-up recommendation;
the counsellor then reads the outcome summary but not the diagnosis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from referrals.models import Referral
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD
from tests.referrals import hospital, pupil

pytestmark = pytest.mark.browser

DIAGNOSIS = "抑郁发作（中度），伴睡眠障碍"
OUTCOME = "门诊治疗六周，情绪明显好转，可返校正常学习。"


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_counsellor_refers_clinician_treats_and_the_counsellor_sees_the_outcome(phone):
    page = phone
    child = pupil()
    guardian = child.guardians.filter(is_active=True).first()
    county_hospital = hospital()

    # 1. The counsellor opens the child's file and refers the child to the county hospital.
    sign_in(page, "counselor", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/children/{child.pk}/")
    page.get_by_test_id("refer").click()
    page.wait_for_url(f"**/referrals/new/{child.pk}/")
    page.locator("#id_service").select_option("psychiatric_clinic")
    # htmx narrows the institutions to those offering the service.
    expect(page.locator("#id_to_institution option")).to_have_count(2)
    page.locator("#id_to_institution").select_option(str(county_hospital.pk))
    page.locator("#id_reason").fill("近两个月情绪低落、失眠，PHQ-9 得分偏高，请精神科评估。")
    page.locator("#id_consent_by").select_option(str(guardian.pk))
    fits_the_phone(page)
    screenshot(page, "referral-form")
    page.get_by_test_id("send").click()
    page.wait_for_url("**/referrals/*/")
    referral = Referral.objects.get(child=child)
    assert referral.status == Referral.Status.SENT
    with translation.override("zh-hans"):
        expected = str(referral.get_status_display())
    assert page.get_by_test_id("referral-status").inner_text() == expected

    # 2. The clinician finds it in the inbox and accepts it in one step.
    page.context.clear_cookies()
    sign_in(page, "clinician", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/referrals/inbox/")
    page.get_by_test_id(f"inbox-row-{referral.pk}").wait_for()
    fits_the_phone(page)
    screenshot(page, "clinic-inbox")
    page.get_by_test_id(f"accept-{referral.pk}").click()
    page.wait_for_url("**/referrals/inbox/")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED

    # 3. Book, record the visit with a diagnosis, discharge with a follow-up recommendation.
    page.goto(f"/referrals/{referral.pk}/")
    page.get_by_test_id("action-book").click()
    appointment = timezone.localtime() + timedelta(days=1)
    page.locator("#id_appointment_at").fill(appointment.strftime("%Y-%m-%dT10:00"))
    page.get_by_test_id("step-submit").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    page.get_by_test_id("appointment").wait_for()

    page.get_by_test_id("action-seen").click()
    page.locator("#id_diagnosis").fill(DIAGNOSIS)
    # Seen today, before the day booked: confirmed, with a reason.
    page.get_by_test_id("early-warning").wait_for()
    page.locator("#id_confirm_early").check()
    page.locator("#id_early_reason").fill("门诊有空位，家长希望提前")
    fits_the_phone(page)
    screenshot(page, "referral-seen-before-appointment")
    page.get_by_test_id("step-submit").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    assert DIAGNOSIS in page.get_by_test_id("diagnosis").inner_text()

    page.get_by_test_id("action-discharge").click()
    page.locator("#id_outcome_summary").fill(OUTCOME)
    page.locator("#id_followup_interval_days").fill("7")
    page.locator("#id_followup_by").select_option("counsellor")
    page.locator("#id_followup_weeks").fill("8")
    fits_the_phone(page)
    page.get_by_test_id("step-submit").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DISCHARGED
    assert (referral.followup_interval_days, referral.followup_by, referral.followup_weeks) == (
        7,
        "counsellor",
        8,
    )
    assert referral.diagnosis == DIAGNOSIS

    # 4. The counsellor reads the outcome summary; the diagnosis stays with the clinic.
    page.context.clear_cookies()
    sign_in(page, "counselor", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/referrals/{referral.pk}/")
    assert OUTCOME in page.get_by_test_id("outcome-summary").inner_text()
    assert page.get_by_test_id("followup").is_visible()
    assert page.get_by_test_id("clinical-hidden").is_visible()
    assert DIAGNOSIS not in page.content()
    fits_the_phone(page)
    screenshot(page, "referral-outcome")

    # The child's file shows the referral with its current step.
    page.goto(f"/children/{child.pk}/#referrals")
    assert county_hospital.name in page.get_by_test_id("file-referrals").inner_text()
    assert DIAGNOSIS not in page.content()
