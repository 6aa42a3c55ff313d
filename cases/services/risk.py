"""The child's derived risk level (DESIGN.md §4). The child's file owns it; the apps that know
something about risk (results of assessments, flagged visits) register a source in their
`AppConfig.ready()`, so this floor never imports them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.utils import timezone

from cases.models import Child, RiskLevel
from core.signals import child_record_saved

RiskSource = Callable[[Child], Iterable[int]]

_SOURCES: list[RiskSource] = []


def register_risk_source(source: RiskSource) -> None:
    """Add a source of risk levels for a child (called from an app's `ready()`)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def child_refresh_risk(*, child: Child) -> int:
    """Derive the child's risk: the highest level any source reports now."""
    risk = max((level for source in _SOURCES for level in source(child)), default=RiskLevel.NONE)
    if risk != child.risk_level:
        Child.objects.filter(pk=child.pk).update(risk_level=risk, risk_updated_at=timezone.now())
        child.risk_level = risk
        # Intervals depend on risk: the child's open tasks move.
        child_record_saved.send(sender=Child, child_id=child.pk, by=None)
    return risk
