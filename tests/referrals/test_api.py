"""The read-only referral endpoint: scope, hidden clinical fields and the access log."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory, force_authenticate

from core.models import AccessEvent
from referrals.api import ReferralViewSet
from tests.conftest import user
from tests.referrals import S, advance, sent

pytestmark = pytest.mark.django_db


def call(username: str, action: str, **kwargs):
    request = APIRequestFactory().get("/api/v1/referrals/")
    force_authenticate(request, user=user(username))
    return ReferralViewSet.as_view({"get": action})(request, **kwargs)


def test_clinical_fields_are_null_for_the_sending_side():
    referral = advance(sent(), S.DISCHARGED)
    sender = call("counselor", "retrieve", pk=referral.pk)
    assert sender.status_code == 200
    assert sender.data["outcome_summary"] == referral.outcome_summary
    assert sender.data["diagnosis"] is None and sender.data["treatment"] is None
    clinic = call("clinician", "retrieve", pk=referral.pk)
    assert clinic.data["diagnosis"] == "抑郁发作（中度）"
    assert AccessEvent.objects.filter(action="api_view", detail__referral=referral.pk).count() == 2


def test_outsider_gets_404_and_lists_nothing_of_it():
    referral = sent()
    assert call("director_b", "retrieve", pk=referral.pk).status_code == 404
    listed = call("director_b", "list")
    ids = [row["id"] for row in listed.data["results"]] if "results" in listed.data else []
    assert referral.pk not in ids


def test_writes_are_refused():
    request = APIRequestFactory().post("/api/v1/referrals/", {}, format="json")
    force_authenticate(request, user=user("counselor"))
    response = ReferralViewSet.as_view({"get": "list"})(request)
    assert response.status_code in (403, 405)


def test_list_query_count_does_not_grow_with_rows():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sent()

    def count(username: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert call(username, "list").status_code == 200
        return len(captured.captured_queries)

    few = (count("counselor"), count("clinician"))
    for _ in range(5):
        advance(sent(), S.DISCHARGED)
    assert (count("counselor"), count("clinician")) == few
