"""Factories for the referrals app: a referral written (and sent) through the services."""

from __future__ import annotations

from typing import Any

import factory
from factory.django import DjangoModelFactory

from cases.models import Consent
from institutions.models import Institution
from referrals.models import Referral
from referrals.services.sending import referral_create
from tests.demo import HOSPITAL, MIDDLE_SCHOOL, user
from tests.factories.cases import ChildFactory, ConsentFactory
from tests.factories.institutions import institution


class ReferralFactory(DjangoModelFactory):
    """A routine referral of a middle-school pupil by the demo counsellor to the county
    hospital's psychiatric clinic, written through `referral_create`: a draft, or with
    `send=True` sent at once (which gives the clinic its read grant). `consent` (by default:
    when sending) records a guardian's consent to referral first; `consent=False` leaves the
    child without one, for tests of sending without consent."""

    class Meta:
        model = Referral

    child = factory.SubFactory(ChildFactory, pupil=True)
    by = factory.LazyFunction(lambda: user("counselor"))
    from_institution = factory.LazyFunction(lambda: institution(MIDDLE_SCHOOL))
    to_institution = factory.LazyFunction(lambda: institution(HOSPITAL))
    service = Institution.Service.PSYCHIATRIC_CLINIC
    urgency = Referral.Urgency.ROUTINE
    reason = "测试转介：持续情绪低落两个月，PHQ-9 分数高。"
    send = False
    consent = factory.LazyAttribute(lambda o: o.send)

    @classmethod
    def _create(cls, model_class: type[Referral], *args: Any, **kwargs: Any) -> Referral:
        if kwargs.pop("consent"):
            ConsentFactory(child=kwargs["child"], purpose=Consent.Purpose.REFERRAL, by=kwargs["by"])
        return referral_create(**kwargs)
