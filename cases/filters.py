"""List filters of the children's app, each built on the scoped queryset it is given: the
children list (pages and API) and the access log pages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cases.forms.places import institutions_for
from cases.models import Category, Child, RiskLevel
from cases.selectors.children import needs_care_plan_q, search_q
from core.models import AccessEvent
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import Institution, User, validate_region_code


class _FilterForm(BootstrapFormMixin, forms.Form):
    pass


class ChildFilter(django_filters.FilterSet):
    """Region subtree, category, risk, school, institution, status, search and sort."""

    q = django_filters.CharFilter(label=_("Name, record number or ID number"), method="filter_q")
    region = django_filters.CharFilter(
        label=_("Region code"), method="filter_region", validators=[validate_region_code]
    )
    category = django_filters.MultipleChoiceFilter(
        label=_("Category"),
        choices=Category.choices,
        field_name="categories",
        method="filter_category",
    )
    risk = django_filters.TypedMultipleChoiceFilter(
        label=_("Risk level"), choices=RiskLevel.choices, field_name="risk_level", coerce=int
    )
    needs_plan = django_filters.BooleanFilter(
        label=_("High risk without a care plan"),
        method="filter_needs_plan",
        widget=forms.CheckboxInput,
    )
    school = django_filters.ModelChoiceFilter(
        label=_("School"), queryset=Institution.objects.none()
    )
    residential_institution = django_filters.ModelChoiceFilter(
        label=_("Residential institution"), queryset=Institution.objects.none()
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Child.Status.choices)
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        method="filter_sort",
        empty_label=_("Highest risk first"),
        choices=[
            ("name", _("Name")),
            ("birth_date", _("Oldest first")),
            ("-birth_date", _("Youngest first")),
            ("-created", _("Most recently registered")),
        ],
    )

    class Meta:
        model = Child
        fields: list[str] = []
        form = _FilterForm

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is None and self.request is not None and self.request.user.is_authenticated:
            user = self.request.user  # the API's filter backend passes the request, not the user
        if user is not None:
            self.filters["school"].queryset = institutions_for(user, {Institution.Kind.SCHOOL})
            self.filters["residential_institution"].queryset = institutions_for(
                user, set(Institution.RESIDENTIAL_KINDS)
            )

    SORTS = {
        "name": ("name_pinyin", "id"),
        "birth_date": ("birth_date", "id"),
        "-birth_date": ("-birth_date", "id"),
        "-created": ("-created_at", "-id"),
    }

    def filter_sort(self, queryset: QuerySet[Child], name: str, value: str) -> QuerySet[Child]:
        # The selector orders the most at risk first; a chosen sort replaces that. The id keeps
        # the order total, so pages never repeat or skip a row.
        return queryset.order_by(*self.SORTS[value]) if value in self.SORTS else queryset

    def filter_q(self, queryset: QuerySet[Child], name: str, value: str) -> QuerySet[Child]:
        return queryset.filter(search_q(value)) if value.strip() else queryset

    def filter_region(self, queryset: QuerySet[Child], name: str, value: str) -> QuerySet[Child]:
        return queryset.filter(
            Q(residence_region__code__startswith=value)
            | Q(household_region__code__startswith=value)
        )

    def filter_category(
        self, queryset: QuerySet[Child], name: str, value: list[str]
    ) -> QuerySet[Child]:
        return queryset.filter(categories__overlap=list(value)) if value else queryset

    def filter_needs_plan(
        self, queryset: QuerySet[Child], name: str, value: bool
    ) -> QuerySet[Child]:
        return queryset.filter(needs_care_plan_q()) if value else queryset


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
