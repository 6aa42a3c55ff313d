"""De-identification of closed files: what each app removes from a child's records, applied to
many children at once (`cases.retention` picks the children; DESIGN.md §9, issue 15).

Each app declares, in its `deidentify.register()`, the fields of its models that can name or
describe a child or their family (names, contacts, free text) and what replaces them: a constant
or an expression over the row's own columns. `children_deidentify(ids)` runs one UPDATE per model
for all those children, and one per history table of a model that django-pghistory tracks, so
that the change history no longer holds what the file no longer shows. History tables are
append-only (pgtrigger); their trigger is set aside for that one statement only.

What is kept: ids, codes, dates of events, scores, statuses and choices, which statistics and
dashboards need; and the access log, which is the audit trail (it holds ids, not names).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pghistory
import pgtrigger
from django.apps import apps
from django.db import connection, models, transaction


@dataclass(frozen=True)
class Scrub:
    """What to replace in one model's rows about a child.

    `child` is the lookup from the model to the child's id ("child_id", "referral__child_id");
    `values` maps a field to its replacement, a constant or an expression over the row's columns
    (the same expression serves the history table, which has the same columns).
    `guard`: the model's own protecting trigger lets this job through while GUARD_SETTING is
    on (an assessment is otherwise never changed); the trigger says which columns may change.
    """

    model: str  # "app_label.ModelName"
    child: str
    values: Mapping[str, Any]
    guard: bool = False


_SCRUBS: dict[str, Scrub] = {}

# What stands where a name or a text was: a reader sees that something was removed.
REMOVED = "—"


def removed(*columns: str) -> dict[str, models.Case]:
    """Replacements for text columns: an empty one stays empty, any other reads REMOVED."""
    return {
        column: models.Case(
            models.When(**{column: ""}, then=models.Value("")),
            default=models.Value(REMOVED),
            output_field=models.TextField(),
        )
        for column in columns
    }


# The database setting, local to the transaction, that a protecting trigger reads.
GUARD_SETTING = "xinqiao.deidentifying"


def register_scrubs(*scrubs: Scrub) -> None:
    for scrub in scrubs:
        _SCRUBS[scrub.model] = scrub


def registered_scrubs() -> list[Scrub]:
    return list(_SCRUBS.values())


def _history_models(model: type[models.Model]) -> list[type[models.Model]]:
    """The pghistory event models that track `model`."""
    return [
        candidate
        for candidate in apps.get_models()
        if issubclass(candidate, pghistory.models.Event)
        and getattr(candidate, "pgh_tracked_model", None) is model
    ]


def _own_values(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, Any]:
    """The replacements for the columns `model` has (a history table may track fewer)."""
    names = {f.name for f in model._meta.concrete_fields} | {
        f.attname for f in model._meta.concrete_fields
    }
    return {name: value for name, value in values.items() if name in names}


def _triggers(model: type[models.Model]) -> list[str]:
    return [
        f"{model._meta.label}:{trigger.name}" for trigger in getattr(model._meta, "triggers", [])
    ]


def children_deidentify(child_ids: Iterable[int]) -> dict[str, int]:
    """Apply every registered scrub to the records of these children, and to the history of
    those records, in the caller's transaction; returns the rows changed per model label."""
    ids = list(child_ids)
    changed: dict[str, int] = {}
    if not ids:
        return changed
    with transaction.atomic(), pghistory.context(job="deidentify"):
        for scrub in registered_scrubs():
            model = apps.get_model(scrub.model)
            rows = model._default_manager.filter(**{f"{scrub.child}__in": ids})
            if scrub.guard:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'on', true)", [GUARD_SETTING])
            changed[model._meta.label] = rows.update(**_own_values(model, scrub.values))
            if scrub.guard:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, '', true)", [GUARD_SETTING])
            for event in _history_models(model):
                values = _own_values(event, scrub.values)
                if not values:
                    continue
                with pgtrigger.ignore(*_triggers(event)):
                    changed[event._meta.label] = event._default_manager.filter(
                        pgh_obj_id__in=rows.values("pk")
                    ).update(**values)
    return changed
