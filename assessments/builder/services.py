"""Saving instrument versions. A version that has results or is built in is never changed: a
change makes a new version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from django.db import transaction

from assessments.models import Instrument
from institutions.models import User


@dataclass(frozen=True)
class InstrumentDetails:
    """Everything about a version except its code, number and definition."""

    name_zh: str
    name_en: str
    description: str
    source: str
    licence_note: str
    min_age: int
    max_age: int
    is_active: bool
    respondent: str = "child"


class InstrumentConflict(Exception):
    """The version changed after the editor opened it; nothing was written."""


@dataclass(frozen=True)
class Revision:
    """What saving an edit did."""

    instrument: Instrument
    outcome: Literal["unchanged", "status_changed", "changed_in_place", "new_version"]


def details_of(instrument: Instrument) -> InstrumentDetails:
    return InstrumentDetails(
        name_zh=instrument.name_zh,
        name_en=instrument.name_en,
        description=instrument.description,
        source=instrument.source,
        licence_note=instrument.licence_note,
        min_age=instrument.min_age,
        max_age=instrument.max_age,
        is_active=instrument.is_active,
        respondent=instrument.respondent,
    )


def _content(details: InstrumentDetails, definition: Mapping[str, Any]) -> dict[str, Any]:
    """What makes a version's meaning: everything but whether it is in use."""
    content = asdict(details)
    del content["is_active"]
    return {**content, "definition": definition}


def fingerprint(instrument: Instrument) -> str:
    """A short digest of a version as stored, to notice an edit made by someone else."""
    state = {**_content(details_of(instrument), instrument.definition)}
    state["is_active"] = instrument.is_active
    digest = hashlib.sha256(json.dumps(state, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:32]


def content_changed(
    instrument: Instrument, *, details: InstrumentDetails, definition: Mapping[str, Any]
) -> bool:
    """Whether the edit changes what the version means (not only whether it is in use)."""
    before = json.dumps(_content(details_of(instrument), instrument.definition), sort_keys=True)
    after = json.dumps(_content(details, definition), sort_keys=True)
    return before != after


def languages_of(details: InstrumentDetails, definition: Mapping[str, Any]) -> list[str]:
    """Chinese always; English too when every text of the definition has it."""
    labels = [o["label"] for o in definition.get("options", [])]
    labels += [i["text"] for i in definition.get("items", [])]
    labels += [s["name"] for s in definition.get("subscales", [])]
    labels += [b["label"] for b in definition.get("bands", [])]
    complete = bool(details.name_en) and all(
        isinstance(label, dict) and label.get("en") for label in labels
    )
    return ["zh-hans", "en"] if complete else ["zh-hans"]


def _fields(details: InstrumentDetails, definition: dict[str, Any]) -> dict[str, Any]:
    return {
        **asdict(details),
        "definition": definition,
        "languages": languages_of(details, definition),
    }


@transaction.atomic
def instrument_create(
    *, code: str, details: InstrumentDetails, definition: dict[str, Any], by: User
) -> Instrument:
    """Version 1 of a new instrument, from a checked definition."""
    return Instrument.objects.create(
        code=code, version=1, is_builtin=False, created_by=by, **_fields(details, definition)
    )


@transaction.atomic
def instrument_revise(
    *,
    instrument: Instrument,
    details: InstrumentDetails,
    definition: dict[str, Any],
    by: User,
    seen: str | None = None,
) -> Revision:
    """Save an edit: in place while the version has no results and is not built in, otherwise
    as the code's next version, leaving this one as it is. Whether a version is in use is not
    part of its content and changes in place (never on a built-in version)."""
    # Locking every version of the code serialises revisions (two new versions cannot get the
    # same number) and waits for a result being recorded against this version to commit.
    versions = {
        v.pk: v for v in Instrument.objects.select_for_update().filter(code=instrument.code)
    }
    current = versions[instrument.pk]
    if seen is not None and seen != fingerprint(current):
        raise InstrumentConflict
    changed = content_changed(current, details=details, definition=definition)
    if not changed:
        if current.is_builtin or current.is_active == details.is_active:
            return Revision(current, "unchanged")
        current.is_active = details.is_active
        current.save(update_fields=["is_active"])
        return Revision(current, "status_changed")
    if current.is_builtin or current.results.exists():
        newest = max(v.version for v in versions.values())
        created = Instrument.objects.create(
            code=current.code,
            version=newest + 1,
            is_builtin=False,
            created_by=by,
            **_fields(details, definition),
        )
        return Revision(created, "new_version")
    for name, value in _fields(details, definition).items():
        setattr(current, name, value)
    current.save()
    return Revision(current, "changed_in_place")
