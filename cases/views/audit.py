"""Access log pages for auditors: the whole log, one child's, one user's; read-only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from cases.filters import AUDIT_TIMEZONE, AccessEventFilter
from cases.selectors.admin_actions import admin_action_page, admin_actions_visible_to
from cases.selectors.audit import (
    AUDIT_PERMISSION,
    access_event_page,
    access_events,
    access_events_visible_to,
    audited_child,
    audited_user,
)
from core.models import AccessEvent
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


def _cursor(value: str | None) -> int | None:
    """A page cursor from the query string; anything but a positive integer means none."""
    if value and value.isascii() and value.isdigit():
        return int(value)
    return None


class AccessLogView(ScopedViewMixin, TemplateView):
    """The whole access log, newest first, filtered by user, record number, action and dates."""

    scope_selector = access_events_visible_to
    permission_required = AUDIT_PERMISSION
    template_name = "cases/audit_log.html"
    # Filters that a narrower page (one child, one user) already fixes.
    fixed_filters: tuple[str, ...] = ()

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False):
            return ["cases/partials/audit_rows.html"]
        return [self.template_name]

    def base_events(self) -> QuerySet[AccessEvent]:
        """The events this page lists before the user's filters."""
        return access_events(user=signed_in_user(self.request))

    def page_heading(self) -> str:
        """The page's title: what this log is about."""
        return _("Access log")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        events = self.base_events()
        filterset = AccessEventFilter(self.request.GET or None, queryset=events)
        for name in self.fixed_filters:
            filterset.filters.pop(name, None)
        valid = not filterset.is_bound or filterset.is_valid()
        # Invalid filters show what is wrong, not an unfiltered log that looks filtered.
        events = filterset.qs if valid else events.none()
        context.update(
            filterset=filterset,
            page=access_event_page(
                events=events,
                before=_cursor(self.request.GET.get("before")),
                after=_cursor(self.request.GET.get("after")),
            ),
            audit_timezone=AUDIT_TIMEZONE.key,
            heading=self.page_heading(),
        )
        return context


class ChildAccessLogView(AccessLogView):
    """Every event for one child, shown by record number and masked name only."""

    fixed_filters = ("record_number",)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """404 unless the child exists; the page then knows only its masked identity."""
        child = audited_child(user=signed_in_user(request), pk=kwargs["pk"])
        if child is None:
            raise Http404
        self.child = child
        return super().get(request, *args, **kwargs)

    def base_events(self) -> QuerySet[AccessEvent]:
        return access_events(user=signed_in_user(self.request), child_id=self.child.pk)

    def page_heading(self) -> str:
        return _("Access log of %(record)s %(name)s") % {
            "record": self.child.record_number,
            "name": self.child.masked_name,
        }


class UserAccessLogView(AccessLogView):
    """Every event by one user."""

    fixed_filters = ("user",)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """404 unless the user exists."""
        actor = audited_user(user=signed_in_user(request), pk=kwargs["pk"])
        if actor is None:
            raise Http404
        self.actor = actor
        return super().get(request, *args, **kwargs)

    def base_events(self) -> QuerySet[AccessEvent]:
        return access_events(user=signed_in_user(self.request), actor_id=self.actor.pk)

    def page_heading(self) -> str:
        return _("Access log of %(name)s (%(username)s)") % {
            "name": self.actor,
            "username": self.actor.get_username(),
        }


class AdminActionsView(ScopedViewMixin, TemplateView):
    """What the administrators did: the admin site's log and the access log's administration
    rows (approvals, set-password links), newest first, for auditors only."""

    scope_selector = admin_actions_visible_to
    permission_required = AUDIT_PERMISSION
    template_name = "cases/audit_admin_actions.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            page=admin_action_page(
                user=signed_in_user(self.request), number=self.request.GET.get("page")
            ),
            audit_timezone=AUDIT_TIMEZONE.key,
        )
        return context
