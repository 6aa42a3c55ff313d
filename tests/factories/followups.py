"""Factories for the followups app: visits, logged through `visit_record`."""

from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from followups.models import Visit
from followups.services import visit_record
from tests.demo import user
from tests.factories.cases import ChildFactory


class VisitFactory(DjangoModelFactory):
    """A routine home visit today, by the child's registrar unless `by` is given. A visit with
    a serious concern (`concerns=[Visit.Concern.SELF_HARM_TALK]`) is flagged, as in the app."""

    class Meta:
        model = Visit

    child = factory.SubFactory(ChildFactory)
    kind = Visit.Kind.HOME_VISIT
    visited_on = factory.LazyFunction(timezone.localdate)
    present = factory.LazyFunction(lambda: [Visit.Present.CHILD, Visit.Present.GUARDIAN])
    concerns = factory.LazyFunction(list)
    mood = Visit.Mood.CALM
    next_step = Visit.NextStep.ROUTINE
    note = "测试家访：孩子情绪平稳"
    by = factory.LazyAttribute(lambda o: o.child.created_by or user("county_civil"))

    @classmethod
    def _create(cls, model_class: type[Visit], *args: Any, **kwargs: Any) -> Visit:
        child, by = kwargs.pop("child"), kwargs.pop("by")
        return visit_record(child=child, data=kwargs, by=by)
