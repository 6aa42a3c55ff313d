"""Referring a child: the form, pre-filled from an assessment or a visit, and the institution
choices it reloads (htmx)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from assessments.models import Assessment
from assessments.selectors import assessments_visible_to
from cases.models import Child, RiskLevel
from cases.selectors.scope import child_scope_q
from core.access import fetch
from core.inputs import whole_number
from core.submissions import SubmitOnceMixin
from followups.models import Visit
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user
from referrals.forms.create import ReferralForm, institutions_in
from referrals.models import Referral
from referrals.services.sending import referral_create
from referrals.services.transitions import ReferralError
from referrals.views.lists import SERVICE_LABELS


def _prefill(request: HttpRequest, child: Child) -> dict[str, Any]:
    """Initial values from `?assessment=` or `?visit=`, each fetched to read; one that is not
    this child's current one (or out of scope) answers 404 like any object the user may not
    see."""
    initial: dict[str, Any] = {"urgency": Referral.Urgency.ROUTINE}
    raw_service = request.GET.get("service", "")
    if raw_service in SERVICE_LABELS:
        initial["service"] = raw_service
    raw = request.GET.get("assessment", "")
    if raw:
        if whole_number(raw) is None:
            raise Http404
        assessment = fetch(
            request,
            Assessment,
            raw,
            level=Level.READ,
            queryset=Assessment.objects.filter(child=child, amendments__isnull=True).select_related(
                "instrument"
            ),
        )
        initial["assessment"] = assessment.pk
        initial["reason"] = _(
            "%(code)s on %(date)s: total %(total)s, %(band)s (risk: %(risk)s)."
        ) % {
            "code": assessment.instrument.code,
            "date": f"{assessment.administered_on:%Y-%m-%d}",
            "total": assessment.total,
            "band": assessment.band_text,
            "risk": assessment.get_risk_level_display(),
        }
        if assessment.risk_level >= RiskLevel.CRISIS:
            initial["urgency"] = Referral.Urgency.EMERGENCY
        elif assessment.risk_level >= RiskLevel.HIGH:
            initial["urgency"] = Referral.Urgency.URGENT
    raw = request.GET.get("visit", "")
    if raw:
        if whole_number(raw) is None:
            raise Http404
        visit = fetch(
            request, Visit, raw, level=Level.READ, queryset=Visit.objects.filter(child=child)
        )
        initial["visit"] = visit.pk
        concerns = ", ".join(str(dict(Visit.Concern.choices).get(c, c)) for c in visit.concerns)
        text = _("%(kind)s on %(date)s: %(concerns)s.") % {
            "kind": visit.get_kind_display(),
            "date": f"{visit.visited_on:%Y-%m-%d}",
            "concerns": concerns or "—",
        }
        initial["reason"] = f"{initial['reason']}\n{text}" if "reason" in initial else text
        if visit.flagged and initial["urgency"] == Referral.Urgency.ROUTINE:
            initial["urgency"] = Referral.Urgency.URGENT
    return initial


class ReferralCreateView(SubmitOnceMixin, ScopedViewMixin, View):
    """Refer a child: service and region choose the institution; consent or an emergency
    override; saved as a draft or sent at once."""

    fetch_model = Child
    level = Level.CONTRIBUTE
    permission_required = "referrals.add_referral"
    template_name = "referrals/referral_form.html"

    def sources(self, user: User, child: Child) -> tuple[Any, Any]:
        assessments = assessments_visible_to(user).filter(child=child, amendments__isnull=True)
        visits = Visit.objects.filter(child_scope_q(user, via="child__"), child=child).order_by(
            "-visited_on", "-id"
        )
        return assessments.order_by("-administered_on", "-id"), visits

    def render_form(self, request: HttpRequest, child: Child, form: ReferralForm) -> HttpResponse:
        return render(request, self.template_name, {"child": child, "form": form})

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = self.object
        assessments, visits = self.sources(user, child)
        form = ReferralForm(
            child=child,
            user=user,
            assessments=assessments,
            visits=visits,
            initial=_prefill(request, child),
            options_url=reverse("referrals:institution_options", args=[child.pk]),
        )
        return self.render_form(request, child, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        child = self.object
        assessments, visits = self.sources(user, child)
        sending = "send" in request.POST
        form = ReferralForm(
            request.POST,
            request.FILES,
            child=child,
            user=user,
            assessments=assessments,
            visits=visits,
            sending=sending,
            options_url=reverse("referrals:institution_options", args=[child.pk]),
        )
        if not form.is_valid():
            return self.render_form(request, child, form)
        data = form.cleaned_data
        try:
            referral = referral_create(
                child=child,
                by=user,
                to_institution=data["to_institution"],
                service=data["service"],
                reason=data["reason"],
                urgency=data["urgency"],
                from_agency=data["from_agency"],
                from_institution=data["from_institution"],
                assessment=data.get("assessment"),
                visit=data.get("visit"),
                consent=form.consent_on_file,
                consent_given=data.get("consent_given"),
                emergency_override=bool(data.get("emergency_override")),
                override_reason=data.get("override_reason") or "",
                attachments=data.get("attachments") or [],
                send=sending,
            )
        except ReferralError as exc:
            form.add_error(None, exc)
            return self.render_form(request, child, form)
        if sending:
            messages.success(
                request,
                _("The referral was sent to %(institution)s.")
                % {"institution": referral.to_institution.name},
            )
        else:
            messages.success(request, _("The referral was saved as a draft."))
        return redirect("referrals:detail", pk=referral.pk)


class InstitutionOptionsView(ScopedViewMixin, View):
    """The institution choices for a service and an area (htmx swaps them into the form)."""

    fetch_model = Child
    level = Level.CONTRIBUTE  # a part of the referral form
    permission_required = "referrals.add_referral"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        child = self.object
        area = request.GET.get("area", "")
        code = child.residence_region_id
        if area not in {code[:n] for n in (2, 4, 6) if len(code) >= n}:
            area = code[:6]
        service = request.GET.get("service", "")
        if service not in SERVICE_LABELS:
            service = ""
        options = list(institutions_in(area=area, service=service))
        return render(
            request,
            "referrals/partials/institution_options.html",
            {"options": options, "selected": request.GET.get("to_institution", "")},
        )
