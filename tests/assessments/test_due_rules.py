"""The rules of a child's next reassessment (instruments' age ranges, reassessment policies) are
read once and kept in the cache, read with the user's principal, and forgotten when an
instrument or a policy changes; the policy matched in Python is the one the scheduled planner
matches in SQL."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache

from assessments.models import Instrument, ReassessmentPolicy
from assessments.selectors import DUE_RULES_KEY, DueRules, due_rules, policy_interval
from cases.models import Child, RiskLevel
from cases.models.child import Category
from followups.generators import reassessment_interval
from institutions.models import User
from institutions.principal import principal_for

pytestmark = pytest.mark.django_db


def _interval_in_sql(child: Child) -> int | None:
    """The rule as the scheduled planner applies it (followups.generators), on the saved row."""
    child.save(update_fields=["risk_level", "categories"])
    return (
        Child.objects.filter(pk=child.pk)
        .annotate(interval=reassessment_interval())
        .values_list("interval", flat=True)
        .get()
    )


def test_the_policy_matched_in_python_is_the_one_the_planner_matches():
    # Policies of every kind, some out of force, on top of the demo's.
    for n, (risk, category, setting) in enumerate(
        itertools.product(
            [None, RiskLevel.NONE, RiskLevel.HIGH],
            ["", Category.ORPHAN, Category.MIGRANT],
            ["any", "institution", "school"],
        )
    ):
        ReassessmentPolicy.objects.create(
            risk_level=risk,
            category=category,
            setting=setting,
            interval_days=40 + 7 * n,
            is_active=n % 4 != 0,
        )
    pupil = Child.objects.filter(school__isnull=False, residential_institution__isnull=True)[0]
    resident = Child.objects.filter(residential_institution__isnull=False)[0]
    at_home = Child.objects.filter(school__isnull=True, residential_institution__isnull=True)[0]
    rules = due_rules()
    checked = 0
    for child in (pupil, resident, at_home):
        for risk in RiskLevel.values:
            for categories in ([], [Category.ORPHAN], [Category.MIGRANT, Category.DISABILITY]):
                child.risk_level, child.categories = risk, categories
                assert policy_interval(child=child, rules=rules) == _interval_in_sql(child)
                checked += 1
    assert checked == 3 * len(RiskLevel.values) * 3


def test_the_rules_are_read_with_the_principal_and_forgotten_when_a_policy_changes():
    director = User.objects.get(username="director_a")
    kept = DueRules(age_ranges=((6, 7),), policies=((None, "", "any", 11),))
    cache.set(DUE_RULES_KEY, kept, 60)
    principal_for(director)  # reads the rules' key in the same round trip
    cache.delete(DUE_RULES_KEY)
    assert due_rules(director) == kept  # from that read, not from the cache
    # Read again (outside the principal's read): from the database, as they are.
    rules = due_rules(director)
    assert rules != kept
    assert (None, "", "any", 11) not in rules.policies

    cache.set(DUE_RULES_KEY, kept, 60)
    policy = ReassessmentPolicy.objects.filter(is_active=True).first()
    policy.interval_days += 1
    policy.save()
    assert cache.get(DUE_RULES_KEY) is None
    assert (policy.risk_level, policy.category, policy.setting, policy.interval_days) in (
        due_rules().policies
    )

    cache.set(DUE_RULES_KEY, kept, 60)
    instrument = Instrument.objects.filter(is_active=True).first()
    instrument.save()
    assert cache.get(DUE_RULES_KEY) is None
    cache.set(DUE_RULES_KEY, kept, 60)
    ReassessmentPolicy.objects.filter(pk=policy.pk).first().delete()
    assert cache.get(DUE_RULES_KEY) is None
