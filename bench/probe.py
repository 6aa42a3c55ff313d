"""The benchmark's in-process half: run by `bench/run.py` as a subprocess against one benchmark
database, with the same settings as the served app (production, DEBUG off).

It picks what each role's pages are measured on (a child in its scope, a name to search, the
deepest page its list reaches, an assessment to submit, the rows of the export), then requests
every page once through Django's test client, which goes through the same middleware and views
as gunicorn, to count its SQL queries (`CaptureQueriesContext` records them with DEBUG off). The
answer is one JSON document on stdout (or in --out): `run.py` times the same URLs over HTTP.

    python bench/probe.py [--roles director,township,...] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The export is measured on about this many rows (issue 13: "an export of 10,000 rows").
EXPORT_ROWS = 10_000
# And once on about this many, where the province holds them, with the worker's memory watched
# (issue 13: "a 100,000-row export streams with flat memory").
LARGE_EXPORT_ROWS = 100_000
EXPORT_FORMAT = "xlsx"
# The roles that may export, widest first: the export is measured as the first that can.
EXPORT_ROLES = ("province", "city", "county", "township")
# The filtered list: the children at high risk or in crisis (what a supervisor checks first).
FILTER_QUERY = "risk=3&risk=4"
# Candidates looked at to find a child an assessment can be submitted for.
ASSESSMENT_CANDIDATES = 200
# The pages, in the order of the report. run.py adds the export and the scheduled jobs.
PAGES = (
    "work_list",
    "child_list",
    "deep_page",
    "filtered",
    "search",
    "child_file",
    "dashboard",
    "api_list",
    "api_create",
)


@dataclass
class Page:
    """One page a role is measured on: how to request it, and what the count in-process saw."""

    url: str
    method: str = "GET"
    body: dict[str, Any] | None = None  # JSON body of a POST
    status: int = 0
    queries: int | None = None


@dataclass
class RoleTargets:
    username: str
    visible: int = 0
    child_id: int | None = None
    child_name: str = ""
    deep_page: int = 1
    visit_child_id: int | None = None  # a child the user may log a visit for (the load)
    pages: dict[str, Page] = field(default_factory=dict)


@dataclass
class ExportTarget:
    role: str
    url: str
    region: str
    rows: int
    status: int = 0
    queries: int | None = None
    background: bool = False


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# --- picking the targets ------------------------------------------------------------------


def _middle_child(user: Any) -> Any:
    """A child in the middle of the user's scope (by id), so that no role gets the first row."""
    from cases.selectors.scope import children_visible_to

    visible = children_visible_to(user).order_by("pk")
    count = visible.count()
    return count, (visible[count // 2] if count else None)


def _deep_page(user: Any) -> int:
    """The last page the list's paginator offers the user (capped like the page's count)."""
    from cases.selectors.children import child_list
    from core.pagination import CappedPaginator

    return CappedPaginator(child_list(user=user), 25).num_pages


def _assessment_body(user: Any) -> dict[str, Any] | None:
    """A realistic submission the user may make: a child they may contribute to, with consent
    for assessment, and the first instrument that fits the child's age, answered with the
    lowest option of every item. None when the user may not submit assessments."""
    from assessments.selectors import current_instruments
    from assessments.services import instrument_fit_problem
    from cases.models import Consent
    from cases.selectors.scope import children_visible_to
    from institutions.roles import Level

    if not user.has_perm("assessments.add_assessment"):
        return None
    instruments = list(current_instruments())
    consented = Consent.objects.filter(
        purpose=Consent.Purpose.ASSESSMENT, withdrawn_at__isnull=True
    ).values("child_id")
    candidates = children_visible_to(user, Level.CONTRIBUTE).filter(pk__in=consented)
    for child in candidates.order_by("pk")[:ASSESSMENT_CANDIDATES]:
        for instrument in instruments:
            if instrument_fit_problem(instrument=instrument, child=child) is None:
                parsed = instrument.parsed
                answers = {
                    str(int(item["number"])): parsed.values_of(item)[0] for item in parsed.items
                }
                return {"child": child.pk, "instrument": instrument.code, "answers": answers}
    return None


def _visit_child(user: Any) -> int | None:
    from cases.selectors.scope import children_visible_to
    from institutions.roles import Level

    if not user.has_perm("followups.add_visit"):
        return None
    child = children_visible_to(user, Level.CONTRIBUTE).order_by("pk").first()
    return child.pk if child is not None else None


def role_targets(username: str) -> RoleTargets:
    from institutions.models import User

    user = User.objects.get(username=username)
    targets = RoleTargets(username=username)
    targets.visible, child = _middle_child(user)
    if child is not None:
        targets.child_id = child.pk
        targets.child_name = child.name
    targets.deep_page = _deep_page(user)
    targets.visit_child_id = _visit_child(user)
    pages = targets.pages
    pages["work_list"] = Page("/")
    pages["child_list"] = Page("/children/")
    pages["deep_page"] = Page(f"/children/?page={targets.deep_page}")
    pages["filtered"] = Page(f"/children/?{FILTER_QUERY}")
    if child is not None:
        pages["search"] = Page("/children/?" + urlencode({"q": child.name}))
        pages["child_file"] = Page(f"/children/{child.pk}/")
    pages["dashboard"] = Page("/dashboards/")
    pages["api_list"] = Page("/api/v1/children/")
    body = _assessment_body(user)
    if body is not None:
        pages["api_create"] = Page("/api/v1/assessments/", method="POST", body=body)
    return targets


def export_target(roles: dict[str, str], wanted: int = EXPORT_ROWS) -> ExportTarget | None:
    """The export: the widest role that may export, filtered down to at least `wanted` of its
    children and as few more as can be: the smallest region (city, county or township) holding
    that many, then the narrowest filter of it (sex, age band, or both) still holding that many.
    The rows are counted with the export's own filters (`cases.exports.children_rows`)."""
    from django.db.models import Count
    from django.db.models.functions import Substr
    from django.http import QueryDict

    from cases.exports import children_rows, may_export_children
    from cases.models import Child
    from cases.selectors.demographics import AGE_BANDS
    from cases.selectors.scope import children_visible_to
    from institutions.models import User

    def rows_of(user: User, query: dict[str, str]) -> int:
        params = QueryDict(mutable=True)
        params.update(query)
        return children_rows(user, params).count()

    target = wanted
    for role in EXPORT_ROLES:
        if role not in roles:
            continue
        user = User.objects.get(username=roles[role])
        if not may_export_children(user):
            continue
        visible = children_visible_to(user)
        best: tuple[int, str] | None = None
        for length in (4, 6, 9):  # city, county, township codes
            counts = (
                visible.annotate(code=Substr("residence_region_id", 1, length))
                .values("code")
                .annotate(n=Count("pk"))
                .filter(n__gte=target)
            )
            for row in counts:
                if best is None or row["n"] < best[0]:
                    best = (row["n"], row["code"])
        query = {"fmt": EXPORT_FORMAT}
        rows = visible.count()
        if best is not None:
            query["region"] = best[1]
            rows = best[0]
            narrower = [
                {**query, **extra}
                for extra in (
                    *({"sex": sex} for sex in Child.Sex.values),
                    *({"age": band.key} for band in AGE_BANDS),
                    *(
                        {"sex": sex, "age": band.key}
                        for sex in Child.Sex.values
                        for band in AGE_BANDS
                    ),
                )
            ]
            for candidate in narrower:
                n = rows_of(user, candidate)
                if target <= n < rows:  # the fewest rows that are still at least `target`
                    query, rows = candidate, n
        url = "/children/export/?" + urlencode(query)
        return ExportTarget(role=role, url=url, region=query.get("region", ""), rows=rows)
    return None


# --- counting the queries -----------------------------------------------------------------


def signed_in_client(username: str) -> Any:
    """A test client signed in as the user, past two-factor verification when the user has a
    device: the session holds what the login and verification pages would put in it."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from institutions.models import User

    user = User.objects.get(username=username)
    # The same request shape as behind the TLS proxy: see run.py.
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def counted(request: Callable[[], Any]) -> tuple[int, int]:
    """The status and the number of SQL queries of one request (after one to warm up)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    request()
    with CaptureQueriesContext(connection) as queries:
        response = request()
    return response.status_code, len(queries.captured_queries)


def count_page(client: Any, page: Page) -> None:
    if page.method == "POST":

        def request() -> Any:
            return client.post(page.url, page.body, content_type="application/json")
    else:

        def request() -> Any:
            return client.get(page.url)

    page.status, page.queries = counted(request)


def count_export(client: Any, target: ExportTarget) -> None:
    """The export's queries: the request and, for a long list, the background job it queues
    run here (the job is idempotent: the worker that gets the queued message later finds it
    done and does nothing), and the download of the file."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.exports.jobs import export_job_run

    with CaptureQueriesContext(connection) as queries:
        response = client.get(target.url)
        if response.status_code == 302 and "/exports/" in response["Location"]:
            target.background = True
            job_id = int(response["Location"].rstrip("/").split("/")[-1])
            export_job_run(job_id=job_id)
            response = client.get(f"/exports/{job_id}/download/")
    target.status = response.status_code
    target.queries = len(queries.captured_queries)


def prepare_dashboards(roles: dict[str, str]) -> dict[str, float]:
    """Compute the snapshot of each role's dashboard (its first jurisdiction, 12 months), as the
    background job does, and time it: the cold cost, paid by the job rather than by a page.
    The pages measured afterwards are served from the snapshots, as in a running site."""
    import time

    from dashboards.selectors import dashboard_access
    from dashboards.snapshots import build_snapshot
    from institutions.models import User

    seconds: dict[str, float] = {}
    for role, username in roles.items():
        access = dashboard_access(User.objects.get(username=username))
        if not access.regions:
            continue
        started = time.perf_counter()
        build_snapshot(access.regions[0], 12)
        seconds[role] = round(time.perf_counter() - started, 2)
    return seconds


def probe(roles: dict[str, str]) -> dict[str, Any]:
    setup_django()
    from bench.accounts import BENCH_USERS

    snapshots = prepare_dashboards(roles)
    targets = {role: role_targets(username) for role, username in roles.items()}
    for targets_of_role in targets.values():
        client = signed_in_client(targets_of_role.username)
        for page in targets_of_role.pages.values():
            count_page(client, page)
    export = export_target({**BENCH_USERS, **roles})
    if export is not None:
        count_export(signed_in_client(BENCH_USERS[export.role]), export)
    # The large export only where the province holds that many children (not at 10,000).
    large = export_target({**BENCH_USERS, **roles}, LARGE_EXPORT_ROWS)
    if large is not None and large.rows < LARGE_EXPORT_ROWS // 2:
        large = None
    return {
        "roles": {role: asdict(t) for role, t in targets.items()},
        "export": asdict(export) if export is not None else None,
        "large_export": asdict(large) if large is not None else None,
        "dashboard_snapshot_seconds": snapshots,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roles", help="comma-separated roles of bench.accounts.BENCH_USERS")
    parser.add_argument("--out", help="write the JSON here instead of stdout")
    args = parser.parse_args(argv)
    from bench.accounts import BENCH_USERS

    names = args.roles.split(",") if args.roles else list(BENCH_USERS)
    roles = {role: BENCH_USERS[role] for role in names}
    result = json.dumps(probe(roles), ensure_ascii=False, indent=1)
    if args.out:
        Path(args.out).write_text(result, encoding="utf-8")
    else:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
