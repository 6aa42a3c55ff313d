"""Break the glass (DESIGN.md §5): a stated reason opens one file for a few hours, logged,
the supervisor told at once and reviewing it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import EmergencyAccess
from core.models import AccessEvent, Notification
from tests.cases.test_file import child_form, make_child, tokens_shown

pytestmark = pytest.mark.django_db


def found_outside(login, region="990101001002"):
    """director_b finds, through the duplicate search, a child of another township."""
    child = make_child(region=region, name="急救孩子", birth_date=date(2012, 2, 2))
    client = login("director_b")
    response = client.post(
        "/children/new/",
        child_form(name="急救孩子", birth_date="2012-02-02", residence_region="990101002001"),
    )
    return client, child, tokens_shown(response)[child.pk]


def test_a_stated_emergency_opens_the_file_for_a_few_hours(login):
    client, child, token = found_outside(login)
    file_url = reverse("cases:child_detail", args=[child.pk])
    assert client.get(file_url).status_code == 404
    short = client.post("/children/emergency-access/", {"token": token, "reason": "急"})
    assert "reason" in short.context["form"].errors
    assert not EmergencyAccess.objects.exists()

    response = client.post(
        "/children/emergency-access/",
        {
            "token": token,
            "reason_code": "self_harm",
            "reason": "孩子在校突发自伤，需查看监护人联系方式",
        },
    )
    assert response["Location"] == file_url
    assert client.get(file_url).status_code == 200
    access = EmergencyAccess.objects.get(child=child)
    assert abs(access.expires_at - access.created_at - timedelta(hours=4)) < timedelta(seconds=1)
    assert AccessEvent.objects.filter(
        child=child, user__username="director_b", detail__emergency_access=access.pk
    ).exists()
    assert Notification.objects.filter(
        recipient__username="supervisor_town", kind="emergency_access", child=child
    ).exists()

    EmergencyAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(file_url).status_code == 404


def test_the_supervisor_reviews_it_and_others_cannot(login):
    client, child, token = found_outside(login)
    client.post(
        "/children/emergency-access/",
        {
            "token": token,
            "reason_code": "danger",
            "reason": "突发情况需要马上联系家长，孩子下落不明",
        },
    )
    access = EmergencyAccess.objects.get(child=child)
    supervisor = login("supervisor_town")
    assert 'data-testid="emergency-to-review"' in supervisor.get("/").content.decode()
    assert login("director_a").get("/children/emergency-reviews/").status_code == 403
    supervisor.post("/children/emergency-reviews/", {"access": access.pk, "note": "情况属实"})
    access.refresh_from_db()
    assert access.reviewed_by.username == "supervisor_town" and access.review_note == "情况属实"


def test_a_borrowed_token_opens_nothing(login):
    _client, child, token = found_outside(login)
    other = login("counselor")
    response = other.post(
        "/children/emergency-access/",
        {"token": token, "reason_code": "other", "reason": "借用他人的链接打开档案看看情况如何"},
    )
    assert response.status_code == 404
    assert not EmergencyAccess.objects.filter(child=child).exists()
