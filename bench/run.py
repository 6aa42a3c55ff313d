"""The benchmark of issue 13: the pages at province scale, served as in production.

For each size it measures a database `<prefix>_<size>` on the PostgreSQL server of
DATABASE_URL: a new copy, for each run, of `<prefix>_<size>_generated`, which holds a fictional
province of that many children (`bench/generate.py`; one that already holds a province of that
size is reused, migrated to the current schema). It serves the app
with gunicorn (`config.wsgi`, DJANGO_ENV=production, DEBUG off) and a Celery worker, signs in
as each role through the login and two-factor pages, and times every page over HTTP: p50 and
p95 over --requests requests after two warm-ups. The SQL queries of each page are counted
in-process (bench/probe.py, same views and middleware, same database). Then one run of all
scheduled jobs, and a concurrent run (bench/locustfile.py: 50 users for 60 s by default) with
the peak memory of each gunicorn worker.

    python bench/run.py [--sizes 10000,1000000] [--requests 30] [--json FILE] [--no-load]
                        [--load-users 50] [--load-seconds 60] [--keep]

`make bench` runs it with the embedded PostgreSQL and Redis when DATABASE_URL / REDIS_URL are
unset. Plain HTTP on 127.0.0.1 stands for the TLS-terminating proxy of a deployment: the server
is told so (SECURE_PROXY_SSL_HEADER=true) and every request carries `X-Forwarded-Proto: https`,
as the proxy would add; everything else is the production configuration.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from django_otp.oath import totp  # noqa: E402  (pure functions: needs no Django settings)
from psycopg import sql  # noqa: E402

from bench.accounts import BENCH_PASSWORD, BENCH_TOTP_KEY, BENCH_USERS  # noqa: E402

PYTHON = sys.executable
# The roles measured, in the columns of the report; the load also uses the city supervisor.
ROLES = ("director", "township", "county", "province", "counsellor", "clinician")
PAGE_TITLES = {
    "work_list": "work list `/`",
    "child_list": "child list `/children/`",
    "deep_page": "child list, deep page",
    "filtered": "child list, filtered (high risk)",
    "search": "search by name `?q=`",
    "child_file": "child's file `/children/<id>/`",
    "dashboard": "dashboard `/dashboards/`",
    "api_list": "API list `/api/v1/children/`",
    "api_create": "API create (assessment)",
    "export": "export (~10,000 rows, to the file)",
}
WARM_UPS = 2
# The export is slow and heavy: it is timed this many times at most.
EXPORT_RUNS = 3
# Benchmark-only secrets, fixed so that a kept database (its encrypted ID numbers, its
# sessions) works in the next run. They protect fictional data only.
BENCH_SECRETS = {
    "SECRET_KEY": "bench-only-secret-key-for-fictional-province-98-never-production",
    "NATIONAL_ID_HASH_KEY": "bench-only-id-hash-key-province-98",
    "FIELD_ENCRYPTION_KEY": "YmVuY2gtb25seS1maWVsZC1rZXktcHJvdmluY2UtOTg=",
}


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- figures --------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    """The value below which `fraction` of the samples lie (linear between ranks)."""
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[round(fraction * 100) - 1]


@dataclass
class Measurement:
    """One page for one role at one size: the timings over HTTP and the in-process count."""

    size: int
    role: str
    page: str
    url: str
    samples_ms: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    queries: int | None = None
    note: str = ""

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 0.95)

    @property
    def errors(self) -> int:
        return sum(1 for status in self.statuses if not 200 <= status < 300)

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "p50_ms": round(self.p50, 1),
            "p95_ms": round(self.p95, 1),
            "errors": self.errors,
        }


@dataclass
class SizeResult:
    size: int
    database: str
    generated_seconds: float | None
    measurements: list[Measurement] = field(default_factory=list)
    scheduled_jobs: dict[str, Any] = field(default_factory=dict)
    catch_up: dict[str, Any] = field(default_factory=dict)
    load: dict[str, Any] | None = None
    # The export job's memory: the Celery worker's pool process before and at its peak, per
    # export measured (about 10,000 rows, and about 100,000 where the province holds them).
    export_memory: list[dict[str, Any]] = field(default_factory=list)
    # Seconds to compute each role's dashboard snapshot (the background job's work).
    dashboard_snapshots: dict[str, float] = field(default_factory=dict)

    def find(self, role: str, page: str) -> Measurement | None:
        return next(
            (m for m in self.measurements if m.role == role and m.page == page),
            None,
        )


# --- databases ------------------------------------------------------------------------------


def database_url(name: str) -> str:
    """DATABASE_URL with another database name (the server and credentials unchanged)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def server_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(database_url("postgres"), autocommit=True)


def database_exists(name: str) -> bool:
    with server_connection() as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


# Every database this benchmark creates carries this comment; it drops no other.
BENCH_MARK = "xinqiao benchmark: a fictional province, safe to drop"


def create_database(name: str) -> None:
    with server_connection() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(BENCH_MARK)
            )
        )


def is_bench_database(name: str) -> bool:
    with server_connection() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    return row is not None and row[0] == BENCH_MARK


def drop_database(name: str) -> None:
    """Drop a database this benchmark made; refuse any other of the same name."""
    if not database_exists(name):
        return
    if not is_bench_database(name):
        raise SystemExit(
            f"{name} exists but was not made by the benchmark (no mark): not dropping it; "
            "choose another --db-prefix"
        )
    with server_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def generated_children(name: str) -> int:
    """How many children of the benchmark province the database holds, if it has the bench
    users too (0 for anything else: not generated, or generated only in part)."""
    query = """
        SELECT (SELECT count(*) FROM institutions_user WHERE username = ANY(%s)),
               (SELECT count(*) FROM cases_child WHERE residence_region_id LIKE '98%%')
    """
    try:
        with psycopg.connect(database_url(name)) as conn:
            users, children = conn.execute(query, [list(BENCH_USERS.values())]).fetchone()
    except psycopg.Error:
        return 0
    return int(children) if users == len(BENCH_USERS) else 0


def server_version() -> str:
    with server_connection() as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])


def export_job_status(name: str, job_id: int) -> str:
    with psycopg.connect(database_url(name)) as conn:
        row = conn.execute("SELECT status FROM core_exportjob WHERE id = %s", [job_id]).fetchone()
    return str(row[0]) if row else "missing"


# --- the served app's environment and commands -----------------------------------------------


class MailSink:
    """An SMTP server on loopback that accepts and drops every message (aiosmtpd), started
    on first use: the reminders the scheduled jobs send reach no real mailbox."""

    def __init__(self) -> None:
        self._controller: Any = None

    @property
    def port(self) -> int:
        if self._controller is None:
            from aiosmtpd.controller import Controller
            from aiosmtpd.handlers import Sink

            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                free = int(probe.getsockname()[1])
            self._controller = Controller(Sink(), hostname="127.0.0.1", port=free)
            self._controller.start()
        return int(self._controller.port)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


MAIL_SINK = MailSink()


def bench_env(database: str) -> dict[str, str]:
    """The production settings, on the benchmark database, behind a (stated) TLS proxy."""
    env = dict(os.environ)
    env.pop("DATABASE_REPLICA_URL", None)
    env.update(BENCH_SECRETS)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_ENV="production",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_PROXY_SSL_HEADER="true",
        DATABASE_URL=database_url(database),
        CACHE_KEY_PREFIX=database,
        # Jobs of the benchmark on their own queue: its worker takes no job of another process
        # sharing this Redis, and no other worker takes one of its jobs.
        CELERY_QUEUE=f"bench-{database}",
        # Messages of the scheduled jobs go to a sink on loopback and the log, never out.
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(MAIL_SINK.port),
        EMAIL_USE_TLS="false",
        SMS_GATEWAY="followups.sms.LoggingSmsGateway",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed ({result.returncode})")
    return result.stdout


def collect_static(env: dict[str, str]) -> None:
    """Production serves hashed static files from STATIC_ROOT: collect them unless current."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    sources = [p for d in ROOT.glob("*/static") for p in d.rglob("*") if p.is_file()]
    sources += [p for p in (ROOT / "static").rglob("*") if p.is_file()]
    newest = max((p.stat().st_mtime for p in sources), default=0.0)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return
    say("collecting static files (production storage)")
    manage(env, "collectstatic", "--noinput", "-v", "0")


def generated_name(name: str) -> str:
    """The database the generator fills, which runs never change: each run measures a copy."""
    return f"{name}_generated"


def clone_database(source: str, name: str) -> None:
    """`name` as a fresh copy of `source` (a file copy on PostgreSQL 15 and later: seconds for
    10,000 children, a few minutes for a million), marked as the benchmark's."""
    drop_database(name)
    with server_connection() as conn:
        strategy = " STRATEGY = FILE_COPY" if conn.info.server_version >= 150000 else ""
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}" + strategy).format(
                sql.Identifier(name), sql.Identifier(source)
            )
        )
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(BENCH_MARK)
            )
        )


def prepare_database(size: int, prefix: str) -> tuple[str, bool, float | None]:
    """The database of `size` children, migrated: (name, created by this run, seconds the
    generation took or None when an earlier run's generated data was reused).

    The generator fills `<name>_generated`; every run measures `<name>`, a new copy of it. The
    pages write (the access log of every page read, the load's visits and assessments), so a
    run on what an earlier run left would measure more data than the last: 1.4 million
    access-log rows and 4,000 assessments of one child after ten runs at 10,000 children."""
    name = f"{prefix}_{size}"
    generated = generated_name(name)
    reuse = database_exists(generated) and generated_children(generated) == size
    if not reuse:
        say(f"{generated}: creating the database")
        drop_database(generated)
        create_database(generated)
    env = bench_env(generated)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "sync_roles")
    seconds: float | None = None
    if reuse:
        say(f"{generated}: reusing the generated province of {size:,} children")
    else:
        say(f"{generated}: generating {size:,} children (bench/generate.py)")
        started = time.monotonic()
        # The generator refuses production settings; it runs as development with the same
        # keys (the ID numbers it hashes and encrypts are read by the served app).
        generate_env = {**env, "DJANGO_ENV": "development"}
        result = subprocess.run(
            [PYTHON, "bench/generate.py", "--children", str(size)],
            cwd=ROOT,
            env=generate_env,
            stdout=sys.stderr,
            check=False,
        )
        if result.returncode:
            raise SystemExit(f"bench/generate.py failed ({result.returncode})")
        seconds = time.monotonic() - started
    say(f"{name}: a copy of {generated} for this run")
    clone_database(generated, name)
    forget_earlier_run(name)
    return name, not reuse, seconds


def forget_earlier_run(name: str) -> None:
    """What an earlier run on `name` left in Redis (its cache, under the database's name as key
    prefix, and its job queue): it described data the new copy no longer has."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        for pattern in (f"{name}:*", f"bench-{name}*"):
            keys = list(client.scan_iter(match=pattern, count=1000))
            for start in range(0, len(keys), 1000):
                client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def run_probe(env: dict[str, str], roles: list[str], workdir: Path) -> dict[str, Any]:
    out = workdir / "probe.json"
    result = subprocess.run(
        [PYTHON, "bench/probe.py", "--roles", ",".join(roles), "--out", str(out)],
        cwd=ROOT,
        env=env,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"bench/probe.py failed ({result.returncode})")
    return dict(json.loads(out.read_text(encoding="utf-8")))


# --- serving ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited at start:\n{log.read_text()[-3000:]}")
        with suppress(OSError):
            conn = HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within 90 s:\n{log.read_text()[-3000:]}")


@contextmanager
def served(
    env: dict[str, str], workdir: Path, *, workers: int, worker_class: str
) -> Iterator[tuple[int, subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    """gunicorn as in production (access log on) and a Celery worker for the long exports."""
    port = free_port()
    web_log = workdir / "gunicorn.log"
    worker_log = workdir / "celery.log"
    web_cmd = [
        PYTHON,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--timeout",
        "300",
        "--access-logfile",
        "-",
    ]
    worker_cmd = [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "warning"]
    worker_cmd += ["--concurrency", "1", "-n", f"bench-{secrets.token_hex(4)}@%h"]
    with web_log.open("ab") as web_out, worker_log.open("ab") as worker_out:
        web = subprocess.Popen(web_cmd, cwd=ROOT, env=env, stdout=web_out, stderr=web_out)
        worker = subprocess.Popen(
            worker_cmd, cwd=ROOT, env=env, stdout=worker_out, stderr=worker_out
        )
        try:
            wait_until_healthy(port, web, web_log)
            yield port, web, worker
        finally:
            stop(web)
            stop(worker)


# --- a signed-in browser ----------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """One person's session over plain HTTP to gunicorn, standing behind the TLS proxy: it
    keeps its cookies itself (they are marked Secure) and sends what the proxy and a browser
    would (X-Forwarded-Proto, Origin and Referer on a POST, the CSRF token)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET":
            sent.update(Origin=self.origin, Referer=self.origin + path)
            if "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
        sent.update(headers or {})
        conn = HTTPConnection("127.0.0.1", self.port, timeout=900)
        try:
            conn.request(method, path, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read()
            self._keep_cookies(answer.headers.get_all("Set-Cookie") or [])
            headers_in = {k.lower(): v for k, v in answer.getheaders()}
        finally:
            conn.close()
        return Response(answer.status, headers_in, data)

    def _keep_cookies(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> Response:
        body = urlencode(fields).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_json(self, path: str, data: Any) -> Response:
        body = json.dumps(data).encode()
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def csrf_form_token(self, path: str) -> str:
        page = self.get(path)
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if page.status != 200 or found is None:
            raise SystemExit(f"no CSRF token on {path} ({page.status})")
        return found.group(1).decode()

    def sign_in(self, username: str) -> None:
        """The login page, then the two-factor page when the account has an authenticator."""
        login = "/accounts/login/"
        answer = self.post_form(
            login,
            {
                "csrfmiddlewaretoken": self.csrf_form_token(login),
                "username": username,
                "password": BENCH_PASSWORD,
            },
        )
        if answer.status != 302:
            raise SystemExit(f"the login of {username} failed ({answer.status})")
        home = self.get("/")
        if home.status == 302 and "two-factor/verify" in home.location:
            self.verify_two_factor(username, urlsplit(home.location).path)
            home = self.get("/")
        # Supervisors' home is their dashboard: a redirect anywhere but back to signing in.
        if home.status == 302 and "/accounts/" not in home.location:
            return
        if home.status != 200:
            raise SystemExit(f"{username} signed in but the home page answers {home.status}")

    def verify_two_factor(self, username: str, path: str) -> None:
        """A code is accepted once per device: if this one was used (a run less than 30 s
        earlier), the next one is."""
        for attempt in range(2):
            token = f"{totp(bytes.fromhex(BENCH_TOTP_KEY)):06d}"
            fields = {"csrfmiddlewaretoken": self.csrf_form_token(path), "token": token}
            if self.post_form(path, fields).status == 302:
                return
            if attempt == 0:
                time.sleep(30.5 - time.time() % 30)
        raise SystemExit(f"the two-factor verification of {username} failed")


# --- measuring ------------------------------------------------------------------------------


def timed(call: Any) -> tuple[float, int]:
    started = time.perf_counter()
    answer = call()
    return (time.perf_counter() - started) * 1000, answer.status


def measure_page(
    browser: Browser, measurement: Measurement, page: dict[str, Any], requests: int
) -> None:
    if page["method"] == "POST":

        def call() -> Response:
            return browser.post_json(page["url"], page["body"])
    else:

        def call() -> Response:
            return browser.get(page["url"])

    for _ in range(WARM_UPS):
        call()
    for _ in range(requests):
        elapsed, status = timed(call)
        measurement.samples_ms.append(elapsed)
        measurement.statuses.append(status)


def export_once(browser: Browser, database: str, url: str) -> tuple[float, int]:
    """An export to the file in hand: the request, the background job when the list is long
    (the Celery worker writes it), the download."""
    started = time.perf_counter()
    answer = browser.get(url)
    if answer.status == 302 and "/exports/" in answer.location:
        job_path = urlsplit(answer.location).path
        job_id = int(job_path.rstrip("/").split("/")[-1])
        deadline = time.monotonic() + 1800
        while export_job_status(database, job_id) in {"queued", "running"}:
            if time.monotonic() > deadline:
                return (time.perf_counter() - started) * 1000, 504
            time.sleep(0.1)
        answer = browser.get(f"{job_path}download/")
    return (time.perf_counter() - started) * 1000, answer.status


def measure_export_memory(
    database: str, probe: dict[str, Any], browsers: dict[str, Browser], worker_pid: int
) -> list[dict[str, Any]]:
    """Each export once more (about 10,000 rows, and about 100,000 where there are so many),
    with the Celery worker's pool process watched: its memory before the job and at its peak.
    A file written in pieces keeps the peak about the same whatever the number of rows."""
    found = []
    for key in ("export", "large_export"):
        export = probe.get(key)
        if not export:
            continue
        say(f"export of {export['rows']:,} rows, the worker's memory watched")
        worker = psutil.Process(worker_pid)
        before = max((c.memory_info().rss for c in worker.children()), default=0)
        sampler = RssSampler(worker_pid)
        sampler.start()
        elapsed, status = export_once(browsers[export["role"]], database, export["url"])
        peaks = sampler.stop()
        found.append(
            {
                "rows": export["rows"],
                "url": export["url"],
                "status": status,
                "seconds": round(elapsed / 1000, 1),
                "worker_before_mb": round(before / 2**20, 1),
                "worker_peak_mb": max(peaks.values(), default=0.0),
            }
        )
    return found


def measure_roles(
    port: int, size: int, database: str, probe: dict[str, Any], requests: int
) -> tuple[list[Measurement], dict[str, Browser]]:
    browsers: dict[str, Browser] = {}
    measurements: list[Measurement] = []
    for role, targets in probe["roles"].items():
        browser = Browser(port)
        browser.sign_in(targets["username"])
        browsers[role] = browser
        if role not in ROLES:
            continue
        for name, page in targets["pages"].items():
            measurement = Measurement(size, role, name, page["url"], queries=page["queries"])
            measurements.append(measurement)
            if page["status"] in (403, 404):
                measurement.note = f"no access ({page['status']})"
                continue
            if page["status"] in (301, 302):
                measurement.note = "redirects (not this role's page)"
                continue
            say(f"{size:,} {role}: {name}")
            measure_page(browser, measurement, page, requests)
    export = probe.get("export")
    if export:
        measurement = Measurement(size, export["role"], "export", export["url"])
        measurement.queries = export["queries"]
        measurement.note = f"{export['rows']:,} rows" + (
            ", background job" if export["background"] else ""
        )
        say(f"{size:,} {export['role']}: export of {export['rows']:,} rows")
        browser = browsers[export["role"]]
        for _ in range(min(EXPORT_RUNS, requests)):
            elapsed, status = export_once(browser, database, export["url"])
            measurement.samples_ms.append(elapsed)
            measurement.statuses.append(status)
        measurements.append(measurement)
    return measurements, browsers


JOB_LINE = re.compile(r"^(?P<name>[\w.]+): .* \((?P<seconds>[\d.]+) s\)$")


AS_ON = re.compile(r"^as on (?P<day>\d{4}-\d{2}-\d{2})$")


def run_scheduled_jobs(env: dict[str, str], days_ahead: int = 0) -> dict[str, Any]:
    """Every scheduled job once (`manage.py run_scheduled_jobs`), as on the day `days_ahead`
    after today in the app's time zone: the seconds in all and per job."""
    args = [PYTHON, "manage.py", "run_scheduled_jobs", f"--days-ahead={days_ahead}"]
    started = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode:
        sys.stderr.write(result.stderr[-3000:])
    lines = result.stdout.strip().splitlines()
    per_job = {
        match["name"]: float(match["seconds"])
        for match in map(JOB_LINE.match, lines)
        if match is not None
    }
    return {
        "seconds": round(seconds, 2),
        "ok": result.returncode == 0,
        "today": next((m["day"] for m in map(AS_ON.match, lines) if m is not None), None),
        "jobs": per_job,
        "output": lines,
    }


# --- the concurrent run -------------------------------------------------------------------------


class RssSampler(threading.Thread):
    """The peak resident memory of each child of a process: gunicorn's workers, Celery's pool."""

    def __init__(self, master_pid: int) -> None:
        super().__init__(daemon=True)
        self.master = psutil.Process(master_pid)
        self.peaks: dict[int, int] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            with suppress(psutil.Error):
                for child in self.master.children():
                    rss = child.memory_info().rss
                    self.peaks[child.pid] = max(self.peaks.get(child.pid, 0), rss)
            self.stopped.wait(0.25)

    def stop(self) -> dict[str, float]:
        self.stopped.set()
        self.join()
        return {str(pid): round(rss / 2**20, 1) for pid, rss in sorted(self.peaks.items())}


def load_plan(port: int, probe: dict[str, Any], browsers: dict[str, Browser]) -> dict[str, Any]:
    """What locustfile.py replays: each role's signed-in session and its targets."""
    roles = {}
    for role, targets in probe["roles"].items():
        pages = targets["pages"]
        roles[role] = {
            "cookies": browsers[role].cookies,
            "child_id": targets["child_id"],
            "name": targets["child_name"],
            "visit_child_id": targets.get("visit_child_id"),
            "deep_page": targets["deep_page"],
            "assessment": pages["api_create"]["body"] if "api_create" in pages else None,
            "dashboard": pages.get("dashboard", {}).get("status") == 200,
        }
    return {"origin": f"https://127.0.0.1:{port}", "roles": roles}


def locust_summary(prefix: Path) -> dict[str, Any]:
    stats = prefix.with_name(prefix.name + "_stats.csv")
    with stats.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    per_name = {
        row["Name"]: {"requests": int(row["Request Count"]), "p95_ms": float(row["95%"] or 0)}
        for row in rows
        if row["Name"] != "Aggregated"
    }
    failures: list[dict[str, str]] = []
    failures_csv = prefix.with_name(prefix.name + "_failures.csv")
    if failures_csv.exists():
        with failures_csv.open(newline="", encoding="utf-8") as handle:
            failures = list(csv.DictReader(handle))
    return {
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "requests_per_second": round(float(total["Requests/s"]), 1),
        "p50_ms": float(total["50%"] or 0),
        "p95_ms": float(total["95%"] or 0),
        "by_request": per_name,
        "failures": failures,
    }


def run_load(
    port: int,
    web: subprocess.Popen[bytes],
    plan: dict[str, Any],
    workdir: Path,
    *,
    users: int,
    seconds: int,
) -> dict[str, Any]:
    plan_file = workdir / "load_plan.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    prefix = workdir / "locust"
    command = [
        PYTHON,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(min(users, 10)),
        "-t",
        f"{seconds}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "10",
    ]
    env = {**os.environ, "BENCH_LOAD_PLAN": str(plan_file)}
    say(f"load: {users} users for {seconds} s (locust)")
    sampler = RssSampler(web.pid)
    sampler.start()
    with (workdir / "locust.log").open("ab") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log, check=False)
    peaks = sampler.stop()
    summary = locust_summary(prefix)
    return {
        "users": users,
        "seconds": seconds,
        **summary,
        "worker_peak_rss_mb": peaks,
    }


# --- one size, all sizes --------------------------------------------------------------------


def bench_size(size: int, args: argparse.Namespace) -> SizeResult:
    database, created, generated = prepare_database(size, args.db_prefix)
    env = bench_env(database)
    result = SizeResult(size, database, generated)
    try:
        with tempfile.TemporaryDirectory(prefix=f"{database}-") as tmp:
            workdir = Path(tmp)
            # The generator writes tasks, alerts and reminders as of no particular day; the
            # scheduler then has a backlog to catch up on once (as after an outage), and only
            # from there on a day's work. Caught up first, and reported apart.
            say(f"{database}: scheduled jobs catching up on the generated data")
            result.catch_up = run_scheduled_jobs(env)
            say(f"{database}: picking targets and counting queries in-process")
            probe = run_probe(env, [*ROLES, "city"], workdir)
            result.dashboard_snapshots = probe.get("dashboard_snapshot_seconds", {})
            with served(env, workdir, workers=args.workers, worker_class=args.worker_class) as (
                port,
                web,
                worker,
            ):
                result.measurements, browsers = measure_roles(
                    port, size, database, probe, args.requests
                )
                result.export_memory = measure_export_memory(database, probe, browsers, worker.pid)
                # A day's work: every job once, as on the next day (tasks fall due, reminders and
                # escalations go out, plans move for the day's changes).
                say("running all scheduled jobs once, as on the next day")
                result.scheduled_jobs = run_scheduled_jobs(env, days_ahead=1)
                if not args.no_load:
                    plan = load_plan(port, probe, browsers)
                    result.load = run_load(
                        port,
                        web,
                        plan,
                        workdir,
                        users=args.load_users,
                        seconds=args.load_seconds,
                    )
    finally:
        if created and not args.keep:
            say(f"{database}: dropping (made by this run; --keep keeps it)")
            drop_database(database)
            drop_database(generated_name(database))
    return result


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "postgresql": server_version(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# --- the report -------------------------------------------------------------------------------


def cell(measurement: Measurement | None) -> str:
    if measurement is None or not measurement.samples_ms:
        return "—"
    text = f"{measurement.p50:.0f} / {measurement.p95:.0f}"
    if measurement.queries is not None:
        text += f" ({measurement.queries} q)"
    if measurement.errors:
        text += f" **{measurement.errors} errors**"
    return text


def ratio_cell(small: Measurement | None, large: Measurement | None) -> str:
    if not (small and large and small.samples_ms and large.samples_ms) or small.p95 <= 0:
        return "—"
    return f"{large.p95 / small.p95:.2f}"


def table(rows: list[str], header: list[str]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + rows


def size_table(result: SizeResult) -> list[str]:
    rows = [
        f"| {title} | " + " | ".join(cell(result.find(role, page)) for role in ROLES) + " |"
        for page, title in PAGE_TITLES.items()
    ]
    lines = [f"### {result.size:,} children (p50 / p95 ms, SQL queries per request)", ""]
    if result.generated_seconds is not None:
        lines += [f"Generated in {result.generated_seconds / 60:.1f} min.", ""]
    lines += table(rows, ["page", *ROLES])
    export = next((m for m in result.measurements if m.page == "export"), None)
    if export is not None:
        lines += ["", f"Export: {export.note}, as {export.role}, {export.url}."]
    for run in result.export_memory:
        lines.append(
            f"Export of {run['rows']:,} rows ({run['url']}): {run['seconds']:.1f} s to the "
            f"downloaded file; the worker's memory {run['worker_before_mb']:.0f} MB before, "
            f"{run['worker_peak_mb']:.0f} MB at its peak."
        )
    if result.dashboard_snapshots:
        computed = ", ".join(
            f"{role} {sec:.1f} s" for role, sec in result.dashboard_snapshots.items()
        )
        lines.append(
            f"Dashboard snapshots computed (the background job, before the pages): {computed}."
        )
    jobs = result.scheduled_jobs
    if jobs:
        state = "" if jobs["ok"] else " (failed)"
        slowest = sorted(jobs.get("jobs", {}).items(), key=lambda item: -item[1])[:3]
        detail = ", ".join(f"{name} {sec:.1f} s" for name, sec in slowest)
        lines.append(
            f"All scheduled jobs, a day's run (once each, as on the next day): "
            f"{jobs['seconds']:.1f} s{state}" + (f" (slowest: {detail})" if detail else "") + "."
        )
    catch_up = result.catch_up
    if catch_up:
        state = "" if catch_up["ok"] else " (failed)"
        lines.append(
            f"Catching up once on the generated backlog (before the pages): "
            f"{catch_up['seconds']:.1f} s{state}."
        )
    if result.load:
        load = result.load
        peak = max(load["worker_peak_rss_mb"].values(), default=0)
        lines.append(
            f"Load, {load['users']} users for {load['seconds']} s: "
            f"{load['requests_per_second']} requests/s, p95 {load['p95_ms']:.0f} ms, "
            f"{load['errors']} errors of {load['requests']}; peak worker RSS {peak:.0f} MB."
        )
    return lines


def ratio_table(small: SizeResult, large: SizeResult) -> list[str]:
    rows = [
        f"| {title} | "
        + " | ".join(ratio_cell(small.find(role, page), large.find(role, page)) for role in ROLES)
        + " |"
        for page, title in PAGE_TITLES.items()
    ]
    title = f"### p95 ratio, {large.size:,} / {small.size:,} children"
    return [title, "", *table(rows, ["page", *ROLES])]


def report(results: list[SizeResult], info: dict[str, Any], command: str) -> str:
    lines = [
        f"Measured by `{command}` on {info['cpus']} CPUs, {info['ram_gb']} GB RAM, "
        f"PostgreSQL {info['postgresql']}, {info['date'][:10]}; gunicorn, DEBUG off.",
        "",
    ]
    for result in results:
        lines += [*size_table(result), ""]
    if len(results) >= 2:
        lines += [*ratio_table(results[0], results[-1]), ""]
    lines.append(
        "— : not this role's page (no access, its home is its dashboard, or it may not do "
        "this). SQL queries counted in-process on the same views and database."
    )
    return "\n".join(lines).rstrip() + "\n"


def as_json(results: list[SizeResult], info: dict[str, Any], command: str) -> dict[str, Any]:
    sizes = {}
    for result in results:
        sizes[str(result.size)] = {
            "database": result.database,
            "generated_seconds": result.generated_seconds,
            "measurements": [m.as_json() for m in result.measurements],
            "scheduled_jobs": result.scheduled_jobs,
            "scheduled_jobs_catch_up": result.catch_up,
            "dashboard_snapshot_seconds": result.dashboard_snapshots,
            "load": result.load,
            "export_memory": result.export_memory,
        }
    ratios: dict[str, dict[str, float]] = {}
    if len(results) >= 2:
        small, large = results[0], results[-1]
        for page in PAGE_TITLES:
            for role in ROLES:
                text = ratio_cell(small.find(role, page), large.find(role, page))
                if text != "—":
                    ratios.setdefault(page, {})[role] = float(text)
    return {"command": command, "machine": info, "sizes": sizes, "p95_ratio": ratios}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,1000000", help="children per database")
    parser.add_argument(
        "--i-know-this-is-not-production", dest="not_production", action="store_true"
    )
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--json", help="write all figures to this file")
    parser.add_argument("--no-load", action="store_true", help="skip the concurrent run")
    parser.add_argument("--load-users", type=int, default=50)
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the databases this run generates, for the next run to reuse\n"
        "(a database an earlier run kept is reused and never dropped)",
    )
    parser.add_argument("--db-prefix", default="xinqiao_bench", help="database name prefix")
    parser.add_argument(
        "--workers", type=int, default=3, help="gunicorn workers (docker-compose.yml runs 3)"
    )
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    args = parser.parse_args(argv)
    args.sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    if args.requests < 1 or not args.sizes:
        parser.error("--requests must be at least 1 and --sizes name a size")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("DATABASE_URL and REDIS_URL must be set (make bench sets them)")
    if os.environ.get("DJANGO_ENV") == "production" and not args.not_production:
        raise SystemExit(
            "DJANGO_ENV=production: the benchmark makes databases with fixed keys and known "
            "passwords on this server; run it on a machine of its own "
            "(or pass --i-know-this-is-not-production)"
        )
    command = "python bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    collect_static(bench_env(f"{args.db_prefix}_static"))
    try:
        results = [bench_size(size, args) for size in args.sizes]
    finally:
        MAIL_SINK.stop()
    info = machine()
    print(report(results, info, command.strip()))
    if args.json:
        payload = as_json(results, info, command.strip())
        Path(args.json).write_text(json.dumps(payload, ensure_ascii=False, indent=1), "utf-8")
    failed = [m for r in results for m in r.measurements if m.errors]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
