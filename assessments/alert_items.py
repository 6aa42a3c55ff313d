"""What other apps attach to an alert besides results (a flagged visit's visits). This floor
cannot import them, so each registers a provider in its `AppConfig.ready()`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assessments.models import Alert


@dataclass(frozen=True)
class AlertItem:
    """One record attached to an alert, as its page lists it."""

    text: str
    url: str


Provider = Callable[[Alert], Iterable[AlertItem]]

_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a provider of the records an app attaches to alerts (called from `ready()`)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def alert_items(alert: Alert) -> list[AlertItem]:
    """The records every registered app attached to the alert, one query per app."""
    return [item for provider in _PROVIDERS for item in provider(alert)]
