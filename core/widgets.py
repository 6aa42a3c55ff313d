"""Form widgets shared by the apps."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import Q


class LongSelect(forms.Select):
    """A <select> for lists that grow with the user's area (the schools of a province): the same
    markup as Django's, its options written in one template loop instead of one included
    template each, so the page's cost barely grows with the number of options."""

    template_name = "core/widgets/long_select.html"


class SearchSelect(LongSelect):
    """A <select> of model rows that finds its options by name once there are too many to list.

    Up to `offer_all` rows it is a plain select of them all. Past that (a province's 334
    schools, whose options made its children list 20 ms slower and 25 KB heavier, and which
    nobody scrolls through on a phone), the select holds only the empty choice and the chosen
    row, and a search box above it asks `search_url` (htmx) for the rows whose name holds what
    is typed: the answer is this select again, with what was found (`search_answer`). The form's
    field and its scoped queryset stay the one source of the options.
    """

    template_name = "core/widgets/search_select.html"
    found_limit = 50

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        search_url: Any = "",
        search_label: Any = "",
        search_fields: tuple[str, ...] = ("name",),
        offer_all: int = 30,
    ) -> None:
        super().__init__(attrs)
        self.search_url = search_url
        self.search_fields = search_fields
        self.search_label = search_label
        self.offer_all = offer_all
        self.search: str | None = None  # set by the search view: what was typed
        self.select_only = False  # set by the search view: answer with the select alone

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        iterator: Any = self.choices  # a ModelChoiceIterator when the field is a model's
        queryset = getattr(iterator, "queryset", None)
        if queryset is None or not self.search_url:
            return super().get_context(name, value, attrs)
        # The options' values: the primary key, or the field's to_field_name (a user name).
        key = iterator.field.to_field_name or "pk"
        given = value if isinstance(value, list | tuple) else [value]
        chosen = [str(v)[:150] for v in given if v not in (None, "")]
        if key == "pk":
            chosen = [v for v in chosen if v.isdigit()]
        the_chosen = queryset.filter(**{f"{key}__in": chosen}) if chosen else queryset.none()
        more = False
        if self.search is None:
            rows = list(queryset[: self.offer_all + 1])
            searching = len(rows) > self.offer_all
            if searching:
                rows = list(the_chosen) if chosen else []
        else:
            searching = True
            matching = Q()
            for searched in self.search_fields:
                matching |= Q(**{f"{searched}__icontains": self.search})
            rows = list(queryset.filter(matching)[: self.found_limit + 1])
            more = len(rows) > self.found_limit
            rows = rows[: self.found_limit]
            if chosen and not any(str(getattr(row, key)) in chosen for row in rows):
                rows = [*the_chosen, *rows]
        widget = copy.copy(self)
        empty = [("", iterator.field.empty_label)] if iterator.field.empty_label is not None else []
        widget.choices = [*empty, *(iterator.choice(row) for row in rows)]
        context = super(SearchSelect, widget).get_context(name, value, attrs)
        context["widget"].update(
            searching=searching,
            select_only=self.select_only,
            search_url=str(self.search_url),
            search_label=self.search_label,
            search=self.search or "",
            more=more,
        )
        return context


def search_answer(bound: Any, query: Mapping[str, str]) -> str:
    """What a SearchSelect's search view answers: the field's select (`bound`, a bound field
    whose widget is a SearchSelect) holding the options found for the text typed in its search
    box (`<name>_search` in `query`), the chosen one still offered."""
    widget = bound.field.widget
    widget.search = query.get(f"{bound.html_name}_search", "")[:50].strip()
    widget.select_only = True
    return str(bound)
