"""Factories for the followups app: visits, logged through `visit_record`; follow-up plans,
made through `plan_create`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from followups.models import FollowupPlan, Visit
from followups.services import visit_record
from followups.services.plans import Schedule, plan_create
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


class FollowupPlanFactory(DjangoModelFactory):
    """A follow-up plan made by hand through `plan_create`: every 14 days for 12 weeks from
    today towards a goal, by the child's registrar unless `by` is given, with `partners` (none
    unless given) paired in `partner_role` (the mentor)."""

    class Meta:
        model = FollowupPlan

    child = factory.SubFactory(ChildFactory)
    partners = factory.LazyFunction(list)
    partner_role = "mentor"
    schedule = factory.LazyFunction(lambda: Schedule.every(14))
    start_on = factory.LazyFunction(timezone.localdate)
    end_on = factory.LazyAttribute(lambda o: o.start_on + timedelta(weeks=12))
    goal = "测试随访：返校后情绪稳定，按时上学"
    referral = None
    by = factory.LazyAttribute(lambda o: o.child.created_by or user("county_civil"))

    @classmethod
    def _create(cls, model_class: type[FollowupPlan], *args: Any, **kwargs: Any) -> FollowupPlan:
        return plan_create(**kwargs)
