"""Start-up configuration: production refuses unsafe settings, bad URLs fail in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_SECRET = "kV3-t9Qz_8fLw2Rb6YhN0pXc4sJm7Ua1eGd5Hi-oWq2Zr8Tn3Ly6Bv0Fk9Mx"
PROD_KEYS = {
    "NATIONAL_ID_HASH_KEY": "h" * 8 + "Qm3Lr8Tz2Vw6Xy0Bn4Cd7Fg1Jk5",
    "FIELD_ENCRYPTION_KEY": "q3Zt1cOeYbS8mN5vK0xW2rA7uJ4gH9lD6fP3iE1nB8s=",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a "deployment" check.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {**inherited, **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_production_refuses_the_default_secret_key():
    result = manage("check", DJANGO_ENV="production", SECRET_KEY="", ALLOWED_HOSTS="x.example")
    env_without_key = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env_without_key, "DJANGO_ENV": "production", "ALLOWED_HOSTS": "x.example"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert_one_clear_line(result, "SECRET_KEY")


def test_production_refuses_debug():
    result = manage(
        "check",
        DJANGO_ENV="production",
        SECRET_KEY=PROD_SECRET,
        DEBUG="true",
        ALLOWED_HOSTS="x.example",
    )
    assert_one_clear_line(result, "DEBUG")


def test_production_settings_pass_the_deployment_checklist():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY=PROD_SECRET,
        DEBUG="false",
        ALLOWED_HOSTS="x.example",
        **PROD_KEYS,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_missing_identity_keys():
    result = manage(
        "check",
        DJANGO_ENV="production",
        SECRET_KEY=PROD_SECRET,
        DEBUG="false",
        ALLOWED_HOSTS="x.example",
        NATIONAL_ID_HASH_KEY="",
        FIELD_ENCRYPTION_KEY="",
    )
    assert_one_clear_line(result, "NATIONAL_ID_HASH_KEY")


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "postgres://user@host:notaport/db", "postgres://user@host:5432"]
)
def test_malformed_database_url_stops_with_one_line(url):
    result = manage("check", DATABASE_URL=url)
    assert_one_clear_line(result, "DATABASE_URL")


def test_malformed_redis_url_stops_with_one_line():
    result = manage("check", REDIS_URL="http://localhost:6379")
    assert_one_clear_line(result, "REDIS_URL")


def test_unreachable_redis_stops_start_up_with_one_line():
    result = manage("preflight", REDIS_URL="redis://127.0.0.1:1/0")
    assert_one_clear_line(result, "Redis", "unreachable")


def test_unreachable_database_stops_start_up_with_one_line():
    result = manage("preflight", DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing")
    assert_one_clear_line(result, "PostgreSQL", "unreachable")


def test_preflight_passes_on_the_real_services():
    assert manage("preflight").returncode == 0


def test_bad_number_in_environment_names_the_variable():
    result = manage("check", SESSION_IDLE_MINUTES="soon")
    assert_one_clear_line(result, "SESSION_IDLE_MINUTES")


@pytest.mark.django_db
def test_the_app_runs_without_postgresql_jit():
    """PostgreSQL's JIT compiled for 390 ms to serve a 25-row page at 1,000,000 children: the
    app's connections switch it off, and options given in DATABASE_URL are kept beside it."""
    from django.db import connection

    from config.env import get_database

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
    url = "postgres://u@db:5432/x?options=-c%20statement_timeout%3D5000"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XQ_TEST_URL", url)
        options = get_database("XQ_TEST_URL")["OPTIONS"]["options"]
    assert "jit=off" in options and "statement_timeout=5000" in options


@pytest.mark.parametrize(("given", "expected"), [("12345", 12345), ("0", 700)])
def test_the_web_process_collects_garbage_as_configured(given, expected):
    """config/wsgi.py: the youngest generation after WEB_GC_THRESHOLD allocations (0: Python's
    700), and what was loaded at start kept out of every collection."""
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    probe = "import gc, config.wsgi; print(gc.get_threshold()[0], gc.get_freeze_count() > 1000)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**inherited, "WEB_GC_THRESHOLD": given},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(expected), "True"]
