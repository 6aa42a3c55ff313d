"""A form renderer that writes Django's common widgets in Python.

Django renders every widget through a template, and a <select> through one more template per
option: on a list page with a dozen filters that is a few hundred template nodes per request
(about a tenth of the child list's time). `FastWidgetRenderer` writes the same markup, byte for
byte, for the widget templates in `WIDGETS` (inputs, selects and their options, text areas, radio
and checkbox groups, `core.widgets.LongSelect`) and leaves every other template to Django's
renderer. tests/core/test_form_rendering.py holds the two renderers to the same output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]


def _shown(value: Any) -> str:
    """`{{ value }}` in a template: localized, then escaped unless already safe."""
    value = localize(template_localtime(value))
    if not issubclass(type(value), str):
        value = str(value)
    return conditional_escape(value)


def _as_string(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: the value's text, escaped unless it was safe."""
    try:
        text = "%s" % (str(value) if isinstance(value, tuple) else value)
    except (TypeError, ValueError):
        return ""
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: Mapping[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(" " + _shown(name))
        if value is not True:
            out.append(f'="{_as_string(value)}"')
    return "".join(out)


def _input(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/input.html (as included: with its line end)."""
    value = widget["value"]
    shown = f' value="{_as_string(value)}"' if value is not None else ""
    return (
        f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>\n"
    )


def _option(option: Mapping[str, Any]) -> str:
    """django/forms/widgets/select_option.html (as included)."""
    return (
        f'<option value="{_as_string(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_shown(option['label'])}</option>\n"
    )


def _input_option(option: Mapping[str, Any]) -> str:
    """django/forms/widgets/input_option.html (as included)."""
    if not option.get("wrap_label"):
        return _input(option) + "\n"
    target = option["attrs"].get("id")
    opening = f' for="{_shown(target)}"' if target else ""
    return f"<label{opening}>{_input(option)} {_shown(option['label'])}</label>\n"


OPTION_WRITERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "django/forms/widgets/select_option.html": _option,
    # radio_option.html and checkbox_option.html include input_option.html and end a line.
    "django/forms/widgets/radio_option.html": lambda o: _input_option(o) + "\n",
    "django/forms/widgets/checkbox_option.html": lambda o: _input_option(o) + "\n",
    "django/forms/widgets/input_option.html": _input_option,
}


def _writes_options(widget: Mapping[str, Any]) -> bool:
    return all(
        option["template_name"] in OPTION_WRITERS
        for _group, options, _index in widget["optgroups"]
        for option in options
    )


def _grouped(
    widget: Mapping[str, Any],
    write: Callable[[Mapping[str, Any]], str],
    opening: str,
    closing: str,
) -> str:
    """The options of each group of a choice widget, a named group between `opening` (its
    `{}` takes the group's name) and `closing`."""
    out = []
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(opening.format(_shown(group)))
        out.extend(write(option) for option in options)
        if group:
            out.append(closing)
    return "".join(out)


def _select(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/select.html."""
    options = _grouped(
        widget,
        lambda option: "\n  " + OPTION_WRITERS[option["template_name"]](option),
        '\n  <optgroup label="{}">',
        "\n  </optgroup>",
    )
    return (
        f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>{options}\n</select>\n'
    )


def _plain_option(option: Mapping[str, Any]) -> str:
    chosen = " selected" if option["selected"] else ""
    return (
        f'<option value="{_as_string(option["value"])}"{chosen}>{_shown(option["label"])}</option>'
    )


def _long_select(widget: Mapping[str, Any]) -> str:
    """core/widgets/long_select.html: the options in one loop, without line ends."""
    options = _grouped(widget, _plain_option, '<optgroup label="{}">', "</optgroup>")
    return f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>{options}</select>\n'


def _multiple_input(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/multiple_input.html (radio and checkbox groups)."""
    attrs = widget["attrs"]
    ident, css = attrs.get("id"), attrs.get("class")
    opening = "<div"
    if ident:
        opening += f' id="{_shown(ident)}"'
    if css:
        opening += f' class="{_shown(css)}"'
    options = _grouped(
        widget,
        lambda option: "<div>\n    " + OPTION_WRITERS[option["template_name"]](option) + "</div>",
        "\n  <div><label>{}</label>",
        "\n  </div>",
    )
    return f"{opening}>{options}\n</div>\n"


def _textarea(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/textarea.html."""
    value = widget["value"]
    text = _shown(value) if value else ""
    return (
        f'<textarea name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>\n{text}</textarea>\n'
    )


INPUTS = (
    "input",
    "text",
    "number",
    "email",
    "url",
    "password",
    "hidden",
    "date",
    "datetime",
    "time",
    "search",
    "tel",
    "color",
    "checkbox",
    "file",
)

# template name → (writer, whether it can write this widget's context)
WIDGETS: dict[str, tuple[Callable[[Mapping[str, Any]], str], Callable[[Any], bool]]] = {
    **{f"django/forms/widgets/{name}.html": (_input, lambda widget: True) for name in INPUTS},
    "django/forms/widgets/select.html": (_select, _writes_options),
    "django/forms/widgets/radio.html": (_multiple_input, _writes_options),
    "django/forms/widgets/checkbox_select.html": (_multiple_input, _writes_options),
    "django/forms/widgets/multiple_input.html": (_multiple_input, _writes_options),
    "django/forms/widgets/textarea.html": (_textarea, lambda widget: True),
    "core/widgets/long_select.html": (_long_select, lambda widget: True),
    **{name: (writer, lambda widget: True) for name, writer in OPTION_WRITERS.items()},
}


class FastWidgetRenderer(DjangoTemplates):
    """Django's default form renderer, but the widgets in `WIDGETS` are written in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        known = WIDGETS.get(template_name)
        widget = context.get("widget")
        if known is not None and isinstance(widget, Mapping) and known[1](widget):
            return known[0](widget).strip()
        return super().render(template_name, context, request)
