"""The instrument builder: a line format an administrator can type, and saving versions.

Each part of a definition (see `assessments.scoring`) is written one entry per line; empty lines
and lines starting with # are ignored. Labels are "Chinese | English" (English optional).

    options     0 = 从未 | Never
    items       1. 我能理解别人的感受 | I understand how others feel [R] [emotional]
                ([R] reverse-scored, [optional] may be left unanswered, [code] a subscale)
    subscales   emotional = 情绪症状 | Emotional symptoms
                lie = 掩饰 | Lie scale [validity >= 7]   ([validity] without a threshold too)
    bands       total 0-13 = 正常 | Normal : none       (risk: none, low, moderate, high, crisis)
    critical    9 >= 1 : crisis = 自伤念头 | Self-harm thoughts

`definition_from_text` parses the five texts and reports each problem against the part it
belongs to; `definition_to_text` writes a stored definition back for editing. The services
never change a version that has results or is built in: a change makes a new version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from assessments.models import Instrument
from assessments.scoring import TOTAL, Definition
from cases.models import RiskLevel
from institutions.models import User

SECTIONS = ("options", "items", "subscales", "bands", "critical")

# What a part's checks rely on: while one of these has a problem, the part's own checks would
# mislead (a band line that did not parse would show up as a gap), so they wait.
DEPENDS_ON: dict[str, set[str]] = {
    "options": {"options"},
    "items": {"items", "subscales"},
    "subscales": {"subscales"},
    "bands": {"options", "items", "subscales", "bands"},
    "critical": {"options", "items", "critical"},
}

RISK_WORDS = {"none": 0, "low": 1, "moderate": 2, "high": 3, "crisis": 4}
REVERSE_TAG = "r"
OPTIONAL_TAG = "optional"
RESERVED_CODES = {TOTAL, REVERSE_TAG, OPTIONAL_TAG, "validity"}
CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")

_EQ = "[=＝]"
_COLON = "[:：]"
_GE = "(?:>=|≥|＞＝|>＝)"
_OPTION_RE = re.compile(rf"^(?P<value>-?\d+)\s*{_EQ}\s*(?P<label>.*)$")
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


# -- reads ------------------------------------------------------------------------------------


def instruments_visible_to(user: User | AnonymousUser) -> QuerySet[Instrument]:
    """Every instrument for those who may see instruments (administrators); none otherwise."""
    if not user.is_authenticated or not user.has_perm("assessments.view_instrument"):
        return Instrument.objects.none()
    return Instrument.objects.all()


# -- text → definition --------------------------------------------------------------------------


@dataclass
class ParsedDefinition:
    """A definition built from the builder's texts, and every problem, by part."""

    data: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not any(self.errors.values())


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
    if word.isdigit() and int(word) in RiskLevel.values:
        return int(word)
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
            if label is not None:
                rows.append({"value": int(match.group("value")), "label": label})
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
        rows = []
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
            reverse, required, scales, ok = False, True, [], True
            for tag in tags:
                if tag.lower() == REVERSE_TAG:
                    reverse = True
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
                    }
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


def definition_from_text(texts: Mapping[str, str]) -> ParsedDefinition:
    """Parse the five texts into a definition and check it with `Definition.errors()`; every
    problem is reported against the part it belongs to."""
    parser = _Parser(texts)
    options = parser.options()
    subscales = parser.subscales()
    codes = {s["code"] for s in subscales}
    subscales_ok = not parser.errors["subscales"]
    data = {
        "options": options,
        "items": parser.items(codes, subscales_ok),
        "subscales": subscales,
        "bands": parser.bands(codes, subscales_ok),
        "critical": parser.critical(),
    }
    errors = parser.errors
    failed = {name for name, problems in errors.items() if problems}
    found = _attributed_problems(data)
    # In dependency order, so that a part found wrong keeps its dependents' checks back.
    for section in ("options", "subscales", "items", "bands", "critical"):
        if not DEPENDS_ON[section] & failed:
            errors[section] += found.get(section, [])
        if errors[section]:
            failed.add(section)
    if found.get(None) and not failed:
        errors["__all__"] = found[None]
    return ParsedDefinition(data=data, errors={k: v for k, v in errors.items() if v})


def _attributed_problems(data: dict[str, Any]) -> dict[str | None, list[str]]:
    """`Definition.errors()`, each message put with the part that causes it.

    Found by taking parts out one at a time: what disappears when the critical rules are
    removed belongs to them, then what disappears when the bands are replaced by one band
    covering the total, and so on. Whatever is left (a check added to scoring later that no
    part explains) is returned under None.
    """

    def errors_of(**changes: Any) -> list[str]:
        return Definition({**data, **changes}).errors()

    def cover(options: list[dict[str, Any]], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        low, high = Definition({**data, "options": options, "items": items}).bounds(TOTAL)
        return [{"scale": TOTAL, "min": low, "max": high, "label": {"en": "-"}, "risk": 0}]

    two_options = [{"value": 0, "label": {"en": "0"}}, {"value": 1, "label": {"en": "1"}}]
    one_item = [{"number": 1, "text": {"en": "-"}, "subscales": []}]
    steps: list[tuple[str, Callable[[], list[str]]]] = [
        ("critical", lambda: errors_of(critical=[])),
        ("bands", lambda: errors_of(critical=[], bands=cover(data["options"], data["items"]))),
        (
            "options",
            lambda: errors_of(
                critical=[], options=two_options, bands=cover(two_options, data["items"])
            ),
        ),
        (
            "items",
            lambda: errors_of(
                critical=[],
                options=two_options,
                items=one_item,
                bands=cover(two_options, one_item),
            ),
        ),
    ]
    remaining = errors_of()
    found: dict[str | None, list[str]] = {}
    for section, ablated in steps:
        if not remaining:
            break
        still = set(ablated())
        found[section] = [m for m in remaining if m not in still]
        remaining = [m for m in remaining if m in still]
    if remaining:
        found[None] = remaining
    return found


# -- definition → text ------------------------------------------------------------------------


def _label_text(label: dict[str, str] | str) -> str:
    if isinstance(label, str):
        return label
    zh = label.get("zh-hans", "")
    en = label.get("en", "")
    return f"{zh} | {en}" if en else zh


def _risk_word(risk: int) -> str:
    return next((word for word, value in RISK_WORDS.items() if value == int(risk)), str(risk))


def definition_to_text(definition: Mapping[str, Any]) -> dict[str, str]:
    """The five texts that `definition_from_text` turns back into the same definition."""
    options = [f"{o['value']} = {_label_text(o['label'])}" for o in definition.get("options", [])]
    items = []
    for item in definition.get("items", []):
        tags = " [R]" if item.get("reverse") else ""
        tags += "".join(f" [{code}]" for code in item.get("subscales", []))
        tags += "" if item.get("required", True) else f" [{OPTIONAL_TAG}]"
        items.append(f"{item['number']}. {_label_text(item['text'])}{tags}")
    subscales = []
    for scale in definition.get("subscales", []):
        tag = ""
        if scale.get("validity"):
            limit = scale.get("invalid_from")
            tag = " [validity]" if limit is None else f" [validity >= {limit}]"
        subscales.append(f"{scale['code']} = {_label_text(scale['name'])}{tag}")
    bands = [
        f"{b['scale']} {b['min']}-{b['max']} = {_label_text(b['label'])} : {_risk_word(b['risk'])}"
        for b in definition.get("bands", [])
    ]
    critical = [
        f"{r['item']} >= {r['min_value']} : {_risk_word(r['risk'])} = {_label_text(r['label'])}"
        for r in definition.get("critical", [])
    ]
    return {
        "options": "\n".join(options),
        "items": "\n".join(items),
        "subscales": "\n".join(subscales),
        "bands": "\n".join(bands),
        "critical": "\n".join(critical),
    }


# -- writes ------------------------------------------------------------------------------------


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


def next_version_number(instrument: Instrument) -> int:
    """The number a new version of this instrument's code would get."""
    newest = Instrument.objects.filter(code=instrument.code).aggregate(n=Max("version"))["n"]
    return int(newest or 0) + 1
