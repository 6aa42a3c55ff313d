"""The life-cycle steps as pages: who may take each step (the sending side or the clinic), its
form, and the service it calls."""

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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.submissions import SubmitOnceMixin
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user
from referrals.forms.steps import (
    BookForm,
    CloseForm,
    DischargeForm,
    NoteForm,
    ReasonForm,
    SeenForm,
    SendForm,
    StepForm,
    TreatmentForm,
)
from referrals.models import Referral
from referrals.selectors import REFERRAL_RELATED, referral_inbox, referrals_of_children_visible_to
from referrals.services.lifecycle import (
    referral_accept,
    referral_book,
    referral_close,
    referral_decline,
    referral_discharge,
    referral_record_visit,
    referral_start_treatment,
    referral_withdraw,
)
from referrals.services.sending import referral_send
from referrals.services.transitions import ReferralError, allowed_steps, referral_unchanged_since

S = Referral.Status


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
        CloseForm,
        gettext_lazy("Close the referral"),
        gettext_lazy("Close"),
        gettext_lazy("The referral was closed."),
    ),
}


# A service's refusal that the form can settle, and the field that settles it.
ON_FIELD = {"followup_unsettled": "no_followup_reason", "seen_before_appointment": "early_reason"}


def perform_step(name: str, referral: Referral, form: Any, user: User) -> Referral:
    """Call the service of a step with the form's cleaned data."""
    data = form.cleaned_data
    if name == "send":
        return referral_send(
            referral=referral,
            by=user,
            consent=form.consent_on_file,
            consent_given=data.get("consent_given"),
            emergency_override=bool(data.get("emergency_override")),
            override_reason=data.get("override_reason") or "",
        )
    if name == "withdraw":
        return referral_withdraw(referral=referral, by=user, reason=data["reason"])
    if name == "accept":
        return referral_accept(referral=referral, by=user, note=data["note"])
    if name == "decline":
        return referral_decline(referral=referral, by=user, reason=data["reason"])
    if name == "book":
        return referral_book(
            referral=referral, by=user, appointment_at=data["appointment_at"], note=data["note"]
        )
    if name == "seen":
        return referral_record_visit(
            referral=referral,
            by=user,
            seen_at=data["seen_at"],
            diagnosis=data["diagnosis"],
            early_reason=data.get("early_reason") or "",
        )
    if name == "treatment":
        return referral_start_treatment(
            referral=referral,
            by=user,
            treatment_type=data["treatment_type"],
            treatment=data["treatment"],
            diagnosis=data["diagnosis"],
        )
    if name == "discharge":
        return referral_discharge(
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
        return referral_close(
            referral=referral,
            by=user,
            note=data["note"],
            no_followup_reason=data.get("no_followup_reason") or "",
        )
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
        if config.to_status not in allowed_steps(referral.status):
            return self.refuse(request, referral, self.illegal(referral, config))
        form = config.form(referral=referral, user=user)
        return self.render_form(request, referral, config, form)

    def post(self, request: HttpRequest, pk: int, step: str) -> HttpResponse:
        user = signed_in_user(request)
        config = self.step(step)
        referral = self.referral_for(user, config)
        if config.to_status not in allowed_steps(referral.status):
            return self.refuse(request, referral, self.illegal(referral, config))
        form = config.form(request.POST, referral=referral, user=user)
        if not form.is_valid():
            if request.POST.get("next") == "inbox":
                errors = "; ".join(str(e) for field in form.errors.values() for e in field)
                messages.error(request, errors)
                return redirect("referrals:inbox")
            return self.render_form(request, referral, config, form, status=400)
        try:
            with transaction.atomic():
                referral_unchanged_since(
                    referral=referral, seen_step=form.cleaned_data.get("seen_step")
                )
                perform_step(step, referral, form, user)
        except ReferralError as exc:
            field = ON_FIELD.get(getattr(exc, "code", None) or "")
            if field is not None:
                # Shown on the field that settles it, the form kept as typed.
                form.add_error(field if field in form.fields else None, exc.messages)
                if isinstance(form, SeenForm):
                    form.require_early()
                return self.render_form(request, referral, config, form, status=400)
            return self.refuse(request, referral, " ".join(exc.messages))
        messages.success(request, str(config.done))
        return redirect(_safe_next(request, referral))
