"""Pages of staff training (能力建设): the trainings, recording one with who attended, one
training, and the supervisor's report of hours trained per staff member this year."""

from __future__ import annotations

from decimal import Decimal
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

from core.pagination import CappedPaginator
from institutions.forms import BootstrapFormMixin, DateInput
from institutions.models import Agency, Region, Training, User
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user
from institutions.training import (
    MAX_ATTENDEES,
    parse_usernames,
    report_year,
    report_year_today,
    staff_under,
    training_agencies_for,
    training_attendees,
    training_detail_queryset,
    training_hours_report,
    training_list,
    training_record,
    training_regions_for,
    trainings_visible_to,
)

ADD_PERMISSION = "institutions.add_training"
REPORT_PERMISSION = "institutions.view_training_report"
REGION_CHOICES_SHOWN = 300
STAFF_HINTS_SHOWN = 200


class TrainingForm(BootstrapFormMixin, forms.Form):
    """A training held and the user names of those who attended."""

    topic = forms.CharField(label=gettext_lazy("Topic"), max_length=200)
    held_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    hours = forms.DecimalField(
        label=gettext_lazy("Hours"),
        min_value=Decimal("0.5"),
        max_value=Decimal("200"),
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    organiser = forms.CharField(
        label=gettext_lazy("Organiser"),
        max_length=200,
        help_text=gettext_lazy(
            "Who held the training, for example the county civil affairs bureau."
        ),
    )
    agency = forms.ModelChoiceField(
        label=gettext_lazy("Agency"), queryset=Agency.objects.none(), required=False
    )
    region = forms.ChoiceField(label=gettext_lazy("Region"))
    attendees = forms.CharField(
        label=gettext_lazy("Who attended"),
        max_length=MAX_ATTENDEES * 32,  # a list of user names, longer than a note
        widget=forms.Textarea(attrs={"rows": 3, "autocapitalize": "none"}),
        help_text=gettext_lazy("User names, separated by spaces, commas or new lines."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regions = training_regions_for(user=user)
        shown = sorted(_shortest_first(self.regions), key=lambda r: r.code)
        self.fields["region"].choices = [(r.code, str(r)) for r in shown]  # type: ignore[attr-defined]
        agency = self.fields["agency"]
        agency.queryset = training_agencies_for(user=user)  # type: ignore[attr-defined]
        if not self.is_bound:
            self.fields["held_on"].initial = timezone.localdate()
            if shown:
                self.fields["region"].initial = shown[0].code

    def clean_held_on(self) -> Any:
        day = self.cleaned_data["held_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A training cannot be dated in the future."))
        return day

    def clean_region(self) -> Region:
        region = self.regions.filter(code=self.cleaned_data["region"]).first()
        if region is None:
            raise forms.ValidationError(_("Choose a region you are responsible for."))
        return region

    def clean_attendees(self) -> list[str]:
        names = parse_usernames(self.cleaned_data["attendees"])
        if not names:
            raise forms.ValidationError(_("List at least one person who attended."))
        if len(names) > MAX_ATTENDEES:
            raise forms.ValidationError(
                _("A training lists at most %(max)s people.") % {"max": MAX_ATTENDEES}
            )
        return names


def _shortest_first(regions: Any) -> list[Region]:
    """The broadest regions first (county before village), at most REGION_CHOICES_SHOWN."""
    return list(regions.order_by("level", "code")[:REGION_CHOICES_SHOWN])


class TrainingListView(ScopedViewMixin, View):
    """Trainings I recorded or attended, or held in my regions."""

    scope_selector = trainings_visible_to

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        search = request.GET.get("q", "")[:100]
        paginator = CappedPaginator(training_list(user=user, search=search), 25)
        page = paginator.get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            "institutions/training_list.html",
            {
                "page_obj": page,
                "paginator": paginator,
                "trainings": page.object_list,
                "q": search,
                "query": query.urlencode(),
            },
        )


class TrainingCreateView(ScopedViewMixin, View):
    """Record a training; every user name must be an active user."""

    scope_selector = trainings_visible_to
    permission_required = ADD_PERMISSION
    template_name = "institutions/training_form.html"

    def context(self, form: TrainingForm, user: User) -> dict[str, Any]:
        staff = staff_under(user).order_by("username")[:STAFF_HINTS_SHOWN]
        return {"form": form, "staff": list(staff.only("username", "display_name"))}

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        return render(request, self.template_name, self.context(TrainingForm(user=user), user))

    def post(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        form = TrainingForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                training = training_record(
                    by=user,
                    topic=data["topic"].strip(),
                    held_on=data["held_on"],
                    hours=data["hours"],
                    organiser=data["organiser"].strip(),
                    region=data["region"],
                    agency=data["agency"],
                    attendees=data["attendees"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("training:training_detail", pk=training.pk)
        return render(request, self.template_name, self.context(form, user))


class TrainingDetailView(ScopedViewMixin, View):
    """One training and who attended."""

    fetch_model = Training

    def get_fetch_queryset(self) -> QuerySet[Training]:
        return training_detail_queryset()

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        training = self.object
        return render(
            request,
            "institutions/training_detail.html",
            {"training": training, "attendees": list(training_attendees(training=training))},
        )


class TrainingReportView(ScopedViewMixin, View):
    """Hours trained this calendar year (Asia/Shanghai) per staff member under the supervisor."""

    scope_selector = staff_under
    permission_required = REPORT_PERMISSION

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        this_year = report_year_today()
        year = report_year(request.GET.get("year", ""))
        sort = request.GET.get("sort", "hours")
        search = request.GET.get("q", "")[:100]
        qs = training_hours_report(user=user, year=year, search=search, sort=sort)
        paginator = CappedPaginator(qs, 50)
        page = paginator.get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            "institutions/training_report.html",
            {
                "page_obj": page,
                "paginator": paginator,
                "rows": page.object_list,
                "year": year,
                "years": list(range(this_year, max(this_year - 5, 1999), -1)),
                "sort": sort,
                "q": search,
                "query": query.urlencode(),
            },
        )
