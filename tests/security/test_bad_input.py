"""Reproduction 11 and its class: an out-of-range value in a filter or a form (a date such as
9999-12-31, a huge number, a 100,000-character text) is a clear message on the field in the
user's language, or a 400 in the API; never a 500, and nothing is saved."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from django.core.validators import MaxLengthValidator
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from assessments.models import Assessment, ScreeningSession
from assessments.selectors import instruments_for_child
from cases.models import CarePlan, Child, Consent
from cases.selectors.scope import children_visible_to
from cases.services.family import consent_record
from core.inputs import TEXT_MAX_LENGTH, DateBounds
from followups.models import Activity, Visit
from institutions.models import Training
from referrals.models import Referral
from tests.conftest import user

pytestmark = pytest.mark.django_db

FAR_DATE = "9999-12-31"
EARLY_DATE = "0001-01-01"
HUGE = str(10**30)
LONG = "长" * 100_000
HTMX = {"HX-Request": "true"}


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return str(text)


def date_message() -> str:
    bounds = DateBounds()
    return zh(gettext(DateBounds.message)) % {
        "earliest": bounds.earliest.isoformat(),
        "latest": bounds.latest().isoformat(),
    }


def length_message() -> str:
    validator = MaxLengthValidator(TEXT_MAX_LENGTH)
    return zh(validator.message) % {"limit_value": TEXT_MAX_LENGTH, "show_value": len(LONG)}


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def own_child(username: str) -> Child:
    """A child of the user's that is active (the first one in their list)."""
    return children_visible_to(user(username)).filter(status=Child.Status.ACTIVE).order_by("pk")[0]


# -- reproduction 11 ------------------------------------------------------------------------------


def test_the_access_log_with_a_far_end_date_shows_a_message_on_the_field():
    response = client_of("auditor").get("/children/audit/", {"date_to": FAR_DATE})
    assert response.status_code == 200
    body = text_of(response)
    assert date_message() in body
    assert 'data-testid="audit-filter-errors"' in body


def test_the_htmx_access_log_filter_with_a_far_end_date_shows_the_message():
    response = client_of("auditor").get(
        "/children/audit/",
        {"date_to": FAR_DATE},
        headers={**HTMX, "HX-Target": "audit-rows"},
    )
    assert response.status_code == 200  # swapped in by htmx, so the message is seen
    assert date_message() in text_of(response)


# -- list filters, pages and htmx -----------------------------------------------------------------

FILTERS = [
    ("auditor", "/children/audit/", "date_from", "audit-rows"),
    ("auditor", "/children/audit/", "date_to", "audit-rows"),
    ("auditor", "/children/audit/", "user", "audit-rows"),
    ("auditor", "/children/audit/", "record_number", "audit-rows"),
    ("director_a", "/children/", "q", "child-rows"),
    ("director_a", "/children/", "region", "child-rows"),
    ("director_a", "/children/", "school", "child-rows"),
    ("director_a", "/children/", "page", "child-rows"),
    ("director_a", "/activities/", "q", "activity-rows"),
    ("director_a", "/venues/", "q", "venue-rows"),
    ("director_a", "/venues/", "region", "venue-rows"),
    ("supervisor_town", "/trainings/", "q", None),
    ("supervisor_town", "/trainings/report/", "year", None),
    ("counselor", "/assessments/screenings/", "page", None),
]


@pytest.mark.parametrize("value", [FAR_DATE, EARLY_DATE, HUGE, LONG], ids=lambda v: v[:12])
@pytest.mark.parametrize(("username", "url", "param", "target"), FILTERS)
def test_an_out_of_range_filter_value_never_breaks_a_list(username, url, param, target, value):
    client = client_of(username)
    page = client.get(url, {param: value})
    assert page.status_code in (200, 400), page.status_code
    if target:
        partial = client.get(url, {param: value}, headers={**HTMX, "HX-Target": target})
        assert partial.status_code in (200, 400), partial.status_code


@pytest.mark.parametrize(
    ("username", "url", "param", "target"),
    [
        ("auditor", "/children/audit/", "user", "audit-rows"),
        ("director_a", "/children/", "q", "child-rows"),
    ],
)
def test_an_over_long_search_is_refused_with_a_message_also_through_htmx(
    username, url, param, target
):
    client = client_of(username)
    for headers in ({}, {**HTMX, "HX-Target": target}):
        response = client.get(url, {param: LONG}, headers=headers)
        assert response.status_code == 200
        assert length_message() in text_of(response)


# -- forms ----------------------------------------------------------------------------------------


class _Form(HTMLParser):
    """The fields of the page's forms with their initial values: {field name: value}."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []
        self.current: dict[str, object] | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = {}
            self.forms.append(self.current)
        if self.current is None:
            return
        if tag == "option" and self.select and a.get("value"):
            # the selected option, else the first with a value
            if self.select not in self.current or "selected" in a:
                self.current[self.select] = a["value"]
            return
        if not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    if kind == "checkbox" and name in self.current:
                        previous = self.current[name]
                        values = previous if isinstance(previous, list) else [previous]
                        self.current[name] = [*values, a.get("value", "on")]
                    else:
                        self.current[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.current[name] = a.get("value", "")
        elif tag == "textarea":
            self.current[name] = ""
        elif tag == "select":
            self.select = name

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        if tag == "select":
            self.select = None


def form_data(client: Client, url: str, field: str) -> dict[str, object]:
    """The data of the form on `url` holding `field`, as the browser would send it."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = _Form()
    parser.feed(response.content.decode())
    found = [f for f in parser.forms if field in f]
    assert found, f"no form with {field} on {url}"
    return dict(found[0])


def _url(template: str, username: str) -> str:
    if "{child}" not in template:
        return template
    child = own_child(username)
    if "{instrument}" in template:
        return template.format(child=child.pk, instrument=instruments_for_child(child)[0].pk)
    return template.format(child=child.pk)


FORMS = [
    # user, form page, field, bad value, expected message, what must not be saved, filled in
    ("director_a", "/children/new/", "birth_date", FAR_DATE, date_message, Child, {"name": "甲"}),
    ("director_a", "/children/new/", "notes", LONG, length_message, Child, {"name": "甲"}),
    ("director_a", "/visits/new/{child}/", "visited_on", EARLY_DATE, date_message, Visit, {}),
    ("director_a", "/visits/new/{child}/", "note", LONG, length_message, Visit, {}),
    (
        "director_a",
        "/children/{child}/consents/new/",
        "given_on",
        FAR_DATE,
        date_message,
        Consent,
        {},
    ),
    (
        "director_a",
        "/children/{child}/plans/new/",
        "review_date",
        FAR_DATE,
        date_message,
        CarePlan,
        {"goals": "目标"},
    ),
    ("director_a", "/children/{child}/plans/new/", "goals", LONG, length_message, CarePlan, {}),
    (
        "director_a",
        "/activities/new/",
        "held_on",
        FAR_DATE,
        date_message,
        Activity,
        {"topic": "家长课堂"},
    ),
    (
        "director_a",
        "/activities/new/",
        "note",
        LONG,
        length_message,
        Activity,
        {"topic": "家长课堂"},
    ),
    (
        "supervisor_town",
        "/trainings/new/",
        "held_on",
        EARLY_DATE,
        date_message,
        Training,
        {"topic": "培训", "hours": "2", "organiser": "县民政局", "attendees": "director_a"},
    ),
    (
        "counselor",
        "/assessments/screenings/new/",
        "administered_on",
        EARLY_DATE,
        date_message,
        ScreeningSession,
        {},
    ),
    (
        "counselor",
        "/assessments/child/{child}/new/?instrument={instrument}",
        "administered_on",
        EARLY_DATE,
        date_message,
        Assessment,
        {},
    ),
    (
        "director_a",
        "/referrals/new/{child}/",
        "consent_given_on",
        FAR_DATE,
        date_message,
        Referral,
        {"reason": "需要转介"},
    ),
    ("director_a", "/referrals/new/{child}/", "reason", LONG, length_message, Referral, {}),
]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize(("username", "url", "field", "value", "message", "model", "extra"), FORMS)
def test_an_out_of_range_form_value_is_a_message_on_the_field_and_saves_nothing(
    username, url, field, value, message, model, extra, htmx
):
    client = client_of(username)
    url = _url(url, username)
    data = {**form_data(client, url, field), **extra, field: value}
    before = model.objects.count()
    response = client.post(url, data, headers=HTMX if htmx else {})
    assert response.status_code in (200, 400, 409), response.status_code
    assert message() in text_of(response)
    assert model.objects.count() == before


@pytest.mark.parametrize("field", ["version", "replaces"])
def test_a_huge_hidden_number_is_refused_without_an_error_page(field):
    client = client_of("director_a")
    child = own_child("director_a")
    url = (
        f"/children/{child.pk}/plans/new/" if field == "replaces" else f"/children/{child.pk}/edit/"
    )
    data = {**form_data(client, url, field), field: HUGE}
    before = (CarePlan.objects.count(), Child.objects.get(pk=child.pk).version)
    response = client.post(url, data)
    assert response.status_code in (200, 400, 409)
    assert (CarePlan.objects.count(), Child.objects.get(pk=child.pk).version) == before


# -- the API --------------------------------------------------------------------------------------


def _consented_pupil() -> Child:
    child = own_child("counselor")
    if not child.consents.filter(purpose=Consent.Purpose.ASSESSMENT).exists():
        consent_record(
            child=child,
            purpose=Consent.Purpose.ASSESSMENT,
            given_on=timezone.localdate(),
            by=user("counselor"),
            guardian=child.guardians.filter(is_active=True).first(),
        )
    return child


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("administered_on", EARLY_DATE),
        ("administered_on", FAR_DATE),
        ("child", 10**30),
        ("instrument", LONG),
        ("answers", {"1": 10**30}),
    ],
    ids=["early-date", "far-date", "huge-child", "long-instrument", "huge-answer"],
)
def test_the_api_answers_400_with_the_field_for_out_of_range_input(field, value):
    child = _consented_pupil()
    payload = {
        "child": child.pk,
        "instrument": "GAD-7",
        "answers": {str(n): 0 for n in range(1, 8)},
        field: value,
    }
    response = client_of("counselor").post(
        "/api/v1/assessments/", payload, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    # The field itself, or its parts ("answers.1") for a field holding several values.
    named = {name.split(".")[0] for name in response.json()["fields"]}
    assert field in named
    assert not Assessment.objects.filter(child=child).exists()


@pytest.mark.parametrize(
    ("param", "value"), [("q", LONG), ("region", HUGE), ("school", HUGE), ("cursor", HUGE)]
)
def test_the_api_child_list_answers_400_or_404_for_out_of_range_filters(param, value):
    response = client_of("director_a").get("/api/v1/children/", {param: value})
    assert response.status_code in (400, 404), response.status_code
