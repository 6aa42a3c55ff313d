"""The children list's filterset copies its filters one level deep and keeps one form class per
process (cases.filters.ChildFilter): it must filter, validate and show exactly what
django-filter's own construction does, and nothing one filterset is given may reach another."""

from __future__ import annotations

import django_filters
import pytest
from django.http import QueryDict

from cases.filters import ChildFilter
from cases.selectors.children import child_list
from institutions.models import Institution
from tests.demo import user

pytestmark = pytest.mark.django_db


class StockChildFilter(ChildFilter):
    """The same filters, built the way django-filter builds them: every filter deep-copied and
    a new form class, with new fields, for each filterset."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        django_filters.FilterSet.__init__(self, data, queryset, request=request, prefix=prefix)
        if user is not None:
            self.narrow_pickers(user)

    form = django_filters.FilterSet.form


# The same filters, those the other apps registered included (the metaclass knows only the
# declared ones).
StockChildFilter.base_filters = ChildFilter.base_filters


def _school_of(username: str) -> Institution:
    return ChildFilter(user=user(username)).filters["school"].queryset.first()


QUERIES = [
    "",
    "risk=3&risk=4",
    "q=测试&sort=name",
    "category=rural_left_behind&sex=F&age=6-11",
    "resident=on&needs_plan=on&status=active",
    "region=990101&residence=990101001",
    "screened=no&screened_within=30&open_alert=on&visit_overdue=on&followup_due=on",
    "school=MINE&risk=2",
    # Bad input: each field's own message, as django-filter gives it.
    "risk=9&sex=X&sort=nonsense&region=abc&screened_within=0",
    "school=999999999&residential_institution=x",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("username", ["director_a", "county_civil"])
def test_the_filterset_filters_validates_and_shows_what_django_filter_would(username, query):
    someone = user(username)
    query = query.replace("MINE", str(_school_of(username).pk))
    scoped = child_list(user=someone)
    ours = ChildFilter(QueryDict(query), queryset=scoped, user=someone)
    stock = StockChildFilter(QueryDict(query), queryset=scoped, user=someone)
    assert ours.is_valid() == stock.is_valid()
    assert ours.errors == stock.errors
    assert str(ours.qs.query) == str(stock.qs.query)
    assert list(ours.qs.values_list("pk", flat=True)) == list(stock.qs.values_list("pk", flat=True))
    assert list(ours.form.fields) == list(stock.form.fields)
    for name in ours.form.fields:
        assert str(ours.form[name]) == str(stock.form[name]), name
    assert ours.active() == stock.active()


def test_what_one_filterset_is_given_reaches_neither_the_class_nor_the_next():
    director, other = user("director_a"), user("director_b")
    mine = _school_of("county_civil")
    first = ChildFilter(
        QueryDict(f"school={mine.pk}&risk=3"), queryset=child_list(user=director), user=director
    )
    assert first.is_valid()
    assert first.qs.query is not None
    # A field built as django-filter's own code builds it (with the user's rows).
    assert first.filters["school"].field.queryset.filter(pk=mine.pk).exists() is not None
    # The class's filters hold no user's rows, and no filterset as their parent.
    school = ChildFilter.base_filters["school"]
    assert not school.queryset.exists()
    assert not school.extra["queryset"].exists()
    assert getattr(school, "parent", None) not in (first,)
    assert ChildFilter.base_filters["sort"].filter.f is ChildFilter.base_filters["sort"]
    # Each filterset's own: its pickers, its method filters bound to itself.
    second = ChildFilter(QueryDict(), queryset=child_list(user=other), user=other)
    assert second.filters["school"] is not first.filters["school"]
    assert second.filters["sort"].filter.f.parent is second
    assert first.filters["sort"].filter.f.parent is first
    assert second.form.fields["school"].queryset is not first.form.fields["school"].queryset
    assert second.form.fields["school"] is not first.form.fields["school"]
    # A school outside the second user's area is refused for them, on its field.
    outsider = ChildFilter(
        QueryDict(f"school={mine.pk}"), queryset=child_list(user=other), user=other
    )
    if not outsider.filters["school"].queryset.filter(pk=mine.pk).exists():
        assert not outsider.is_valid()
        assert "school" in outsider.errors
    # A field marked invalid on one form is not marked on the next.
    bad = ChildFilter(QueryDict("risk=9"), queryset=child_list(user=other), user=other)
    assert not bad.is_valid()
    assert "is-invalid" in bad.form.fields["risk"].widget.attrs["class"]
    good = ChildFilter(QueryDict("risk=3"), queryset=child_list(user=other), user=other)
    assert good.is_valid()
    assert "is-invalid" not in good.form.fields["risk"].widget.attrs["class"]
