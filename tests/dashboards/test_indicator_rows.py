"""`{% indicator_row %}`: a dashboard table's row written in Python, as the template wrote it."""

from __future__ import annotations

from types import SimpleNamespace

from django.template import Context, Template
from django.test.html import parse_html
from django.utils.translation import override

from dashboards.selectors import Cell, Row

# The row as dashboards/partials/indicator.html wrote it before the tag.
TEMPLATE_ROW = Template(
    "{% load i18n %}"
    '<tr data-region="{{ row.code }}"><th scope="row" class="fw-normal">{% if row.drill %}'
    '<a href="{{ row.drill }}" data-testid="drill-{{ row.code }}">{{ row.name }}</a>'
    '{% else %}<span class="text-secondary">{% blocktranslate with name=region.name %}'
    "Directly in {{ name }}{% endblocktranslate %}</span>{% endif %}</th>"
    "{% for cell in row.cells %}{{ cell }}{% endfor %}</tr>"
)
TAG_ROW = Template("{% load indicator_rows %}{% indicator_row row region %}")


def test_a_row_is_the_markup_the_template_wrote():
    region = SimpleNamespace(name="测试县 <演示>")
    cells = [Cell(12, "/children/?residence=990101&x=1&y=2"), Cell(None), Cell(3.5, "", 41.2, 2)]
    rows = [
        Row("990101001", "测试镇 & <b>", cells, "/dashboards/?region=990101001&months=12"),
        Row("990101", "", cells),  # the children registered at the region itself
    ]
    for language in ("zh-hans", "en"):
        with override(language):
            for row in rows:
                context = Context({"row": row, "region": region})
                ours = TAG_ROW.render(context)
                assert parse_html(ours) == parse_html(TEMPLATE_ROW.render(context))
                if row.drill:  # the name is escaped
                    assert "<b>" not in ours
                    assert "&lt;b&gt;" in ours
    with override("en"):
        assert "Directly in 测试县 &lt;演示&gt;" in TAG_ROW.render(
            Context({"row": rows[1], "region": region})
        )
