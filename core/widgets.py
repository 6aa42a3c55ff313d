"""Form widgets shared by the apps."""

from __future__ import annotations

from django import forms


class LongSelect(forms.Select):
    """A <select> for lists that grow with the user's area (the schools of a province): the same
    markup as Django's, its options written in one template loop instead of one included
    template each, so the page's cost barely grows with the number of options."""

    template_name = "core/widgets/long_select.html"
