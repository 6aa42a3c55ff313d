"""The builder's texts and a definition, both ways.

`definition_from_text` parses the five texts and reports each problem against the part it
belongs to; `definition_to_text` writes a stored definition back for editing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assessments.builder.parsing import OPTIONAL_TAG, RISK_WORDS, UNSCORED_TAG, _Parser
from assessments.scoring import TOTAL, Definition

# What a part's checks rely on: while one of these has a problem, the part's own checks would
# mislead (a band line that did not parse would show up as a gap), so they wait.
DEPENDS_ON: dict[str, set[str]] = {
    "options": {"options"},
    "items": {"items", "subscales"},
    "subscales": {"subscales"},
    "bands": {"options", "items", "subscales", "bands"},
    "critical": {"options", "items", "critical"},
}


@dataclass
class ParsedDefinition:
    """A definition built from the builder's texts, and every problem, by part."""

    data: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not any(self.errors.values())


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
    options += [
        f"{item['number']}: {o['value']} = {_label_text(o['label'])}"
        for item in definition.get("items", [])
        for o in item.get("options", [])
    ]
    items = []
    for item in definition.get("items", []):
        tags = " [R]" if item.get("reverse") else ""
        tags += "".join(f" [{code}]" for code in item.get("subscales", []))
        tags += "" if item.get("required", True) else f" [{OPTIONAL_TAG}]"
        tags += "" if item.get("scored", True) else f" [{UNSCORED_TAG}]"
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
