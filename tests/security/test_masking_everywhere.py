"""Sensitive fields are masked per role wherever they appear (issue 9, item 5, reproduction 6).

Mentors and volunteers read the files of the children shared with them, but guardians' phone
numbers, ID numbers and confidential notes reach them only masked: on every page, htmx partial,
API answer, export and notification the URL resolver knows, and in e-mails.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from assessments.models import Alert
from cases.identity import national_id_check_digit
from cases.models import CareTeamMember, Child, Consent, Guardian
from cases.selectors.scope import children_visible_to
from cases.services.care import care_team_add
from cases.services.child import child_update
from cases.services.family import consent_record
from core.models import Delivery
from followups.delivery import deliveries_send
from followups.services import visit_record
from institutions.masking import mask_national_id, mask_phone
from institutions.models import Institution
from institutions.roles import ROLE_TABLE, Role
from referrals.services.sending import referral_create
from referrals.views.steps import STEPS
from tests.conftest import user
from tests.referrals import severe_assessment

pytestmark = pytest.mark.django_db

SHARED_ROLES = ["mentor", "volunteer"]
# Staff whose own scope holds the shared children: they write the records the others then read.
WRITERS = ["counselor", "social_worker", "supervisor_town", "director_a", "director_b"]
CONFIDENTIAL = "机密：家中有冲突，父亲电话另记"
PUBLIC_PREFIXES = ("accounts/", "i18n/", "healthz", "admin/", "api/schema/")


def shared_children(username: str) -> list[Child]:
    """The children a mentor or volunteer reaches, found through the selector, not by id."""
    children = list(children_visible_to(user(username)).order_by("id"))
    assert children, f"{username} should see some demo children"
    return children


def writer_for(child: Child):
    for username in WRITERS:
        if children_visible_to(user(username)).filter(pk=child.pk).exists():
            return user(username)
    raise AssertionError(f"no demo writer holds {child.record_number}")


def national_id(index: int) -> str:
    first17 = f"990101{date(2014, 3, 1 + index):%Y%m%d}{index:03d}"
    return first17 + national_id_check_digit(first17)


def phones_of(children: list[Child]) -> list[str]:
    return list(
        Guardian.objects.filter(child__in=children)
        .exclude(phone="")
        .values_list("phone", flat=True)
    )


def give_files_sensitive_data(username: str) -> dict[str, str]:
    """Fill the shared children's files as their own staff would (ID numbers, confidential
    notes, a confidential flagged visit, a care-team place, consent, a referral, an alert), and
    return every whole sensitive value, each with what leaking it would mean."""
    member = user(username)
    secrets: dict[str, str] = {}
    for index, child in enumerate(shared_children(username)):
        writer = writer_for(child)
        number = national_id(index)
        child_update(
            child=child,
            changes={"notes": CONFIDENTIAL, "notes_confidential": True},
            expected_version=child.version,
            by=writer,
            national_id=number,
        )
        secrets[number] = f"the ID number of {child.record_number}"
        visit_record(
            child=child,
            data={
                "kind": "home_visit",
                "visited_on": timezone.localdate(),
                "present": ["child"],
                "concerns": ["self_harm_talk"],
                "note": CONFIDENTIAL,
                "note_confidential": True,
            },
            by=writer,
        )
        if index == 0:
            team_role = (
                CareTeamMember.TeamRole.MENTOR
                if username == "mentor"
                else CareTeamMember.TeamRole.VOLUNTEER
            )
            care_team_add(child=child, team_role=team_role, user=member, by=writer)
            guardian = child.guardians.first()
            consent = consent_record(
                child=child,
                purpose=Consent.Purpose.REFERRAL,
                given_on=timezone.localdate(),
                by=writer,
                guardian=guardian,
            )
            referral_create(
                child=child,
                by=writer,
                to_institution=Institution.objects.get(name="演示县人民医院"),
                service=Institution.Service.PSYCHIATRIC_CLINIC,
                reason="情绪低落",
                consent=consent,
            )
            if writer.username == "counselor":
                severe_assessment(child)
    secrets[CONFIDENTIAL] = "a confidential note"
    # Every guardian's number in the database, not only those of the shared children.
    for phone in Guardian.objects.exclude(phone="").values_list("phone", flat=True):
        secrets[phone] = "a guardian's phone number"
    return secrets


def routes(resolver=None, prefix=""):
    """Every URL pattern, with the view class behind it (None for a plain function)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            yield prefix + str(pattern.pattern), view


PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def ids_for(view, kwarg: str, username: str, children: list[Child]) -> list[int]:
    """Ids for one URL parameter: objects of the kind the view fetches (its `fetch_model`, or
    the model of its scoping selector) that belong to the children the user sees."""
    model, rows = None, None
    if getattr(view, "fetch_model", None) is not None and kwarg == getattr(
        view, "fetch_kwarg", "pk"
    ):
        model = view.fetch_model
    elif kwarg == "pk" and getattr(view, "scope_selector", None) is not None:
        rows = view.scope_selector(user(username))
        model = rows.model
    if model is None or model is Child:
        return [child.pk for child in children]
    if any(field.name == "child" for field in model._meta.get_fields()):
        rows = model._default_manager.filter(child__in=children)
    elif rows is None:
        rows = model._default_manager.all()
    return list(rows.order_by("-pk").values_list("pk", flat=True)[:4]) or [children[0].pk]


def urls_for(route: str, view, username: str, children: list[Child]) -> list[str]:
    """The route with each parameter filled in every way worth trying for this user."""
    route = route.replace("^", "").replace("$", "").replace("\\.", ".").replace("\\Z", "")
    urls = ["/" + route]
    for match in PARAMETER.finditer(route):
        name = match.group(1) or match.group(2)
        if name == "pk" or name.endswith("_pk"):
            values = [str(pk) for pk in ids_for(view, name, username, children)]
        elif name == "step":
            values = list(STEPS)
        elif name == "fmt":
            values = ["xlsx", "csv"]
        else:  # a DRF format suffix
            values = ["json"]
        urls = [url.replace(match.group(0), value, 1) for url in urls for value in values]
    return [url.replace("/?", "/").replace("?", "") for url in urls]


def body(response) -> str:
    content = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    return content.decode("utf-8", errors="replace")


@pytest.mark.parametrize("username", SHARED_ROLES)
def test_shared_roles_see_guardians_phones_masked_on_the_file(username, login):
    """Reproduction 6: a mentor or volunteer opens a shared file and sees no whole number."""
    client = login(username)
    children = [c for c in shared_children(username) if phones_of([c])]
    assert children, "the shared children have guardians with phone numbers"
    for child in children:
        html = body(client.get(f"/children/{child.pk}/"))
        for phone in phones_of([child]):
            assert phone not in html, (username, child.record_number)
            assert mask_phone(phone) in html  # the guardian is listed, the number masked
        assert 'href="tel:' not in html


def test_a_child_director_sees_the_whole_number_to_call(login):
    child = next(c for c in shared_children("director_a") if phones_of([c]))
    html = body(login("director_a").get(f"/children/{child.pk}/"))
    for phone in phones_of([child]):
        assert f'<a href="tel:{phone}">{phone}</a>' in html


@pytest.mark.parametrize("username", SHARED_ROLES)
def test_no_page_or_api_answer_shows_a_shared_role_a_whole_sensitive_value(username, login):
    """Walk every URL the resolver knows, with ids of what the user reaches, plain and htmx."""
    secrets = give_files_sensitive_data(username)
    children = shared_children(username)
    client: Client = login(username)
    seen: dict[str, int] = {}
    for route, view in routes():
        if route.startswith(PUBLIC_PREFIXES) or "drf_format_suffix" in route:
            continue
        for url in urls_for(route, view, username, children):
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                assert response.status_code < 500, (url, response.status_code)
                text = body(response)
                for value, meaning in secrets.items():
                    assert value not in text, f"{url} shows {username} {meaning}"
                seen[url] = response.status_code
    opened = [url for url, status in seen.items() if status == 200]
    # The walk reached the shared files and what hangs off them, not only refusals.
    for child in children:
        assert f"/children/{child.pk}/" in opened
    assert any(url.startswith("/visits/") for url in opened)
    assert any(url.startswith("/api/v1/children/") for url in opened)
    assert "/notifications/" in opened


@pytest.mark.parametrize("username", SHARED_ROLES)
def test_masked_forms_are_shown_in_place_of_the_whole_values(username, login):
    give_files_sensitive_data(username)
    child = shared_children(username)[0]
    html = body(login(username).get(f"/children/{child.pk}/"))
    assert mask_national_id(national_id(0)) in html
    assert "［保密］" in html  # the confidential note's place, in the site's language


def test_the_supervisor_reads_what_the_shared_roles_may_not(login):
    give_files_sensitive_data("mentor")
    child = shared_children("mentor")[0]
    html = body(login("counselor").get(f"/children/{child.pk}/"))
    assert CONFIDENTIAL in html
    assert all(phone in html for phone in phones_of([child]))


def test_alert_e_mails_carry_no_personal_details(mailoutbox):
    secrets = give_files_sensitive_data("mentor")
    alert = Alert.objects.filter(child__in=shared_children("mentor")).latest("pk")
    waiting = Delivery.objects.filter(
        notification__kind="alert",
        notification__child=alert.child,
        channel=Delivery.Channel.EMAIL,
    )
    assert waiting.exists()
    waiting.update(status=Delivery.Status.PENDING, next_attempt_at=timezone.now())
    assert deliveries_send().sent >= 1
    alert_mails = [m for m in mailoutbox if alert.child.record_number in m.body]
    assert alert_mails
    for message in alert_mails:
        text = message.subject + message.body
        assert alert.child.name not in text
        for value, meaning in secrets.items():
            assert value not in text, f"an alert e-mail carries {meaning}"


def test_contact_details_are_given_to_the_roles_that_call_families():
    allowed = {
        role
        for role, spec in ROLE_TABLE.items()
        if "cases.view_contact_details" in spec.permissions
    }
    assert allowed == {
        Role.CHILD_DIRECTOR,
        Role.CHILD_SUPERVISOR,
        Role.SCHOOL_COUNSELLOR,
        Role.SOCIAL_WORKER,
        Role.INSTITUTION_STAFF,
        Role.CLINICIAN,
    }


def test_whoever_may_edit_guardians_may_see_their_numbers():
    """The guardian form shows the number it edits, so editing implies seeing it."""
    for role, spec in ROLE_TABLE.items():
        if "cases.record_consent" in spec.permissions:
            assert "cases.view_contact_details" in spec.permissions, role
