"""The change history of a child's file, read as a user reads it: labels and values in the
reader's language, in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Child
from cases.services.child import child_update
from institutions.models import Institution, Region
from tests.conftest import user
from tests.demo import MIDDLE_SCHOOL, VILLAGE_A, VILLAGE_A2
from tests.factories import ChildFactory

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    """The history list as a reader sees it: tags dropped, spaces collapsed."""
    part = html.split('data-testid="history"')[1].split("</ul>\n")[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part))


def _edit(child: Child, **changes: object) -> Child:
    return child_update(
        child=child, changes=changes, expected_version=child.version, by=user("director_a")
    )


def _child_with_changes() -> Child:
    child = ChildFactory(
        region=VILLAGE_A,
        name="史十二",
        sex=Child.Sex.MALE,
        categories=["rural_left_behind"],
        by=user("director_a"),
    )
    child = _edit(child, sex=Child.Sex.FEMALE, categories=["rural_left_behind", "migrant"])
    child = _edit(
        child,
        residence_region=Region.objects.get(code=VILLAGE_A2),
        school=Institution.objects.get(name=MIDDLE_SCHOOL),
        birth_date=date(2014, 2, 3),
    )
    return _edit(child, notes="按时服药", notes_confidential=True)


def test_history_shows_labels_and_names_in_chinese(login):
    child = _child_with_changes()
    client = login("supervisor_town")  # may read confidential notes
    text = _text(client.get(reverse("cases:child_history", args=[child.pk])).content.decode())

    assert "性别 : 男 → 女" in text
    # A list of labels (joined by the language's list separator: "、" once translated).
    assert re.search(r"类别 : 农村留守儿童 → 农村留守儿童(、|, )流动儿童", text)
    assert "创建人 : 演示·东岭村儿童主任" in text
    assert f"现居住地 : 东岭村 → {Region.objects.get(code=VILLAGE_A2).name}" in text
    assert f"学校 : — → {MIDDLE_SCHOOL}" in text
    assert "出生日期 : " in text and "→ 2014-02-03" in text
    assert "备注保密 : 否 → 是" in text
    # None of the stored codes, ids or Python lists.
    for raw in (": M", "['", "rural_left_behind", VILLAGE_A2, "True", "False"):
        assert raw not in text
    assert f"创建人 : {user('director_a').pk} " not in text


def test_history_speaks_english_to_an_english_reader(login):
    child = _child_with_changes()
    client = login("director_a")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = _text(client.get(reverse("cases:child_history", args=[child.pk])).content.decode())
    assert "sex : Male → Female" in text
    assert "categories : Rural left-behind child → Rural left-behind child, Migrant child" in text
    assert "notes are confidential : No → Yes" in text
    assert "按时服药" not in text  # still hidden from a role without confidential notes


def test_history_reads_in_a_fixed_number_of_queries(login):
    child = _child_with_changes()
    client = login("director_a")
    url = reverse("cases:child_history", args=[child.pk])
    client.get(url)  # warm the session and the permission caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(4):
        child = _edit(
            child,
            grade=n + 1,
            residence_region=Region.objects.get(code=VILLAGE_A if n % 2 else VILLAGE_A2),
            school=None if n % 2 else Institution.objects.get(name=MIDDLE_SCHOOL),
        )
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert html.count("年级") >= 4
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
