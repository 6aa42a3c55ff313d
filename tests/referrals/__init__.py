"""Helpers shared by the referral tests: demo children, the county hospital, and referrals
brought to a given step through the services themselves (made with tests.factories)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from assessments.models import Assessment
from cases.models import Child, Consent
from institutions.models import Institution
from referrals.models import Referral
from referrals.services.lifecycle import (
    referral_accept,
    referral_book,
    referral_close,
    referral_discharge,
    referral_record_visit,
    referral_start_treatment,
)
from tests.conftest import user
from tests.demo import HOSPITAL, MIDDLE_SCHOOL, SOCIAL_PSYCH, TOWNSHIP_A
from tests.factories import AssessmentFactory, ConsentFactory, ReferralFactory, institution

S = Referral.Status


def pupil(index: int = 0) -> Child:
    """A middle-school pupil living in the 青石镇 township (the counsellor's and the town
    supervisor's scope)."""
    return Child.objects.filter(
        school__name=MIDDLE_SCHOOL, residence_region__code__startswith=TOWNSHIP_A
    ).order_by("id")[index]


def hospital() -> Institution:
    return institution(HOSPITAL)


def social_psych() -> Institution:
    return institution(SOCIAL_PSYCH)


def give_consent(child: Child) -> Consent:
    """A guardian's consent to referral (the child's first guardian, or a new one)."""
    return ConsentFactory(child=child, purpose=Consent.Purpose.REFERRAL, by=user("counselor"))


def draft(child: Child | None = None, **kwargs) -> Referral:
    """A routine referral to the county hospital's psychiatric clinic, by the counsellor; no
    consent is recorded here (sending it needs one: `sent`, or `give_consent` first)."""
    return ReferralFactory(child=child or pupil(), consent=False, **kwargs)


def sent(child: Child | None = None, **kwargs) -> Referral:
    child = child or pupil()
    give_consent(child)
    return draft(child, send=True, **kwargs)


def advance(referral: Referral, to: str) -> Referral:
    """Walk a sent referral along the main path up to `to`, each step through its service."""
    clinician = user("clinician")
    path = [S.ACCEPTED, S.APPOINTMENT, S.SEEN, S.IN_TREATMENT, S.DISCHARGED, S.CLOSED]
    for status in path[: path.index(to) + 1]:
        if status == S.ACCEPTED:
            referral = referral_accept(referral=referral, by=clinician)
        elif status == S.APPOINTMENT:
            referral = referral_book(
                referral=referral,
                by=clinician,
                appointment_at=timezone.now() + timedelta(days=2),
            )
        elif status == S.SEEN:
            referral = referral_record_visit(
                referral=referral,
                by=clinician,
                seen_at=timezone.now(),
                diagnosis="抑郁发作（中度）",
                # Seen now, before the day booked above.
                early_reason="测试：门诊有空位，提前就诊",
            )
        elif status == S.IN_TREATMENT:
            referral = referral_start_treatment(
                referral=referral,
                by=clinician,
                treatment_type=Referral.TreatmentType.OUTPATIENT,
                treatment="舍曲林；每周心理治疗",
            )
        elif status == S.DISCHARGED:
            referral = referral_discharge(
                referral=referral,
                by=clinician,
                outcome_summary="门诊治疗结束，情绪明显好转。",
                followup_interval_days=7,
                followup_by="counsellor",
                followup_weeks=8,
            )
        elif status == S.CLOSED:
            referral = referral_close(referral=referral, by=user("counselor"))
    return referral


def severe_assessment(child: Child) -> Assessment:
    """A PHQ-9 with every answer at the top: a severe result, through the assessment service."""
    return AssessmentFactory(child=child, value=3, by=user("counselor"))
