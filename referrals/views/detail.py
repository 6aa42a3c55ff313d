"""A referral's page (its step, history and outcome) and the download of its attachments;
every read is logged by the one fetch."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views import View

from cases.models import Child
from cases.selectors.scope import access_level
from followups.models import FollowupPlan
from institutions.models import User
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user
from referrals.models import Referral, ReferralAttachment
from referrals.selectors import REFERRAL_RELATED, may_see_clinical_details, with_deadlines
from referrals.services.lifecycle import FOLLOWUP_BY_CHOICES
from referrals.services.transitions import allowed_steps
from referrals.views.lists import label_services
from referrals.views.steps import STEPS, may_act_as_clinic, may_act_as_sender

FOLLOWUP_BY_LABELS = dict(FOLLOWUP_BY_CHOICES)


def discharge_followup(user: User, referral: Referral) -> dict[str, Any]:
    """After a discharge: the follow-up plan made from it (or for the child since), else the
    child's plan in progress, and whether the reader may make one (manage on the child and
    the care permission)."""
    if not referral.discharged_at:
        return {}
    plans = FollowupPlan.objects.filter(
        Q(referral=referral)
        | Q(child_id=referral.child_id, created_at__gte=referral.discharged_at)
        | Q(child_id=referral.child_id, status=FollowupPlan.Status.ACTIVE)
    ).order_by("-created_at", "-id")
    plan = next(
        (
            p
            for p in plans
            if p.referral_id == referral.pk or p.created_at >= referral.discharged_at
        ),
        None,
    )
    current = plan or next(iter(plans), None)
    level = access_level(user, referral.child) if user.has_perm("cases.manage_care") else None
    return {
        "followup_plan": current,
        "followup_plan_from_discharge": plan is not None,
        "may_make_plan": current is None
        and referral.child.status == Child.Status.ACTIVE
        and level is not None
        and level >= Level.MANAGE,
    }


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
        allowed = allowed_steps(referral.status)
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
                **discharge_followup(user, referral),
            },
        )


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
