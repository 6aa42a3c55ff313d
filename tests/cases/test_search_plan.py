"""Searching children uses indexes (issue 13): the plan of every kind of search, scoped as a
user's list is, reads no table of children from end to end; and what the search finds.

Sequential scans are switched off for the plans, so that the demo world's small table cannot
make the planner choose one legitimately: a `Seq Scan` left in the plan means no index could
answer the search.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet

from cases.models import Child
from cases.selectors.children import child_list, search_q
from tests.demo import FAR_VILLAGE, VILLAGE_A, user
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db


def plan(qs: QuerySet) -> str:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        return qs.explain()


@pytest.fixture
def named():
    """Children with rare characters in their names: in director_a's village, and one of the
    same names out of director_a's reach."""
    made = {
        name: ChildFactory(name=name, region=VILLAGE_A)
        for name in ["龚砚", "龚砚秋", "欧阳砚秋", "欧阳秋砚", "翀"]
    }
    made["far 龚砚"] = ChildFactory(name="龚砚", region=FAR_VILLAGE)
    return made


SEARCHES = {
    "three Chinese characters": "阳砚秋",
    "two Chinese characters": "龚砚",
    "one Chinese character": "翀",
    "pinyin prefix": "gongyan",
    "record number": "demo-0001",
}


@pytest.mark.parametrize("text", SEARCHES.values(), ids=SEARCHES.keys())
def test_a_scoped_search_scans_no_table_of_children(text, named):
    qs = child_list(user=user("director_a"), search=text)
    explained = plan(qs)
    assert "Seq Scan on cases_child" not in explained, explained


INDEXES = {
    # text: the indexes its arms must use (name, record number, pinyin; a one-character query
    # has no pinyin arm).
    "阳砚秋": ["child_name_grams", "child_record_number_upper", "name_pinyin"],
    "龚砚": ["child_name_grams", "child_record_number_upper", "name_pinyin"],
    "翀": ["child_name_grams", "child_record_number_upper"],
    "DEMO-0001": ["child_name_grams", "child_record_number_upper", "name_pinyin"],
}


@pytest.mark.parametrize("text", INDEXES)
def test_every_arm_of_an_unscoped_search_has_its_index(text, named):
    # Unscoped (a province's scope is every child): only the search's own indexes can help.
    explained = plan(Child.objects.filter(search_q(text)))
    assert "Seq Scan on cases_child" not in explained, explained
    for index in INDEXES[text]:
        assert f"Index Scan on {index}" in explained or (
            index == "name_pinyin" and "Index Scan on cases_child_name_pinyin_" in explained
        ), explained


def test_an_id_number_is_found_through_its_hash_index(named):
    explained = plan(Child.objects.filter(search_q("110101200501011234")))
    assert "Seq Scan on cases_child" not in explained, explained
    assert "national_id_hash" in explained


def found(text: str, username: str = "director_a") -> set[str]:
    return set(child_list(user=user(username), search=text).values_list("name", flat=True))


def test_two_characters_find_the_names_holding_them_anywhere(named):
    assert found("龚砚") == {"龚砚", "龚砚秋"}
    assert found("砚秋") == {"龚砚秋", "欧阳砚秋"}
    assert found("砚龚") == set()


def test_three_characters_inside_a_longer_name(named):
    assert found("阳砚秋") == {"欧阳砚秋"}
    assert found(" 阳秋砚 ") == {"欧阳秋砚"}


def test_one_character_anywhere_in_the_name(named):
    assert found("翀") == {"翀"}
    assert {"龚砚", "龚砚秋", "欧阳砚秋", "欧阳秋砚"} <= found("砚")


def test_pinyin_prefix(named):
    assert found("gongyan") == {"龚砚", "龚砚秋"}
    assert found("ouyangyanq") == {"欧阳砚秋"}
    assert found("Ou Yang") == {"欧阳砚秋", "欧阳秋砚"}


def test_record_number_in_any_case(named):
    child = named["欧阳秋砚"]
    Child.objects.filter(pk=child.pk).update(record_number="Xq-Test-07")
    assert found("xq-test-07") == {"欧阳秋砚"}
    assert found("XQ-TEST-07") == {"欧阳秋砚"}
    assert found("xq-test-0") == set()  # the record number is matched whole


def test_latin_names_case_insensitively(named):
    child = ChildFactory(name="Anna Gülnar", region=VILLAGE_A)
    assert Child.objects.filter(search_q("NA GÜ")).get() == child
    assert Child.objects.filter(search_q("gülnar")).get() == child


def test_the_same_name_out_of_scope_is_not_found(named):
    far = named["far 龚砚"]
    assert far.pk not in set(
        child_list(user=user("director_a"), search="龚砚").values_list("pk", flat=True)
    )
    assert far.pk in set(
        child_list(user=user("county_civil"), search="龚砚").values_list("pk", flat=True)
    )
