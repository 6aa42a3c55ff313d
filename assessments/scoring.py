"""Instrument definitions as data, their validation, and scoring of answers.

A definition is the JSON stored on `Instrument.definition`:

    {
      "options": [{"value": 0, "label": {"zh-hans": "完全不会", "en": "Not at all"}}, ...],
      "items": [{"number": 1, "text": {"zh-hans": "...", "en": "..."},
                 "reverse": false, "subscales": ["emotional"], "required": true,
                 "scored": true}, ...],
      "subscales": [{"code": "emotional", "name": {...}, "validity": false,
                     "invalid_from": null}, ...],
      "bands": [{"scale": "total", "min": 0, "max": 4, "label": {...}, "risk": 0}, ...],
      "critical": [{"item": 9, "min_value": 1, "risk": 4, "label": {...}}]
    }

Every item shares the option set, except that an unscored item (`"scored": false`, such as
PHQ-9's closing question on how difficult the problems made things) may list answer options of
its own. A reverse-scored item counts (lowest + highest - value). The total is the sum of all
scored items except those that belong only to a validity scale; an unscored item counts nowhere.
Bands may be given for the total and for any subscale; for each scale they must cover every
possible score exactly once. A validity scale whose score reaches `invalid_from` marks the
result doubtful.
Pure functions only: no database access here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

TOTAL = "total"


def text_in(labels: dict[str, str] | str, language: str | None = None) -> str:
    """The label in the active language, falling back to Chinese, then any."""
    if isinstance(labels, str):
        return labels
    language = (language or get_language() or "zh-hans").lower()
    for key in (language, language.split("-")[0], "zh-hans", "en"):
        if labels.get(key):
            return labels[key]
    return next(iter(labels.values()), "")


@dataclass(frozen=True)
class Band:
    scale: str
    min: int
    max: int
    label: dict[str, str]
    risk: int

    def contains(self, score: int) -> bool:
        return self.min <= score <= self.max


@dataclass(frozen=True)
class Result:
    """What scoring one set of answers gives."""

    total: int
    subscales: dict[str, int]
    band: Band | None
    subscale_bands: dict[str, Band]
    risk: int
    critical_items: list[int] = field(default_factory=list)
    valid: bool = True

    @property
    def is_critical(self) -> bool:
        return bool(self.critical_items)

    def as_scores(self) -> dict[str, Any]:
        return {"total": self.total, "subscales": self.subscales}


class Definition:
    """A parsed instrument definition with its derived bounds."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.options: list[dict[str, Any]] = list(data.get("options", []))
        self.items: list[dict[str, Any]] = list(data.get("items", []))
        self.subscales: list[dict[str, Any]] = list(data.get("subscales", []))
        self.bands = [
            Band(b["scale"], int(b["min"]), int(b["max"]), b["label"], int(b["risk"]))
            for b in data.get("bands", [])
        ]
        self.critical: list[dict[str, Any]] = list(data.get("critical", []))
        self.values = sorted({int(o["value"]) for o in self.options})

    # -- structure -------------------------------------------------------------------------

    @property
    def validity_codes(self) -> set[str]:
        return {s["code"] for s in self.subscales if s.get("validity")}

    def counts_in_total(self, item: dict[str, Any]) -> bool:
        if not item.get("scored", True):
            return False
        scales = set(item.get("subscales", []))
        return not scales or not scales <= self.validity_codes

    def options_of(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """The answers an item offers: its own (an unscored item may have them) or the set's."""
        return list(item.get("options") or self.options)

    def values_of(self, item: dict[str, Any]) -> list[int]:
        return sorted({int(o["value"]) for o in self.options_of(item)})

    def items_of(self, scale: str) -> list[dict[str, Any]]:
        if scale == TOTAL:
            return [i for i in self.items if self.counts_in_total(i)]
        return [i for i in self.items if i.get("scored", True) and scale in i.get("subscales", [])]

    def bounds(self, scale: str) -> tuple[int, int]:
        """The lowest and highest score possible on a scale (a skipped optional item counts 0)."""
        if not self.values:
            return (0, 0)
        items = self.items_of(scale)
        lowest, highest = self.values[0], self.values[-1]
        low = sum(lowest if i.get("required", True) else min(lowest, 0) for i in items)
        high = sum(highest if i.get("required", True) else max(highest, 0) for i in items)
        return (low, high)

    def option_label(self, value: int, number: int | None = None) -> dict[str, str]:
        item = next((i for i in self.items if int(i["number"]) == number), None)
        for option in self.options_of(item) if item else self.options:
            if int(option["value"]) == value:
                return option["label"]
        return {"en": str(value)}

    # -- validation of the definition (the builder) ----------------------------------------

    def errors(self) -> list[str]:
        """Everything wrong with the definition; empty when it can be used."""
        problems: list[str] = []
        if len(self.options) < 2:
            problems.append(_("Give at least two answer options."))
        if len(self.values) != len(self.options):
            problems.append(_("Two answer options have the same value."))
        numbers = [int(i["number"]) for i in self.items]
        if not numbers:
            problems.append(_("Give at least one item."))
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            problems.append(_("Items must be numbered 1, 2, 3… without gaps or repeats."))
        codes = [s["code"] for s in self.subscales]
        if len(set(codes)) != len(codes) or TOTAL in codes:
            problems.append(_("Subscale codes must be unique and not 'total'."))
        for item in self.items:
            if item.get("options") and item.get("scored", True):
                problems.append(
                    _("Item %(n)s: only an unscored item has answer options of its own.")
                    % {"n": item["number"]}
                )
            for code in item.get("subscales", []):
                if code not in codes:
                    problems.append(
                        _("Item %(n)s names a subscale %(code)s that is not defined.")
                        % {"n": item["number"], "code": code}
                    )
        for scale in sorted({b.scale for b in self.bands} - {TOTAL, *codes}):
            problems.append(
                _("Bands name a scale %(code)s that is neither the total nor a subscale.")
                % {"code": scale}
            )
        risks = [b.risk for b in self.bands] + [int(r["risk"]) for r in self.critical]
        if any(risk not in range(5) for risk in risks):
            problems.append(_("A risk level must be none, low, moderate, high or crisis (0-4)."))
        for scale in [TOTAL, *codes]:
            problems += self._band_errors(scale)
        if not any(b.scale == TOTAL for b in self.bands):
            problems.append(_("Give bands for the total score."))
        for rule in self.critical:
            if int(rule["item"]) not in numbers:
                problems.append(
                    _("A critical rule names item %(n)s, which does not exist.")
                    % {"n": rule["item"]}
                )
            elif int(rule["min_value"]) not in self.values:
                problems.append(
                    _("A critical rule on item %(n)s uses a value no option has.")
                    % {"n": rule["item"]}
                )
        return problems

    def _band_errors(self, scale: str) -> list[str]:
        bands = sorted((b for b in self.bands if b.scale == scale), key=lambda b: b.min)
        if not bands:
            return []
        low, high = self.bounds(scale)
        name = _("the total") if scale == TOTAL else scale
        problems = []
        for band in bands:
            if band.min > band.max:
                problems.append(
                    _("A band of %(scale)s starts at %(min)s after it ends at %(max)s.")
                    % {"scale": name, "min": band.min, "max": band.max}
                )
        expected = low
        reach: Band | None = None  # the band reaching furthest so far: what a later one overlaps
        for band in bands:
            if reach is not None and band.min < expected:
                problems.append(
                    _("Bands of %(scale)s overlap: %(a)s–%(b)s and %(c)s–%(d)s.")
                    % {"scale": name, "a": reach.min, "b": reach.max, "c": band.min, "d": band.max}
                )
            elif band.min > expected:
                problems.append(
                    _("No band of %(scale)s covers the scores %(a)s–%(b)s.")
                    % {"scale": name, "a": expected, "b": band.min - 1}
                )
            if reach is None or band.max + 1 > expected:
                reach = band
            expected = max(expected, band.max + 1)
        if expected <= high:
            problems.append(
                _("No band of %(scale)s covers the scores %(a)s–%(b)s.")
                % {"scale": name, "a": expected, "b": high}
            )
        if bands[0].min < low or bands[-1].max > high:
            problems.append(
                _("Bands of %(scale)s must stay within the possible scores %(a)s–%(b)s.")
                % {"scale": name, "a": low, "b": high}
            )
        return problems

    # -- answers -----------------------------------------------------------------------------

    def answer_errors(self, answers: Mapping[int, int | None]) -> dict[int, str]:
        """Per item: a required answer missing, or a value the item does not have."""
        problems: dict[int, str] = {}
        for item in self.items:
            number = int(item["number"])
            value = answers.get(number)
            if value is None:
                if item.get("required", True):
                    problems[number] = _("Answer this question.")
            elif value not in self.values_of(item):
                problems[number] = _("%(value)s is not one of this question's answers.") % {
                    "value": value
                }
        unknown = set(answers) - {int(i["number"]) for i in self.items}
        for number in sorted(unknown):
            problems[number] = _("This instrument has no question %(n)s.") % {"n": number}
        return problems

    def read_answers(self, raw: Mapping[Any, Any]) -> tuple[dict[int, int], dict[str, str]]:
        """The one rule for submitted answers, by item key: the keys are exactly the items'
        keys ("1", "2", … as written, so "01" is no key), each at most once; a value is a whole
        number of the item's options (a JSON number: not "2", 1.0 or true) or empty for an
        optional item; every required item is answered. Returns the answers by item number and
        the errors by the key they concern (empty when the answers can be scored)."""
        numbers = {str(int(i["number"])): int(i["number"]) for i in self.items}
        answers: dict[int, int] = {}
        errors: dict[str, str] = {}
        for key, value in raw.items():
            name = str(key)
            if not isinstance(key, str) or name not in numbers:
                errors[name] = _("This instrument has no question %(key)s.") % {"key": name}
            elif value is None:
                continue
            elif isinstance(value, bool) or not isinstance(value, int):
                errors[name] = _("Answer question %(key)s with a whole number, not %(value)s.") % {
                    "key": name,
                    "value": json.dumps(value, ensure_ascii=False),
                }
            else:
                answers[numbers[name]] = value
        for number, message in self.answer_errors(answers).items():
            errors.setdefault(str(number), message)
        return answers, errors

    def item_score(self, item: dict[str, Any], value: int) -> int:
        if item.get("reverse"):
            return self.values[0] + self.values[-1] - value
        return value

    def score(self, answers: Mapping[int, int | None]) -> Result:
        """Score valid answers (call answer_errors first)."""
        points = {
            int(i["number"]): self.item_score(i, int(answers[int(i["number"])]))  # type: ignore[arg-type]
            for i in self.items
            if answers.get(int(i["number"])) is not None
        }

        def scale_score(scale: str) -> int:
            return sum(points.get(int(i["number"]), 0) for i in self.items_of(scale))

        total = scale_score(TOTAL)
        subscales = {s["code"]: scale_score(s["code"]) for s in self.subscales}
        band = self.band_for(TOTAL, total)
        subscale_bands = {
            code: b for code, score in subscales.items() if (b := self.band_for(code, score))
        }
        risk = max([band.risk if band else 0, *[b.risk for b in subscale_bands.values()]])
        critical_items = []
        for rule in self.critical:
            value = answers.get(int(rule["item"]))
            if value is not None and int(value) >= int(rule["min_value"]):
                critical_items.append(int(rule["item"]))
                risk = max(risk, int(rule["risk"]))
        valid = all(
            subscales.get(s["code"], 0) < int(s["invalid_from"])
            for s in self.subscales
            if s.get("validity") and s.get("invalid_from") is not None
        )
        return Result(total, subscales, band, subscale_bands, risk, critical_items, valid)

    def band_for(self, scale: str, score: int) -> Band | None:
        return next((b for b in self.bands if b.scale == scale and b.contains(score)), None)
