"""Care-plan dates with sensible defaults and bounds (issue 16): the review is offered 90 days
ahead, and no plan date may be more than 5 years ahead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CarePlan
from tests.factories import CarePlanFactory

pytestmark = pytest.mark.django_db


def test_a_new_plan_starts_today_and_is_reviewed_in_90_days(login, child_in_scope_of):
    child = child_in_scope_of("director_a")
    form = login("director_a").get(reverse("cases:care_plan_add", args=[child.pk])).context["form"]
    today = timezone.localdate()
    assert form.fields["start_date"].initial == today
    assert form.fields["review_date"].initial == today + timedelta(days=90)


@pytest.mark.parametrize("years", [6, 7975])
def test_a_plan_date_more_than_5_years_ahead_is_refused_on_its_field(
    login, child_in_scope_of, years
):
    child = child_in_scope_of("director_a")
    client = login("director_a")
    far = timezone.localdate() + timedelta(days=365 * years)
    response = client.post(
        reverse("cases:care_plan_add", args=[child.pk]),
        {
            "classification": "general",
            "goals": "测试目标",
            "interventions": ["counselling"],
            "owner": "",
            "start_date": timezone.localdate().isoformat(),
            "review_date": far.isoformat() if far.year < 10000 else "9999-12-31",
            "replaces": 0,
        },
    )
    assert response.status_code == 200
    assert "review_date" in response.context["form"].errors
    assert not CarePlan.objects.filter(child=child).exists()


def test_a_review_offers_the_next_one_in_90_days(login, child_in_scope_of):
    plan = CarePlanFactory(child=child_in_scope_of("director_a"))
    page = login("director_a").get(reverse("cases:care_plan_review", args=[plan.pk]))
    form = page.context["form"]
    assert form.fields["next_review_date"].initial == timezone.localdate() + timedelta(days=90)
