"""The role table: synced into groups, safe to rerun, and followed by memberships."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command

from institutions.models import Agency, User
from institutions.roles import ROLE_TABLE, Role, group_name
from institutions.selectors import scope_for
from institutions.services import membership_end, membership_grant, resolve_permissions

pytestmark = pytest.mark.django_db


def group_permissions() -> dict[str, set[str]]:
    return {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.filter(name__startswith="role:").prefetch_related(
            "permissions__content_type"
        )
    }


def test_every_role_has_a_group_with_exactly_its_permissions():
    groups = group_permissions()
    assert set(groups) == {group_name(role) for role in Role}
    for role, spec in ROLE_TABLE.items():
        assert groups[group_name(role)] == set(spec.permissions)


def test_sync_is_safe_to_run_twice_and_repairs_drift():
    group = Group.objects.get(name=group_name(Role.CHILD_DIRECTOR))
    group.permissions.clear()
    call_command("sync_roles", verbosity=0)
    first = group_permissions()
    call_command("sync_roles", verbosity=0)
    assert group_permissions() == first
    assert Group.objects.filter(name__startswith="role:").count() == len(Role)


def test_an_unknown_permission_in_the_table_is_an_error():
    with pytest.raises(ValidationError):
        resolve_permissions({"cases.fly_to_the_moon"})


def test_membership_gives_and_ending_takes_the_role():
    newcomer = User.objects.create_user("newcomer", password="Long-Pass-2031")
    assert not newcomer.has_perm("cases.view_child")
    membership = membership_grant(
        user=newcomer,
        role=Role.CHILD_DIRECTOR,
        agency=Agency.objects.get(kind=Agency.Kind.CIVIL_AFFAIRS),
        jurisdiction=["990101003001"],
    )
    newcomer = User.objects.get(pk=newcomer.pk)
    assert newcomer.has_perm("cases.view_child")
    assert scope_for(newcomer).region_prefixes == ("990101003001",)
    membership_end(membership=membership)
    newcomer = User.objects.get(pk=newcomer.pk)
    assert not newcomer.has_perm("cases.view_child")
    assert scope_for(newcomer).region_prefixes == ()


def test_membership_refuses_unknown_region_codes():
    newcomer = User.objects.create_user("newcomer2", password="Long-Pass-2031")
    with pytest.raises(ValidationError) as error:
        membership_grant(
            user=newcomer,
            role=Role.CHILD_DIRECTOR,
            agency=Agency.objects.get(kind=Agency.Kind.CIVIL_AFFAIRS),
            jurisdiction=["990101009009"],
        )
    assert "990101009009" in str(error.value)
    assert not newcomer.memberships.exists()


def test_administrator_roles_get_the_admin_flag_and_others_do_not():
    assert User.objects.get(username="admin").is_staff
    assert User.objects.get(username="security").is_staff
    assert not User.objects.get(username="county_civil").is_staff
    assert not User.objects.get(username="auditor").is_staff


def test_seed_demo_is_safe_to_run_twice():
    from cases.models import Child

    before = (User.objects.count(), Child.objects.count(), Group.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (User.objects.count(), Child.objects.count(), Group.objects.count()) == before


def test_a_membership_added_in_the_admin_site_gives_the_role_once_approved(login):
    newcomer = User.objects.create_user("admin_made", password="Long-Pass-2031")
    agency = Agency.objects.get(kind=Agency.Kind.CIVIL_AFFAIRS)
    response = login("admin").post(
        "/admin/institutions/membership/add/",
        {
            "user": newcomer.pk,
            "agency": agency.pk,
            "role": Role.CHILD_DIRECTOR,
            "jurisdiction": "990101003001",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert not User.objects.get(pk=newcomer.pk).has_perm("cases.view_child")  # waits
    membership = newcomer.memberships.get()
    response = login("security").post(
        "/admin/institutions/membership/",
        {"action": "approve_memberships", "_selected_action": [membership.pk], "index": 0},
    )
    assert response.status_code == 302
    newcomer = User.objects.get(pk=newcomer.pk)
    assert newcomer.has_perm("cases.view_child")


def test_the_admin_site_refuses_a_jurisdiction_that_does_not_exist(login):
    newcomer = User.objects.create_user("admin_made_2", password="Long-Pass-2031")
    agency = Agency.objects.get(kind=Agency.Kind.CIVIL_AFFAIRS)
    response = login("admin").post(
        "/admin/institutions/membership/add/",
        {
            "user": newcomer.pk,
            "agency": agency.pk,
            "role": Role.CHILD_DIRECTOR,
            "jurisdiction": "990101009009",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "990101009009" in response.content.decode()
    assert not newcomer.memberships.exists()
