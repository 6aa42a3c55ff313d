"""The starting policy: what the 2023 guidance supports, installed by a migration and editable by
administrators in the admin site afterwards."""

from __future__ import annotations

from typing import Any

# Home visits: (risk level or None for any, category or "" for any, every N days). The shortest
# matching row applies: every child at least each quarter, a child lacking guardianship or an
# orphan monthly, a moderate or high risk at least monthly, a crisis weekly.
VISIT_POLICY = [
    (None, "", 90),
    (None, "guardianship", 30),
    (None, "orphan", 30),
    (2, "", 30),
    (3, "", 14),
    (4, "", 7),
]

# Follow-up after treatment: (name, at first every, for the first days, then every, weeks).
FOLLOWUP_SCHEDULES = [
    ("每周一次，一个月后每月一次（半年）", 7, 28, 30, 26),
    ("每两周一次（三个月）", 14, 0, 14, 12),
    ("每月一次（半年）", 30, 0, 30, 26),
]

# Tasks: (kind, made N days ahead, reminded N days before, escalated when overdue N days).
TASK_POLICY = [
    ("home_visit", 14, 3, 14),
    ("reassessment", 14, 3, 30),
    ("followup_visit", 14, 2, 7),
    ("care_plan_review", 14, 3, 14),
    ("referral_unanswered", 0, 0, 2),
    ("alert_unreviewed", 0, 0, 1),
]


def install(visit_policy: Any, schedule: Any, task_policy: Any) -> None:
    """Create the starting rows of each table that has none (safe to rerun)."""
    if not visit_policy.objects.exists():
        visit_policy.objects.bulk_create(
            visit_policy(risk_level=r, category=c, interval_days=d) for r, c, d in VISIT_POLICY
        )
    if not schedule.objects.exists():
        schedule.objects.bulk_create(
            schedule(
                name=n,
                first_interval_days=a,
                first_period_days=p,
                interval_days=i,
                duration_weeks=w,
            )
            for n, a, p, i, w in FOLLOWUP_SCHEDULES
        )
    for kind, ahead, before, after in TASK_POLICY:
        task_policy.objects.get_or_create(
            kind=kind,
            defaults={
                "lookahead_days": ahead,
                "remind_days_before": before,
                "escalate_after_days": after,
            },
        )
