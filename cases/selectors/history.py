"""The change history of a child's file, as a reader reads it: every changed field by its label,
every value in the reader's language (a choice by its name, a person by their display name, a
region or an institution by its name, yes or no, a formatted date), in a fixed number of queries
whatever the number of changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cases.models import Child
from institutions.masking import FieldKind, mask, may_see
from institutions.models import User

# Bookkeeping of the file and of django-pghistory, never shown as a change.
_NOT_SHOWN = {
    "pgh_id",
    "pgh_created_at",
    "pgh_label",
    "pgh_obj",
    "pgh_obj_id",
    "pgh_context",
    "pgh_context_id",
    "version",
    "name_pinyin",
    "national_id_hash",
}


def _choice_labels(field: models.Field[Any, Any]) -> dict[Any, Any]:
    return dict(field.flatchoices)


def _names_of(model: type[models.Model], ids: Iterable[Any]) -> dict[Any, str]:
    """What a reader calls each of these rows (one query): a person's display name, a region's
    or an institution's name."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = model._default_manager.filter(pk__in=wanted)
    if model is User:
        return {u.pk: str(u) for u in rows}
    return {row.pk: str(getattr(row, "name", row)) for row in rows}


def _shown(field: models.Field[Any, Any], value: Any, names: dict[Any, str]) -> str:
    """One stored value as the reader reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if field.is_relation:
        return names.get(value, str(value))
    if isinstance(field, ArrayField):
        labels = _choice_labels(field.base_field)
        return pgettext("list separator", ", ").join(str(labels.get(v, v)) for v in value)
    if field.choices:
        return str(_choice_labels(field).get(value, value))
    if isinstance(field, models.BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "Y-m-d H:i")
    if isinstance(value, date):
        return date_format(value, "Y-m-d")
    return str(value)


def child_history(*, child: Child, user: User, limit: int = 200) -> list[dict[str, Any]]:
    """Field-by-field change history of a child's file (from django-pghistory), newest first:
    each entry's time, who made the change (`user`, None for the system) and the changed fields
    with their old and new values as text (`old` is None on the entry that created the file).

    Notes that were confidential at either end of a change stay hidden from roles that may not
    read confidential notes, as on the file itself. One query for the changes and one per kind
    of related row (people, regions, institutions), however many changes there are.
    """
    hide_confidential = not may_see(user, FieldKind.CONFIDENTIAL_NOTE)
    # The newest `limit` changes, and the one before them to compare the first with.
    events = list(
        apps.get_model("cases", "ChildEvent")
        .objects.filter(pgh_obj_id=child.pk)
        .select_related("pgh_context")
        .order_by("-pgh_id")[: limit + 1]
    )
    events.reverse()
    baseline = events.pop(0) if len(events) > limit else None
    fields = [
        f
        for f in Child._meta.concrete_fields
        if f.attname not in _NOT_SHOWN and (not events or hasattr(events[0], f.attname))
    ]

    # Every related row the changes name, read at once per model.
    wanted: dict[type[models.Model], set[Any]] = {User: set()}
    for event in events:
        if event.pgh_context_id:
            wanted[User].add(event.pgh_context.metadata.get("user"))
        for field in fields:
            model = field.related_model
            if field.is_relation and isinstance(model, type):
                wanted.setdefault(model, set()).add(getattr(event, field.attname))
    names_by_model = {model: _names_of(model, ids) for model, ids in wanted.items()}
    users = names_by_model[User]

    history: list[dict[str, Any]] = []
    previous = baseline
    for event in events:
        changes = []
        for field in fields:
            name = field.attname
            new = getattr(event, name)
            old: Any = getattr(previous, name) if previous is not None else None
            if previous is not None and old == new:
                continue
            if previous is None and new in (None, "", [], False):
                continue
            related = field.related_model
            names = names_by_model.get(related, {}) if isinstance(related, type) else {}
            old_text: str | None = _shown(field, old, names) if previous is not None else None
            new_text = _shown(field, new, names)
            if (
                name == "notes"
                and hide_confidential
                and (event.notes_confidential or getattr(previous, "notes_confidential", False))
            ):
                old_text = mask(user, FieldKind.CONFIDENTIAL_NOTE, old) if old else old_text
                new_text = mask(user, FieldKind.CONFIDENTIAL_NOTE, new) if new else new_text
            changes.append({"field": field.verbose_name, "old": old_text, "new": new_text})
        user_id = event.pgh_context.metadata.get("user") if event.pgh_context_id else None
        history.append(
            {
                "at": event.pgh_created_at,
                "label": event.pgh_label,
                "user_id": user_id,
                "user": users.get(user_id),
                "changes": changes,
            }
        )
        previous = event
    history.reverse()
    return history
