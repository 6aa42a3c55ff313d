"""Visits in the JSON API, through the pages' selector, form and services: a visit is logged
by `visit_record` (a serious concern flags it and alerts the supervisor) and a flagged one is
reviewed by `visit_review`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import Child
from core.access import fetch
from core.api_errors import Conflict
from core.api_inputs import service_errors, validated_by
from core.inputs import BoundedSerializerMixin
from followups.api_filters import VisitFilter
from followups.forms import VisitForm, VisitReviewForm
from followups.models import Visit
from followups.selectors import visits_visible_to
from followups.services import visit_record, visit_review
from institutions.api import LoggedChildListMixin, ScopedAPIMixin
from institutions.masking import FieldKind, MaskedField, mask
from institutions.roles import Level
from institutions.selectors import signed_in_user

# --- Visits ------------------------------------------------------------------------------------


class VisitSerializer(serializers.ModelSerializer):
    """A visit as its page shows it: a confidential note is masked for those who may not read
    confidential notes (its visitor always reads it)."""

    child_record_number = serializers.CharField(source="child.record_number")
    child_name = MaskedField(FieldKind.NAME, source="child.name")
    visitor_name = serializers.SerializerMethodField()
    present = serializers.ListField(child=serializers.ChoiceField(choices=Visit.Present.choices))
    concerns = serializers.ListField(child=serializers.ChoiceField(choices=Visit.Concern.choices))
    note = serializers.SerializerMethodField()
    reviewed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "child",
            "child_record_number",
            "child_name",
            "kind",
            "visited_on",
            "visitor",
            "visitor_name",
            "present",
            "concerns",
            "mood",
            "guardian_informed",
            "guardian_informed_note",
            "next_step",
            "note",
            "note_confidential",
            "flagged",
            "reviewed_by",
            "reviewed_by_name",
            "reviewed_at",
            "review_note",
            "created_at",
        ]
        read_only_fields = fields

    def get_visitor_name(self, obj: Visit) -> str:
        return str(obj.visitor)

    def get_reviewed_by_name(self, obj: Visit) -> str | None:
        return str(obj.reviewed_by) if obj.reviewed_by_id else None

    def get_note(self, obj: Visit) -> str:
        user = self.context["request"].user
        return mask(
            user,
            FieldKind.CONFIDENTIAL_NOTE,
            obj.note,
            sensitive=obj.note_confidential and obj.visitor_id != user.pk,
        )


class VisitInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """A visit to log, with the visit form's defaults (a home visit today, the child and the
    guardian present, calm, routine next step); the form's rules apply (not in the future; say
    what the guardian was told). A concern among self-harm talk, rights violated and abnormal
    behaviour flags the visit: the child's risk is raised and the supervisor told."""

    child = serializers.IntegerField(help_text="The child's id (contribute level needed).")
    kind = serializers.ChoiceField(choices=Visit.Kind.choices, default=Visit.Kind.HOME_VISIT)
    visited_on = serializers.DateField(required=False, help_text="Default: today.")
    present = serializers.ListField(
        child=serializers.ChoiceField(choices=Visit.Present.choices),
        default=lambda: [Visit.Present.CHILD, Visit.Present.GUARDIAN],
        max_length=len(Visit.Present.choices),
    )
    concerns = serializers.ListField(
        child=serializers.ChoiceField(choices=Visit.Concern.choices),
        default=list,
        max_length=len(Visit.Concern.choices),
    )
    mood = serializers.ChoiceField(choices=Visit.Mood.choices, default=Visit.Mood.CALM)
    guardian_informed = serializers.BooleanField(default=False)
    guardian_informed_note = serializers.CharField(max_length=300, allow_blank=True, default="")
    next_step = serializers.ChoiceField(
        choices=Visit.NextStep.choices, default=Visit.NextStep.ROUTINE
    )
    note = serializers.CharField(allow_blank=True, default="")
    note_confidential = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Logging a visit records work on the child: contribute (404 out of scope or missing,
        # 403 with read only), before anything about the visit is judged.
        child = fetch(
            self.context["request"]._request,
            Child,
            attrs["child"],
            level=Level.CONTRIBUTE,
            api=True,
        )
        form = VisitForm(
            data={
                **{name: value for name, value in attrs.items() if name != "child"},
                "visited_on": attrs.get("visited_on") or timezone.localdate(),
            }
        )
        validated_by(form)
        return {"child": child, "data": form.cleaned_data}


class VisitReviewInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    note = serializers.CharField(
        allow_blank=True, help_text="What the supervisor found and decided (required)."
    )


@extend_schema(tags=["visits"])
@extend_schema_view(
    list=extend_schema(summary="Visits to the children the caller may see, newest first."),
    retrieve=extend_schema(summary="One visit (the read is logged)."),
)
class VisitViewSet(
    ScopedAPIMixin,
    LoggedChildListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Visits in scope; one out of scope answers 404. Visits are not edited: a flagged visit
    takes one supervisor's review."""

    scope_selector = visits_visible_to
    fetch_model = Visit
    # The review is a supervisor's act on their region: the child at read, and the permission.
    write_level = Level.READ
    action_permissions = {
        "list": "cases.view_child",
        "retrieve": "cases.view_child",
        "create": "followups.add_visit",
        "review": "followups.review_visit",
    }
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    cursor_ordering = ("-visited_on", "-id")
    list_log_detail = {"visits": True}

    def get_queryset(self) -> QuerySet[Visit]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Visit.objects.none()
        return super().get_queryset().select_related("reviewed_by")

    def get_fetch_queryset(self) -> QuerySet[Visit]:
        return Visit.objects.select_related("child", "visitor", "reviewed_by")

    log_key = "visit"

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Log a visit through the visit form's rules.",
        request=VisitInputSerializer,
        responses={201: VisitSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = VisitInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        try:
            visit = visit_record(
                child=serializer.validated_data["child"],
                data=serializer.validated_data["data"],
                by=signed_in_user(request),
            )
        except DjangoValidationError as refused:
            raise service_errors(refused, field="child") from None
        return Response(self.get_serializer(visit).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Review a flagged visit (supervisors): the first review stands.",
        request=VisitReviewInputSerializer,
        responses={200: VisitSerializer},
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        visit: Visit = self.get_object()
        serializer = VisitReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = VisitReviewForm(data=serializer.validated_data)
        validated_by(form)
        if not visit.flagged:
            raise Conflict(_("Only a flagged visit is reviewed."))
        note = form.cleaned_data["note"]
        user = signed_in_user(request)
        reviewed = visit_review(visit=visit, by=user, note=note)
        if reviewed.reviewed_by_id != user.pk or reviewed.review_note != note:
            # The first review stands; this one was not written over it.
            raise Conflict(
                _("%(who)s reviewed this visit first; your note was not saved: %(note)s")
                % {"who": reviewed.reviewed_by, "note": note}
            )
        return Response(self.get_serializer(reviewed).data)
