"""Where a child lives and learns: the region code field and the institutions a user may choose."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from institutions.models import Institution, Membership, Region, User
from institutions.selectors import scope_for


class RegionCodeField(forms.CharField):
    """A region code typed or picked from a list; it must exist."""

    default_error_messages = {
        "unknown": _("There is no region with the code %(code)s."),
        "level": _("Choose a township or village (9 or 12 digits), not %(code)s."),
    }

    def __init__(self, *, min_level: int = Region.Level.TOWNSHIP, **kwargs: Any) -> None:
        self.min_level = min_level
        kwargs.setdefault("max_length", 12)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean(self, value: Any) -> Region | None:
        code = super().clean(value)
        if not code:
            return None
        region = Region.objects.filter(code=code.strip()).first()
        if region is None:
            raise forms.ValidationError(self.error_messages["unknown"], params={"code": code})
        if region.level < self.min_level:
            raise forms.ValidationError(self.error_messages["level"], params={"code": code})
        return region

    def prepare_value(self, value: Any) -> Any:
        return value.code if isinstance(value, Region) else value


def institutions_for(user: User, kinds: set[str]) -> Any:
    """Institutions of these kinds a user may put a child in: in their regions or their own.

    Administrators who import children for any region may name any active institution.
    """
    if user.has_perm("institutions.change_institution"):
        return Institution.objects.filter(kind__in=kinds, is_active=True).order_by("name")
    scope = scope_for(user)
    q = Q(pk__in=[])
    for prefix in scope.region_prefixes:
        q |= Q(region__code__startswith=prefix[:6])  # the whole county of their area
    own = Membership.objects.filter(user=user, is_active=True, institution__isnull=False)
    q |= Q(pk__in=own.values("institution_id"))
    return Institution.objects.filter(q, kind__in=kinds, is_active=True).order_by("name")
