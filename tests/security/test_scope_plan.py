"""The scope filter gives PostgreSQL a plan that combines the region indexes and the primary key
(a BitmapOr), never one that must visit every child (DESIGN.md §8; the performance review found
`id IN (grants)` arms forcing a scan of a million children)."""

from __future__ import annotations

import pytest
from django.db import connection

from cases.selectors.scope import children_visible_to
from institutions.roles import Level
from tests.conftest import user

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # The demo table is tiny, so a scan, or a walk of a whole index filtering its rows
        # (the list's covering index holds the regions), would be cheapest: forbid both to see
        # what the planner can do with index conditions, as it does at province scale. (With
        # only the scan forbidden, a CI run's table statistics chose the whole-index walk.)
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("username", "level"),
    [
        ("director_a", Level.READ),
        ("director_a", Level.MANAGE),
        ("supervisor_town", Level.CONTRIBUTE),
        ("county_civil", Level.READ),
    ],
)
def test_a_region_scope_uses_the_indexes_in_a_bitmap_or(username, level):
    text = plan(children_visible_to(user(username), level).order_by().values("id"))
    assert "BitmapOr" in text, text
    assert "hashed SubPlan" not in text and "Seq Scan on cases_child" not in text, text


def test_a_grant_only_scope_looks_children_up_by_primary_key():
    text = plan(children_visible_to(user("mentor")).order_by().values("id"))
    assert "cases_child_pkey" in text, text
    assert "hashed SubPlan" not in text and "Seq Scan on cases_child" not in text, text
