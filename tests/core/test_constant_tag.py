"""`{% constant %}` (core/templatetags/constant.py): the page frame's fixed markup, written once
per process and language, and nothing else."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.template import Context, Engine, TemplateSyntaxError
from django.test import Client
from django.utils.translation import override

ENGINE = Engine(
    libraries={
        "constant": "core.templatetags.constant",
        "i18n": "django.templatetags.i18n",
        "static": "django.templatetags.static",
    }
)


def _template(body: str):
    return ENGINE.from_string("{% load constant i18n static %}" + body)


@pytest.mark.parametrize(
    "body",
    [
        "{{ user }}",
        "{% translate name %}",
        "{% translate 'Name' as label %}",
        "{% translate 'Name'|upper %}",
        "{% if user %}x{% endif %}",
        "{% static path %}",
        "{% url 'cases:child_detail' child.pk %}",
        "{% csrf_token %}",
    ],
)
def test_anything_that_may_depend_on_the_request_is_refused_when_the_template_loads(body):
    with pytest.raises(TemplateSyntaxError, match="constant"):
        _template("{% constant %}<p>" + body + "</p>{% endconstant %}")


def test_the_fixed_markup_follows_the_language_of_each_page():
    template = _template(
        "{% constant %}<a href=\"{% url 'cases:child_list' %}\">{% translate 'Children' %}</a>"
        "{% endconstant %}"
    )
    with override("zh-hans"):
        chinese = template.render(Context())
    with override("en"):
        english = template.render(Context())
    with override("zh-hans"):
        assert template.render(Context()) == chinese
    assert english == '<a href="/children/">Children</a>'
    assert chinese == '<a href="/children/">儿童</a>'


@pytest.mark.django_db
def test_every_page_frame_is_written_in_the_language_asked_for():
    english_reader = Client()
    english_reader.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for _ in range(2):  # the second time from what the first one wrote
        chinese = Client().get("/accounts/login/").content.decode()
        english = english_reader.get("/accounts/login/")
        assert "跳到正文" in chinese
        assert "Skip to content" in english.content.decode()
        assert "Skip to content" not in chinese
