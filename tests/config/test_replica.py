"""The replica router (issue 13, past one machine), tested with Django's test mirror: the
dashboards and API lists read from the replica when one is configured; writes, and the reads of
a user who has just written, stay on the primary."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def on_each_database(client, url: str) -> tuple[int, int]:
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(url)
    assert response.status_code == 200, url
    return len(primary), len(replica)


def test_without_a_replica_every_read_stays_on_the_primary(demo_world, settings):
    settings.REPLICA_READS = False
    primary, replica = on_each_database(client_for("county_civil"), "/dashboards/")
    assert primary > 0 and replica == 0


def test_dashboards_and_api_lists_read_from_the_replica(demo_world, settings):
    client = client_for("county_civil")  # signed in before the replica (signing in writes)
    settings.REPLICA_READS = True
    assert on_each_database(client, "/dashboards/")[1] > 20  # the indicators' queries
    assert on_each_database(client, "/api/v1/children/")[1] > 0
    # The file page is not a heavy read: the primary.
    assert on_each_database(client, "/children/")[1] == 0


def test_after_a_write_the_user_reads_from_the_primary(demo_world, settings):
    client = client_for("county_civil")
    settings.REPLICA_READS = True
    assert on_each_database(client, "/dashboards/")[1] > 0
    # Any successful write (here: marking notifications read) keeps this user on the primary
    # while the replica catches up, so they see what they just did.
    assert client.post("/notifications/read/").status_code == 302
    primary, replica = on_each_database(client, "/dashboards/")
    assert replica == 0 and primary > 20
    settings.REPLICA_STICKY_SECONDS = 0
    assert on_each_database(client, "/dashboards/")[1] > 0
