"""The children list's filters on overdue visits (registered in FollowupsConfig.ready(): the
children's app, a floor below, cannot import this one). Each is an EXISTS subquery that the
partial index of pending tasks by kind and child answers; the dashboards count with the same
conditions."""

from __future__ import annotations

from datetime import date

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.filters import register_child_filter
from cases.models import Child
from followups.models import Task


def overdue_task_q(*, kind: str, today: date) -> Exists:
    """Children with a task of `kind` still to do (open, overdue or escalated) that was due
    before `today`."""
    return Exists(
        Task.objects.filter(
            child_id=OuterRef("pk"), kind=kind, status__in=Task.PENDING, due_on__lt=today
        )
    )


def only_home_visit_overdue(queryset: QuerySet[Child], name: str, value: bool) -> QuerySet[Child]:
    if not value:
        return queryset
    return queryset.filter(overdue_task_q(kind=Task.Kind.HOME_VISIT, today=timezone.localdate()))


def only_followup_overdue(queryset: QuerySet[Child], name: str, value: bool) -> QuerySet[Child]:
    if not value:
        return queryset
    return queryset.filter(
        overdue_task_q(kind=Task.Kind.FOLLOWUP_VISIT, today=timezone.localdate())
    )


def register() -> None:
    register_child_filter(
        "visit_overdue",
        django_filters.BooleanFilter(
            label=_("Home visit overdue"),
            method=only_home_visit_overdue,
            widget=forms.CheckboxInput,
        ),
    )
    register_child_filter(
        "followup_due",
        django_filters.BooleanFilter(
            label=_("Follow-up visit overdue"),
            method=only_followup_overdue,
            widget=forms.CheckboxInput,
        ),
    )
