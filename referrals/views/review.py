"""A supervisor's review of a referral sent without consent in an emergency."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from core.submissions import SubmitOnceMixin
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user
from referrals.forms.steps import ReviewForm
from referrals.models import Referral
from referrals.selectors import REFERRAL_RELATED
from referrals.services.consent import referral_review_override
from referrals.services.transitions import ReferralError


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
        form = ReviewForm(referral=referral, user=signed_in_user(request))
        return render(request, self.template_name, {"referral": referral, "form": form})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = signed_in_user(request)
        referral: Referral = self.object
        form = ReviewForm(request.POST, referral=referral, user=user)
        if form.is_valid():
            try:
                referral_review_override(referral=referral, by=user, note=form.cleaned_data["note"])
            except ReferralError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The override was reviewed."))
            return redirect("referrals:detail", pk=referral.pk)
        return render(request, self.template_name, {"referral": referral, "form": form}, status=400)
