"""The reassessment policy is a table administrators edit in the admin site."""

from __future__ import annotations

from django.contrib import admin

from assessments.models import ReassessmentPolicy
from institutions.admin.site import NoDeleteMixin, site


@admin.register(ReassessmentPolicy, site=site)
class ReassessmentPolicyAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["setting", "risk_level", "category", "interval_days", "is_active"]
    list_filter = ["setting", "risk_level", "is_active"]
    list_editable = ["interval_days", "is_active"]
