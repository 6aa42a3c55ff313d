"""Factories for the assessments app: a scored questionnaire result, through the service."""

from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from assessments.models import Assessment, Instrument
from assessments.services import assessment_submit
from cases.models import Consent
from cases.services.family import has_consent
from tests.demo import user
from tests.factories.cases import ChildFactory, ConsentFactory


def instrument(code: str = "PHQ-9", version: int = 1) -> Instrument:
    """A built-in questionnaire (installed by the migrations and seed_demo)."""
    return Instrument.objects.get(code=code, version=version)


class AssessmentFactory(DjangoModelFactory):
    """A result submitted through `assessment_submit`, scored by the instrument itself (so a
    severe result raises its alert and the child's risk, as in the app).

    `value` is the answer given to every item (PHQ-9: 0 to 3; 3 everywhere is severe, with a
    critical answer). With `consent` (the default) a guardian's consent to assessment is
    recorded first when the child has none, as the app asks before a questionnaire.
    """

    class Meta:
        model = Assessment

    child = factory.SubFactory(ChildFactory)
    instrument = factory.LazyFunction(instrument)
    value = 0
    answers = factory.LazyAttribute(
        lambda o: {int(item["number"]): o.value for item in o.instrument.parsed.items}
    )
    setting = Assessment.Setting.SCHOOL_SCREENING
    administered_on = factory.LazyFunction(timezone.localdate)
    by = factory.LazyFunction(lambda: user("counselor"))
    consent = True

    @classmethod
    def _create(cls, model_class: type[Assessment], *args: Any, **kwargs: Any) -> Assessment:
        kwargs.pop("value")
        child = kwargs["child"]
        if kwargs.pop("consent") and not has_consent(
            child=child, purpose=Consent.Purpose.ASSESSMENT
        ):
            ConsentFactory(child=child, purpose=Consent.Purpose.ASSESSMENT, by=kwargs["by"])
        return assessment_submit(
            result=kwargs["instrument"].parsed.score(kwargs["answers"]), **kwargs
        )
