"""The one scoping selector gives PostgreSQL a plan that reaches the children through indexes
for every role: no scan of the whole children table, whatever the province's size.

Sequential scans are switched off for the EXPLAIN, so that a small test table cannot make a scan
the planner's honest choice: a scan (or a full index walk with a filter) then shows only where no
index can serve the query, which at a million children is what made the lists slow.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet

from assessments.selectors import alerts_visible_to
from cases.selectors.children import child_list
from cases.selectors.scope import children_visible_to
from tests.demo import USERNAMES, user

pytestmark = pytest.mark.django_db

CHILD_TABLE = "cases_child"


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
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = json.loads(qs.explain(format="json"))[0]["Plan"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = on")
    return [reason for node in _child_scans(plan) if (reason := _unindexed(node))]


@pytest.mark.parametrize("username", USERNAMES)
def test_every_role_reaches_its_children_through_indexes(username):
    someone = user(username)
    page = child_list(user=someone)[:25]
    count = children_visible_to(someone).order_by().values("pk")
    alerts = (
        alerts_visible_to(someone).filter(acknowledged_at__isnull=True).order_by("-created_at")[:25]
    )
    for name, qs in (("child list", page), ("child count", count), ("open alerts", alerts)):
        assert unindexed_child_reads(qs) == [], f"{username}: {name}"
