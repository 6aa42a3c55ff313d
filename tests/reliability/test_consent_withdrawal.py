"""Withdrawing consent stops the processing it covered (issue 15): no new assessment of a child
whose consent to assessment was withdrawn, and no more sharing with the agency a withdrawn
consent to share named (its staff's one-off shares end); the consents stay on record."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment, Instrument
from cases.models import ChildAccessGrant, Consent
from cases.services.access import grant_open
from cases.services.family import consent_record, consent_withdraw
from institutions.models import Agency
from institutions.roles import Level
from tests.conftest import user
from tests.factories import ChildFactory, ConsentFactory, GuardianFactory, agency

pytestmark = pytest.mark.django_db


def test_no_new_assessment_after_the_assessment_consent_is_withdrawn(login):
    child = ChildFactory(pupil=True)
    consent = ConsentFactory(child=child, purpose=Consent.Purpose.ASSESSMENT, by=user("counselor"))
    consent_withdraw(consent=consent, reason="家长撤回", by=user("counselor"))
    phq9 = Instrument.objects.get(code="PHQ-9", version=1)
    page = login("counselor").post(
        reverse("assessments:assessment_create", args=[child.pk]),
        {
            "instrument": phq9.pk,
            "setting": "school_screening",
            "administered_on": timezone.localdate().isoformat(),
            **{f"q{n}": "0" for n in range(1, 10)},
        },
    )
    assert page.status_code in (200, 400) and not Assessment.objects.filter(child=child).exists()
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None  # kept on record


def test_a_withdrawn_sharing_consent_ends_that_agencys_shares():
    child = ChildFactory(pupil=True)
    education = agency(Agency.Kind.EDUCATION)
    sharing = consent_record(
        child=child,
        purpose=Consent.Purpose.SHARING,
        given_on=timezone.localdate(),
        by=user("counselor"),
        guardian=GuardianFactory(child=child),
        shared_with=education,
    )
    shared = grant_open(
        child=child,
        user=user("county_edu"),
        level=Level.READ,
        source=ChildAccessGrant.Source.SHARE,
        by=user("counselor"),
    )
    other = grant_open(
        child=child,
        user=user("county_health"),
        level=Level.READ,
        source=ChildAccessGrant.Source.SHARE,
        by=user("counselor"),
    )
    consent_withdraw(consent=sharing, reason="家长不同意共享", by=user("counselor"))
    shared.refresh_from_db()
    other.refresh_from_db()
    assert shared.ended_at is not None  # the education bureau no longer reads the file
    assert other.ended_at is None  # another agency's share is another consent's matter
