"""Optimistic locking: an edit names the version it started from, and a stale one is refused.

A versioned model has a positive integer `version` field. `update_if_version` does the check
and the write in one conditional UPDATE, so of two people saving at once exactly one succeeds;
the other gets `EditConflict` carrying the row as it now is, to show them (a 409 page), and
nothing of theirs is written over the first person's change.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import F, Model

M = TypeVar("M", bound=Model)


class EditConflict(Exception):
    """Someone else saved the record after the editor opened it; nothing was written."""

    def __init__(self, current: Any) -> None:
        super().__init__("edit conflict")
        self.current = current


def update_if_version(*, instance: M, expected_version: int, values: dict[str, Any]) -> M:
    """Write `values` and bump the version if the row is still at `expected_version`.

    Returns the row as saved; raises EditConflict with the current row otherwise.
    """
    manager = type(instance)._default_manager
    updated = manager.filter(pk=instance.pk, version=expected_version).update(
        **values, version=F("version") + 1
    )
    current = manager.get(pk=instance.pk)
    if not updated:
        raise EditConflict(current)
    return current
