"""Referrals in the JSON API, through the same selector, forms and services as the pages.

A referral is written as a draft (`POST /referrals/`), then moves by one endpoint per step of its
life cycle (`POST /referrals/{id}/send/`, `…/accept/`, `…/discharge/`…), each with the page's
rules: the sending side's steps need contribute on the child and the sender's permission, the
clinic's the referral in the clinic's inbox and the clinic's permission; the step's page form
checks the input and its service makes the change. Diagnosis and treatment are null for callers
who may not read clinical details.
"""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.api_errors import Conflict
from core.api_inputs import UniqueKeysJSONParser, present, service_errors, validated_by
from institutions.api import LoggedChildListMixin, PreconditionFailed, ScopedAPIMixin
from institutions.models import User
from institutions.roles import Level
from institutions.selectors import signed_in_user
from referrals.api_inputs import STEP_INPUTS, ReferralCreateSerializer, ReviewSerializer
from referrals.forms.attachments import check_attachment
from referrals.forms.steps import ReviewForm
from referrals.models import Referral, ReferralAttachment, ReferralEvent
from referrals.selectors import (
    REFERRAL_RELATED,
    attachments_visible_to,
    clinical_access,
    referrals_visible_to,
)
from referrals.services.consent import referral_review_override
from referrals.services.sending import referral_attach, referral_create
from referrals.services.transitions import allowed_steps, referral_unchanged_since
from referrals.views.steps import STEPS, may_act_as_clinic, may_act_as_sender, perform_step

VIEW = "cases.view_child"
REFER = "referrals.add_referral"
PROCESS = "referrals.process_referral"
REVIEW = "referrals.review_override"

# The id of a referral's latest step (what a step is based on; 0 before any).
LAST_STEP = Coalesce(
    Subquery(
        ReferralEvent.objects.filter(referral=OuterRef("pk")).order_by("-id").values("id")[:1]
    ),
    0,
    output_field=IntegerField(),
)

# Where a refusal of the services belongs in the API's answer: the field it is about (400),
# or the referral's state (409: another step came first, or the step does not fit).
REFUSAL_FIELDS = {
    "consent_required": "consent_by",
    "override_not_emergency": "emergency_override",
    "override_needs_reason": "override_reason",
    "no_reason": "reason",
    "appointment_too_early": "appointment_at",
    "seen_too_early": "seen_at",
    "seen_before_appointment": "early_reason",
    "treatment_type": "treatment_type",
    "followup_by": "followup_by",
    "followup_range": "followup_interval_days",
    "no_summary": "outcome_summary",
    "followup_unsettled": "no_followup_reason",
    "inactive_institution": "to_institution",
    "service_not_offered": "to_institution",
    "no_note": "note",
}
STATE_REFUSALS = {"illegal_step", "already", "no_override", "already_reviewed"}


def refusal(error: DjangoValidationError) -> exceptions.APIException:
    """The API's answer to a service's refusal (nothing was saved)."""
    code = getattr(error, "code", None)
    message = " ".join(error.messages)
    if code == "changed":
        return PreconditionFailed(message)
    if code in STATE_REFUSALS:
        return Conflict(message)
    return serializers.ValidationError(
        {REFUSAL_FIELDS.get(code or "", "non_field_errors"): [message]}
    )


def etag_of_referral(referral: Referral, last_step: int) -> str:
    """A referral's ETag: its latest step, which every change adds."""
    return f'"{referral.pk}-s{last_step}"'


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Referral.Status.choices)
    urgency = django_filters.ChoiceFilter(choices=Referral.Urgency.choices)
    child = django_filters.NumberFilter(field_name="child_id")

    class Meta:
        model = Referral
        fields = ["status", "urgency", "child"]


class ReferralSerializer(serializers.ModelSerializer):
    """A referral's step, times and outcome; clinical fields only for those allowed."""

    to_institution_name = serializers.CharField(source="to_institution.name")
    diagnosis = serializers.SerializerMethodField()
    treatment = serializers.SerializerMethodField()
    treatment_type = serializers.SerializerMethodField()
    last_step = serializers.IntegerField(
        read_only=True, help_text="The id of the latest step (the ETag of the referral)."
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "child",
            "from_user",
            "to_institution",
            "to_institution_name",
            "service",
            "urgency",
            "status",
            "reason",
            "emergency_override",
            "appointment_at",
            "outcome_summary",
            "decline_reason",
            "followup_interval_days",
            "followup_by",
            "followup_weeks",
            "created_at",
            "sent_at",
            "accepted_at",
            "declined_at",
            "first_seen_at",
            "discharged_at",
            "closed_at",
            "diagnosis",
            "treatment",
            "treatment_type",
            "last_step",
        ]
        read_only_fields = fields

    def _clinical(self, obj: Referral) -> bool:
        if "clinical_access" not in self.context:
            self.context["clinical_access"] = clinical_access(self.context["request"].user)
        allowed: bool = self.context["clinical_access"](obj)
        return allowed

    def get_diagnosis(self, obj: Referral) -> str | None:
        return obj.diagnosis if self._clinical(obj) else None

    def get_treatment(self, obj: Referral) -> str | None:
        return obj.treatment if self._clinical(obj) else None

    def get_treatment_type(self, obj: Referral) -> str | None:
        return obj.treatment_type if self._clinical(obj) else None


class ReferralDetailSerializer(ReferralSerializer):
    """A referral, and the steps the caller may take on it now (each its own endpoint)."""

    actions = serializers.SerializerMethodField()

    class Meta(ReferralSerializer.Meta):
        fields = [*ReferralSerializer.Meta.fields, "actions"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(STEPS))))
    def get_actions(self, obj: Referral) -> list[str]:
        return list(self.context.get("actions", []))


class AttachmentSerializer(serializers.ModelSerializer):
    """An attachment's description; its content is downloaded from `download`."""

    uploaded_by_name = serializers.CharField(source="uploaded_by.__str__")
    download = serializers.SerializerMethodField()

    class Meta:
        model = ReferralAttachment
        fields = [
            "id",
            "referral",
            "filename",
            "content_type",
            "size",
            "uploaded_by",
            "uploaded_by_name",
            "uploaded_at",
            "download",
        ]
        read_only_fields = fields

    def get_download(self, obj: ReferralAttachment) -> str:
        return reverse("api:referral-attachment-detail", kwargs={"pk": obj.pk})


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A PDF, PNG or JPEG file, checked by its content; at most "
        "REFERRAL_ATTACHMENT_MAX_BYTES (5 MB by default)."
    )


class ReferralEventSerializer(serializers.ModelSerializer):
    """One step of the referral's history: from which status to which, who, when, and why."""

    actor_name = serializers.CharField(source="actor.__str__")

    class Meta:
        model = ReferralEvent
        fields = ["id", "from_status", "to_status", "actor", "actor_name", "at", "note"]
        read_only_fields = fields


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag of the referral as read: the step is refused (412) if another step "
    "came first.",
)
STALE = OpenApiResponse(description="If-Match names another state of the referral: nothing done.")


def step_endpoint(name: str, doc: str) -> Any:
    """The endpoint of one step, `POST /referrals/{id}/<name>/`, named after its page."""

    def endpoint(self: ReferralViewSet, request: Request, pk: str | None = None) -> Response:
        return self.take_step(request, name)

    # Named before it is routed: the router maps the method to the function's name.
    endpoint.__name__ = name
    endpoint.__doc__ = doc
    routed = action(detail=True, methods=["post"], url_path=name, url_name=name)(endpoint)
    return extend_schema(
        request=STEP_INPUTS[name],
        parameters=[IF_MATCH],
        responses={200: ReferralDetailSerializer, 412: STALE},
    )(routed)


@extend_schema(tags=["referrals"])
class ReferralViewSet(
    ScopedAPIMixin,
    LoggedChildListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Referrals visible to the caller; one out of scope answers 404. Every read of one
    referral is logged. A step refused by the referral's state answers 409; with If-Match
    (the ETag of the referral read), a step taken on an older state answers 412."""

    scope_selector = referrals_visible_to
    parser_classes = [UniqueKeysJSONParser]
    fetch_model = Referral
    # Reached at read: each step then needs its side (sender: contribute on the child; clinic:
    # the referral in its inbox), as on the pages.
    write_level = Level.READ
    action_permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "events": VIEW,
        "create": REFER,
        "send": REFER,
        "withdraw": REFER,
        "accept": PROCESS,
        "decline": PROCESS,
        "book": PROCESS,
        "seen": PROCESS,
        "treatment": PROCESS,
        "discharge": PROCESS,
        "close": VIEW,  # either side: the side check below decides
        "attachments": VIEW,  # to add one: either side, checked below
        "review_override": REVIEW,
    }
    filterset_class = ReferralFilter

    def get_queryset(self) -> QuerySet[Referral]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Referral.objects.none()
        return super().get_queryset().annotate(last_step=LAST_STEP).order_by("-created_at", "-id")

    def get_fetch_queryset(self) -> QuerySet[Referral]:
        queryset = Referral.objects.select_related(*REFERRAL_RELATED).annotate(last_step=LAST_STEP)
        if self.action == "review_override":
            # Only a referral sent without consent has a review (404 otherwise, as the page).
            queryset = queryset.filter(emergency_override=True)
        return queryset

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return ReferralCreateSerializer
        return ReferralSerializer if self.action == "list" else ReferralDetailSerializer

    log_key = "referral"
    list_log_detail = {"listed": "referrals"}

    def _actions(self, user: User, referral: Referral) -> list[str]:
        """The steps the caller may take now, as the referral's page offers them."""
        allowed = allowed_steps(referral.status)
        clinic = may_act_as_clinic(user, referral)
        sender = may_act_as_sender(user, referral)
        return [
            name
            for name, step in STEPS.items()
            if step.to_status in allowed
            and (
                (step.side in ("clinic", "either") and clinic)
                or (step.side in ("sender", "either") and sender)
            )
        ]

    def _detail(
        self, request: Request, referral: Referral, code: int = status.HTTP_200_OK
    ) -> Response:
        """The referral (read with its latest step), its ETag and the caller's next steps."""
        user = signed_in_user(request)
        context = {"request": request, "actions": self._actions(user, referral)}
        response = Response(ReferralDetailSerializer(referral, context=context).data, status=code)
        response["ETag"] = etag_of_referral(referral, referral.last_step)  # type: ignore[attr-defined]
        return response

    def _after_change(self, request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
        """The referral as a change left it (re-read: the step changed it under a lock)."""
        return self._detail(request, self.get_fetch_queryset().get(pk=pk), code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(request, self.get_object())  # the one fetch, which logs the read

    @extend_schema(request=ReferralCreateSerializer, responses={201: ReferralDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Write a draft referral (send it with `…/send/`): the page's form checks it."""
        serializer = ReferralCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            referral = referral_create(
                child=data["child"],
                by=signed_in_user(request),
                to_institution=data["to_institution"],
                service=data["service"],
                reason=data["reason"],
                urgency=data["urgency"],
                from_agency=data["from_agency"],
                from_institution=data["from_institution"],
                assessment=data.get("assessment"),
                visit=data.get("visit"),
                consent=data["consent_on_file"],
                consent_given=data.get("consent_given"),
                emergency_override=bool(data.get("emergency_override")),
                override_reason=data.get("override_reason") or "",
            )
        except DjangoValidationError as error:
            raise refusal(error) from None
        response = self._after_change(request, referral.pk, status.HTTP_201_CREATED)
        response["Location"] = reverse("api:referral-detail", kwargs={"pk": referral.pk})
        return response

    @extend_schema(request=None, responses={200: ReferralEventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def events(self, request: Request, pk: str | None = None) -> Response:
        """The referral's history, oldest step first."""
        referral = self.get_object()  # the one fetch, which logs the read
        rows = referral.events.select_related("actor").order_by("at", "id")
        return Response(ReferralEventSerializer(rows, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="The referral's attachments (descriptions; each downloads from its `download`).",
        request=None,
        responses={200: AttachmentSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Attach a PDF or image (multipart, field `file`): either side, until the "
        "referral ends.",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filterset_class=None,
        parser_classes=[MultiPartParser],
    )
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        referral: Referral = self.get_object()  # the one fetch, which logs the read
        if request.method == "GET":
            rows = referral.attachments.select_related("uploaded_by").defer("content")
            return Response(AttachmentSerializer(rows.order_by("id"), many=True).data)
        user = signed_in_user(request)
        if not (may_act_as_sender(user, referral) or may_act_as_clinic(user, referral)):
            raise PermissionDenied
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            checked = check_attachment(serializer.validated_data["file"])
            row = referral_attach(
                referral=referral, attachment=checked, by=user, request=request._request
            )
        except DjangoValidationError as error:
            if getattr(error, "code", None) == "ended":
                raise Conflict(" ".join(error.messages)) from None
            raise service_errors(error, "file") from None
        return Response(AttachmentSerializer(row).data, status=status.HTTP_201_CREATED)

    def _seen_step(self, request: Request, referral: Referral) -> int | None:
        """The step the client read, from an optional If-Match (412 for another referral)."""
        given = request.headers.get("If-Match")
        if not given:
            return None
        for tag in (tag.strip() for tag in given.split(",")):
            if tag == "*":
                return None
            if found := re.fullmatch(rf'"{referral.pk}-s(\d+)"', tag):
                return int(found.group(1))
        raise PreconditionFailed()

    def take_step(self, request: Request, name: str) -> Response:
        """One step, as its page takes it: the side (403), the life cycle (409), the page's
        form (400), then the service in one transaction."""
        referral: Referral = self.get_object()
        user = signed_in_user(request)
        config = STEPS[name]
        sides = ("clinic", "sender") if config.side == "either" else (config.side,)
        if not any(
            may_act_as_clinic(user, referral)
            if side == "clinic"
            else may_act_as_sender(user, referral)
            for side in sides
        ):
            raise PermissionDenied
        if config.to_status not in allowed_steps(referral.status):
            raise Conflict(
                _("A referral that is “%(current)s” cannot move to “%(next)s”.")
                % {
                    "current": referral.get_status_display(),
                    "next": Referral.Status(config.to_status).label,
                }
            )
        seen_step = self._seen_step(request, referral)
        serializer = STEP_INPUTS[name](data=request.data)
        serializer.is_valid(raise_exception=True)
        form = config.form(present(dict(serializer.validated_data)), referral=referral, user=user)
        validated_by(form)
        try:
            with transaction.atomic():
                referral_unchanged_since(referral=referral, seen_step=seen_step)
                perform_step(name, referral, form, user)
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self._after_change(request, referral.pk)

    send = step_endpoint(
        "send",
        "Send a draft: consent on file or given now, or (an emergency) an override with a "
        "reason. The clinic's staff then read the child's file and are told.",
    )
    withdraw = step_endpoint("withdraw", "The sending side takes the referral back, saying why.")
    accept = step_endpoint("accept", "The clinic accepts the referral.")
    decline = step_endpoint(
        "decline", "The clinic declines, saying why; its access to the child ends."
    )
    book = step_endpoint("book", "The clinic books (or moves) the appointment.")
    seen = step_endpoint("seen", "The child was seen; a diagnosis may be recorded.")
    treatment = step_endpoint("treatment", "Outpatient or inpatient treatment begins.")
    discharge = step_endpoint(
        "discharge",
        "The clinic hands the child back: an outcome summary and a follow-up recommendation.",
    )
    close = step_endpoint(
        "close",
        "Either side closes a discharged referral, once a follow-up plan exists or the reason "
        "none is needed is given.",
    )

    @extend_schema(request=ReviewSerializer, responses={200: ReferralDetailSerializer})
    @action(detail=True, methods=["post"], url_path="review-override")
    def review_override(self, request: Request, pk: str | None = None) -> Response:
        """A supervisor's review of a referral sent without consent in an emergency (404 for
        any other referral); the first review stands (409 after it)."""
        referral: Referral = self.get_object()
        user = signed_in_user(request)
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = validated_by(ReviewForm(serializer.validated_data, referral=referral, user=user))
        try:
            referral_review_override(referral=referral, by=user, note=data["note"])
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self._after_change(request, referral.pk)


@extend_schema(tags=["referrals"])
class ReferralAttachmentViewSet(ScopedAPIMixin, viewsets.GenericViewSet):
    """An attachment's content, for those who may read its referral; the read is logged."""

    scope_selector = attachments_visible_to
    fetch_model = ReferralAttachment
    action_permissions = {"retrieve": VIEW}
    log_key = "attachment"
    renderer_classes = [JSONRenderer]  # errors; the content itself is not rendered
    serializer_class = AttachmentSerializer

    def get_fetch_queryset(self) -> QuerySet[ReferralAttachment]:
        return ReferralAttachment.objects.select_related("referral")

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # A download answers whatever the client accepts; its errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download the attachment (never shown inline).",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
        },
    )
    def retrieve(self, request: Request, pk: str | None = None) -> HttpResponse:
        attachment: ReferralAttachment = self.get_object()
        response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
        response["Content-Disposition"] = (
            content_disposition_header(as_attachment=True, filename=attachment.filename) or ""
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


ROUTES = [
    ("referrals", ReferralViewSet, "referral"),
    ("referral-attachments", ReferralAttachmentViewSet, "referral-attachment"),
]
