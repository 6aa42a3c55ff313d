"""Regions: the code tree, prefix subtrees and the CSV loader."""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from institutions.models import Region, normalize_region_code
from institutions.selectors import regions_under

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "short"),
    [
        ("110000000000", "11"),
        ("110100000000", "1101"),
        ("110101000000", "110101"),
        ("110101001000", "110101001"),
        ("110101001001", "110101001001"),
        ("990101", "990101"),
    ],
)
def test_published_codes_are_normalised(raw, short):
    assert normalize_region_code(raw) == short


@pytest.mark.parametrize("raw", ["11010", "abc", "1101010010011"])
def test_malformed_codes_are_refused(raw):
    with pytest.raises(ValueError):
        normalize_region_code(raw)


def test_subtree_is_a_prefix_match():
    codes = set(regions_under(code="990101001").values_list("code", flat=True))
    assert codes == {"990101001", "990101001001", "990101001002", "990101001003"}


def test_prefix_match_can_use_the_pattern_index():
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        sql, params = regions_under(code="990101").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "institutions_region_code" in plan and "_like" in plan


def test_database_refuses_a_code_that_does_not_match_its_level():
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(code="9901019", name="坏", level=4, parent_id="990101")


def test_loader_reads_published_codes_and_is_safe_to_rerun(tmp_path):
    csv_file = tmp_path / "regions.csv"
    csv_file.write_text(
        "code,name\n"
        "980000000000,测试省\n"
        "980100000000,测试市\n"
        "980101000000,测试县\n"
        "980101001000,测试镇\n"
        "980101001001,测试村\n",
        encoding="utf-8",
    )
    call_command("load_regions", str(csv_file))
    village = Region.objects.get(code="980101001001")
    assert village.level == Region.Level.VILLAGE
    assert village.parent_id == "980101001"
    call_command("load_regions", str(csv_file))
    assert Region.objects.filter(code__startswith="98").count() == 5


def test_loader_reports_every_bad_row_and_saves_nothing(tmp_path):
    csv_file = tmp_path / "regions.csv"
    csv_file.write_text(
        "970000000000,好省\n97010,坏码\n970100000000,\n960101000000,没有上级的县\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as error:
        call_command("load_regions", str(csv_file))
    message = str(error.value)
    assert "line 2" in message or "第 2 行" in message
    assert "line 3" in message or "第 3 行" in message
    assert "960101" in message
    assert not Region.objects.filter(code__startswith="97").exists()


@pytest.mark.parametrize(
    ("code", "path"),
    [
        ("99", ["99"]),
        ("990101", ["99", "9901", "990101"]),
        ("990101001001", ["99", "9901", "990101", "990101001", "990101001001"]),
    ],
)
def test_a_regions_path_is_every_region_that_covers_it_province_first(code, path):
    assert Region.path_codes(code) == path
    assert all(Region.parent_code_for(b) == a for a, b in pairwise(path))
