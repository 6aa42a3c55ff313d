"""The app served by gunicorn in a process of its own, as in production, for tests that need
a real server: a database restarted under it, the bytes a phone receives."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import connection


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_for_tests() -> str:
    """The test database (pytest-django's) as a DATABASE_URL for another process."""
    db = connection.settings_dict
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


@contextmanager
def web_on(database_url: str, **extra_env: str) -> Iterator[str]:
    """The app served by gunicorn, as in production, on `database_url` (with `extra_env`);
    yields its address."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="xq-web-", suffix=".log")[1])
    env = {**os.environ, "DATABASE_URL": database_url, **extra_env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *[sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "1"],
                *["--bind", f"127.0.0.1:{port}", "--timeout", "60"],
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=settings.BASE_DIR,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            with suppress(requests.RequestException):
                if requests.get(f"{base}/healthz", timeout=30).status_code == 200:
                    break
            time.sleep(0.3)
        else:
            raise AssertionError(f"the app did not start:\n{log.read_text()[-3000:]}")
        yield base
    finally:
        process.terminate()
        process.wait(20)
        log.unlink(missing_ok=True)
