"""The service venue directory (服务阵地): every signed-in staff member can find a venue by region,
service, kind or name, without a map, and see its address, opening hours, contact and services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Left, Length
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views import View

from core.lists import list_page, render_list
from institutions.forms import BootstrapFormMixin
from institutions.models import Institution, Region, User
from institutions.scoping import ScopedViewMixin
from institutions.selectors import scope_for
from institutions.venues import venues_visible_to


def venue_directory(
    *,
    user: User,
    region: str = "",
    service: str = "",
    kind: str = "",
    search: str = "",
) -> QuerySet[Institution]:
    """The directory, by region then name: a region subtree, a service, a kind, and a text that
    matches the venue's name, address or the name of any region it lies in ("青石镇")."""
    qs = venues_visible_to(user).select_related("region", "supervising_agency")
    if region:
        qs = qs.filter(region__code__startswith=region)
    if service:
        qs = qs.filter(services__contains=[service])
    if kind:
        qs = qs.filter(kind=kind)
    text = search.strip()
    if text:
        in_named_region = Region.objects.filter(
            name__icontains=text, code=Left(OuterRef("region_id"), Length("code"))
        )
        qs = qs.filter(
            Q(name__icontains=text) | Q(address__icontains=text) | Q(Exists(in_named_region))
        )
    return qs.order_by("region_id", "name", "id")


def service_labels(venue: Institution) -> list[str]:
    labels = dict(Institution.Service.choices)
    return [str(labels.get(value, value)) for value in venue.services]


class VenueFilterForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(label=_("Name, address or place"), required=False, max_length=100)
    region = forms.RegexField(
        label=_("Region code"),
        regex=r"^\d{2,12}$",
        required=False,
        error_messages={"invalid": _("A region code has only digits (2 to 12).")},
        help_text=_("A code covers its whole area: 990101 is every venue in that county."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    service = forms.ChoiceField(
        label=_("Service"),
        required=False,
        choices=[("", _("Any service")), *Institution.Service.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Any kind")), *Institution.Kind.choices],
    )


class VenueListView(ScopedViewMixin, View):
    """The directory, grouped by region, paginated; htmx refreshes the rows as one types."""

    scope_selector = venues_visible_to
    page_size = 25

    def get(self, request: HttpRequest) -> HttpResponse:
        form = VenueFilterForm(request.GET)
        valid = form.is_valid()
        filters: dict[str, Any] = form.cleaned_data if valid else {}
        qs = venue_directory(
            user=request.user,  # type: ignore[arg-type]
            region=filters.get("region") or "",
            service=filters.get("service") or "",
            kind=filters.get("kind") or "",
            search=filters.get("q") or "",
        )
        if not valid:
            qs = qs.none()
        listed = list_page(request, qs, per_page=self.page_size)
        for venue in listed["rows"]:
            venue.service_labels = service_labels(venue)
        scope = scope_for(request.user)
        context = {
            **listed,
            "form": form,
            "venues": listed["rows"],
            # One tap to the venues of the county (or wider area) one works in.
            "my_areas": list(
                Region.objects.filter(code__in={p[:6] for p in scope.region_prefixes}).order_by(
                    "code"
                )
            ),
        }
        return render_list(
            request,
            template="institutions/venue_list.html",
            rows_template="institutions/venue_rows.html",
            rows_target="venue-rows",
            context=context,
        )


class VenueDetailView(ScopedViewMixin, View):
    """One venue: where it is (with its region path), when it is open, how to reach it."""

    fetch_model = Institution

    def get_fetch_queryset(self) -> QuerySet[Institution]:
        return Institution.objects.select_related("region", "supervising_agency")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        venue = self.object
        code = venue.region_id
        path = list(Region.objects.filter(code__in=Region.path_codes(code)).order_by("code"))
        return render(
            request,
            "institutions/venue_detail.html",
            {"venue": venue, "region_path": path, "services": service_labels(venue)},
        )
