"""Issue 10, findings 5 and 9: an institution screens residents whose guardian is the
institution itself (国家监护), and the county education bureau reads its schools' screenings
(sessions, summaries, scores and bands; no answers, no entry)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from assessments.models import Assessment, ScreeningSession
from assessments.screening.roster import screening_groups, session_roster
from assessments.screening.services import screening_session_open
from assessments.selectors import current_instruments
from cases.models import Child, Consent, Guardian
from institutions.models import Agency, Institution
from institutions.roles import Role
from tests.conftest import client_for, user
from tests.demo import NEIGHBOUR_COUNTY, WELFARE
from tests.factories import ChildFactory, GuardianFactory, UserFactory, institution
from tests.factories.institutions import neighbouring_village

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
MILD, CRITICAL = "111111110", "012301232"  # PHQ-9 totals 8 and 14, item 9 answered 2


def years_ago(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


def phq9():
    return current_instruments().get(code="PHQ-9")


def open_session(by, group) -> ScreeningSession:
    return screening_session_open(
        group=group,
        instrument=phq9(),
        administered_on=timezone.localdate(),
        title="",
        by=by,
    )


def enter(client: Client, session: ScreeningSession, child: Child, typed: str, **extra):
    url = reverse("assessments:screening_entry", args=[session.pk, child.pk])
    return client.post(url, {"answers": typed, **extra}, headers=HTMX)


# -- finding 5: state guardianship ---------------------------------------------------------------


def test_welfare_staff_screen_every_resident_whose_consent_the_institution_gives():
    staff = user("welfare_staff")
    welfare = institution(WELFARE)
    # Two more residents of 12 and 13, under the institution's guardianship.
    for age in (12, 13):
        child = ChildFactory(resident=True, birth_date=years_ago(age), by=staff)
        GuardianFactory(
            child=child,
            name="院长",
            relation=Guardian.Relation.INSTITUTION,
            institution=welfare,
            by=staff,
        )
    group = next(g for g in screening_groups(user=staff) if g.institution == welfare)
    session = open_session(staff, group)
    fitting = [r for r in session_roster(session=session, user=staff) if not r.fit_problem]
    under_14 = [r for r in fitting if r.child.age() < 14]
    assert len(under_14) >= 2
    assert all(r.may_consent_today for r in fitting), [r.consent_problem for r in fitting]
    client = Client()
    client.force_login(staff)
    for row in fitting:
        body = enter(client, session, row.child, MILD, consent="1").content.decode()
        assert 'data-status="done"' in body, body
    assert Assessment.objects.filter(session=session).count() == len(fitting)
    for row in under_14:
        consent = Consent.objects.get(child=row.child, purpose=Consent.Purpose.ASSESSMENT)
        assert consent.guardian.institution == welfare
        assert consent.recorded_by == staff  # the institution's responsible person


def test_only_a_staff_member_of_the_guardian_institution_can_consent_for_it(login):
    staff = user("welfare_staff")
    child = ChildFactory(resident=True, birth_date=years_ago(10), by=staff)
    guardian = GuardianFactory(
        child=child,
        name="院长",
        relation=Guardian.Relation.INSTITUTION,
        institution=institution(WELFARE),
        by=staff,
    )
    url = reverse("cases:consent_add", args=[child.pk])
    data = {
        "purpose": Consent.Purpose.ASSESSMENT,
        "given_by": str(guardian.pk),
        "given_on": timezone.localdate().isoformat(),
    }
    # A staff member of another residential institution, who also reaches the child.
    other_home = Institution.objects.create(
        name="另一福利院（演示）",
        kind=Institution.Kind.CHILD_WELFARE,
        region=welfare_region(),
        services=[Institution.Service.RESIDENTIAL_CARE],
    )
    other = UserFactory(role=Role.INSTITUTION_STAFF, institution=other_home)
    Child.objects.filter(pk=child.pk).update(residential_institution=other_home)
    refused = client_for(other.username).post(url, data)
    assert refused.status_code == 200
    with translation.override("zh-hans"):
        assert "负责人" in refused.content.decode()
    assert not Consent.objects.filter(child=child).exists()
    Child.objects.filter(pk=child.pk).update(residential_institution=institution(WELFARE))
    assert login("welfare_staff").post(url, data).status_code == 302
    consent = Consent.objects.get(child=child)
    assert consent.guardian == guardian and consent.recorded_by == staff


def welfare_region():
    return institution(WELFARE).region


def test_an_institution_guardian_must_name_its_institution(login):
    staff = user("welfare_staff")
    child = ChildFactory(resident=True, birth_date=years_ago(9), by=staff)
    url = reverse("cases:guardian_add", args=[child.pk])
    data = {"name": "院长", "relation": Guardian.Relation.INSTITUTION, "lives_with_child": "on"}
    client = login("welfare_staff")
    response = client.post(url, data)
    assert response.status_code == 200
    assert not child.guardians.exists()
    assert client.post(url, {**data, "institution": institution(WELFARE).pk}).status_code == 302
    assert child.guardians.get().institution == institution(WELFARE)


def test_the_demo_residents_are_under_the_institutions_guardianship():
    residents = Child.objects.filter(
        residential_institution=institution(WELFARE), record_number__startswith="DEMO-"
    )
    assert residents.exists()
    for child in residents:
        assert child.guardians.filter(
            relation=Guardian.Relation.INSTITUTION,
            institution=institution(WELFARE),
            is_active=True,
        ).exists(), child.record_number


# -- finding 9: the education bureau reads its schools' screenings ------------------------------


@pytest.fixture
def school_session() -> ScreeningSession:
    counselor = user("counselor")
    groups = [g for g in screening_groups(user=counselor) if g.school is not None]
    session = open_session(counselor, max(groups, key=lambda g: g.size))
    child = session_roster(session=session, user=counselor)[0].child
    client = Client()
    client.force_login(counselor)
    GuardianFactory(child=child) if not child.guardians.exists() else None
    body = enter(client, session, child, CRITICAL, consent="1").content.decode()
    assert 'data-status="done"' in body
    return session


def critical_label() -> str:
    with translation.override("zh-hans"):
        return "有自伤或轻生念头"


def test_county_education_reads_its_schools_sessions_and_summaries(school_session, login):
    edu = login("county_edu")
    listing = edu.get(reverse("assessments:screening_list"))
    assert listing.status_code == 200
    assert school_session.title in listing.content.decode()
    detail = edu.get(reverse("assessments:screening_detail", args=[school_session.pk]))
    assert detail.status_code == 200
    summary = edu.get(reverse("assessments:screening_summary", args=[school_session.pk]))
    assert summary.status_code == 200
    body = summary.content.decode()
    assert 'data-testid="band"' in body and 'data-testid="critical"' in body
    # Scores and bands, but not which question was answered how.
    assert critical_label() not in body
    assert 'name="answers"' not in detail.content.decode()
    counselor_summary = login("counselor").get(
        reverse("assessments:screening_summary", args=[school_session.pk])
    )
    assert critical_label() in counselor_summary.content.decode()


def test_county_education_cannot_enter_or_close(school_session, login):
    edu = login("county_edu")
    child = next(
        r.child
        for r in session_roster(session=school_session, user=user("counselor"))
        if r.result is None
    )
    pk = school_session.pk
    for method, url in [
        ("get", reverse("assessments:screening_entry", args=[pk, child.pk])),
        ("post", reverse("assessments:screening_entry", args=[pk, child.pk])),
        ("post", reverse("assessments:screening_absent", args=[pk, child.pk])),
        ("get", reverse("assessments:screening_close", args=[pk])),
        ("post", reverse("assessments:screening_close", args=[pk])),
        ("get", reverse("assessments:screening_import", args=[pk])),
        ("post", reverse("assessments:screening_import", args=[pk])),
        ("get", reverse("assessments:screening_create")),
    ]:
        response = getattr(edu, method)(url, {"answers": MILD, "consent": "1"})
        assert response.status_code == 403, (method, url)
    school_session.refresh_from_db()
    assert school_session.status == ScreeningSession.Status.OPEN
    assert Assessment.objects.filter(session=school_session).count() == 1


def test_education_supervisor_of_another_county_gets_404(school_session):
    neighbouring_village()
    bureau = Agency.objects.create(
        region_id=NEIGHBOUR_COUNTY, kind=Agency.Kind.EDUCATION, name="邻县教育局（演示）"
    )
    other = UserFactory(
        role=Role.AGENCY_SUPERVISOR,
        agency=bureau,
        jurisdiction=[NEIGHBOUR_COUNTY],
        is_demo=True,  # exempt from two-factor in tests
    )
    client = client_for(other.username)
    listing = client.get(reverse("assessments:screening_list"))
    assert listing.status_code == 200
    assert school_session.title not in listing.content.decode()
    for name in ("screening_detail", "screening_summary", "screening_close"):
        url = reverse(f"assessments:{name}", args=[school_session.pk])
        assert client.get(url).status_code == 404, url
