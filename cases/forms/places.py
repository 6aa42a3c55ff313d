"""Where a child lives and learns: the region code field and the institutions a user may choose."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from institutions.models import LEVEL_LENGTHS, Institution, Membership, Region, User
from institutions.selectors import scope_for


class RegionCodeField(forms.CharField):
    """A region code, typed or picked by name from a <select> of regions (grouped per township,
    no JavaScript needed) that sends the code; it must exist. The API and the import send codes."""

    default_error_messages = {
        "unknown": _("There is no region with the code %(code)s."),
        "level": _("Choose a township or village (9 or 12 digits), not %(code)s."),
    }

    def __init__(self, *, min_level: int = Region.Level.TOWNSHIP, **kwargs: Any) -> None:
        self.min_level = min_level
        kwargs.setdefault("max_length", 12)
        super().__init__(**kwargs)
        if not isinstance(self.widget, forms.Select):
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


RegionChoices = list[tuple[Any, Any]]

# Past this many townships and villages, a picker would weigh more than a phone should load: the
# user's scope is then a city or wider, whose staff do not register children one by one.
PICKER_LIMIT = 3000
COUNTY_LENGTH, TOWNSHIP_LENGTH = LEVEL_LENGTHS[2], LEVEL_LENGTHS[3]


def region_picker_choices(user: User, *, keep: tuple[str | None, ...] = ()) -> RegionChoices:
    """The townships and villages of the user's area as grouped choices, a group per township
    (named with its county when the area spans several); regions in `keep` (an edited file's
    current regions) are offered even when outside the area."""
    prefixes = scope_for(user).region_prefixes
    kept = [code for code in keep if code]
    # Each region with its township, which names its group.
    q = Q(code__in=kept) | Q(code__in=[code[:TOWNSHIP_LENGTH] for code in kept])
    for prefix in prefixes:
        q |= Q(code__startswith=prefix) | Q(code=prefix[:TOWNSHIP_LENGTH])
    regions = list(
        Region.objects.filter(q, level__gte=Region.Level.TOWNSHIP).order_by("code")[:PICKER_LIMIT]
    )
    townships = {r.code: r for r in regions if r.level == Region.Level.TOWNSHIP}
    county_codes = {r.code[:COUNTY_LENGTH] for r in regions}
    several_counties = len(county_codes) > 1
    counties = (
        dict(Region.objects.filter(code__in=county_codes).values_list("code", "name"))
        if several_counties
        else {}
    )
    offered = {r.code for r in regions if any(r.code.startswith(p) for p in prefixes)}
    offered |= set(kept)
    groups: dict[str, list[tuple[str, str]]] = {}
    for region in regions:
        if region.code not in offered:
            continue
        if region.level == Region.Level.TOWNSHIP:
            label = str(_("%(township)s (the township itself)") % {"township": region.name})
        else:
            label = region.name
        groups.setdefault(region.code[:TOWNSHIP_LENGTH], []).append((region.code, label))
    choices: RegionChoices = []
    for code, options in groups.items():
        township = townships.get(code)
        name = township.name if township else code
        if several_counties and code[:COUNTY_LENGTH] in counties:
            name = f"{counties[code[:COUNTY_LENGTH]]} {name}"
        choices.append((name, options))
    return choices


def region_label(region: Region) -> str:
    """A region's name with the names above it up to its county (村 in 镇 in 县)."""
    names, node = [region.name], region
    while node.level > Region.Level.COUNTY and node.parent_id is not None:
        node = node.parent  # type: ignore[assignment]  # (parent_id is set)
        names.insert(0, node.name)
    return " ".join(names)


def region_search(term: str, *, limit: int = 20) -> list[Region]:
    """Townships and villages anywhere whose name contains `term` (a child's household
    registration may be far from where the child lives)."""
    term = term.strip()
    if not term:
        return []
    return list(
        Region.objects.filter(name__contains=term, level__gte=Region.Level.TOWNSHIP)
        .select_related("parent__parent")
        .order_by("code")[:limit]
    )


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
