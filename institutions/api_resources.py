"""Regions, institutions and venues in the JSON API (read only).

None of them holds a child's data: regions and institutions are reference data that every
verified staff member reads (to fill in a child's region code, to pick a school or the
institution a child is referred to); venues are the service venue directory (服务阵地) of the
pages, through the same selector and the same search. They still need a signed-in, verified
user, as every endpoint does (`IsVerifiedStaff`).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets

from core.inputs import whole_number
from institutions.api import ScopedAPIMixin
from institutions.models import Institution, Region, validate_region_code
from institutions.selectors import institutions_visible_to, regions_visible_to
from institutions.venues import venues_visible_to
from institutions.views.venues import venue_directory

# A region code in a URL or a filter: 2 to 12 digits (the URL of anything else is a 404).
REGION_CODE = r"\d{2,12}"


class ReferenceDataMixin(ScopedAPIMixin):
    """A resource that holds no child's data: one record comes from the same selector as the
    list (missing answers 404), and nothing is written to the access log."""

    def lookup_value(self, raw: str) -> Any:
        """The primary key the URL names (None: it names none, 404); a number by default."""
        return whole_number(raw)

    def get_object(self) -> Any:
        view: Any = self
        found = getattr(view, "_fetched", None)
        if found is not None:
            return found
        lookup = view.lookup_url_kwarg or view.lookup_field
        key = self.lookup_value(str(view.kwargs.get(lookup, "")))
        found = None if key is None else self.get_queryset().filter(pk=key).first()
        if found is None:
            raise Http404
        view.check_object_permissions(view.request, found)
        view._fetched = found
        return found


# ---------------------------------------------------------------------------------------------
# Regions


class RegionFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(
        field_name="parent_id",
        label=_("Parent region code"),
        validators=[validate_region_code],
        help_text=_("The regions directly under this one."),
    )
    level = django_filters.TypedChoiceFilter(
        choices=Region.Level.choices, coerce=int, label=_("Level")
    )
    prefix = django_filters.CharFilter(
        field_name="code",
        lookup_expr="startswith",
        label=_("Region code prefix"),
        validators=[RegexValidator(r"^\d{2,12}\Z", _("A region code has only digits (2 to 12)."))],
        help_text=_("A region and its whole area: 990101 is that county and everything in it."),
    )

    class Meta:
        model = Region
        fields = ["parent", "level", "prefix"]


class RegionSerializer(serializers.ModelSerializer):
    """A node of the division tree."""

    # A declared field named like Field.parent: DRF moves it into the declared fields.
    parent = serializers.CharField(source="parent_id", allow_null=True)  # type: ignore[assignment]
    level = serializers.ChoiceField(choices=Region.Level.choices)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]
        read_only_fields = fields


@extend_schema(tags=["regions"])
class RegionViewSet(ReferenceDataMixin, viewsets.ReadOnlyModelViewSet):
    """The statistical division code tree (province 2 digits, city 4, county 6, township 9,
    village 12), for every verified staff member."""

    scope_selector = regions_visible_to
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    lookup_value_regex = REGION_CODE
    cursor_ordering = ("code",)

    def lookup_value(self, raw: str) -> Any:
        return raw  # the code itself


# ---------------------------------------------------------------------------------------------
# Institutions and venues


class InstitutionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Institution.Kind.choices, label=_("Kind"))
    service = django_filters.ChoiceFilter(
        choices=Institution.Service.choices, method="filter_service", label=_("Service")
    )
    region = django_filters.CharFilter(
        method="filter_region",
        label=_("Region code"),
        validators=[validate_region_code],
        help_text=_("A code covers its whole area: 990101 is every institution in that county."),
    )
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Institution
        fields = ["kind", "service", "region", "is_active"]

    def filter_service(
        self, queryset: QuerySet[Institution], name: str, value: str
    ) -> QuerySet[Institution]:
        return queryset.filter(services__contains=[value]) if value else queryset

    def filter_region(
        self, queryset: QuerySet[Institution], name: str, value: str
    ) -> QuerySet[Institution]:
        return queryset.filter(region__code__startswith=value) if value else queryset


class InstitutionSerializer(serializers.ModelSerializer):
    """An organisation where children learn, live, are treated or find a service."""

    region = serializers.CharField(source="region_id")
    region_name = serializers.CharField(source="region.name")
    kind = serializers.ChoiceField(choices=Institution.Kind.choices)
    services = serializers.ListField(
        child=serializers.ChoiceField(choices=Institution.Service.choices)
    )
    supervising_agency = serializers.IntegerField(source="supervising_agency_id", allow_null=True)
    supervising_agency_name = serializers.CharField(
        source="supervising_agency.name", allow_null=True, default=None
    )

    class Meta:
        model = Institution
        fields = [
            "id",
            "name",
            "kind",
            "region",
            "region_name",
            "supervising_agency",
            "supervising_agency_name",
            "services",
            "address",
            "phone",
            "opening_hours",
            "is_active",
        ]
        read_only_fields = fields


@extend_schema(tags=["institutions"])
class InstitutionViewSet(ReferenceDataMixin, viewsets.ReadOnlyModelViewSet):
    """Schools, welfare and protection institutions, clinics, services and community venues."""

    scope_selector = institutions_visible_to
    serializer_class = InstitutionSerializer
    filterset_class = InstitutionFilter
    cursor_ordering = ("region_id", "name", "id")

    def get_queryset(self) -> QuerySet[Institution]:
        return super().get_queryset().select_related("region", "supervising_agency")


class VenueFilter(django_filters.FilterSet):
    """The directory's filters (the venue page's form): a region subtree, a service, a kind,
    and a text found in the venue's name, its address or the name of a region it lies in."""

    q = django_filters.CharFilter(
        method="filter_directory", label=_("Name, address or place"), max_length=100
    )
    region = django_filters.CharFilter(
        method="filter_directory",
        label=_("Region code"),
        validators=[validate_region_code],
        help_text=_("A code covers its whole area: 990101 is every venue in that county."),
    )
    service = django_filters.ChoiceFilter(
        choices=Institution.Service.choices, method="filter_directory", label=_("Service")
    )
    kind = django_filters.ChoiceFilter(
        choices=Institution.Kind.choices, method="filter_directory", label=_("Kind")
    )

    class Meta:
        model = Institution
        fields = ["q", "region", "service", "kind"]

    def filter_directory(
        self, queryset: QuerySet[Institution], name: str, value: Any
    ) -> QuerySet[Institution]:
        return queryset  # all four at once, in filter_queryset

    def filter_queryset(self, queryset: QuerySet[Institution]) -> QuerySet[Institution]:
        """The page's directory search (`venue_directory`), on the caller's venues."""
        data = self.form.cleaned_data
        found = venue_directory(
            user=self.request.user,
            region=data.get("region") or "",
            service=data.get("service") or "",
            kind=data.get("kind") or "",
            search=data.get("q") or "",
        )
        return queryset.filter(pk__in=found.values("pk"))


@extend_schema(tags=["venues"])
class VenueViewSet(ScopedAPIMixin, viewsets.ReadOnlyModelViewSet):
    """The service venue directory (服务阵地): active institutions that offer a service, and
    community venues (children's homes, social-work stations…), as on the venue pages. One
    venue is fetched through the one fetch, as the venue page fetches it."""

    scope_selector = venues_visible_to
    fetch_model = Institution
    serializer_class = InstitutionSerializer
    filterset_class = VenueFilter
    cursor_ordering = ("region_id", "name", "id")

    def get_queryset(self) -> QuerySet[Institution]:
        return super().get_queryset().select_related("region", "supervising_agency")

    def get_fetch_queryset(self) -> QuerySet[Institution]:
        return Institution.objects.select_related("region", "supervising_agency")


ROUTES: list[tuple[str, Any, str]] = [
    ("regions", RegionViewSet, "region"),
    ("institutions", InstitutionViewSet, "institution"),
    ("venues", VenueViewSet, "venue"),
]
