"""The children list's filters on screenings and alerts (registered in AssessmentsConfig.ready():
the children's app, a floor below, cannot import this one). The conditions are EXISTS subqueries
on indexed columns; the dashboards count with the same ones, so a figure and the list behind it
agree."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import Alert, Assessment
from cases.filters import register_child_filter
from cases.models import Child

DEFAULT_SCREENED_WITHIN_DAYS = 365
MAX_SCREENED_WITHIN_DAYS = 3650


def screened_within_q(*, days: int, today: date) -> Exists:
    """Children with a current assessment (not corrected since) administered in the `days` days
    before `today`, or on it."""
    return Exists(
        Assessment.objects.filter(
            child_id=OuterRef("pk"),
            administered_on__gte=today - timedelta(days=days),
            administered_on__lte=today,
            amendments__isnull=True,
        )
    )


def open_alert_q() -> Exists:
    """Children with an alert no one has closed yet."""
    return Exists(Alert.objects.filter(child_id=OuterRef("pk"), acknowledged_at__isnull=True))


class ScreenedFilter(django_filters.ChoiceFilter):
    """`yes` or `no`: whether the child was screened within `screened_within` days (365 unless
    given), which is read from the same request."""

    def filter(self, qs: QuerySet[Child], value: Any) -> QuerySet[Child]:
        if value not in ("yes", "no"):
            return qs
        days = self.parent.form.cleaned_data.get("screened_within") or (
            DEFAULT_SCREENED_WITHIN_DAYS
        )
        screened = screened_within_q(days=days, today=timezone.localdate())
        return qs.filter(screened if value == "yes" else ~screened)


class DaysFilter(django_filters.NumberFilter):
    """A whole number of days (a decimal number is a form error, not a crash)."""

    field_class = forms.IntegerField


def parameter_only(queryset: QuerySet[Child], name: str, value: int) -> QuerySet[Child]:
    """`screened_within` narrows nothing by itself: `screened` reads it."""
    return queryset


def only_with_open_alert(queryset: QuerySet[Child], name: str, value: bool) -> QuerySet[Child]:
    return queryset.filter(open_alert_q()) if value else queryset


def register() -> None:
    register_child_filter(
        "screened",
        ScreenedFilter(
            label=_("Screened"),
            choices=[("yes", _("Yes")), ("no", _("No"))],
            empty_label=_("Any"),
            widget=forms.RadioSelect,
        ),
    )
    register_child_filter(
        "screened_within",
        DaysFilter(
            label=_("Screened within (days)"),
            method=parameter_only,
            min_value=1,
            max_value=MAX_SCREENED_WITHIN_DAYS,
            help_text=_("With “Screened”: 365 days unless given."),
            widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "365"}),
        ),
    )
    register_child_filter(
        "open_alert",
        django_filters.BooleanFilter(
            label=_("Has an open alert"), method=only_with_open_alert, widget=forms.CheckboxInput
        ),
    )
