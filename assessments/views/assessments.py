"""Pages for taking, reading and correcting assessments."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from assessments.forms.assessment import AssessmentForm
from assessments.models import Assessment, Instrument
from assessments.scoring import text_in
from assessments.selectors import (
    actions_on_child,
    instruments_for_child,
    may_see_item_answers,
)
from assessments.services import AlreadyCorrected, assessment_submit
from cases.models import Child, Consent
from cases.services.family import consent_record
from core.access import fetch
from core.submissions import SubmitOnceMixin
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user


def record_consent_from(form: AssessmentForm, user: Any) -> None:
    """The consent given at the assessment step, when none was on file."""
    given_by = form.cleaned_data.get("consent_by")
    if not given_by:
        return
    guardian = form.cleaned_data.get("consent_guardian")
    consent_record(
        child=form.child,
        purpose=Consent.Purpose.ASSESSMENT,
        given_on=form.cleaned_data["administered_on"],
        by=user,
        guardian=guardian,
    )


class AssessmentCreateView(SubmitOnceMixin, ScopedViewMixin, View):
    """Choose an instrument fitting the child's age, answer on one screen, submit."""

    fetch_model = Child
    level = Level.CONTRIBUTE
    permission_required = "assessments.add_assessment"
    template_name = "assessments/assessment_form.html"

    def _instrument(self, request: HttpRequest) -> Instrument | None:
        raw = request.POST.get("instrument") or request.GET.get("instrument")
        if not raw:
            return None
        return fetch(
            request,
            Instrument,
            raw,
            level=Level.READ,
            queryset=Instrument.objects.filter(is_active=True),
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = self.object
        instrument = self._instrument(request)
        if instrument is None:
            return render(
                request,
                "assessments/choose_instrument.html",
                {"child": child, "instruments": instruments_for_child(child)},
            )
        form = AssessmentForm(instrument=instrument, child=child, user=signed_in_user(request))
        return render(
            request, self.template_name, {"form": form, "child": child, "instrument": instrument}
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = self.object
        instrument = self._instrument(request)
        if instrument is None:
            return redirect("assessments:assessment_create", pk=child.pk)
        form = AssessmentForm(request.POST, instrument=instrument, child=child, user=user)
        if not form.is_valid() or form.result is None:
            return render(
                request,
                self.template_name,
                {"form": form, "child": child, "instrument": instrument},
            )
        with transaction.atomic():  # the consent given now and the result, or neither
            record_consent_from(form, user)
            assessment = assessment_submit(
                child=child,
                instrument=instrument,
                answers=form.answers,
                result=form.result,
                setting=form.cleaned_data["setting"],
                administered_on=form.cleaned_data["administered_on"],
                by=user,
            )
        messages.success(request, _("The result was saved."))
        return redirect("assessments:assessment_detail", pk=assessment.pk)


class AssessmentDetailView(ScopedViewMixin, View):
    """A result: scores, band and risk for everyone in scope; answers only for some."""

    fetch_model = Assessment
    permission_required = "cases.view_child"

    def get_fetch_queryset(self) -> QuerySet[Assessment]:
        return Assessment.objects.select_related("child", "instrument", "administered_by")

    def get_log_detail(self) -> dict[str, Any]:
        return {"assessment": self.kwargs["pk"]}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        assessment = self.object
        answers = []
        show_answers = may_see_item_answers(user, assessment)
        if show_answers:
            definition = assessment.instrument.parsed
            for item in definition.items:
                value = assessment.answers.get(str(item["number"]))
                answers.append(
                    {
                        "number": item["number"],
                        "text": text_in(item["text"]),
                        "answer": text_in(definition.option_label(int(value), item["number"]))
                        if value is not None
                        else "—",
                        "critical": item["number"] in assessment.critical_items,
                    }
                )
        # An open alert this result belongs to leads to action from here too (issue 10).
        open_alert = assessment.attached_alerts.filter(acknowledged_at__isnull=True).first()
        actions = actions_on_child(user=user, child=assessment.child) if open_alert else {}
        return render(
            request,
            "assessments/assessment_detail.html",
            {
                "assessment": assessment,
                "answers": answers,
                "show_answers": show_answers,
                "amendments": assessment.amendments.select_related("administered_by"),
                "open_alert": open_alert,
                **actions,
            },
        )


class AssessmentAmendView(SubmitOnceMixin, ScopedViewMixin, View):
    """Correct a result: a new result that keeps the original and says why."""

    fetch_model = Assessment
    level = Level.CONTRIBUTE
    permission_required = "assessments.add_assessment"
    template_name = "assessments/assessment_form.html"

    def get_fetch_queryset(self) -> QuerySet[Assessment]:
        # Only a current result can be corrected; one already corrected answers 404.
        return Assessment.objects.filter(amendments__isnull=True).select_related(
            "child", "instrument", "administered_by"
        )

    def get_log_detail(self) -> dict[str, Any]:
        return {"assessment": self.kwargs["pk"], "amend": True}

    def _form(self, request: HttpRequest, original: Assessment, data: Any = None) -> AssessmentForm:
        initial: dict[str, Any] = {f"q{k}": str(v) for k, v in original.answers.items()}
        initial["administered_on"] = original.administered_on
        initial["setting"] = original.setting
        return AssessmentForm(
            data,
            instrument=original.instrument,
            child=original.child,
            user=signed_in_user(request),
            amends=original,
            initial=initial,
        )

    def _original(self, request: HttpRequest, pk: int) -> Assessment:
        """The result to correct; correcting shows its answers, so only those who may see them."""
        original: Assessment = self.object
        if not may_see_item_answers(signed_in_user(request), original):
            raise PermissionDenied
        return original

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        original = self._original(request, pk)
        return render(
            request,
            self.template_name,
            {
                "form": self._form(request, original),
                "child": original.child,
                "instrument": original.instrument,
                "amends": original,
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        original = self._original(request, pk)
        form = self._form(request, original, request.POST)
        if not form.is_valid() or form.result is None:
            return render(
                request,
                self.template_name,
                {
                    "form": form,
                    "child": original.child,
                    "instrument": original.instrument,
                    "amends": original,
                },
            )
        try:
            amendment = assessment_submit(
                child=original.child,
                instrument=original.instrument,
                answers=form.answers,
                result=form.result,
                setting=form.cleaned_data["setting"],
                administered_on=form.cleaned_data["administered_on"],
                by=user,
                session=original.session,
                amends=original,
                amendment_reason=form.cleaned_data["amendment_reason"],
            )
        except AlreadyCorrected:
            messages.error(
                request, _("Someone corrected this result meanwhile; see their correction.")
            )
            return redirect("assessments:assessment_detail", pk=original.pk)
        messages.success(request, _("The correction was saved; the original is kept."))
        return redirect("assessments:assessment_detail", pk=amendment.pk)
