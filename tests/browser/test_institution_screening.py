"""Issue 10 (acceptance): welfare staff on a phone screen the residents of the county welfare
institution, aged 7, 10 and 15, with an instrument that fits each of them, the institution (their
guardian, 国家监护) giving consent through its responsible person."""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

from assessments.models import Assessment, ScreeningSession
from assessments.selectors import current_instruments
from cases.models import Child, Consent, Guardian
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD, user
from tests.demo import WELFARE
from tests.factories import ChildFactory, GuardianFactory, institution

pytestmark = pytest.mark.browser

SCREENSHOT = Path(tempfile.gettempdir()) / "institution_screening.png"  # looked at by hand


def years_ago(years: int) -> date:
    """A birth date that makes the child exactly `years` old today."""
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


def resident_in_state_guardianship(age: int) -> tuple[Child, Guardian]:
    """A resident of the welfare institution whose only guardian is the institution itself (as
    seed_demo gives its residents), with no consent on file."""
    staff = user("welfare_staff")
    child = ChildFactory(resident=True, birth_date=years_ago(age), by=staff)
    guardian = GuardianFactory(
        child=child,
        name="院长（演示）",
        relation=Guardian.Relation.INSTITUTION,
        institution=institution(WELFARE),
        by=staff,
    )
    return child, guardian


def row(page, child: Child):
    return page.get_by_test_id(f"row-{child.record_number}")


def wait_done(page, child: Child) -> None:
    page.locator(f'[data-testid="row-{child.record_number}"][data-status="done"]').wait_for()


def type_answers(page, child: Child, digits: str) -> None:
    """On the roster line: tick the institution's consent, type the answers, press Enter."""
    line = row(page, child)
    consent = line.get_by_test_id("consent")
    # The institution consents, not the child: not even the 15-year-old is offered to.
    assert WELFARE in line.locator(f'label[for="consent-{child.pk}"]').inner_text()
    consent.check()
    line.get_by_test_id("answers").click()
    page.keyboard.type(digits)
    page.keyboard.press("Enter")
    wait_done(page, child)


def test_welfare_staff_screen_residents_of_7_10_and_15_with_the_institutions_consent(phone):
    staff = user("welfare_staff")
    welfare = institution(WELFARE)
    (seven, seven_guardian), (ten, ten_guardian), (fifteen, fifteen_guardian) = (
        resident_in_state_guardianship(age) for age in (7, 10, 15)
    )
    guardians = {seven: seven_guardian, ten: ten_guardian, fifteen: fifteen_guardian}
    assert not Consent.objects.filter(child__in=guardians).exists()
    cesdc = current_instruments().get(code="CES-DC")
    assert all(cesdc.fits_age(child.age()) for child in guardians)  # 6-17: one for all three

    # 1. Open a session for all of the institution's residents, with CES-DC.
    page = phone
    sign_in(page, "welfare_staff", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/assessments/screenings/")
    page.get_by_test_id("new-screening").click()
    page.locator("#id_instrument").select_option(str(cesdc.pk))
    page.locator("#id_group").select_option(f"i:{welfare.pk}")
    page.get_by_test_id("open-screening").click()
    page.wait_for_url(re.compile(r".*/assessments/screenings/\d+/$"))
    session = ScreeningSession.objects.get(opened_by=staff)
    assert session.institution == welfare and session.instrument == cesdc
    for child in guardians:
        assert row(page, child).get_attribute("data-status") == "pending"
        assert row(page, child).get_by_test_id("answers").is_visible()  # the instrument fits

    # 2. The 7-year-old on the full form: every answer "完全没有", consent chosen as given by
    #    the institution (a child of 7 cannot consent, so only guardians are offered).
    row(page, seven).get_by_test_id("full-form").click()
    page.get_by_test_id("assessment-form").wait_for()
    consent_by = page.locator("#id_consent_by")
    offered = consent_by.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert offered == ["", str(seven_guardian.pk)]
    assert WELFARE in consent_by.locator(f'option[value="{seven_guardian.pk}"]').inner_text()
    for number in range(1, len(cesdc.parsed.items) + 1):
        page.locator(f'label[for="id_q{number}_0"]').click()
    consent_by.select_option(str(seven_guardian.pk))
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(rf".*/assessments/screenings/{session.pk}/(#.*)?$"))
    wait_done(page, seven)

    # 3. The 10- and 15-year-olds typed on their roster lines, the institution consenting.
    type_answers(page, ten, "0" * 20)
    type_answers(page, fifteen, "1" * 20)

    # 4. The roster shows all three done, on a phone, in Chinese.
    for child in guardians:
        assert row(page, child).get_by_test_id("status").inner_text() == "已完成"
        assert row(page, child).get_by_test_id("result").is_visible()
    progress = page.get_by_test_id("progress")
    assert int(progress.get_attribute("data-done")) == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    row(page, fifteen).scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    screenshot(page, "institution-screening")

    # 5. Each consent was given by the institution and recorded by its responsible person; each
    #    result is CES-DC, which fits the child's age on the day, scored as the instrument says.
    answers = {seven: "0" * 20, ten: "0" * 20, fifteen: "1" * 20}
    for child, guardian in guardians.items():
        consent = Consent.objects.get(
            child=child, purpose=Consent.Purpose.ASSESSMENT, withdrawn_at__isnull=True
        )
        assert consent.guardian == guardian and consent.guardian.institution == welfare
        assert not consent.given_by_child
        assert consent.recorded_by == staff
        result = Assessment.objects.get(session=session, child=child)
        assert result.instrument == cesdc
        assert result.instrument.fits_age(child.age(result.administered_on)), child.age()
        typed = {n: int(d) for n, d in enumerate(answers[child], start=1)}
        assert result.total == cesdc.parsed.score(typed).total
