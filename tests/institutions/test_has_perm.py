"""`User.has_perm` answers as Django's permission check does (every backend in turn, a refusal
ends it), with the backends built once per process and built again when the setting changes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, _user_has_perm
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from institutions.models import User
from tests.demo import user

pytestmark = pytest.mark.usefixtures("demo_world")

BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "institutions.principal.PrincipalBackend",
]


class RefusesReferrals:
    """A backend that refuses one permission outright (PermissionDenied) and grants nothing."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm, obj=None):
        if perm == "referrals.add_referral":
            raise PermissionDenied
        return False


def _all_permissions() -> list[str]:
    return [
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    ]


@pytest.mark.parametrize(
    "username", ["director_a", "supervisor_town", "counselor", "clinician", "county_civil", "admin"]
)
def test_every_permission_is_answered_as_djangos_check_answers_it(username):
    person = user(username)
    permissions = _all_permissions()
    granted = [p for p in permissions if person.has_perm(p)]
    assert granted  # each of these roles may do something
    assert granted == [p for p in permissions if _user_has_perm(person, p, None)]


def test_an_inactive_user_may_do_nothing_and_a_superuser_anything():
    person = user("director_a")
    assert person.has_perm("cases.view_child")
    person.is_active = False
    assert not person.has_perm("cases.view_child")
    root = User(username="fictional-root", is_superuser=True, is_active=True)
    assert root.has_perm("anything.at_all")


def test_a_backend_that_refuses_ends_the_check_and_a_changed_setting_is_followed():
    assert user("director_a").has_perm("referrals.add_referral")
    with override_settings(
        AUTHENTICATION_BACKENDS=["tests.institutions.test_has_perm.RefusesReferrals", *BACKENDS]
    ):
        person = user("director_a")
        assert not person.has_perm("referrals.add_referral")
        assert person.has_perm("cases.view_child")
    assert user("director_a").has_perm("referrals.add_referral")
