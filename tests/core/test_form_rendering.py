"""core.form_rendering.FastWidgetRenderer writes the common widgets in Python: every page's
forms must come out exactly as Django's own templates write them."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from core.form_rendering import FastWidgetRenderer
from core.widgets import LongSelect

GROUPED = [
    ("", "---------"),
    ("Township <A>", [("1", "School <one> & two"), ("2", "第二小学")]),
    ("3", gettext_lazy("Name")),
    (4, 5),
]


class EveryWidget(forms.Form):
    name = forms.CharField(max_length=20, help_text="help", widget=forms.TextInput({"class": "x"}))
    optional = forms.CharField(required=False)
    count = forms.IntegerField(min_value=0, max_value=9)
    share = forms.DecimalField(required=False)
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    born = forms.DateField(widget=forms.DateInput({"type": "date"}), required=False)
    at = forms.DateTimeField(required=False)
    time = forms.TimeField(required=False)
    phone = forms.CharField(widget=forms.TextInput({"type": "tel", "data-x": '"quoted"'}))
    agreed = forms.BooleanField(required=False)
    note = forms.CharField(widget=forms.Textarea({"rows": 3}), required=False)
    kind = forms.ChoiceField(choices=GROUPED, required=False)
    kinds = forms.MultipleChoiceField(choices=GROUPED, required=False)
    level = forms.ChoiceField(choices=GROUPED[2:], widget=forms.RadioSelect, required=False)
    levels = forms.MultipleChoiceField(
        choices=GROUPED, widget=forms.CheckboxSelectMultiple({"class": "c"}), required=False
    )
    long = forms.ChoiceField(choices=GROUPED, widget=LongSelect({"disabled": True}), required=False)
    upload = forms.FileField(required=False)
    chosen = forms.NullBooleanField(required=False)
    search = forms.CharField(widget=forms.TextInput({"type": "search", "autofocus": True}))


INPUTS = [
    {},
    {
        "name": "<b>Li & Wang</b>",
        "optional": mark_safe("<i>kept</i>"),
        "count": "12",
        "share": "1.5",
        "email": "a@example.invalid",
        "secret": 'p"w',
        "hidden": "h",
        "born": "2015-02-03",
        "at": "2026-01-02 03:04",
        "time": "05:06",
        "phone": "123",
        "agreed": "on",
        "note": "line one\n<two>",
        "kind": "2",
        "kinds": ["1", "3"],
        "level": "4",
        "levels": ["2", "4"],
        "long": "1",
        "chosen": "true",
        "search": "x",
    },
]


def _both(form_data, initial=None, prefix=None):
    def render(renderer):
        form = EveryWidget(form_data, initial=initial, prefix=prefix, renderer=renderer)
        if form_data is not None:
            form.is_valid()
        return {
            name: (
                str(form[name]),
                [str(w.tag()) for w in form[name]] if name.startswith("level") else [],
            )
            for name in form.fields
        }

    return render(DjangoTemplates()), render(FastWidgetRenderer())


@pytest.mark.parametrize("data", INPUTS)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_common_widget_is_written_byte_for_byte_as_djangos_templates_write_it(data, language):
    with override(language):
        django_made, fast_made = _both(data, prefix="p")
    for name, markup in django_made.items():
        assert fast_made[name] == markup, name


def test_initial_values_dates_and_numbers_are_written_as_django_writes_them():
    initial = {
        "born": datetime.date(2015, 2, 3),
        "at": datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC),
        "share": 1234.5,
        "count": 3,
        "kinds": [1, 3],
        "agreed": True,
    }
    django_made, fast_made = _both(None, initial=initial)
    assert fast_made == django_made


def test_a_widget_it_does_not_write_is_left_to_djangos_templates():
    widget = forms.SelectDateWidget(years=[2020])
    assert widget.render("d", None, renderer=FastWidgetRenderer()) == widget.render(
        "d", None, renderer=DjangoTemplates()
    )


def test_the_sites_forms_use_it():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FastWidgetRenderer)
    assert "&lt;b&gt;" in str(EveryWidget({"name": "<b>"})["name"])
