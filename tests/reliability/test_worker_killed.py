"""A worker killed in the middle of the child import (issue 15): the pool process that runs the
job, or the whole worker, is killed with SIGKILL while the job checks its rows. The message goes
back to the queue (acknowledged late, rejected when the worker is lost; after the visibility
timeout when no worker survived), the job starts again from nothing (it imports in one
transaction) and completes once the worker is back: every row imported, none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count

from cases.imports.job import child_import_start
from cases.models import Child, ChildImport
from tests.cases.test_import import FINISHED, give_schools_to, nid, row, xlsx
from tests.conftest import user
from tests.reliability.servers import OwnRedis, own_redis, served_by

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2000
VISIBILITY_TIMEOUT = 8


def database_url() -> str:
    """The test database, as a URL for the worker process (it sees what the test committed)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    host = quote(db.get("HOST") or "", safe="")
    return f"postgres://{quote(db['USER'] or '', safe='')}{password}@{host}{port}/{db['NAME']}"


def start_worker(redis: OwnRedis) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis.url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork"]
    command += ["--concurrency", "1", "-l", "warning", "-n", f"killed-{time.time_ns()}@%h"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(20)


def the_file() -> SimpleUploadedFile:
    rows = []
    for index in range(ROWS):
        born = date(2012, 1, 1) + timedelta(days=index // 900)
        rows.append(
            row(
                **{
                    "姓名": f"测试{index}",
                    "出生日期": born,
                    "身份证号": nid(born, f"{index % 900:03d}"),
                }
            )
        )
    return SimpleUploadedFile("children.xlsx", xlsx(rows))


def wait_until(check, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def checking(job: ChildImport) -> bool:
    job.refresh_from_db()
    assert job.status not in FINISHED, "the job ended before it could be interrupted"
    return job.status != ChildImport.Status.QUEUED and job.processed_rows >= 200


@pytest.mark.parametrize("killed", ["pool process", "whole worker"])
def test_the_import_completes_once_after_its_worker_is_killed(demo_world, killed):
    give_schools_to("welfare_staff")
    before = Child.objects.count()
    with own_redis() as redis, served_by(redis):
        job = child_import_start(uploaded_file=the_file(), by=user("welfare_staff"))
        worker = start_worker(redis)
        try:
            wait_until(lambda: checking(job), 120, "the import's checking")
            if killed == "pool process":
                (pool,) = psutil.Process(worker.pid).children()
                pool.kill()
            else:
                stop(worker)
                worker = start_worker(redis)
            wait_until(
                lambda: job.refresh_from_db() or job.status in FINISHED, 180, "the import's end"
            )
        finally:
            stop(worker)
    assert job.status == ChildImport.Status.DONE, job.errors
    assert job.created_count == ROWS and Child.objects.count() == before + ROWS
    twice = (
        Child.objects.filter(national_id_hash__gt="")
        .values("national_id_hash")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not twice.exists()
