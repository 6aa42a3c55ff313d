"""PostgreSQL restarted under the app (issue 15): every connection the server held is cut, as a
restart does. The next request succeeds: the app finds its connection dead on first use
(`CONN_HEALTH_CHECKS`) and connects again, with no restart of its own."""

from __future__ import annotations

import pytest
import requests
from django.db import connection

from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def cut_every_other_connection() -> int:
    """What a restart does to the app's connections: the server ends them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (count,) = cursor.fetchone()
    return int(count)


def test_the_next_request_after_the_connections_are_cut_succeeds(demo_world, live_server):
    signed_in = client_for("director_a")
    session = requests.Session()
    session.cookies.update({key: morsel.value for key, morsel in signed_in.cookies.items()})
    home = f"{live_server.url}/"
    first = session.get(home, allow_redirects=False, timeout=30)
    assert first.status_code == 200
    assert cut_every_other_connection() >= 1  # the server's connection was one of them
    again = session.get(home, allow_redirects=False, timeout=30)
    assert again.status_code == 200, again.text[:500]
    assert "director_a" in again.text or "东岭村" in again.text
