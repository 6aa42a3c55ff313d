"""`{% constant %}…{% endconstant %}`: markup written once per process and language.

The page frame (base.html) writes the same stylesheet and script links, the same menu texts and
the same messages for the phone's offline queue on every page: some forty tags a page, about a
millisecond on the benchmark machine. Inside `constant` only text, comments, and
`{% translate %}`, `{% static %}` and `{% url %}` with literal arguments (no filters, no `as`) may
stand; anything else, a variable above all, is a syntax error when the template is loaded, so
nothing that depends on the request or the user can be frozen into the page by mistake.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, Node, NodeList, TextNode, Variable
from django.template.defaulttags import CommentNode, URLNode
from django.templatetags.i18n import TranslateNode
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()


def _literal(expression: FilterExpression | None) -> bool:
    """A quoted string or a number, without filters (the translate tag wraps its string in a
    Variable whose `lookups` is None: a literal)."""
    if expression is None:
        return True
    var = expression.var
    fixed = isinstance(var, str | int | float) or (
        isinstance(var, Variable) and var.lookups is None
    )
    return fixed and not expression.filters


def _constant(node: Node) -> bool:
    if isinstance(node, TextNode | CommentNode):
        return True
    if isinstance(node, TranslateNode):
        return (
            node.asvar is None
            and _literal(node.filter_expression)
            and (node.message_context is None or _literal(node.message_context))
        )
    if isinstance(node, StaticNode):
        return node.varname is None and _literal(node.path)
    if isinstance(node, URLNode):
        return (
            node.asvar is None
            and _literal(node.view_name)
            and all(_literal(arg) for arg in node.args)
            and all(_literal(arg) for arg in node.kwargs.values())
        )
    return False


class ConstantNode(Node):
    def __init__(self, nodelist: NodeList) -> None:
        self.nodelist = nodelist
        self.written: dict[tuple[str | None, str], SafeString] = {}

    def render(self, context: Any) -> SafeString:
        key = (get_language(), get_script_prefix())
        written = self.written.get(key)
        if written is None:
            written = self.written[key] = mark_safe(self.nodelist.render(context))  # noqa: S308
        return written


@register.tag("constant")
def constant(parser: Any, token: Any) -> ConstantNode:
    nodelist = parser.parse(("endconstant",))
    parser.delete_first_token()
    for node in nodelist:
        if not _constant(node):
            raise template.TemplateSyntaxError(
                f"{{% constant %}} may hold only text, comments, and translate, static and url "
                f"tags with literal arguments; it holds {node!r}."
            )
    return ConstantNode(nodelist)
