"""PostgreSQL restarted under the app (issue 15). The next request succeeds: the app finds its
connection dead on first use (`CONN_HEALTH_CHECKS`) and connects again, with no restart of its
own. Two ways: every connection the server held cut (what a restart does to the app), and a
real stop and start of a server of the test's own under the app served by gunicorn."""

from __future__ import annotations

import subprocess
import time

import psycopg
import pytest
import requests
from django.db import connection
from psycopg import sql

from core.backups import database_conninfo, pg_tool
from tests.conftest import client_for
from tests.demo import DEMO_PASSWORD
from tests.reliability.servers import OwnPostgres
from tests.servers import web_on

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


def _copy_of_this_database(own: OwnPostgres, name: str) -> None:
    """The test database (the demo world, committed) dumped and restored on `own`."""
    dump = own.dir / "copy.dump"
    subprocess.run(
        [
            pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            f"--file={dump}",
            f"--dbname={database_conninfo(password=False)}",
        ],
        check=True,
    )
    with psycopg.connect(own.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    subprocess.run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            f"--dbname={own.conninfo(name)}",
            str(dump),
        ],
        check=True,
    )


def test_after_a_real_restart_of_postgresql_the_next_request_succeeds(demo_world):
    """The server is stopped and started again under a running app: while it is down a request
    fails at once with an error (not a hang); the first request after it is back succeeds,
    with no restart of the app."""
    own = OwnPostgres()
    try:
        _copy_of_this_database(own, "restarted")
        with web_on(own.url("restarted")) as base:
            token = requests.post(
                f"{base}/api/v1/auth/token/",
                json={"username": "director_a", "password": DEMO_PASSWORD},
                timeout=30,
            ).json()["token"]
            api = requests.Session()
            api.headers["Authorization"] = f"Token {token}"
            browser = requests.Session()
            browser.get(f"{base}/accounts/login/", timeout=30)
            signed_in = browser.post(
                f"{base}/accounts/login/",
                data={
                    "username": "director_a",
                    "password": DEMO_PASSWORD,
                    "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                },
                headers={"Referer": f"{base}/accounts/login/"},
                timeout=30,
            )
            assert signed_in.status_code == 200 and browser.get(f"{base}/", timeout=30).ok
            before = api.get(f"{base}/api/v1/children/", timeout=30)
            assert before.status_code == 200 and before.json()["results"]
            own.stop()
            started = time.monotonic()
            down = api.get(f"{base}/api/v1/children/", timeout=30)
            assert time.monotonic() - started < 10  # at once, not after a long wait
            assert down.status_code == 503 and down.headers["Retry-After"] == "30"
            assert down.json()["code"] == "database_unavailable"
            assert (
                "nothing was saved" in down.json()["message"] or "未保存" in down.json()["message"]
            )
            page = browser.get(f"{base}/children/", timeout=30)
            assert page.status_code == 503 and 'data-testid="unavailable"' in page.text
            assert requests.get(f"{base}/healthz", timeout=30).json()["database"] == "unavailable"
            own.start()
            after = api.get(f"{base}/api/v1/children/", timeout=30)
            assert after.status_code == 200, after.text[:500]
            assert after.json()["results"] == before.json()["results"]
            assert browser.get(f"{base}/children/", timeout=30).status_code == 200
    finally:
        own.close()


def test_a_statement_the_database_refused_is_not_called_a_restart():
    """A timeout or a deadlock is an error of its own, not "the database cannot be reached"."""
    from django.db import OperationalError
    from psycopg import errors

    from core.api_errors import _database_unreachable

    def raised(cause: Exception) -> OperationalError:
        error = OperationalError(str(cause))
        error.__cause__ = cause
        return error

    assert _database_unreachable(raised(psycopg.OperationalError("connection refused")))
    assert not _database_unreachable(raised(errors.QueryCanceled("statement timeout")))
    assert not _database_unreachable(raised(errors.DeadlockDetected("deadlock")))
    assert not _database_unreachable(ValueError("not a database error"))
