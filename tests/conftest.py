"""Shared fixtures: the demo world, loaded once per test database, and signed-in clients.

The demo world (seed_demo) is the fixture set: every role has a demo user, and the children are
spread so that each role has children in and out of its scope. tests/demo.py names its parts;
tests/factories/ builds new records through the services, and `child_in_scope_of` /
`child_out_of_scope_of` give each role a fresh child it reaches and one it does not.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from institutions.models import User
from tests.demo import DEMO_PASSWORD
from tests.demo import user as user  # the name tests import from here
from tests.factories import scope

# Each xdist worker has its own database; give it its own Redis key space too.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
settings.CACHES["default"]["KEY_PREFIX"] = f"test-{_WORKER}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Create the test database, then load the demo world into it once."""
    with django_db_blocker.unblock():
        call_command("seed_demo", verbosity=0)


@pytest.fixture
def demo_world(transactional_db):
    """For tests that need real commits (live server): the demo world, reloaded after a flush."""
    if not User.objects.filter(username="director_a").exists():
        call_command("seed_demo", verbosity=0)


def client_for(username: str) -> Client:
    """A client signed in as a demo user (through the real login form)."""
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"login of {username} failed"
    return client


@pytest.fixture
def login():
    return client_for


@pytest.fixture
def child_in_scope_of(db):
    """`child_in_scope_of(username, **fields)`: a new child the user reaches through their own
    scope (or, for a mentor, volunteer or clinician, their tie)."""
    return scope.child_in_scope_of


@pytest.fixture
def child_out_of_scope_of(db):
    """`child_out_of_scope_of(username, **fields)`: a new child just outside the user's scope."""
    return scope.child_out_of_scope_of
