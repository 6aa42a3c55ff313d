"""Signing in: password rules, lock-out, idle timeout, two-factor, the admin site."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from institutions.models import Agency, User
from institutions.roles import Role
from institutions.services import membership_grant
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

STRONG = "Quiet-River-2031"


def token_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def make_supervisor(username: str = "real_supervisor") -> User:
    """A real (non-demo) township supervisor: two-factor is mandatory for them."""
    supervisor = User.objects.create_user(username, password=STRONG)
    membership_grant(
        user=supervisor,
        role=Role.CHILD_SUPERVISOR,
        agency=Agency.objects.get(kind=Agency.Kind.CIVIL_AFFAIRS),
        jurisdiction=["990101001"],
    )
    return supervisor


def sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_page_is_chinese_by_default_even_for_an_english_browser():
    response = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_the_language_switch_is_remembered():
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Sign in" in client.get("/accounts/login/").content.decode()


def test_demo_user_signs_in_and_out():
    client = Client()
    response = sign_in(client, "director_a", DEMO_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_wrong_password_shows_a_message_on_the_form():
    response = sign_in(Client(), "director_a", "not-the-password-1")
    assert response.status_code == 200
    assert "用户名" in response.content.decode() or "密码" in response.content.decode()


def test_account_is_locked_after_repeated_failures_even_with_the_right_password():
    client = Client()
    for _attempt in range(5):
        sign_in(client, "director_b", "wrong-password-1")
    response = sign_in(client, "director_b", DEMO_PASSWORD)
    assert response.status_code == 429
    assert 'data-testid="locked-out"' in response.content.decode()
    assert client.get("/").status_code == 302  # still signed out
    # Another user from another address is not affected.
    assert sign_in(Client(REMOTE_ADDR="10.9.9.9"), "director_a", DEMO_PASSWORD).status_code == 302


def test_failures_below_the_limit_do_not_lock():
    client = Client()
    for _attempt in range(3):
        sign_in(client, "county_edu", "wrong-password-1")
    assert sign_in(client, "county_edu", DEMO_PASSWORD).status_code == 302


def test_idle_session_is_signed_out_with_a_message():
    client = Client()
    sign_in(client, "director_a", DEMO_PASSWORD)
    assert client.get("/").status_code == 200
    session = client.session
    session["last_activity"] = time.time() - 31 * 60
    session.save()
    response = client.get("/children/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    follow = client.get(response["Location"])
    assert "30" in follow.content.decode()  # "signed out after 30 minutes without activity"
    assert client.get("/").status_code == 302


def test_active_session_stays_signed_in():
    client = Client()
    sign_in(client, "director_a", DEMO_PASSWORD)
    session = client.session
    session["last_activity"] = time.time() - 29 * 60
    session.save()
    assert client.get("/").status_code == 200


def test_idle_api_call_answers_401():
    client = Client()
    sign_in(client, "director_a", DEMO_PASSWORD)
    session = client.session
    session["last_activity"] = time.time() - 3600
    session.save()
    assert client.get("/api/v1/children/").status_code == 401


def test_two_factor_is_required_for_a_supervisor():
    make_supervisor()
    client = Client()
    assert sign_in(client, "real_supervisor", STRONG).status_code == 302
    # Every page, and the API, sends them to enrolment first.
    response = client.get("/children/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/")
    assert client.get("/api/v1/children/").status_code == 403

    setup = client.get("/accounts/two-factor/")
    assert setup.status_code == 200
    assert "<svg" in setup.content.decode()  # the QR code
    device = TOTPDevice.objects.get(user__username="real_supervisor", confirmed=False)
    wrong = client.post("/accounts/two-factor/", {"token": "000000"})
    assert wrong.status_code == 200 and "is-invalid" in wrong.content.decode()
    # After a wrong code django-otp makes the next try wait a moment (throttling).
    throttled = client.post("/accounts/two-factor/", {"token": token_for(device)})
    assert throttled.status_code == 200
    time.sleep(1.1)
    confirmed = client.post("/accounts/two-factor/", {"token": token_for(device)})
    assert confirmed.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/children/").status_code == 200
    assert client.get("/api/v1/children/").status_code == 200


def test_enrolled_user_must_enter_a_code_at_every_sign_in():
    supervisor = make_supervisor()
    device = TOTPDevice.objects.create(user=supervisor, name="phone", confirmed=True)
    client = Client()
    sign_in(client, "real_supervisor", STRONG)
    response = client.get("/")
    assert response["Location"].startswith("/accounts/two-factor/verify/")
    bad = client.post("/accounts/two-factor/verify/", {"token": "12345"})
    assert "六位" in bad.content.decode() or "six" in bad.content.decode()
    ok = client.post("/accounts/two-factor/verify/?next=/children/", {"token": token_for(device)})
    assert ok.status_code == 302 and ok["Location"] == "/children/"
    assert client.get("/children/").status_code == 200


def test_two_factor_is_optional_for_a_child_director_but_available():
    client = Client()
    sign_in(client, "director_a", DEMO_PASSWORD)
    assert client.get("/children/").status_code == 200
    assert client.get("/accounts/two-factor/").status_code == 200


def test_demo_supervisors_are_exempt_only_outside_production():
    client = Client()
    sign_in(client, "supervisor_town", DEMO_PASSWORD)
    assert client.get("/children/").status_code == 200
    with override_settings(TWO_FACTOR_EXEMPT_DEMO_USERS=False):
        other = Client()
        sign_in(other, "supervisor_town", DEMO_PASSWORD)
        assert other.get("/children/")["Location"].startswith("/accounts/two-factor/")


def test_admin_site_is_for_administrators_only():
    admin = Client()
    sign_in(admin, "admin", DEMO_PASSWORD)
    assert admin.get("/admin/").status_code == 200
    assert admin.get("/admin/institutions/region/").status_code == 200
    supervisor = Client()
    sign_in(supervisor, "county_civil", DEMO_PASSWORD)
    assert supervisor.get("/admin/").status_code == 302
    # Children's files are not in the admin at all.
    assert admin.get("/admin/cases/child/").status_code == 404


def test_security_administrator_can_unlock_accounts_and_reset_authenticators():
    security = Client()
    sign_in(security, "security", DEMO_PASSWORD)
    assert security.get("/admin/axes/accessattempt/").status_code == 200
    assert security.get("/admin/otp_totp/totpdevice/").status_code == 200
    # but cannot manage organisations, which is the system administrator's job
    assert security.get("/admin/institutions/institution/").status_code == 403


@pytest.mark.parametrize(
    ("password", "ok"),
    [("short1A", False), ("abcdefghijkl", False), ("1234567890123", False), (STRONG, True)],
)
def test_password_rules(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_system_administrator_sees_the_scheduled_jobs():
    admin = Client()
    sign_in(admin, "admin", DEMO_PASSWORD)
    assert admin.get("/admin/django_celery_beat/periodictask/").status_code == 200
