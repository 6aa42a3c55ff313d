"""Filters of the access log pages: user name, record number, action and a range of dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cases.models import Child
from core.models import AccessEvent
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import User

# Days are days in China, whatever zone the server or the browser is in.
AUDIT_TIMEZONE = ZoneInfo("Asia/Shanghai")


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in Asia/Shanghai."""
    return datetime.combine(day, time.min, tzinfo=AUDIT_TIMEZONE)


class AccessEventFilterForm(BootstrapFormMixin, forms.Form):
    """The filter form; a range that ends before it starts is an error on the end date."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class AccessEventFilter(django_filters.FilterSet):
    """Narrows the access log; each filter uses an index or a small subquery."""

    user = django_filters.CharFilter(
        label=_("User"),
        method="filter_user",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    record_number = django_filters.CharFilter(
        label=_("Record number"),
        method="filter_record_number",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=AccessEvent.Action.choices, empty_label=_("Any action")
    )
    date_from = django_filters.DateFilter(
        label=_("From"),
        method="filter_date_from",
        widget=DateInput(),
    )
    date_to = django_filters.DateFilter(
        label=_("To"),
        method="filter_date_to",
        widget=DateInput(),
    )

    class Meta:
        model = AccessEvent
        fields = ["user", "record_number", "action", "date_from", "date_to"]
        form = AccessEventFilterForm

    def filter_user(
        self, queryset: QuerySet[AccessEvent], name: str, value: str
    ) -> QuerySet[AccessEvent]:
        """Users whose username or display name contains the text."""
        text = value.strip()
        if not text:
            return queryset
        users = User.objects.filter(
            Q(username__icontains=text) | Q(display_name__icontains=text)
        ).values("pk")
        return queryset.filter(user_id__in=users)

    def filter_record_number(
        self, queryset: QuerySet[AccessEvent], name: str, value: str
    ) -> QuerySet[AccessEvent]:
        """The child with exactly this record number (case does not matter)."""
        text = value.strip()
        if not text:
            return queryset
        children = Child.objects.filter(record_number__iexact=text).values("pk")
        return queryset.filter(child_id__in=children)

    def filter_date_from(
        self, queryset: QuerySet[AccessEvent], name: str, value: date
    ) -> QuerySet[AccessEvent]:
        """Events on or after the start of the day."""
        return queryset.filter(at__gte=start_of_day(value))

    def filter_date_to(
        self, queryset: QuerySet[AccessEvent], name: str, value: date
    ) -> QuerySet[AccessEvent]:
        """Events up to the end of the day (before the next midnight)."""
        return queryset.filter(at__lt=start_of_day(value + timedelta(days=1)))
