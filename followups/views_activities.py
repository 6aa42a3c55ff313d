"""Pages of psycho-education activities: the list, recording one with its attendance, one
activity with the attendees the viewer may see."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.access_log import access_record_many
from core.models import AccessEvent
from core.pagination import CappedPaginator
from core.submissions import SubmitOnceMixin
from followups.activities import (
    MAX_ATTENDEES,
    activities_visible_to,
    activity_agencies_for,
    activity_detail_queryset,
    activity_list,
    activity_record,
    activity_regions_for,
    activity_venues_for,
    attendance_visible_to,
    merge_attendees,
    parse_record_numbers,
)
from followups.models import Activity
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import Agency, Institution, Region, User
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user

ADD_PERMISSION = "followups.add_activity"
# A select lists at most this many regions; a code typed by hand is still checked in full.
REGION_CHOICES_SHOWN = 300


class ActivityFilterForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(label=gettext_lazy("Topic or place"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("All kinds")), *Activity.Kind.choices],
    )


class ActivityForm(BootstrapFormMixin, forms.Form):
    """An activity and its attendance; attendees by record number, checked by the service."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Activity.Kind.choices)
    topic = forms.CharField(label=gettext_lazy("Topic"), max_length=200)
    held_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    region = forms.ChoiceField(label=gettext_lazy("Region"))
    venue = forms.ModelChoiceField(
        label=gettext_lazy("Registered venue"), queryset=Institution.objects.none(), required=False
    )
    venue_text = forms.CharField(
        label=gettext_lazy("Other place"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("If the activity was not held at a registered venue."),
    )
    agency = forms.ModelChoiceField(
        label=gettext_lazy("Agency"), queryset=Agency.objects.none(), required=False
    )
    children = forms.CharField(
        label=gettext_lazy("Children who attended"),
        required=False,
        max_length=MAX_ATTENDEES * 20,  # a list of record numbers, longer than a note
        widget=forms.Textarea(attrs={"rows": 3, "autocapitalize": "characters"}),
        help_text=gettext_lazy("Record numbers, separated by spaces, commas or new lines."),
    )
    guardian_children = forms.CharField(
        label=gettext_lazy("Children whose guardian attended"),
        required=False,
        max_length=MAX_ATTENDEES * 20,
        widget=forms.Textarea(attrs={"rows": 2, "autocapitalize": "characters"}),
        help_text=gettext_lazy(
            "Record numbers of the children whose guardian came (with or without the child)."
        ),
    )
    guardians_attending = forms.IntegerField(
        label=gettext_lazy("Guardians attending in all"),
        required=False,
        min_value=0,
        max_value=10_000,
        help_text=gettext_lazy("Empty: the number of guardians named above."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regions = activity_regions_for(user=user)
        shown = list(self.regions.order_by("level", "code")[:REGION_CHOICES_SHOWN])
        shown.sort(key=lambda r: r.code)
        region_field = self.fields["region"]
        region_field.choices = [(r.code, str(r)) for r in shown]  # type: ignore[attr-defined]
        venue = self.fields["venue"]
        venue.queryset = activity_venues_for(user=user)  # type: ignore[attr-defined]
        venue.label_from_instance = lambda i: f"{i.name} · {i.region.name}"  # type: ignore[attr-defined]
        agency = self.fields["agency"]
        agency.queryset = activity_agencies_for(user=user)  # type: ignore[attr-defined]
        if not self.is_bound:
            self.fields["held_on"].initial = timezone.localdate()
            if len(shown) >= 1:
                region_field.initial = shown[0].code
            agencies = list(agency.queryset[:2])  # type: ignore[attr-defined]
            if len(agencies) == 1:
                agency.initial = agencies[0].pk

    def clean_held_on(self) -> Any:
        day = self.cleaned_data["held_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("An activity cannot be dated in the future."))
        return day

    def clean_region(self) -> Region:
        region = self.regions.filter(code=self.cleaned_data["region"]).first()
        if region is None:
            raise forms.ValidationError(_("Choose a region you work in."))
        return region

    def clean_children(self) -> list[str]:
        return parse_record_numbers(self.cleaned_data["children"])

    def clean_guardian_children(self) -> list[str]:
        return parse_record_numbers(self.cleaned_data["guardian_children"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("venue") and not (data.get("venue_text") or "").strip():
            self.add_error("venue_text", _("Choose a registered venue or name the place."))
        children = data.get("children") or []
        guardians_of = data.get("guardian_children") or []
        if "children" in data and "guardian_children" in data:
            attendees = merge_attendees(children=children, guardians_of=guardians_of)
            if not attendees and not data.get("guardians_attending"):
                self.add_error("children", _("List at least one child or guardian who attended."))
            elif len(attendees) > MAX_ATTENDEES:
                self.add_error(
                    "children",
                    _("An activity lists at most %(max)s children.") % {"max": MAX_ATTENDEES},
                )
            data["attendees"] = attendees
        return data


class ActivityListView(ScopedViewMixin, View):
    """Activities the user organised, held in their regions or attended by their children."""

    scope_selector = activities_visible_to

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        form = ActivityFilterForm(request.GET)
        valid = form.is_valid()
        filters = form.cleaned_data if valid else {}
        qs = activity_list(user=user, kind=filters.get("kind", ""), search=filters.get("q", ""))
        if not valid:  # a bad filter lists nothing, with its error, not everything
            qs = qs.none()
        paginator = CappedPaginator(qs, 25)
        page = paginator.get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "form": form,
            "page_obj": page,
            "paginator": paginator,
            "activities": page.object_list,
            "query": query.urlencode(),
        }
        partial = (
            getattr(request, "htmx", False) and request.headers.get("HX-Target") == "activity-rows"
        )
        template = "followups/activity_rows.html" if partial else "followups/activity_list.html"
        return render(request, template, context)


class ActivityCreateView(SubmitOnceMixin, ScopedViewMixin, View):
    """Record an activity; every child on the list must be in the organiser's scope."""

    scope_selector = activities_visible_to
    permission_required = ADD_PERMISSION
    template_name = "followups/activity_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        initial = {}
        # "Record an activity" from a child's file starts with that child on the list.
        child = request.GET.get("child", "").strip()
        if child:
            initial["children"] = child[:32]
        form = ActivityForm(user=user, initial=initial)
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        form = ActivityForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                activity = activity_record(
                    by=user,
                    kind=data["kind"],
                    topic=data["topic"].strip(),
                    held_on=data["held_on"],
                    region=data["region"],
                    venue=data["venue"],
                    venue_text=data["venue_text"].strip(),
                    agency=data["agency"],
                    attendees=data["attendees"],
                    guardians_attending=data["guardians_attending"],
                    note=data["note"].strip(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("activities:activity_detail", pk=activity.pk)
        return render(request, self.template_name, {"form": form}, status=200)


class ActivityDetailView(ScopedViewMixin, View):
    """One activity; attendees outside the viewer's scope are counted, never named."""

    fetch_model = Activity

    def get_fetch_queryset(self) -> QuerySet[Activity]:
        return activity_detail_queryset()

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        activity = self.object
        attendees = list(attendance_visible_to(user=user, activity=activity)[:MAX_ATTENDEES])
        # The page names these children: each read is logged (one query).
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[a.child_id for a in attendees],
            request=request,
        )
        total = activity.children_count
        return render(
            request,
            "followups/activity_detail.html",
            {
                "activity": activity,
                "attendees": attendees,
                "others": max(total - len(attendees), 0),
            },
        )
