"""The scheduler's policy tables in the admin site (DESIGN.md §6): the home-visit intervals, the
follow-up schedules offered when a plan is made, and per kind of task its look-ahead, reminder
and escalation threshold. Rows are switched off, never deleted. Imported by FollowupsConfig."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from followups.models import FollowupSchedule, TaskPolicy, VisitPolicy
from institutions.admin.site import NoDeleteMixin, site


@admin.register(VisitPolicy, site=site)
class VisitPolicyAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["risk_level", "category", "interval_days", "is_active"]
    list_filter = ["risk_level", "category", "is_active"]
    list_editable = ["interval_days", "is_active"]


@admin.register(FollowupSchedule, site=site)
class FollowupScheduleAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "first_interval_days",
        "first_period_days",
        "interval_days",
        "duration_weeks",
        "is_active",
    ]
    list_editable = ["is_active"]


@admin.register(TaskPolicy, site=site)
class TaskPolicyAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["kind", "lookahead_days", "remind_days_before", "escalate_after_days"]
    list_editable = ["lookahead_days", "remind_days_before", "escalate_after_days"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per kind of task, installed by a migration
