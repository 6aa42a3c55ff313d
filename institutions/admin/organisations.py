"""Regions, agencies and institutions in the admin site (deactivated, never deleted)."""

from __future__ import annotations

from django.contrib import admin

from institutions.admin.site import NoDeleteMixin, site
from institutions.models import Agency, Institution, Region


@admin.register(Region, site=site)
class RegionAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    show_full_result_count = False


@admin.register(Agency, site=site)
class AgencyAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "region__code"]
    raw_id_fields = ["region"]


@admin.register(Institution, site=site)
class InstitutionAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "region__code"]
    raw_id_fields = ["region", "supervising_agency"]
