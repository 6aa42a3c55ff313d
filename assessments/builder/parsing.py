"""The builder's line format, and a parser that reads each part of it.

Each part of a definition (see `assessments.scoring`) is written one entry per line; empty lines
and lines starting with # are ignored. Labels are "Chinese | English" (English optional).

    options     0 = 从未 | Never
                10: 0 = 没有困难 | Not difficult at all   (an unscored item's own options)
    items       1. 我能理解别人的感受 | I understand how others feel [R] [emotional]
                ([R] reverse-scored, [optional] may be left unanswered, [unscored] counts in no
                score, [code] a subscale)
    subscales   emotional = 情绪症状 | Emotional symptoms
                lie = 掩饰 | Lie scale [validity >= 7]   ([validity] without a threshold too)
    bands       total 0-13 = 正常 | Normal : none       (risk: none, low, moderate, high, crisis)
    critical    9 >= 1 : crisis = 自伤念头 | Self-harm thoughts
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from assessments.scoring import TOTAL
from cases.models import RiskLevel
from core.inputs import whole_number

SECTIONS = ("options", "items", "subscales", "bands", "critical")

RISK_WORDS = {"none": 0, "low": 1, "moderate": 2, "high": 3, "crisis": 4}
REVERSE_TAG = "r"
OPTIONAL_TAG = "optional"
UNSCORED_TAG = "unscored"
RESERVED_CODES = {TOTAL, REVERSE_TAG, OPTIONAL_TAG, UNSCORED_TAG, "validity"}
CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")

_EQ = "[=＝]"
_COLON = "[:：]"
_GE = "(?:>=|≥|＞＝|>＝)"
_OPTION_RE = re.compile(
    rf"^(?:(?P<item>\d+)\s*{_COLON}\s*)?(?P<value>-?\d+)\s*{_EQ}\s*(?P<label>.*)$"
)
_ITEM_RE = re.compile(r"^(?P<number>\d+)\s*[.．、)）]\s*(?P<text>.*)$")
_TAG_RE = re.compile(r"\s*[\[［【]\s*(?P<tag>[^\[\]［］【】]*?)\s*[\]］】]\s*$")
_SUBSCALE_RE = re.compile(rf"^(?P<code>[^\s=＝]+)\s*{_EQ}\s*(?P<label>.*)$")
_VALIDITY_RE = re.compile(rf"^validity(?:\s*{_GE}\s*(?P<from>-?\d+))?$", re.IGNORECASE)
_BAND_RE = re.compile(
    rf"^(?P<scale>[^\s=＝]+)\s+(?P<min>-?\d+)\s*[-–—~～]\s*(?P<max>-?\d+)\s*{_EQ}\s*(?P<rest>.*)$"
)
_BAND_TAIL_RE = re.compile(r"^(?P<label>.*)[:：]\s*(?P<risk>[^:：]*)$")
_CRITICAL_RE = re.compile(
    rf"^(?P<item>\d+)\s*{_GE}\s*(?P<value>-?\d+)\s*{_COLON}\s*(?P<risk>[^=＝]*?)\s*{_EQ}"
    rf"\s*(?P<label>.*)$"
)


def _numbered_lines(text: str) -> list[tuple[int, str]]:
    rows = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            rows.append((number, line))
    return rows


def _line_error(line: int, problem: str) -> str:
    return _("Line %(line)d: %(problem)s") % {"line": line, "problem": problem}


def _label(text: str) -> dict[str, str] | None:
    """Chinese, then optionally | and English → {"zh-hans": …, "en": …}; None without Chinese."""
    parts = re.split(r"[|｜]", text, maxsplit=1)
    zh = parts[0].strip()
    en = parts[1].strip() if len(parts) > 1 else ""
    if not zh:
        return None
    return {"zh-hans": zh, "en": en} if en else {"zh-hans": zh}


def _risk(word: str) -> int | None:
    word = word.strip().lower()
    if word in RISK_WORDS:
        return RISK_WORDS[word]
    number = whole_number(word)
    if number is not None and number in RiskLevel.values:
        return number
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for level in RiskLevel:
                if word == str(level.label).lower():
                    return int(level.value)
    return None


def _tags(text: str) -> tuple[str, list[str]]:
    """Split trailing [tags] off a line: ("text", ["R", "emotional"])."""
    tags: list[str] = []
    while match := _TAG_RE.search(text):
        tags.insert(0, match.group("tag"))
        text = text[: match.start()]
    return text.strip(), tags


class _Parser:
    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts
        self.errors: dict[str, list[str]] = {name: [] for name in SECTIONS}
        self.item_options: dict[int, list[dict[str, Any]]] = {}

    def fail(self, section: str, line: int, problem: str) -> None:
        self.errors[section].append(_line_error(line, problem))

    def label(self, section: str, line: int, text: str) -> dict[str, str] | None:
        label = _label(text)
        if label is None:
            self.fail(section, line, _("give the Chinese text (then '|' and the English)."))
        return label

    def options(self) -> list[dict[str, Any]]:
        rows = []
        for line, text in _numbered_lines(self.texts.get("options", "")):
            match = _OPTION_RE.match(text)
            if not match:
                self.fail(
                    "options",
                    line,
                    _("write an option as '%(example)s'.") % {"example": "0 = 从未 | Never"},
                )
                continue
            label = self.label("options", line, match.group("label"))
            if label is None:
                continue
            option = {"value": int(match.group("value")), "label": label}
            if match.group("item"):
                self.item_options.setdefault(int(match.group("item")), []).append(option)
            else:
                rows.append(option)
        return rows

    def subscales(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for line, raw in _numbered_lines(self.texts.get("subscales", "")):
            text, tags = _tags(raw)
            match = _SUBSCALE_RE.match(text)
            if not match:
                self.fail(
                    "subscales",
                    line,
                    _("write a subscale as '%(example)s'.")
                    % {"example": "emotional = 情绪症状 | Emotional symptoms"},
                )
                continue
            code = match.group("code")
            if not CODE_RE.match(code) or code.lower() in RESERVED_CODES:
                self.fail(
                    "subscales",
                    line,
                    _(
                        "'%(code)s' cannot be a subscale code: use up to 32 Latin letters, "
                        "digits, - or _, starting with a letter, and not total, r, optional "
                        "or validity."
                    )
                    % {"code": code},
                )
                continue
            if any(row["code"] == code for row in rows):
                self.fail("subscales", line, _("the code %(code)s is used twice.") % {"code": code})
                continue
            validity, invalid_from, ok = False, None, True
            for tag in tags:
                found = _VALIDITY_RE.match(tag)
                if found and not validity:
                    validity = True
                    invalid_from = int(found.group("from")) if found.group("from") else None
                else:
                    self.fail(
                        "subscales",
                        line,
                        _("'[%(tag)s]' is not understood; only [validity] or [validity >= 7].")
                        % {"tag": tag},
                    )
                    ok = False
            label = self.label("subscales", line, match.group("label"))
            if label is not None and ok:
                rows.append(
                    {
                        "code": code,
                        "name": label,
                        "validity": validity,
                        "invalid_from": invalid_from,
                    }
                )
        return rows

    def items(self, subscale_codes: set[str], subscales_ok: bool) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for line, raw in _numbered_lines(self.texts.get("items", "")):
            match = _ITEM_RE.match(raw)
            if not match:
                self.fail(
                    "items",
                    line,
                    _("write a question as '%(example)s', then any [R], [optional], [code].")
                    % {"example": "1. 中文 | English"},
                )
                continue
            text, tags = _tags(match.group("text"))
            reverse, required, scored, scales, ok = False, True, True, [], True
            for tag in tags:
                if tag.lower() == REVERSE_TAG:
                    reverse = True
                elif tag.lower() == UNSCORED_TAG:
                    scored = False
                elif tag.lower() == OPTIONAL_TAG:
                    required = False
                elif tag in subscale_codes:
                    if tag not in scales:
                        scales.append(tag)
                elif subscales_ok:
                    self.fail(
                        "items",
                        line,
                        _("[%(tag)s] is not a subscale listed under subscales.") % {"tag": tag},
                    )
                    ok = False
            label = self.label("items", line, text)
            if label is not None and ok:
                rows.append(
                    {
                        "number": int(match.group("number")),
                        "text": label,
                        "reverse": reverse,
                        "subscales": scales,
                        "required": required,
                        **({} if scored else {"scored": False}),
                        **(
                            {"options": self.item_options[number]}
                            if (number := int(match.group("number"))) in self.item_options
                            else {}
                        ),
                    }
                )
        numbers = {int(row["number"]) for row in rows}
        for number in sorted(set(self.item_options) - numbers):
            self.errors["options"].append(
                _("Options are given for question %(n)d, which does not exist.") % {"n": number}
            )
        return rows

    def bands(self, subscale_codes: set[str], subscales_ok: bool) -> list[dict[str, Any]]:
        rows = []
        for line, text in _numbered_lines(self.texts.get("bands", "")):
            match = _BAND_RE.match(text)
            tail = _BAND_TAIL_RE.match(match.group("rest")) if match else None
            if not match or not tail:
                self.fail(
                    "bands",
                    line,
                    _("write a band as '%(example)s'.")
                    % {"example": "total 0-13 = 正常 | Normal : none"},
                )
                continue
            scale = match.group("scale")
            if scale.lower() in (TOTAL, "总分"):
                scale = TOTAL
            elif scale not in subscale_codes:
                if subscales_ok:
                    self.fail(
                        "bands",
                        line,
                        _("%(scale)s is neither total nor a subscale listed under subscales.")
                        % {"scale": scale},
                    )
                continue
            risk = _risk(tail.group("risk"))
            if risk is None:
                self.fail(
                    "bands",
                    line,
                    _("the risk after ':' must be none, low, moderate, high or crisis."),
                )
                continue
            label = self.label("bands", line, tail.group("label"))
            if label is not None:
                rows.append(
                    {
                        "scale": scale,
                        "min": int(match.group("min")),
                        "max": int(match.group("max")),
                        "label": label,
                        "risk": risk,
                    }
                )
        return rows

    def critical(self) -> list[dict[str, Any]]:
        rows = []
        for line, text in _numbered_lines(self.texts.get("critical", "")):
            match = _CRITICAL_RE.match(text)
            if not match:
                self.fail(
                    "critical",
                    line,
                    _("write a rule as '%(example)s'.")
                    % {"example": "9 >= 1 : crisis = 自伤念头 | Self-harm thoughts"},
                )
                continue
            risk = _risk(match.group("risk"))
            if risk is None:
                self.fail(
                    "critical",
                    line,
                    _("the risk after ':' must be none, low, moderate, high or crisis."),
                )
                continue
            label = self.label("critical", line, match.group("label"))
            if label is not None:
                rows.append(
                    {
                        "item": int(match.group("item")),
                        "min_value": int(match.group("value")),
                        "risk": risk,
                        "label": label,
                    }
                )
        return rows
