"""A visit sent from a phone's queue (static/js/offline.js) is answered in JSON, and saved once
however often it arrives; a visit to a closed file is refused with a message and nothing saved."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from cases.models import Child
from cases.services.child import child_close
from followups.models import Visit
from tests.conftest import client_for
from tests.demo import VILLAGE_A, user


def _visit(key: str) -> dict:
    return {
        "submission_key": key,
        "kind": "home_visit",
        "visited_on": timezone.localdate().isoformat(),
        "present": ["child"],
        "mood": "calm",
        "next_step": "routine",
    }


@pytest.mark.django_db
def test_a_queued_visit_sent_twice_is_saved_once(login):
    """The phone may send a visit again when the answer to the first sending was lost: the
    one-time key makes the second a replay of the first."""
    client = login("director_a")
    child = Child.objects.filter(residence_region_id=VILLAGE_A, status="active").first()
    assert child is not None
    before = Visit.objects.filter(child=child, visitor__username="director_a").count()
    key = str(uuid.uuid4())
    data = _visit(key)
    url = f"/visits/new/{child.pk}/"
    first = client.post(url, data, HTTP_X_OFFLINE_SYNC="1")
    again = client.post(url, data, HTTP_X_OFFLINE_SYNC="1")
    assert first.status_code == 200 and first.json()["status"] == "saved"
    assert again.json() == first.json()
    assert Visit.objects.filter(child=child, visitor__username="director_a").count() == before + 1
    # Another user's session cannot send it (no access: the page answers 404).
    assert client_for("director_b").post(url, data, HTTP_X_OFFLINE_SYNC="1").status_code == 404


@pytest.mark.django_db
def test_a_queued_visit_for_a_closed_file_is_refused_with_a_message(login):
    client = login("director_a")
    child = Child.objects.filter(residence_region_id=VILLAGE_A, status="active").first()
    assert child is not None
    child_close(
        child=child, reason="测试：迁出", expected_version=child.version, by=user("director_a")
    )
    before = Visit.objects.filter(child=child).count()
    answer = client.post(
        f"/visits/new/{child.pk}/", _visit(str(uuid.uuid4())), HTTP_X_OFFLINE_SYNC="1"
    )
    assert answer.status_code == 409 and answer.json()["status"] == "refused"
    assert "closed" in " ".join(answer.json()["messages"]) or "关闭" in " ".join(
        answer.json()["messages"]
    )
    assert Visit.objects.filter(child=child).count() == before
    # The page says the same on the form.
    page = client.post(f"/visits/new/{child.pk}/", _visit(str(uuid.uuid4())))
    assert page.status_code == 200 and page.context["form"].non_field_errors()


@pytest.mark.django_db
def test_a_queued_visit_sent_after_the_session_ended_is_not_taken_for_saved(client):
    """The phone keeps it (401 "signed_out") until its owner signs in again."""
    child = Child.objects.filter(residence_region_id=VILLAGE_A, status="active").first()
    assert child is not None
    answer = client.post(
        f"/visits/new/{child.pk}/", _visit(str(uuid.uuid4())), HTTP_X_OFFLINE_SYNC="1"
    )
    assert answer.status_code == 401 and answer.json()["status"] == "signed_out"
