"""Bad input everywhere (issue 15): property-based tests (hypothesis) send the main forms and
API inputs whatever text, numbers and bytes come, in any charset, and no answer is a server
error; what is refused is refused on its field and nothing of it is saved. Names must hold a
letter; free text is capped."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Child, Guardian
from followups.models import Visit
from tests.conftest import client_for
from tests.demo import VILLAGE_A

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CHARSETS = ["latin-1", "gbk", "utf-16", "shift_jis", "no-such-charset", "utf-8"]
TEXT = st.text(max_size=80) | st.sampled_from(["{}", "123", " ", "\x00", "名" * 70, "'; --"])


def a_child() -> Child:
    return Child.objects.filter(residence_region_id=VILLAGE_A).order_by("id")[0]


def form_urls(child: Child) -> list[str]:
    return [
        reverse("cases:child_create"),
        reverse("cases:guardian_add", args=[child.pk]),
        reverse("followups:visit_create", args=[child.pk]),
        reverse("cases:care_team_add", args=[child.pk]),
    ]


@pytest.mark.parametrize("name", ["{}", "123", "()-.", "   "])
def test_a_name_without_letters_is_refused_on_its_field(login, name):
    client = login("director_a")
    before = Child.objects.count()
    page = client.post(
        reverse("cases:child_create"),
        {"name": name, "sex": "M", "birth_date": "2015-01-01", "residence_region": VILLAGE_A},
    )
    assert page.status_code == 200 and "name" in page.context["form"].errors
    api = client.post(
        "/api/v1/children/",
        json.dumps(
            {"name": name, "sex": "M", "birth_date": "2015-01-01", "residence_region": VILLAGE_A}
        ),
        content_type="application/json",
    )
    assert api.status_code == 400 and "name" in api.json()["fields"]
    guardian = client.post(
        reverse("cases:guardian_add", args=[a_child().pk]), {"name": name, "relation": "mother"}
    )
    assert "name" in guardian.context["form"].errors
    assert Child.objects.count() == before
    assert not Guardian.objects.filter(name=name).exists()


def test_a_long_note_is_refused_whole(login):
    child = a_child()
    page = login("director_a").post(
        reverse("followups:visit_create", args=[child.pk]),
        {
            "kind": "talk",
            "visited_on": timezone.localdate().isoformat(),
            "present": "child",
            "mood": "calm",
            "next_step": "routine",
            "note": "记" * 1_000_000,
        },
    )
    assert page.status_code == 200 and "note" in page.context["form"].errors
    assert not Visit.objects.filter(child=child).exists()


@FUZZ
@given(name=TEXT, born=TEXT, region=TEXT, note=TEXT)
def test_registering_a_child_never_fails_on_any_text(login, name, born, region, note):
    client = client_for("director_a")
    response = client.post(
        reverse("cases:child_create"),
        {"name": name, "sex": "F", "birth_date": born, "residence_region": region, "notes": note},
    )
    assert response.status_code in (200, 302, 400)


@FUZZ
@given(body=st.binary(max_size=300), charset=st.sampled_from(CHARSETS), index=st.integers(0, 3))
def test_form_bodies_in_any_charset_never_fail(login, body, charset, index):
    client = client_for("director_a")
    url = form_urls(a_child())[index]
    response = client.generic(
        "POST", url, body, content_type=f"application/x-www-form-urlencoded; charset={charset}"
    )
    assert response.status_code < 500, (url, charset, body)


@FUZZ
@given(
    payload=st.dictionaries(
        st.sampled_from(["name", "sex", "birth_date", "residence_region", "categories", "school"]),
        st.none() | st.booleans() | st.integers() | st.floats() | TEXT | st.lists(TEXT, max_size=3),
    ),
    charset=st.sampled_from(CHARSETS),
)
def test_api_inputs_never_fail(login, payload, charset):
    client = client_for("director_a")
    text = json.dumps(payload)
    for url in ("/api/v1/children/", "/api/v1/guardians/", "/api/v1/visits/"):
        try:
            body = text.encode(charset.replace("no-such-charset", "utf-8"))
        except LookupError:
            body = text.encode()
        response = client.generic(
            "POST", url, body, content_type=f"application/json; charset={charset}"
        )
        assert response.status_code < 500, (url, charset, payload)
