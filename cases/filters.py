"""List filters for children (pages and API), built on the scoped queryset they are given."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cases.models import Category, Child, RiskLevel
from cases.selectors import needs_care_plan_q, search_q
from institutions.forms import BootstrapFormMixin
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
            from cases.forms import institutions_for

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
