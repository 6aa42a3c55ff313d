"""The one scoping selector gives PostgreSQL a plan that reaches the children through indexes
for every role: no scan of the whole children table, whatever the province's size.

For the EXPLAIN, sequential and plain index scans are switched off, leaving bitmap scans: these
need an index condition on every arm of the scope's OR (a BitmapOr over the region-prefix
indexes and the primary key), so a small test table cannot make a scan or a walk of a whole
index the planner's honest choice, and a plan still reading the children without an index
condition shows a scope no index can answer (at a million children, what made the lists slow:
a scope written as `id IN (subquery)` becomes a hashed sub-plan checked row by row).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet

from bench.accounts import BENCH_USERS
from bench.generate import generate
from cases.selectors.children import child_list
from cases.selectors.scope import children_visible_to
from tests.demo import USERNAMES, user

pytestmark = pytest.mark.django_db

CHILD_TABLE = "cases_child"
SCANS_OFF = ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan")


def _child_scans(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every plan node that reads the children table, with the index nodes under it."""
    found = []
    if plan.get("Relation Name") == CHILD_TABLE:
        found.append(plan)
    for sub in plan.get("Plans", []):
        found += _child_scans(sub)
    return found


def _unindexed(node: dict[str, Any]) -> str | None:
    """Why this read of the children is not an indexed one (None: it is)."""
    kind = node["Node Type"]
    if kind in {"Index Scan", "Index Only Scan"}:
        return None if node.get("Index Cond") else f"{kind} of the whole index"
    if kind == "Bitmap Heap Scan":
        leaves = _bitmap_leaves(node)
        if leaves and all(leaf.get("Index Cond") for leaf in leaves):
            return None
        return "bitmap scan without an index condition"
    return kind


def _bitmap_leaves(node: dict[str, Any]) -> list[dict[str, Any]]:
    leaves = []
    for sub in node.get("Plans", []):
        if sub["Node Type"] == "Bitmap Index Scan":
            leaves.append(sub)
        else:
            leaves += _bitmap_leaves(sub)
    return leaves


def unindexed_child_reads(qs: QuerySet[Any]) -> list[str]:
    with connection.cursor() as cursor:
        for switch in SCANS_OFF:
            cursor.execute(f"SET LOCAL {switch} = off")
        try:
            plan = json.loads(qs.explain(format="json"))[0]["Plan"]
        finally:
            for switch in SCANS_OFF:
                cursor.execute(f"RESET {switch}")
    return [reason for node in _child_scans(plan) if (reason := _unindexed(node))]


def assert_indexed_for(username: str) -> None:
    someone = user(username)
    # The list's rows and its count, without the ORDER BY and LIMIT of one page: on a small
    # table the planner may honestly walk the sort column's index and filter (at a million
    # children, only for a scope that holds most of them); what must hold for every role is
    # that the scope itself can be answered from indexes.
    rows = child_list(user=someone).order_by()
    count = children_visible_to(someone).order_by().values("pk")
    for name, qs in (("child list", rows), ("child count", count)):
        assert unindexed_child_reads(qs) == [], f"{username}: {name}"


@pytest.mark.parametrize("username", USERNAMES)
def test_every_demo_role_reaches_its_children_through_indexes(username):
    assert_indexed_for(username)


def test_every_role_reaches_its_children_through_indexes_in_a_generated_province():
    """The same on the benchmark's synthetic province next to the demo's, with the planner's
    statistics of both: every demo role and every benchmark account."""
    generate(2000, seed=3, log=lambda _message: None)
    for username in [*USERNAMES, *BENCH_USERS.values()]:
        assert_indexed_for(username)


def test_no_filter_of_the_child_list_makes_it_distinct():
    """Every filter of the list is a condition on the child's own columns or an EXISTS (the
    filter set's promise), so none may add DISTINCT: with it the high-risk list of a province
    sorted all its 51,717 matching rows whole for a 25-row page (650 ms at 1,000,000 children,
    against 29 ms without). django-filter's multiple-choice filters add it unless told not to."""
    from django.http import QueryDict

    from cases.filters import ChildFilter

    distinct = [name for name, f in ChildFilter.base_filters.items() if getattr(f, "distinct", 0)]
    assert distinct == []
    someone = user("county_civil")
    query = QueryDict("risk=3&risk=4&category=rural_left_behind&category=orphan&sex=F")
    filterset = ChildFilter(query, queryset=child_list(user=someone), user=someone)
    assert filterset.is_valid(), filterset.errors
    assert not filterset.qs.query.distinct
    assert "DISTINCT" not in str(filterset.qs.query).upper()
