"""`core.compiled.RowById` reads what the ORM reads, with SQL Django compiled once; the
signed-in user is read with it on every request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Assessment
from cases.models import Child
from core.compiled import RowById
from institutions.models import User

pytestmark = pytest.mark.django_db


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.mark.parametrize("model", [User, Child, Assessment], ids=lambda m: m.__name__)
def test_a_row_is_read_as_the_orm_reads_it(model):
    # Assessment's answers and scores are JSON: their converters apply as in the ORM.
    reader = RowById(model)
    for expected in model.objects.order_by("pk")[:3]:
        got = reader.get(expected.pk)
        assert type(got) is model
        assert _fields(got) == _fields(expected)
        assert got._state.adding is False and got._state.db == "default"


def test_each_call_is_one_query_with_the_same_sql_and_a_missing_row_is_none():
    reader = RowById(User)
    first, second = User.objects.order_by("pk")[:2]
    reader.get(first.pk)  # compiled here
    with CaptureQueriesContext(connection) as queries:
        assert reader.get(second.pk).username == second.username
        assert reader.get(str(first.pk)).username == first.username  # as a session holds it
        assert reader.get(10**12) is None
    assert len(queries) == 3
    assert (
        len(
            {q["sql"].replace(str(first.pk), "?").replace(str(second.pk), "?") for q in queries[:2]}
        )
        == 1
    )


def test_a_unique_field_other_than_the_key():
    user = User.objects.order_by("pk").first()
    assert RowById(User, "username").get(user.username).pk == user.pk
    assert RowById(User, "username").get("nobody-has-this-name") is None


def test_the_signed_in_user_is_read_afresh_on_every_request(login):
    client = login("director_a")
    assert client.get("/").status_code == 200
    User.objects.filter(username="director_a").update(first_name="Renamed")
    page = client.get("/")
    assert page.status_code == 200
    assert page.wsgi_request.user.first_name == "Renamed"
    # A user switched off between two requests is signed out at the next one.
    User.objects.filter(username="director_a").update(is_active=False)
    assert client.get("/").status_code == 302
