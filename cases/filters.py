"""List filters of the children's app, each built on the scoped queryset it is given: the
children list (pages and API) and the access log pages.

The children list also filters on what the apps above this floor know (screenings, alerts,
tasks): they add their filters with `register_child_filter` from their `AppConfig.ready()`, so
this module never imports them. The GET names are an interface: the dashboards link to them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.forms.places import institutions_for
from cases.models import Category, Child, RiskLevel
from cases.selectors.children import needs_care_plan_q, search_q
from cases.selectors.demographics import AGE_BAND_BY_KEY, AGE_BANDS, age_band_q
from core.models import AccessEvent
from core.widgets import SearchSelect
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import Institution, User, validate_region_code


class _FilterForm(BootstrapFormMixin, forms.Form):
    pass


# Filters of the children list the apps above this floor registered, in registration order.
_REGISTERED: list[str] = []

# Not a filter: the order of the rows (never shown as an active filter).
_NOT_FILTERS = {"sort", "page", "page_size"}


class ChildFilter(django_filters.FilterSet):
    """Region subtree, category, risk, sex, age band, residence, school, institution, status,
    search and sort; and the filters other apps register (screened, open alert, overdue
    visits). Every filter is a condition on indexed columns or an EXISTS subquery."""

    q = django_filters.CharFilter(label=_("Name, record number or ID number"), method="filter_q")
    region = django_filters.CharFilter(
        label=_("Region code"), method="filter_region", validators=[validate_region_code]
    )
    # Where the child lives only (the dashboards count children by residence, and their
    # figures link here with it).
    residence = django_filters.CharFilter(
        label=_("Living in (region code)"),
        method="filter_residence",
        validators=[validate_region_code],
    )
    # Checkboxes and radio buttons, shown as tappable chips (not list boxes) on a phone.
    category = django_filters.MultipleChoiceFilter(
        label=_("Category"),
        choices=Category.choices,
        field_name="categories",
        method="filter_category",
        widget=forms.CheckboxSelectMultiple,
        distinct=False,  # a condition on the row itself: DISTINCT would sort the whole scope
    )
    risk = django_filters.TypedMultipleChoiceFilter(
        label=_("Risk level"),
        choices=RiskLevel.choices,
        field_name="risk_level",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    sex = django_filters.ChoiceFilter(
        label=_("Sex"), choices=Child.Sex.choices, empty_label=_("Any"), widget=forms.RadioSelect
    )
    age = django_filters.ChoiceFilter(
        label=_("Age"),
        choices=[(band.key, band.label) for band in AGE_BANDS],
        method="filter_age",
        empty_label=_("Any"),
        widget=forms.RadioSelect,
    )
    resident = django_filters.BooleanFilter(
        label=_("Lives in an institution"),
        method="filter_resident",
        widget=forms.CheckboxInput,
    )
    needs_plan = django_filters.BooleanFilter(
        label=_("High risk without a care plan"),
        method="filter_needs_plan",
        widget=forms.CheckboxInput,
    )
    school = django_filters.ModelChoiceFilter(
        label=_("School"),
        queryset=Institution.objects.none(),
        widget=SearchSelect(
            search_url=reverse_lazy("cases:child_filter_options", args=["school"]),
            search_label=_("Find a school by name"),
        ),
    )
    residential_institution = django_filters.ModelChoiceFilter(
        label=_("Residential institution"),
        queryset=Institution.objects.none(),
        widget=SearchSelect(
            search_url=reverse_lazy("cases:child_filter_options", args=["residential_institution"]),
            search_label=_("Find an institution by name"),
        ),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=Child.Status.choices,
        empty_label=_("Any"),
        widget=forms.RadioSelect,
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        method="filter_sort",
        empty_label=_("Highest risk first"),
        choices=[
            ("name", _("Name")),
            ("birth_date", _("Oldest first")),
            ("-birth_date", _("Youngest first")),
            ("-created", _("Most recently registered")),
        ],
    )

    class Meta:
        model = Child
        fields: list[str] = []
        form = _FilterForm

    # The two pickers whose rows depend on the user (their querysets are set per filterset).
    PICKERS = ("school", "residential_institution")

    def __init__(
        self,
        data: QueryDict | dict[str, Any] | None = None,
        queryset: QuerySet[Child] | None = None,
        *,
        request: HttpRequest | None = None,
        prefix: str | None = None,
        user: User | None = None,
    ) -> None:
        # What django-filter's FilterSet.__init__ does, except that each filter is copied one
        # level deep instead of deep-copied with its labels, choices and widget: that copy cost
        # a millisecond per list page. Nothing a filterset changes on its filters is shared
        # with the class's (tests/cases/test_child_filter_copies.py).
        if queryset is None:
            queryset = Child.objects.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {
            name: _own_copy(filter_, self, queryset.model)
            for name, filter_ in self.base_filters.items()
        }
        if user is None and request is not None and request.user.is_authenticated:
            user = request.user  # the API's filter backend passes the request
        if user is not None:
            self.narrow_pickers(user)

    def narrow_pickers(self, user: User) -> None:
        """The school and institution pickers offer the user's area and own institutions:
        built once for both (a subquery whose building cost a millisecond), then narrowed to
        each one's kinds."""
        residential = set(Institution.RESIDENTIAL_KINDS)
        mine = institutions_for(user, {Institution.Kind.SCHOOL, *residential})
        self.filters["school"].queryset = mine.filter(kind=Institution.Kind.SCHOOL)
        self.filters["residential_institution"].queryset = mine.filter(kind__in=residential)

    @property
    def form(self) -> forms.Form:
        """The filters' form, of a class built once per process from the class's filters
        (django-filter builds a new class, and every field of it, for each filterset); the
        pickers get this filterset's querysets."""
        if not hasattr(self, "_form"):
            form_class = _form_class(type(self), tuple(self.base_filters.items()))
            form = form_class(self.data if self.is_bound else None, prefix=self.form_prefix)
            for name in self.PICKERS:
                form.fields[name].queryset = self.filters[name].queryset  # type: ignore[attr-defined]
            self._form = form
        return self._form

    SORTS = {
        "name": ("name_pinyin", "id"),
        "birth_date": ("birth_date", "id"),
        "-birth_date": ("-birth_date", "id"),
        "-created": ("-created_at", "-id"),
    }

    def filter_sort(self, queryset: QuerySet[Child], name: str, value: str) -> QuerySet[Child]:
        # The selector orders the most at risk first; a chosen sort replaces that. The id keeps
        # the order total, so pages never repeat or skip a row.
        return queryset.order_by(*self.SORTS[value]) if value in self.SORTS else queryset

    def filter_q(self, queryset: QuerySet[Child], name: str, value: str) -> QuerySet[Child]:
        return queryset.filter(search_q(value)) if value.strip() else queryset

    def filter_region(self, queryset: QuerySet[Child], name: str, value: str) -> QuerySet[Child]:
        return queryset.filter(
            Q(residence_region__code__startswith=value)
            | Q(household_region__code__startswith=value)
        )

    def filter_residence(self, queryset: QuerySet[Child], name: str, value: str) -> QuerySet[Child]:
        return queryset.filter(residence_region__pk__startswith=value)

    def filter_category(
        self, queryset: QuerySet[Child], name: str, value: list[str]
    ) -> QuerySet[Child]:
        return queryset.filter(categories__overlap=list(value)) if value else queryset

    def filter_needs_plan(
        self, queryset: QuerySet[Child], name: str, value: bool
    ) -> QuerySet[Child]:
        return queryset.filter(needs_care_plan_q()) if value else queryset

    def filter_age(self, queryset: QuerySet[Child], name: str, value: str) -> QuerySet[Child]:
        band = AGE_BAND_BY_KEY.get(value)
        return queryset.filter(age_band_q(band, today=timezone.localdate())) if band else queryset

    def filter_resident(self, queryset: QuerySet[Child], name: str, value: bool) -> QuerySet[Child]:
        return queryset.filter(residential_institution__isnull=False) if value else queryset

    # --- For the template: the chips --------------------------------------------------------

    def toggles(self) -> list[forms.BoundField]:
        """The on/off filters (one chip each), this app's and the registered ones."""
        names = ["resident", "needs_plan", *_REGISTERED]
        return [self.form[n] for n in names if _is_toggle(self.form.fields.get(n))]

    def registered_fields(self) -> list[forms.BoundField]:
        """The other filters registered by other apps, in registration order."""
        return [
            self.form[n]
            for n in _REGISTERED
            if n in self.form.fields and not _is_toggle(self.form.fields[n])
        ]

    def active(self) -> list[dict[str, str]]:
        """Each value the request filters on, as a chip: its text and the query string of the
        same list without it (no JavaScript needed to remove it)."""
        data = self.data if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
        cleaned = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        chips = []
        for name, field in self.form.fields.items():
            if name in _NOT_FILTERS:
                continue
            for raw in data.getlist(name):
                text = _chip_text(field, raw, cleaned.get(name))
                if text is None:
                    continue
                rest = data.copy()
                rest.setlist(name, [v for v in data.getlist(name) if v != raw])
                rest.pop("page", None)
                chips.append({"name": name, "text": text, "remove": rest.urlencode()})
        return chips


def _own_copy(filter_: django_filters.Filter, parent: Any, model: Any) -> django_filters.Filter:
    """A filter for one filterset: a copy with its own field arguments, no built form field,
    its method bound to this copy, and the filterset as its parent."""
    own = copy.copy(filter_)
    own.__dict__.pop("_field", None)
    own.extra = dict(filter_.extra)
    if own.method is not None:
        own.method = own.method  # a FilterMethod of this copy, not of the class's filter
    own.model = model
    own.parent = parent
    return own


# Form classes of filterset classes, by the class and its filters (see _form_class).
_FORM_CLASSES: dict[tuple[Any, ...], type[forms.Form]] = {}


def _form_class(
    filterset: type[django_filters.FilterSet],
    filters: tuple[tuple[str, django_filters.Filter], ...],
) -> type[forms.Form]:
    """The form class of a filterset class and its filters (registered filters join at start:
    they are part of the key). Built from copies: the class's filters keep no form field."""
    key = (filterset, filters)
    found = _FORM_CLASSES.get(key)
    if found is None:
        fields = {}
        for name, filter_ in filters:
            own = copy.deepcopy(filter_)
            own.model = filterset._meta.model  # for a default label, as django-filter does
            fields[name] = own.field
        found = _FORM_CLASSES[key] = type(
            f"{filterset.__name__}Form", (filterset._meta.form,), fields
        )
    return found


def _is_toggle(field: forms.Field | None) -> bool:
    return field is not None and type(field.widget) is forms.CheckboxInput


def _chip_text(field: forms.Field, raw: str, cleaned: Any) -> str | None:
    """The chip for one raw GET value of a field, or None when it filters on nothing."""
    raw = raw.strip()
    if not raw:
        return None
    label = str(field.label)
    if _is_toggle(field):
        return label if field.widget.value_from_datadict({"v": raw}, {}, "v") else None
    if isinstance(field, forms.ModelChoiceField):
        # The validated object (no query of its own); a wrong id shows as it was given.
        value = cleaned if cleaned is not None else raw
    else:
        value = dict(_flat_choices(field)).get(raw, raw)
    return gettext("%(label)s: %(value)s") % {"label": label, "value": value}


def _flat_choices(field: forms.Field) -> Iterator[tuple[str, Any]]:
    for key, value in getattr(field, "choices", ()):
        if isinstance(value, list | tuple):  # an option group
            yield from ((str(k), v) for k, v in value)
        else:
            yield str(key), value


def register_child_filter(name: str, filter_: django_filters.Filter) -> None:
    """Add a filter to the children list (pages, API, exports), under the GET name `name`.

    Called from the `AppConfig.ready()` of an app above this floor; registering a name again
    replaces its filter. The filter gets the scoped queryset like the others: it must narrow
    it with an indexed condition (an EXISTS subquery), never with a list of ids."""
    ChildFilter.base_filters[name] = filter_
    if name not in _REGISTERED:
        _REGISTERED.append(name)


# Days are days in China, whatever zone the server or the browser is in.
AUDIT_TIMEZONE = ZoneInfo("Asia/Shanghai")


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in Asia/Shanghai."""
    return datetime.combine(day, time.min, tzinfo=AUDIT_TIMEZONE)


class AccessEventFilterForm(BootstrapFormMixin, forms.Form):
    """The filter form; a range that ends before it starts is an error on the end date."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class AccessEventFilter(django_filters.FilterSet):
    """Narrows the access log; each filter uses an index or a small subquery."""

    user = django_filters.CharFilter(
        label=_("User"),
        method="filter_user",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    record_number = django_filters.CharFilter(
        label=_("Record number"),
        method="filter_record_number",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=AccessEvent.Action.choices, empty_label=_("Any action")
    )
    date_from = django_filters.DateFilter(
        label=_("From"),
        method="filter_date_from",
        widget=DateInput(),
    )
    date_to = django_filters.DateFilter(
        label=_("To"),
        method="filter_date_to",
        widget=DateInput(),
    )

    class Meta:
        model = AccessEvent
        fields = ["user", "record_number", "action", "date_from", "date_to"]
        form = AccessEventFilterForm

    def filter_user(
        self, queryset: QuerySet[AccessEvent], name: str, value: str
    ) -> QuerySet[AccessEvent]:
        """Users whose username or display name contains the text."""
        text = value.strip()
        if not text:
            return queryset
        users = User.objects.filter(
            Q(username__icontains=text) | Q(display_name__icontains=text)
        ).values("pk")
        return queryset.filter(user_id__in=users)

    def filter_record_number(
        self, queryset: QuerySet[AccessEvent], name: str, value: str
    ) -> QuerySet[AccessEvent]:
        """The child with exactly this record number (case does not matter)."""
        text = value.strip()
        if not text:
            return queryset
        children = Child.objects.filter(record_number__iexact=text).values("pk")
        return queryset.filter(child_id__in=children)

    def filter_date_from(
        self, queryset: QuerySet[AccessEvent], name: str, value: date
    ) -> QuerySet[AccessEvent]:
        """Events on or after the start of the day."""
        return queryset.filter(at__gte=start_of_day(value))

    def filter_date_to(
        self, queryset: QuerySet[AccessEvent], name: str, value: date
    ) -> QuerySet[AccessEvent]:
        """Events up to the end of the day (before the next midnight)."""
        return queryset.filter(at__lt=start_of_day(value + timedelta(days=1)))
