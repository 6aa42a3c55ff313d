"""`{% task_row task %}`: one task of a work list, written in Python.

The home page lists twenty tasks and the task lists a page of them; as an included template
each row cost about 0.6 ms (a masked name, a badge, two translated dates, a URL), a fifth of the
work list's time. The markup is the template's: the child (as the reader may see the name), its
risk, what is due and when, and one tap to the form whose record completes it; with
`show_assignee`, who it falls to.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.rows import risk_badge
from core.lists import choice_label, url_for_each
from institutions.masking import mask

register = template.Library()

# kind → (URL name, the key it takes, the button's text); without one, the child's file.
ACTIONS: dict[str, tuple[str, str, str]] = {
    "home_visit": ("followups:visit_create", "child_id", gettext_noop("Log a visit")),
    "followup_visit": ("followups:visit_create", "child_id", gettext_noop("Log a visit")),
    "reassessment": (
        "assessments:assessment_create",
        "child_id",
        gettext_noop("Start the assessment"),
    ),
    "care_plan_review": (
        "cases:care_plan_review",
        "source_id",
        gettext_noop("Review the care plan"),
    ),
    "referral_unanswered": ("referrals:detail", "source_id", gettext_noop("Open the referral")),
    "alert_unreviewed": ("assessments:alert_detail", "source_id", gettext_noop("Open the alert")),
}


def _action(task: Any) -> SafeString:
    known = ACTIONS.get(task.kind)
    if known is not None and getattr(task, known[1]):
        url_name, key, label = known
        url, style = url_for_each(url_name)(getattr(task, key)), "btn-primary"
        if url_name == "followups:visit_create":
            url = f"{url}?kind={task.kind}"
    else:
        url = url_for_each("cases:child_detail")(task.child_id)
        label, style = gettext_noop("Open the file"), "btn-outline-primary"
    return format_html(
        '<a class="btn btn-sm {} text-nowrap" href="{}" data-testid="do-task-{}">{}</a>',
        style,
        url,
        task.pk,
        _(label),
    )


def _due(task: Any, today: Any) -> SafeString:
    shown = conditional_escape(task.due_on.isoformat())  # Y-m-d
    if task.is_overdue:
        return format_html(
            '<span class="text-danger fw-semibold" data-testid="task-overdue">'
            '<i class="bi bi-exclamation-circle" aria-hidden="true"></i> {}</span>',
            mark_safe(_("overdue, due %(d)s") % {"d": shown}),  # noqa: S308 (the date escaped)
        )
    if task.due_on == today:
        return format_html('<span class="fw-semibold">{}</span>', _("due today"))
    return format_html(
        '<span class="text-secondary">{}</span>',
        mark_safe(_("due on %(d)s") % {"d": shown}),  # noqa: S308 (the date escaped)
    )


@register.simple_tag(takes_context=True)
def task_row(
    context: template.Context, task: Any, today: Any = None, show_assignee: bool = False
) -> SafeString:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    child = task.child
    escalated = (
        format_html(' <span class="badge text-bg-warning">{}</span>', _("escalated"))
        if task.status == "escalated"
        else ""
    )
    assignee = (
        format_html(
            '<div class="small text-secondary">{}</div>',
            task.assignee if task.assignee else _("Nobody holds it"),
        )
        if show_assignee
        else ""
    )
    return format_html(
        '<li class="list-group-item px-0 d-flex justify-content-between align-items-center gap-2"'
        ' data-testid="task-{}" data-kind="{}"{}>\n  <div class="flex-grow-1">\n'
        '    <div class="text-break"><span class="fw-semibold" data-testid="task-child">{}</span>'
        " {}{}</div>\n"
        '    <div class="small">{} · {}</div>\n    {}\n  </div>\n  {}\n</li>',
        task.pk,
        task.kind,
        mark_safe(' data-overdue="1"') if task.is_overdue else "",
        mask(user, "name", child.name),
        risk_badge(child.risk_level, choice_label(child, "risk_level")),
        escalated,
        choice_label(task, "kind"),
        _due(task, today if today is not None else context.get("today")),
        assignee,
        _action(task),
    )
