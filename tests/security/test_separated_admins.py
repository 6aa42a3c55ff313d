"""Separated administrators (三员分立): the system administrator asks for memberships, the
security administrator approves them and issues set-password links, the auditor reads the logs;
nobody gives themselves access, sets another person's password or reads children's files."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cases.models import Child
from core.models import AccessEvent
from institutions.admin.site import site
from institutions.models import Agency, Membership, User
from institutions.roles import Role
from institutions.services import membership_grant
from tests.conftest import DEMO_PASSWORD, user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Fresh-Harbour-2032"
MEMBERSHIPS = "/admin/institutions/membership/"


def civil_affairs() -> Agency:
    return Agency.objects.get(kind=Agency.Kind.CIVIL_AFFAIRS)


def ask_for_membership(client: Client, member: User, role: Role, jurisdiction: str = ""):
    return client.post(
        f"{MEMBERSHIPS}add/",
        {
            "user": member.pk,
            "agency": civil_affairs().pk,
            "role": role,
            "jurisdiction": jurisdiction,
            "is_active": "on",
        },
    )


def decide(client: Client, membership: Membership, action: str = "approve_memberships"):
    return client.post(
        MEMBERSHIPS, {"action": action, "_selected_action": [membership.pk], "index": "0"}
    )


def admin_events(**detail) -> int:
    return AccessEvent.objects.filter(
        action=AccessEvent.Action.ADMIN,
        child__isnull=True,
        **{f"detail__{k}": v for k, v in detail.items()},
    ).count()


def sign_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    client.signed_in = response.status_code == 302  # type: ignore[attr-defined]
    return client


def newcomer(username: str = "newcomer", **extra) -> User:
    return User.objects.create_user(username, password=DEMO_PASSWORD, **extra)


# The reproductions of the security review.


def test_system_administrator_cannot_give_itself_a_child_directors_membership(login):
    """Reproduction 3: admin gave itself a child director's membership for region 99."""
    admin = login("admin")
    child = Child.objects.order_by("id").first()
    response = ask_for_membership(admin, user("admin"), Role.CHILD_DIRECTOR, "99")
    assert response.status_code == 200
    assert "Nobody gives themselves a membership" in response.content.decode() or (
        "任何人都不能给自己" in response.content.decode()
    )
    assert not Membership.objects.filter(user__username="admin", role=Role.CHILD_DIRECTOR).exists()
    assert admin.get(f"/children/{child.pk}/").status_code == 404
    listing = admin.get("/api/v1/children/")
    assert listing.status_code == 403 or listing.json()["results"] == []


def test_security_administrator_cannot_set_a_password(login):
    """Reproduction 4: security set director_b's password in the admin and signed in as them."""
    target = user("director_b")
    response = login("security").post(
        f"/admin/institutions/user/{target.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 403
    assert not sign_in("director_b", NEW_PASSWORD).signed_in
    assert sign_in("director_b", DEMO_PASSWORD).signed_in
    # Nor can the system administrator.
    response = login("admin").post(
        f"/admin/institutions/user/{target.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 403
    assert not sign_in("director_b", NEW_PASSWORD).signed_in


def test_security_administrator_cannot_read_the_access_log(login):
    """Reproduction 12: the README says only auditors read the access log."""
    child = Child.objects.order_by("id").first()
    security = login("security")
    for url in (
        reverse("cases:audit_log"),
        reverse("cases:audit_child", args=[child.pk]),
        reverse("cases:audit_user", args=[user("director_a").pk]),
    ):
        assert security.get(url).status_code in (403, 404), url
    assert security.get(reverse("cases:audit_admin_actions")).status_code == 403
    assert not user("security").has_perm("core.view_accessevent")
    assert "cases/accessevent" not in security.get("/admin/").content.decode()
    assert login("auditor").get(reverse("cases:audit_log")).status_code == 200


# Memberships wait for the security administrator.


def test_a_membership_gives_access_to_children_only_once_approved(login):
    member = newcomer()
    child = Child.objects.filter(residence_region_id="990101001001").order_by("id")[0]
    assert (
        ask_for_membership(login("admin"), member, Role.CHILD_DIRECTOR, "990101001001").status_code
        == 302
    )
    membership = Membership.objects.get(user=member)
    assert membership.approval_status == Membership.Approval.PENDING and not membership.is_active
    assert membership.requested_by == user("admin")

    client = login("newcomer")
    assert client.get(f"/children/{child.pk}/").status_code == 404
    assert child.record_number not in client.get("/children/").content.decode()

    assert decide(login("security"), membership).status_code == 302
    membership.refresh_from_db()
    assert membership.is_active and membership.decided_by == user("security")
    assert login("newcomer").get(f"/children/{child.pk}/").status_code == 200


def test_a_refused_membership_never_takes_effect(login):
    member = newcomer()
    ask_for_membership(login("admin"), member, Role.CHILD_DIRECTOR, "990101001001")
    membership = Membership.objects.get(user=member)
    decide(login("security"), membership, "refuse_memberships")
    membership.refresh_from_db()
    assert membership.approval_status == Membership.Approval.REFUSED and not membership.is_active
    assert not User.objects.get(pk=member.pk).has_perm("cases.view_child")
    # A refused request cannot be approved afterwards.
    decide(login("security"), membership)
    membership.refresh_from_db()
    assert membership.approval_status == Membership.Approval.REFUSED


def test_the_system_administrator_cannot_approve(login):
    member = newcomer()
    ask_for_membership(login("admin"), member, Role.CHILD_DIRECTOR, "990101001001")
    membership = Membership.objects.get(user=member)
    decide(login("admin"), membership)
    membership.refresh_from_db()
    assert membership.approval_status == Membership.Approval.PENDING


def test_nobody_approves_their_own_membership(login):
    # The system administrator asks for a second security-administrator place for `security`.
    other = Agency.objects.exclude(kind=Agency.Kind.CIVIL_AFFAIRS).first()
    response = login("admin").post(
        f"{MEMBERSHIPS}add/",
        {"user": user("security").pk, "agency": other.pk, "role": Role.SECURITY_ADMIN},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="security", agency=other)
    page = decide(login("security"), membership)
    assert page.status_code == 302
    membership.refresh_from_db()
    assert membership.approval_status == Membership.Approval.PENDING
    # A second security administrator may.
    colleague = newcomer("security_2", is_demo=True)  # exempt from two-factor in tests
    membership_grant(user=colleague, role=Role.SECURITY_ADMIN, agency=civil_affairs())
    decide(login("security_2"), membership)
    membership.refresh_from_db()
    assert membership.is_active


def test_the_system_administrator_cannot_change_its_own_membership(login):
    own = Membership.objects.get(user__username="admin")
    response = login("admin").post(
        f"{MEMBERSHIPS}{own.pk}/change/", {"role": Role.CHILD_DIRECTOR, "jurisdiction": "99"}
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.role == Role.SYSTEM_ADMIN and own.jurisdiction == []


def test_an_approved_membership_cannot_be_widened_only_ended(login):
    member = newcomer()
    membership = membership_grant(
        user=member, role=Role.CHILD_DIRECTOR, agency=civil_affairs(), jurisdiction=["990101001001"]
    )
    login("admin").post(
        f"{MEMBERSHIPS}{membership.pk}/change/",
        {"role": Role.AGENCY_SUPERVISOR, "jurisdiction": "99", "is_active": "on"},
    )
    membership.refresh_from_db()
    assert membership.role == Role.CHILD_DIRECTOR and membership.jurisdiction == ["990101001001"]
    assert membership.is_active


def test_a_new_jurisdiction_replaces_the_old_one_when_approved(login):
    member = newcomer()
    old = membership_grant(
        user=member, role=Role.CHILD_DIRECTOR, agency=civil_affairs(), jurisdiction=["990101001001"]
    )
    ask_for_membership(login("admin"), member, Role.CHILD_DIRECTOR, "990101002001")
    new = Membership.objects.get(user=member, approval_status=Membership.Approval.PENDING)
    old.refresh_from_db()
    assert old.is_active  # in force while the change waits
    decide(login("security"), new)
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.is_active and not old.is_active and old.ended_on is not None


def test_administrators_hold_no_other_role(login):
    admin = login("admin")
    response = ask_for_membership(admin, user("auditor"), Role.CHILD_DIRECTOR, "990101001001")
    assert response.status_code == 200
    assert not Membership.objects.filter(
        user__username="auditor", role=Role.CHILD_DIRECTOR
    ).exists()
    response = ask_for_membership(admin, user("director_a"), Role.SECURITY_ADMIN)
    assert response.status_code == 200
    assert not Membership.objects.filter(
        user__username="director_a", role=Role.SECURITY_ADMIN
    ).exists()


def test_the_security_administrator_cannot_create_memberships(login):
    response = ask_for_membership(login("security"), newcomer(), Role.CHILD_DIRECTOR, "99")
    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="newcomer").exists()


def test_membership_steps_are_in_the_access_log(login):
    member = newcomer()
    ask_for_membership(login("admin"), member, Role.CHILD_DIRECTOR, "990101001001")
    membership = Membership.objects.get(user=member)
    assert admin_events(event="membership_requested", membership=membership.pk) == 1
    decide(login("security"), membership)
    assert admin_events(event="membership_approved", membership=membership.pk) == 1
    event = AccessEvent.objects.filter(detail__event="membership_approved").latest("at")
    assert event.user == user("security")


# Passwords: a one-time link, never a password set by someone else.


def issue_link(client: Client, target: User) -> str:
    url = f"/admin/institutions/user/{target.pk}/password-link/"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url)
    assert response.status_code == 200
    match = re.search(
        r'value="(http://testserver/accounts/set-password/[^"]+)"', response.content.decode()
    )
    assert match, "the link is shown once"
    return match.group(1).replace("http://testserver", "")


def set_password_through(link: str, password: str) -> tuple[Client, object]:
    client = Client()
    opened = client.get(link)
    assert opened.status_code == 302  # Django moves the token out of the address
    form_url = opened["Location"]
    page = client.get(form_url)
    response = client.post(form_url, {"new_password1": password, "new_password2": password})
    return page, response


def test_the_security_administrator_issues_a_one_time_link(login, mailoutbox):
    target = user("director_b")
    link = issue_link(login("security"), target)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [target.email]
    assert link in mailoutbox[0].body
    assert admin_events(event="password_link_issued", member=target.pk) == 1

    page, response = set_password_through(link, NEW_PASSWORD)
    assert page.context["validlink"]
    assert response.status_code == 302 and response["Location"] == reverse("password_set_done")
    assert sign_in("director_b", NEW_PASSWORD).signed_in
    assert admin_events(event="password_set_by_link", member=target.pk) == 1

    # The link works once.
    again = Client()
    opened = again.get(link)
    assert opened.status_code == 200 and not opened.context["validlink"]
    again.post(link, {"new_password1": "Another-Pass-2033", "new_password2": "Another-Pass-2033"})
    assert not sign_in("director_b", "Another-Pass-2033").signed_in
    assert sign_in("director_b", NEW_PASSWORD).signed_in


def test_a_link_works_for_24_hours_and_not_longer():
    assert settings.PASSWORD_RESET_TIMEOUT == 24 * 3600
    target = user("director_b")
    uid = urlsafe_base64_encode(force_bytes(target.pk))

    class IssuedAt(PasswordResetTokenGenerator):
        def __init__(self, hours_ago: float) -> None:
            super().__init__()
            self.hours_ago = hours_ago

        def _now(self) -> datetime:
            return datetime.now() - timedelta(hours=self.hours_ago)  # noqa: DTZ005 (as Django)

    for hours_ago, valid in ((23.5, True), (24.5, False)):
        token = IssuedAt(hours_ago).make_token(target)
        link = reverse("password_set", kwargs={"uidb64": uid, "token": token})
        page = Client().get(link, follow=True)
        assert page.context["validlink"] is valid, hours_ago


def test_a_link_without_an_email_address_is_only_shown(login, mailoutbox):
    target = newcomer("no_mail")
    link = issue_link(login("security"), target)
    assert mailoutbox == []
    set_password_through(link, NEW_PASSWORD)
    assert sign_in("no_mail", NEW_PASSWORD).signed_in


def test_the_account_page_offers_a_link_never_a_password_form(login):
    target = user("director_b")
    url = f"/admin/institutions/user/{target.pk}/change/"
    security_page = login("security").get(url)
    assert security_page.status_code == 200
    html = security_page.content.decode()
    assert 'data-testid="password-link"' in html
    assert "../password/" not in html and 'name="password' not in html
    admin_page = login("admin").get(url).content.decode()
    assert 'data-testid="password-link"' not in admin_page and "../password/" not in admin_page


def test_the_system_administrator_cannot_issue_links(login):
    target = user("director_b")
    client = login("admin")
    assert client.get(f"/admin/institutions/user/{target.pk}/password-link/").status_code == 403
    assert client.post(f"/admin/institutions/user/{target.pk}/password-link/").status_code == 403


def test_nobody_issues_a_link_for_their_own_account(login):
    security = user("security")
    response = login("security").post(f"/admin/institutions/user/{security.pk}/password-link/")
    assert response.status_code == 200
    assert "set-password/" not in response.content.decode()
    assert admin_events(event="password_link_issued", member=security.pk) == 0


def test_a_new_account_has_no_password_until_its_link_is_used(login):
    response = login("admin").post(
        "/admin/institutions/user/add/",
        {"username": "fresh_staff", "display_name": "新同事", "email": "", "phone": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = User.objects.get(username="fresh_staff")
    assert not fresh.has_usable_password()
    page = login("admin").get("/admin/institutions/user/add/").content.decode()
    assert "password1" not in page


# The auditor, and nothing of children in the admin site.


def test_the_auditor_sees_the_administrators_actions(login):
    member = newcomer()
    admin = login("admin")
    ask_for_membership(admin, member, Role.CHILD_DIRECTOR, "990101001001")
    decide(login("security"), Membership.objects.get(user=member))
    issue_link(login("security"), user("director_b"))
    assert LogEntry.objects.filter(user__username="admin").exists()

    response = login("auditor").get(reverse("cases:audit_admin_actions"))
    assert response.status_code == 200
    labels = [entry.label for entry in response.context["page"].object_list]
    html = response.content.decode()
    for text in ("已申请成员身份", "已批准成员身份", "已签发设置密码链接"):
        assert text in labels, (text, labels)
    assert "newcomer" in html
    assert reverse("cases:audit_admin_actions") in login("auditor").get("/").content.decode()


def test_the_administrators_actions_are_paginated(login):
    actor = user("admin")
    for number in range(55):
        AccessEvent.objects.create(
            user=actor, action=AccessEvent.Action.ADMIN, detail={"n": number}
        )
    auditor = login("auditor")
    first = auditor.get(reverse("cases:audit_admin_actions"))
    assert len(first.context["page"].object_list) == 50
    second = auditor.get(reverse("cases:audit_admin_actions"), {"page": 2})
    assert len(second.context["page"].object_list) >= 5
    assert auditor.get(reverse("cases:audit_admin_actions"), {"page": "x"}).status_code == 200


@pytest.mark.parametrize("username", ["director_a", "admin", "security", "county_civil"])
def test_only_the_auditor_opens_the_administrators_actions(username, login):
    assert login(username).get(reverse("cases:audit_admin_actions")).status_code == 403


def test_the_admin_site_holds_no_childrens_data():
    child_apps = {"cases", "followups", "referrals"}
    registered = {(m._meta.app_label, m._meta.model_name) for m in site._registry}
    # The scheduler's policy tables hold no child's data: intervals and thresholds only.
    policy = {
        ("followups", "visitpolicy"),
        ("followups", "followupschedule"),
        ("followups", "taskpolicy"),
    }
    assert not {label for label, _name in registered - policy} & child_apps
    assert {name for label, name in registered if label == "assessments"} <= {
        "reassessmentpolicy",
        "instrument",
    }


def test_the_administrators_pages_open(login):
    member = newcomer()
    ask_for_membership(login("admin"), member, Role.CHILD_DIRECTOR, "990101001001")
    pending = Membership.objects.get(user=member)
    approved = Membership.objects.get(user__username="director_a")
    admin, security = login("admin"), login("security")
    for client, url in (
        (admin, MEMBERSHIPS),
        (admin, f"{MEMBERSHIPS}add/"),
        (admin, f"{MEMBERSHIPS}{pending.pk}/change/"),
        (admin, f"{MEMBERSHIPS}{approved.pk}/change/"),
        (admin, "/admin/institutions/user/add/"),
        (security, MEMBERSHIPS),
        (security, f"{MEMBERSHIPS}{pending.pk}/change/"),
        (security, f"/admin/institutions/user/{member.pk}/change/"),
        (security, f"/admin/institutions/user/{member.pk}/password-link/"),
    ):
        assert client.get(url).status_code == 200, url
    assert "approve_memberships" in security.get(MEMBERSHIPS).content.decode()
    assert "approve_memberships" not in admin.get(MEMBERSHIPS).content.decode()
