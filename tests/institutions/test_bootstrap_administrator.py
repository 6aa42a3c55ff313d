"""The first administrators of a new deployment come from the server's console, once per role."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from core.models import AccessEvent
from institutions.models import Membership, User
from institutions.roles import Role

pytestmark = pytest.mark.django_db


def test_the_first_administrator_of_a_role_gets_a_set_password_link_and_no_password(capsys):
    Membership.objects.filter(role=Role.AUDITOR).update(is_active=False)
    call_command("bootstrap_administrator", "first_auditor", role="auditor", region="99")
    out = capsys.readouterr().out
    assert "/accounts/set-password/" in out
    created = User.objects.get(username="first_auditor")
    assert not created.has_usable_password()
    assert created.has_perm("core.view_accessevent")
    assert AccessEvent.objects.filter(
        user=created, action=AccessEvent.Action.ADMIN, detail__bootstrap_administrator="auditor"
    ).exists()


def test_a_role_that_has_an_administrator_is_refused():
    with pytest.raises(CommandError, match="already"):
        call_command("bootstrap_administrator", "second_admin", role="system_admin", region="99")
    assert not User.objects.filter(username="second_admin").exists()
