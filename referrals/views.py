"""Pages of referrals: the sending side's list and form, the clinic's inbox, a referral's page
with its steps, the override review and attachments. Every list comes from a scoping selector,
every object from the one fetch at the level its action needs; every write goes through a
service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from assessments.models import Assessment
from assessments.selectors import assessments_visible_to
from cases.models import Child, RiskLevel
from cases.selectors import child_scope_q
from core.access import fetch
from core.pagination import CappedPaginator
from core.submissions import SubmitOnceMixin
from followups.models import Visit
from institutions.models import Institution, User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user
from referrals import services
from referrals.forms import (
    BookForm,
    DischargeForm,
    NoteForm,
    ReasonForm,
    ReferralForm,
    ReviewForm,
    SeenForm,
    SendForm,
    StepForm,
    TreatmentForm,
    institutions_in,
)
from referrals.models import Referral, ReferralAttachment
from referrals.selectors import (
    INBOX_TABS,
    REFERRAL_RELATED,
    inbox_counts,
    inbox_tab,
    may_see_clinical_details,
    referral_inbox,
    referral_list,
    referrals_of_children_visible_to,
    referrals_visible_to,
    with_deadlines,
)
from referrals.services import FOLLOWUP_BY_CHOICES, ReferralError

S = Referral.Status
SERVICE_LABELS = dict(Institution.Service.choices)
FOLLOWUP_BY_LABELS = dict(FOLLOWUP_BY_CHOICES)


def label_services(referrals: Any) -> None:
    """Give each referral its service's label (the field stores the code)."""
    for referral in referrals:
        referral.service_label = SERVICE_LABELS.get(referral.service, referral.service)


def may_act_as_sender(user: User, referral: Referral) -> bool:
    """The sending side's steps record work on the child: they need contribute on it."""
    return (
        user.has_perm("referrals.add_referral")
        and referrals_of_children_visible_to(user, Level.CONTRIBUTE).filter(pk=referral.pk).exists()
    )


def may_act_as_clinic(user: User, referral: Referral) -> bool:
    return (
        user.has_perm("referrals.process_referral")
        and referral_inbox(user).filter(pk=referral.pk).exists()
    )


class ReferralListView(ScopedViewMixin, View):
    """Referrals of the children the user may see, newest first, by status."""

    scope_selector = referrals_visible_to
    permission_required = "cases.view_child"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        status = request.GET.get("status", "")
        if status not in S.values:
            status = ""
        page = CappedPaginator(referral_list(user=user, status=status), 25).get_page(
            request.GET.get("page")
        )
        label_services(page.object_list)
        return render(
            request,
            "referrals/referral_list.html",
            {"page_obj": page, "status": status, "statuses": S.choices},
        )


class InboxView(ScopedViewMixin, View):
    """The clinic's inbox: new (overdue first), overdue, active and ended referrals."""

    scope_selector = referral_inbox
    permission_required = "referrals.process_referral"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        now = timezone.now()
        tab = request.GET.get("tab", "new")
        if tab not in INBOX_TABS:
            tab = "new"
        qs = referral_inbox(user, now=now)
        page = CappedPaginator(inbox_tab(qs, tab=tab, now=now), 25).get_page(
            request.GET.get("page")
        )
        label_services(page.object_list)
        tabs = [
            ("new", _("New")),
            ("overdue", _("Overdue")),
            ("active", _("In progress")),
            ("ended", _("Ended")),
        ]
        return render(
            request,
            "referrals/inbox.html",
            {
                "page_obj": page,
                "tab": tab,
                "tabs": tabs,
                "counts": inbox_counts(qs, now=now),
            },
        )


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
        if not raw.isdigit():
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
        if not raw.isdigit():
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
            referral = services.referral_create(
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


@dataclass(frozen=True)
class Step:
    """One step of the life cycle as a page: who may take it, its form, and its service."""

    to_status: str
    side: str  # "sender", "clinic" or "either"
    form: type[StepForm]
    title: Any
    button: Any
    done: Any
    danger: bool = False


STEPS: dict[str, Step] = {
    "send": Step(
        S.SENT,
        "sender",
        SendForm,
        gettext_lazy("Send the referral"),
        gettext_lazy("Send"),
        gettext_lazy("The referral was sent."),
    ),
    "withdraw": Step(
        S.WITHDRAWN,
        "sender",
        ReasonForm,
        gettext_lazy("Withdraw the referral"),
        gettext_lazy("Withdraw"),
        gettext_lazy("The referral was withdrawn."),
        danger=True,
    ),
    "accept": Step(
        S.ACCEPTED,
        "clinic",
        NoteForm,
        gettext_lazy("Accept the referral"),
        gettext_lazy("Accept"),
        gettext_lazy("The referral was accepted."),
    ),
    "decline": Step(
        S.DECLINED,
        "clinic",
        ReasonForm,
        gettext_lazy("Decline the referral"),
        gettext_lazy("Decline"),
        gettext_lazy("The referral was declined."),
        danger=True,
    ),
    "book": Step(
        S.APPOINTMENT,
        "clinic",
        BookForm,
        gettext_lazy("Book an appointment"),
        gettext_lazy("Book"),
        gettext_lazy("The appointment was booked."),
    ),
    "seen": Step(
        S.SEEN,
        "clinic",
        SeenForm,
        gettext_lazy("Record the visit"),
        gettext_lazy("Save"),
        gettext_lazy("The visit was recorded."),
    ),
    "treatment": Step(
        S.IN_TREATMENT,
        "clinic",
        TreatmentForm,
        gettext_lazy("Start treatment"),
        gettext_lazy("Start treatment"),
        gettext_lazy("Treatment was recorded."),
    ),
    "discharge": Step(
        S.DISCHARGED,
        "clinic",
        DischargeForm,
        gettext_lazy("Discharge"),
        gettext_lazy("Discharge"),
        gettext_lazy("The child was discharged; the referring side was told."),
    ),
    "close": Step(
        S.CLOSED,
        "either",
        NoteForm,
        gettext_lazy("Close the referral"),
        gettext_lazy("Close"),
        gettext_lazy("The referral was closed."),
    ),
}


def perform_step(name: str, referral: Referral, form: Any, user: User) -> Referral:
    """Call the service of a step with the form's cleaned data."""
    data = form.cleaned_data
    if name == "send":
        return services.referral_send(
            referral=referral,
            by=user,
            consent=form.consent_on_file,
            consent_given=data.get("consent_given"),
            emergency_override=bool(data.get("emergency_override")),
            override_reason=data.get("override_reason") or "",
        )
    if name == "withdraw":
        return services.referral_withdraw(referral=referral, by=user, reason=data["reason"])
    if name == "accept":
        return services.referral_accept(referral=referral, by=user, note=data["note"])
    if name == "decline":
        return services.referral_decline(referral=referral, by=user, reason=data["reason"])
    if name == "book":
        return services.referral_book(
            referral=referral, by=user, appointment_at=data["appointment_at"], note=data["note"]
        )
    if name == "seen":
        return services.referral_record_visit(
            referral=referral, by=user, seen_at=data["seen_at"], diagnosis=data["diagnosis"]
        )
    if name == "treatment":
        return services.referral_start_treatment(
            referral=referral,
            by=user,
            treatment_type=data["treatment_type"],
            treatment=data["treatment"],
            diagnosis=data["diagnosis"],
        )
    if name == "discharge":
        return services.referral_discharge(
            referral=referral,
            by=user,
            outcome_summary=data["outcome_summary"],
            followup_interval_days=data["followup_interval_days"],
            followup_by=data["followup_by"],
            followup_weeks=data["followup_weeks"],
            diagnosis=data["diagnosis"],
            treatment=data["treatment"],
        )
    if name == "close":
        return services.referral_close(referral=referral, by=user, note=data["note"])
    raise Http404


def _safe_next(request: HttpRequest, referral: Referral) -> str:
    if request.POST.get("next") == "inbox":
        return reverse("referrals:inbox")
    return reverse("referrals:detail", args=[referral.pk])


class ReferralStepView(SubmitOnceMixin, ScopedViewMixin, View):
    """One step (`send`, `accept`, `discharge`…) of a referral the user may read: the clinic's
    steps are authorised by the referral (its inbox) and the clinic's permission, the sending
    side's by contribute on the child and the sender's permission."""

    fetch_model = Referral
    template_name = "referrals/step_form.html"

    def get_fetch_queryset(self) -> QuerySet[Referral]:
        return Referral.objects.select_related(*REFERRAL_RELATED)

    def get_log_detail(self) -> dict[str, Any]:
        return {"referral": self.kwargs["pk"]}

    def step(self, name: str) -> Step:
        step = STEPS.get(name)
        if step is None:
            raise Http404
        return step

    def referral_for(self, user: User, step: Step) -> Referral:
        """The fetched referral, when the user may take the step on one side: in scope (the
        fetch answered 404 otherwise) but on neither side answers 403."""
        referral: Referral = self.object
        sides = ["clinic", "sender"] if step.side == "either" else [step.side]
        for side in sides:
            if side == "clinic" and may_act_as_clinic(user, referral):
                return referral
            if side == "sender" and may_act_as_sender(user, referral):
                return referral
        raise PermissionDenied

    def render_form(
        self, request: HttpRequest, referral: Referral, step: Step, form: Any, status: int = 200
    ) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {"referral": referral, "step": step, "form": form, "child": referral.child},
            status=status,
        )

    def illegal(self, referral: Referral, step: Step) -> str:
        if referral.status == step.to_status and step.to_status != S.APPOINTMENT:
            return _("This referral is already “%(current)s”.") % {
                "current": referral.get_status_display()
            }
        return _("A referral that is “%(current)s” cannot move to “%(next)s”.") % {
            "current": referral.get_status_display(),
            "next": S(step.to_status).label,
        }

    def refuse(self, request: HttpRequest, referral: Referral, message: str) -> HttpResponse:
        messages.error(request, message)
        return redirect("referrals:detail", pk=referral.pk)

    def get(self, request: HttpRequest, pk: int, step: str) -> HttpResponse:
        user = signed_in_user(request)
        config = self.step(step)
        referral = self.referral_for(user, config)
        if config.to_status not in services.allowed_steps(referral.status):
            return self.refuse(request, referral, self.illegal(referral, config))
        form = config.form(referral=referral)
        return self.render_form(request, referral, config, form)

    def post(self, request: HttpRequest, pk: int, step: str) -> HttpResponse:
        user = signed_in_user(request)
        config = self.step(step)
        referral = self.referral_for(user, config)
        if config.to_status not in services.allowed_steps(referral.status):
            return self.refuse(request, referral, self.illegal(referral, config))
        form = config.form(request.POST, referral=referral)
        if not form.is_valid():
            if request.POST.get("next") == "inbox":
                errors = "; ".join(str(e) for field in form.errors.values() for e in field)
                messages.error(request, errors)
                return redirect("referrals:inbox")
            return self.render_form(request, referral, config, form, status=400)
        try:
            with transaction.atomic():
                services.referral_unchanged_since(
                    referral=referral, seen_step=form.cleaned_data.get("seen_step")
                )
                perform_step(step, referral, form, user)
        except ReferralError as exc:
            return self.refuse(request, referral, " ".join(exc.messages))
        messages.success(request, str(config.done))
        return redirect(_safe_next(request, referral))


class ReferralDetailView(ScopedViewMixin, View):
    """A referral: its step, history and outcome; clinical details only for those allowed.
    Every read is logged."""

    fetch_model = Referral

    def get_fetch_queryset(self) -> QuerySet[Referral]:
        return with_deadlines(
            Referral.objects.select_related(
                *REFERRAL_RELATED,
                "consent__guardian",
                "assessment__instrument",
                "visit",
                "override_reviewed_by",
            ),
            now=timezone.now(),
        )

    def get_log_detail(self) -> dict[str, Any]:
        return {"referral": self.kwargs["pk"]}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        referral: Referral = self.object
        label_services([referral])
        clinic = may_act_as_clinic(user, referral)
        sender = may_act_as_sender(user, referral)
        allowed = services.allowed_steps(referral.status)
        actions = [
            (name, step)
            for name, step in STEPS.items()
            if step.to_status in allowed
            and (
                (step.side in ("clinic", "either") and clinic)
                or (step.side in ("sender", "either") and sender)
            )
        ]
        return render(
            request,
            "referrals/referral_detail.html",
            {
                "referral": referral,
                "child": referral.child,
                "events": list(referral.events.select_related("actor")),
                "attachments": list(
                    referral.attachments.only(
                        "pk", "filename", "size", "content_type", "uploaded_at"
                    )
                ),
                "show_clinical": may_see_clinical_details(user, referral),
                "actions": actions,
                "is_clinic": clinic,
                "followup_by_label": FOLLOWUP_BY_LABELS.get(referral.followup_by, ""),
                "may_review": referral.emergency_override
                and referral.override_reviewed_at is None
                and user.has_perm("referrals.review_override"),
            },
        )


class OverrideReviewView(SubmitOnceMixin, ScopedViewMixin, View):
    """A supervisor reviews a referral sent without consent, with a note (a supervisor's act
    on their region: the referral at read, and the review permission)."""

    fetch_model = Referral
    permission_required = "referrals.review_override"
    template_name = "referrals/review_form.html"

    def get_fetch_queryset(self) -> QuerySet[Referral]:
        return Referral.objects.filter(emergency_override=True).select_related(*REFERRAL_RELATED)

    def get_log_detail(self) -> dict[str, Any]:
        return {"referral": self.kwargs["pk"]}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        referral: Referral = self.object
        form = ReviewForm(referral=referral)
        return render(request, self.template_name, {"referral": referral, "form": form})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        referral: Referral = self.object
        form = ReviewForm(request.POST, referral=referral)
        if form.is_valid():
            try:
                services.referral_review_override(
                    referral=referral, by=user, note=form.cleaned_data["note"]
                )
            except ReferralError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The override was reviewed."))
            return redirect("referrals:detail", pk=referral.pk)
        return render(request, self.template_name, {"referral": referral, "form": form}, status=400)


class AttachmentView(ScopedViewMixin, View):
    """Download an attachment (never shown inline); the read is logged."""

    fetch_model = ReferralAttachment

    def get_fetch_queryset(self) -> QuerySet[ReferralAttachment]:
        return ReferralAttachment.objects.select_related("referral")

    def get_log_detail(self) -> dict[str, Any]:
        return {"attachment": self.kwargs["pk"]}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        attachment: ReferralAttachment = self.object
        response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
        response["Content-Disposition"] = (
            content_disposition_header(as_attachment=True, filename=attachment.filename) or ""
        )
        response["Cache-Control"] = "private, no-store"
        return response
