"""Helpers shared by the referral tests: demo children, the county hospital, and referrals
brought to a given step through the services themselves."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cases.models import Child, Consent
from cases.services.family import consent_record, guardian_add
from institutions.models import Institution
from referrals import services
from referrals.models import Referral
from tests.conftest import user

MIDDLE_SCHOOL = "青石镇中学（演示）"
HOSPITAL = "演示县人民医院"
SOCIAL_PSYCH = "演示县社会心理服务中心"
S = Referral.Status


def pupil(index: int = 0) -> Child:
    """A middle-school pupil living in the 青石镇 township (the counsellor's and the town
    supervisor's scope)."""
    return Child.objects.filter(
        school__name=MIDDLE_SCHOOL, residence_region__code__startswith="990101001"
    ).order_by("id")[index]


def hospital() -> Institution:
    return Institution.objects.get(name=HOSPITAL)


def social_psych() -> Institution:
    return Institution.objects.get(name=SOCIAL_PSYCH)


def give_consent(child: Child) -> Consent:
    guardian = child.guardians.filter(is_active=True).first() or guardian_add(
        child=child, data={"name": "测试家长", "relation": "mother"}, by=user("counselor")
    )
    return consent_record(
        child=child,
        purpose=Consent.Purpose.REFERRAL,
        given_on=timezone.localdate(),
        by=user("counselor"),
        guardian=guardian,
    )


def draft(child: Child | None = None, **kwargs) -> Referral:
    """A routine referral to the county hospital's psychiatric clinic, by the counsellor."""
    values = {
        "child": child or pupil(),
        "by": user("counselor"),
        "to_institution": hospital(),
        "service": Institution.Service.PSYCHIATRIC_CLINIC,
        "reason": "持续情绪低落两个月，PHQ-9 分数高。",
        "from_institution": Institution.objects.get(name=MIDDLE_SCHOOL),
    }
    values.update(kwargs)
    return services.referral_create(**values)


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
            referral = services.referral_accept(referral=referral, by=clinician)
        elif status == S.APPOINTMENT:
            referral = services.referral_book(
                referral=referral,
                by=clinician,
                appointment_at=timezone.now() + timedelta(days=2),
            )
        elif status == S.SEEN:
            referral = services.referral_record_visit(
                referral=referral,
                by=clinician,
                seen_at=timezone.now(),
                diagnosis="抑郁发作（中度）",
            )
        elif status == S.IN_TREATMENT:
            referral = services.referral_start_treatment(
                referral=referral,
                by=clinician,
                treatment_type=Referral.TreatmentType.OUTPATIENT,
                treatment="舍曲林；每周心理治疗",
            )
        elif status == S.DISCHARGED:
            referral = services.referral_discharge(
                referral=referral,
                by=clinician,
                outcome_summary="门诊治疗结束，情绪明显好转。",
                followup_interval_days=7,
                followup_by="counsellor",
                followup_weeks=8,
            )
        elif status == S.CLOSED:
            referral = services.referral_close(referral=referral, by=user("counselor"))
    return referral


def severe_assessment(child: Child):
    """A PHQ-9 with every answer at the top: a severe result, through the assessment service."""
    from assessments.models import Assessment, Instrument
    from assessments.services import assessment_submit

    instrument = Instrument.objects.get(code="PHQ-9", version=1)
    answers = dict.fromkeys(range(1, 10), 3)
    result: Assessment = assessment_submit(
        child=child,
        instrument=instrument,
        answers=answers,
        result=instrument.parsed.score(answers),
        setting=Assessment.Setting.SCHOOL_SCREENING,
        administered_on=timezone.localdate(),
        by=user("counselor"),
    )
    return result
