"""The list filters of the followups app's API: the same filters as the pages (the visits
export's region, dates and kind; the activities list's search and kind; the work list's own or
team scope), each built on the scoped queryset it is given."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.models import Notification
from followups.exports import VisitExportFilterForm
from followups.forms import ActivityFilterForm
from followups.models import Activity, FollowupPlan, Task, Visit
from institutions.models import validate_region_code
from institutions.selectors import region_within_scope

# The work list's two views: the caller's own tasks, or (supervisors) the team's overdue ones.
TASK_SCOPES = [("mine", _("My tasks")), ("team", _("My team's overdue tasks"))]


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A record's id: a whole number (a decimal or a number past the id range is a 400)."""

    field_class = forms.IntegerField


class VisitFilter(django_filters.FilterSet):
    """The visits export's filters (a region subtree of the child's residence or household
    registration, a date range, a kind; the form's own checks apply), and the child, flagged
    and reviewed. A region outside the caller's jurisdiction answers 404, as in the export."""

    region = django_filters.CharFilter(
        label=_("Region code"), method="filter_region", validators=[validate_region_code]
    )
    date_from = django_filters.DateFilter(
        label=_("From"), field_name="visited_on", lookup_expr="gte"
    )
    date_to = django_filters.DateFilter(label=_("To"), field_name="visited_on", lookup_expr="lte")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Visit.Kind.choices)
    child = IdFilter(label=_("Child"), field_name="child_id")
    flagged = django_filters.BooleanFilter(label=_("Flagged"))
    reviewed = django_filters.BooleanFilter(label=_("Reviewed"), method="filter_reviewed")

    class Meta:
        model = Visit
        fields: list[str] = []
        form = VisitExportFilterForm

    def filter_region(self, queryset: QuerySet[Visit], name: str, value: str) -> QuerySet[Visit]:
        if not value:
            return queryset
        if not region_within_scope(self.request.user, value):
            raise Http404
        return queryset.filter(
            Q(child__residence_region__code__startswith=value)
            | Q(child__household_region__code__startswith=value)
        )

    def filter_reviewed(self, queryset: QuerySet[Visit], name: str, value: bool) -> QuerySet[Visit]:
        return queryset.filter(reviewed_at__isnull=not value)


class ActivityFilter(django_filters.FilterSet):
    """The activities list's search (topic or place) and kind."""

    q = django_filters.CharFilter(label=_("Topic or place"), method="filter_q", max_length=100)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Activity.Kind.choices)

    class Meta:
        model = Activity
        fields: list[str] = []
        form = ActivityFilterForm

    def filter_q(self, queryset: QuerySet[Activity], name: str, value: str) -> QuerySet[Activity]:
        search = value.strip()
        if not search:
            return queryset
        # The condition of `activity_list`, the page's selector.
        return queryset.filter(
            Q(topic__icontains=search)
            | Q(venue_text__icontains=search)
            | Q(venue__name__icontains=search)
        )


class FollowupPlanFilter(django_filters.FilterSet):
    """A child's plans (the file's section), and active or ended."""

    child = IdFilter(label=_("Child"), field_name="child_id")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=FollowupPlan.Status.choices)

    class Meta:
        model = FollowupPlan
        fields: list[str] = []


class TaskFilter(django_filters.FilterSet):
    """The work list: the caller's own tasks still to do (`scope=mine`, the default) or, for
    supervisors, the team's overdue and escalated tasks (`scope=team`, as the team page; 404
    for others). The view picks the rows by `scope`; kind and overdue narrow them."""

    scope = django_filters.ChoiceFilter(
        label=_("Whose tasks"), choices=TASK_SCOPES, method="filter_scope"
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Task.Kind.choices)
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="filter_overdue")

    class Meta:
        model = Task
        fields: list[str] = []

    def filter_scope(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return queryset  # the view chose the rows from it

    def filter_overdue(self, queryset: QuerySet[Task], name: str, value: bool) -> QuerySet[Task]:
        today = timezone.localdate()
        return queryset.filter(due_on__lt=today) if value else queryset.filter(due_on__gte=today)


class NotificationFilter(django_filters.FilterSet):
    """Only the unread ones, or only the read ones."""

    unread = django_filters.BooleanFilter(label=_("Unread"), method="filter_unread")

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(
        self, queryset: QuerySet[Notification], name: str, value: bool
    ) -> QuerySet[Notification]:
        return queryset.filter(read_at__isnull=value)
