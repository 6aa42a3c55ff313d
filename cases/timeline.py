"""The child's timeline: every app contributes entries through a registered provider.

A provider takes the child (loaded by `cases.selectors.children.child_file_queryset`, with its
relations prefetched) and the viewing user, and returns entries; it may run at most one query of
its own, so the file page's query count stays fixed. Later apps (assessments, visits, referrals,
follow-ups) register their providers in their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Child
from institutions.models import User

# Where an event known by its day only, and not when it was recorded, sorts within its day.
_DAY_ONLY = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TimelineEntry:
    """One event on the file's timeline. `at` is a timestamp when the event has one (a file
    opened, a consent recorded), or a date alone when only the day is known (a visit's
    `visited_on`, an assessment's `administered_on`): no time of day is invented for it.
    Such an event may say when it was recorded (`recorded_at`, never shown), which places it
    among the same day's events."""

    at: date | datetime
    icon: str
    title: str
    detail: str = ""
    url: str = ""
    recorded_at: datetime | None = None

    @property
    def has_time(self) -> bool:
        return isinstance(self.at, datetime)

    @property
    def day(self) -> date:
        """The local day of the event."""
        if isinstance(self.at, datetime):
            return timezone.localdate(self.at)
        return self.at

    def sort_key(self) -> tuple[date, datetime]:
        """By day, then within the day by the time the event happened or, for an event known
        by its day only, was recorded (one with neither comes last when newest is first)."""
        if isinstance(self.at, datetime):
            return (self.day, self.at)
        return (self.at, self.recorded_at or _DAY_ONLY)


Provider = Callable[[Child, User], list[TimelineEntry]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def timeline(child: Child, user: User, *, limit: int = 50) -> list[TimelineEntry]:
    """Entries from every provider, newest first (see `TimelineEntry.sort_key`). The sort is
    stable, so events of one day known by date alone keep their provider's order."""
    entries: list[TimelineEntry] = []
    for provider in _providers:
        entries.extend(provider(child, user))
    entries.sort(key=TimelineEntry.sort_key, reverse=True)
    return entries[:limit]


@register
def _file_entries(child: Child, user: User) -> list[TimelineEntry]:
    entries = [TimelineEntry(child.created_at, "folder-plus", _("File opened"))]
    for guardian in child.guardians.all():
        entries.append(
            TimelineEntry(guardian.created_at, "person-plus", _("Guardian added"), str(guardian))
        )
    for consent in child.consents.all():
        entries.append(
            TimelineEntry(
                consent.recorded_at,
                "check2-square",
                _("Consent recorded: %(purpose)s") % {"purpose": consent.get_purpose_display()},
            )
        )
        if consent.withdrawn_at:
            entries.append(
                TimelineEntry(
                    consent.withdrawn_at,
                    "x-square",
                    _("Consent withdrawn: %(purpose)s")
                    % {"purpose": consent.get_purpose_display()},
                    consent.withdrawal_reason,
                )
            )
    for member in child.care_team.all():
        entries.append(
            TimelineEntry(
                member.started_on,
                "people",
                _("Joined the care team: %(who)s") % {"who": member.user or member.peer_name},
                member.get_team_role_display(),
            )
        )
    for plan in child.care_plans.all():
        entries.append(
            TimelineEntry(
                plan.created_at,
                "clipboard-heart",
                _("Care plan: %(classification)s")
                % {"classification": plan.get_classification_display()},
                plan.goals[:120],
            )
        )
        for review in plan.reviews.all():
            entries.append(
                TimelineEntry(
                    review.created_at, "clipboard-check", _("Care plan reviewed"), review.note[:120]
                )
            )
    for handover in child.handovers.all():
        entries.append(
            TimelineEntry(
                handover.at,
                "truck",
                _("Handed over from %(from)s to %(to)s")
                % {"from": handover.from_region.name, "to": handover.to_region.name},
                handover.reason,
            )
        )
    return entries
