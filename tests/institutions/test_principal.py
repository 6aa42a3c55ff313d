"""A user's scope, permissions and two-factor devices kept between requests
(institutions/principal.py): read once, then every change made through the application takes
effect on the very next request, and a change rolled back leaves nothing behind.

These tests commit (transactional database): only what is read outside a transaction is kept,
so inside the usual test transaction nothing is ever kept.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import Child
from institutions.models import Membership
from institutions.principal import principal_for
from institutions.roles import Role, group_name
from institutions.services import membership_end
from tests.conftest import client_for
from tests.demo import VILLAGE_A, user
from tests.institutions.test_accounts import STRONG, make_supervisor, sign_in, token_for

pytestmark = pytest.mark.usefixtures("demo_world")

AUTH_TABLES = ("auth_permission", "otp_totp_totpdevice", "institutions_membership")


def sql_of(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def village_child() -> Child:
    return Child.objects.filter(residence_region_id=VILLAGE_A).order_by("pk").first()


def test_after_the_first_request_the_users_roles_are_not_read_again():
    client = client_for("director_a")
    url = f"/children/{village_child().pk}/"
    first = sql_of(client, url)
    second = sql_of(client, url)
    assert any("auth_permission" in sql for sql in first)
    assert not any("auth_permission" in sql for sql in second)
    assert not any("otp_" in sql for sql in second)
    # The permissions (2), the scope (1) and the device (1) are no longer read.
    assert len(first) - len(second) >= 4


def test_a_membership_ended_through_the_service_takes_effect_on_the_next_request():
    client = client_for("director_a")
    url = f"/children/{village_child().pk}/"
    sql_of(client, url)
    sql_of(client, url)  # now answered from the cache
    for membership in Membership.objects.filter(user=user("director_a"), is_active=True):
        membership_end(membership=membership)
    assert client.get(url).status_code == 404


def test_a_role_that_loses_a_permission_is_refused_on_the_next_request():
    client = client_for("director_a")
    sql_of(client, "/children/")
    sql_of(client, "/children/")
    role = Group.objects.get(name=group_name(Role.CHILD_DIRECTOR))
    role.permissions.remove(Permission.objects.get(codename="view_child"))
    assert client.get("/children/").status_code == 403


def test_a_confirmed_device_is_asked_for_on_the_next_request():
    client = client_for("director_a")
    sql_of(client, "/")
    sql_of(client, "/")
    TOTPDevice.objects.create(user=user("director_a"), name="phone", confirmed=True)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")


def test_a_verified_session_whose_device_is_removed_must_enrol_again_on_the_next_request():
    supervisor = make_supervisor("cached_supervisor")
    device = TOTPDevice.objects.create(user=supervisor, name="phone", confirmed=True)
    client = Client()
    sign_in(client, "cached_supervisor", STRONG)
    verified = client.post("/accounts/two-factor/verify/?next=/", {"token": token_for(device)})
    assert verified.status_code == 302
    queries = sql_of(client, "/children/")
    queries = sql_of(client, "/children/")  # verified, from the cache: the device is not read
    assert not any("otp_totp_totpdevice" in sql for sql in queries)
    device.delete()  # (a security administrator resets a lost phone)
    response = client.get("/children/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/?")


def test_the_work_lists_security_panel_knows_the_device_from_the_principal():
    """The home page says two-factor is on once a device is confirmed, and offers to set it up
    again once the device is gone, without reading the devices on a request the principal
    answers."""
    client = client_for("director_a")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Set up two-factor authentication" in client.get("/").content.decode()
    device = TOTPDevice.objects.create(user=user("director_a"), name="phone", confirmed=True)
    verified = client.post("/accounts/two-factor/verify/?next=/", {"token": token_for(device)})
    assert verified.status_code == 302
    sql_of(client, "/")
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/").content.decode()
    assert "Two-factor authentication is on." in page
    assert "Set up two-factor authentication" not in page
    assert not any("otp_totp_totpdevice" in q["sql"] for q in captured.captured_queries)
    device.delete()  # (a security administrator resets a lost phone)
    page = client.get("/").content.decode()
    assert "Set up two-factor authentication" in page
    assert "Two-factor authentication is on." not in page


def test_the_work_lists_roles_come_from_the_principal_and_follow_every_change():
    """ "My roles" names each active role, its organisation and jurisdiction without reading
    the memberships on a request the principal answers; a renamed organisation and an ended
    membership show on the next request."""
    client = client_for("director_a")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    membership = Membership.objects.get(user=user("director_a"), is_active=True)
    organisation = membership.organisation
    page = client.get("/").content.decode()
    assert "Child director" in page
    assert organisation.name in page
    assert ", ".join(membership.jurisdiction) in page
    sql_of(client, "/")
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/").content.decode()
    assert "Child director" in page
    assert not any("institutions_membership" in q["sql"] for q in captured.captured_queries)
    organisation.name = "Fictional Renamed Committee"
    organisation.save()
    assert "Fictional Renamed Committee" in client.get("/").content.decode()
    membership_end(membership=membership)
    page = client.get("/").content.decode()
    assert "Fictional Renamed Committee" not in page
    assert "You have no role in any organisation yet." in page


def test_what_was_read_inside_a_transaction_rolled_back_is_not_kept():
    client = client_for("director_a")
    director = user("director_a")

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        director.groups.clear()
        assert not principal_for(director).permissions
        raise RolledBack
    # The groups are back, and no request is answered from what the transaction saw.
    sql_of(client, "/children/")
    assert client.get("/children/").status_code == 200
    assert principal_for(user("director_a")).permissions
