"""Children in the JSON API, through the same selector, forms and services as the pages; and the
routes of the whole app (guardians and consents in `cases.api_family`, the care team and care
plans in `cases.api_care`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.api_base import IF_MATCH, NoPutMixin
from cases.api_care import CarePlanViewSet, CareTeamMemberViewSet
from cases.api_family import ConsentViewSet, GuardianViewSet
from cases.filters import ChildFilter
from cases.forms.child import ChildEditForm, ChildForm, CloseForm, HandoverForm
from cases.identity import national_id_for
from cases.models import Category, Child, Handover, RiskLevel
from cases.selectors.children import DuplicateCandidate, child_list, duplicate_candidates
from cases.selectors.scope import children_visible_to
from cases.services.child import (
    DuplicateChild,
    EditConflict,
    HandoverTarget,
    child_close,
    child_create,
    child_handover,
    child_reopen,
    child_update,
)
from core.api_inputs import IdField, form_data, service_errors, validated_by
from core.inputs import BoundedSerializerMixin
from institutions.api import (
    ConditionalUpdateMixin,
    LoggedChildListMixin,
    PreconditionFailed,
    ScopedAPIMixin,
    etag_of,
)
from institutions.masking import FieldKind, MaskedField, mask
from institutions.roles import Level
from institutions.selectors import signed_in_user


class ChildSummarySerializer(serializers.ModelSerializer):
    """The columns of a child in a list or a minimal file."""

    residence_region = serializers.CharField(source="residence_region_id")
    household_region = serializers.CharField(source="household_region_id")
    name = MaskedField(FieldKind.NAME)
    residence_region_name = serializers.CharField(source="residence_region.name")
    school = serializers.CharField(source="school.name", default=None, allow_null=True)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices))

    class Meta:
        model = Child
        fields = [
            "id",
            "record_number",
            "name",
            "sex",
            "birth_date",
            "residence_region",
            "residence_region_name",
            "household_region",
            "school",
            "grade",
            "class_name",
            "categories",
            "risk_level",
            "status",
            "version",
        ]
        read_only_fields = fields


class ChildDetailSerializer(ChildSummarySerializer):
    """One child's file, as the file page shows its identity: the ID number whole only to the
    roles that see it (masked otherwise), notes marked confidential masked likewise."""

    household_region_name = serializers.CharField(source="household_region.name")
    school_id = serializers.IntegerField(allow_null=True)
    residential_institution = serializers.IntegerField(
        source="residential_institution_id", allow_null=True
    )
    residential_institution_name = serializers.CharField(
        source="residential_institution.name", default=None, allow_null=True
    )
    national_id = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()

    class Meta(ChildSummarySerializer.Meta):
        fields = [
            *ChildSummarySerializer.Meta.fields,
            "household_region_name",
            "school_id",
            "residential_institution",
            "residential_institution_name",
            "national_id",
            "notes",
            "notes_confidential",
            "status_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_national_id(self, obj: Child) -> str:
        return national_id_for(user=self.context["request"].user, child=obj)

    def get_notes(self, obj: Child) -> str:
        return mask(
            self.context["request"].user,
            FieldKind.CONFIDENTIAL_NOTE,
            obj.notes,
            sensitive=obj.notes_confidential,
        )


class ChildWriteSerializer(BoundedSerializerMixin, serializers.Serializer):
    """A child's identity and places, checked by the registration form of the pages (ID number,
    age under 18, regions that exist, a school and institution the user may choose, a region
    the user will still see)."""

    name = serializers.CharField(max_length=64)
    sex = serializers.ChoiceField(choices=Child.Sex.choices)
    birth_date = serializers.DateField()
    national_id = serializers.CharField(
        max_length=18,
        required=False,
        allow_blank=True,
        help_text="18 characters; kept encrypted and shown masked. On an update, leave it out "
        "(or empty) to keep the number on file.",
    )
    residence_region = serializers.CharField(
        max_length=12, help_text="Region code of the township or village the child lives in."
    )
    household_region = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Region code of the household registration (default: the residence).",
    )
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), required=False
    )
    school = IdField(required=False, help_text="School id.")
    grade = serializers.IntegerField(min_value=1, max_value=12, required=False, allow_null=True)
    class_name = serializers.CharField(max_length=32, required=False, allow_blank=True)
    residential_institution = IdField(
        required=False, help_text="Id of the welfare or protection institution the child lives in."
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    notes_confidential = serializers.BooleanField(required=False)


class ChildCreateSerializer(ChildWriteSerializer):
    confirm_new = serializers.BooleanField(
        default=False,
        write_only=True,
        help_text="Register the child although files with a similar name and date of birth "
        "exist (the first answer lists them). A file with the same ID number is never "
        "registered twice.",
    )


class HandoverInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    to_region = serializers.CharField(
        max_length=12, help_text="Region code of the village or township the child moved to."
    )
    to_school = IdField(required=False, help_text="School id.")
    to_institution = IdField(
        required=False, help_text="Id of the residential institution the child moves into."
    )
    reason = serializers.CharField(max_length=300, help_text="Why the child is handed over.")


class HandoverSerializer(serializers.ModelSerializer):
    """A hand-over as the sending side keeps it: where from, where to, who and when."""

    from_region = serializers.CharField(source="from_region_id")
    to_region = serializers.CharField(source="to_region_id")
    to_region_name = serializers.CharField(source="to_region.name")
    handed_over_by: serializers.StringRelatedField[Any] = serializers.StringRelatedField()

    class Meta:
        model = Handover
        fields = [
            "id",
            "child",
            "from_region",
            "to_region",
            "to_region_name",
            "from_school",
            "to_school",
            "from_institution",
            "to_institution",
            "reason",
            "handed_over_by",
            "at",
        ]
        read_only_fields = fields


class ChildCloseSerializer(BoundedSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Why the file is closed.")


def candidate_text(candidate: DuplicateCandidate) -> str:
    """A possible duplicate as the page shows it: in scope its record number, name and date of
    birth; out of scope only the masked name, the year of birth and the county."""
    child = candidate.child
    if candidate.in_scope:
        return f"{child.record_number} {child.name} {child.birth_date.isoformat()}"
    return _("%(name)s, born %(year)s, county %(county)s") % {
        "name": candidate.display_name,
        "year": candidate.birth_year,
        "county": candidate.county,
    }


@extend_schema(tags=["children"])
class ChildViewSet(
    ScopedAPIMixin,
    LoggedChildListMixin,
    NoPutMixin,
    ConditionalUpdateMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Children visible to the caller; a child out of scope answers 404. Registering checks for
    duplicates as the page does; changing, closing and reopening a file need the manage level
    and If-Match with the ETag of the file as read."""

    scope_selector = children_visible_to
    fetch_model = Child
    write_level = Level.MANAGE
    action_permissions = {
        "list": "cases.view_child",
        "retrieve": "cases.view_child",
        "create": "cases.add_child",
        "update": "cases.change_child",
        "partial_update": "cases.change_child",
        "close": "cases.change_child",
        "reopen": "cases.change_child",
        "handover": "cases.handover_child",
    }
    serializer_class = ChildSummarySerializer
    filterset_class = ChildFilter

    def get_queryset(self) -> QuerySet[Child]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Child.objects.none()
        if self.action == "list":
            return child_list(user=signed_in_user(self.request))
        return super().get_queryset()

    def get_fetch_queryset(self) -> QuerySet[Child]:
        return Child.objects.select_related(
            "residence_region", "household_region", "school", "residential_institution"
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return ChildSummarySerializer
        return ChildDetailSerializer

    def logged_child_id(self, row: Child) -> int:
        return row.pk

    def _answer(self, child: Child, status_code: int = status.HTTP_200_OK) -> Response:
        """The file as saved, with the ETag the next change must send."""
        data = ChildDetailSerializer(child, context=self.get_serializer_context()).data
        response = Response(data, status=status_code)
        response["ETag"] = etag_of(child)
        return response

    @extend_schema(request=ChildCreateSerializer, responses={201: ChildDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Register a child. A file with the same ID number anywhere is refused (400 on
        national_id); files with a similar name and date of birth are listed (400 on
        confirm_new) until the request says `confirm_new: true`."""
        user = signed_in_user(request)
        serializer = ChildCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        confirm_new = values.pop("confirm_new", False)
        form = ChildForm(form_data(values), user=user)
        cleaned = validated_by(form)
        data = form.model_data()
        candidates = duplicate_candidates(
            user=user,
            name=data["name"],
            birth_date=data["birth_date"],
            sex=data["sex"],
            national_id=cleaned["national_id"],
        )
        if any(c.strength == "id" for c in candidates):
            raise serializers.ValidationError(
                {"national_id": [_("A child with this ID number is already registered.")]}
            )
        if candidates and not confirm_new:
            raise serializers.ValidationError(
                {
                    "confirm_new": [
                        _(
                            "This child may already have a file: %(candidates)s. Check them; "
                            "to register a new child all the same, send confirm_new: true."
                        )
                        % {"candidates": "; ".join(candidate_text(c) for c in candidates)}
                    ]
                }
            )
        try:
            child = child_create(
                data=data, national_id=cleaned["national_id"], by=user, request=request._request
            )
        except DuplicateChild:
            raise serializers.ValidationError(
                {"national_id": [_("A child with this ID number is already registered.")]}
            ) from None
        return self._answer(child, status.HTTP_201_CREATED)

    @extend_schema(
        request=ChildWriteSerializer, responses={200: ChildDetailSerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the file: the fields given, checked with the rest of the file by the edit form
        of the pages."""
        user = signed_in_user(request)
        child: Child = self.get_object()  # manage level, 404 / 403
        self.check_precondition(child)
        serializer = ChildWriteSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        given = dict(serializer.validated_data)
        form = ChildEditForm(
            form_data({**ChildEditForm.values_of(child), **given}),
            user=user,
            child=child,
        )
        hidden = [name for name in ("notes", "notes_confidential") if name not in form.fields]
        if any(name in given for name in hidden):
            raise serializers.ValidationError(
                {
                    name: [_("Your role may not change notes marked confidential.")]
                    for name in hidden
                }
            )
        cleaned = validated_by(form)
        if cleaned["national_id"] and any(
            c.strength == "id" and c.child.pk != child.pk
            for c in duplicate_candidates(
                user=user,
                name=cleaned["name"],
                birth_date=None,
                national_id=cleaned["national_id"],
            )
        ):
            raise serializers.ValidationError(
                {"national_id": [_("A child with this ID number is already registered.")]}
            )
        try:
            saved = child_update(
                child=child,
                changes=form.model_data(),
                expected_version=child.version,
                by=user,
                national_id=cleaned["national_id"] or None,
                request=request._request,
            )
        except EditConflict:
            raise PreconditionFailed() from None
        return self._answer(saved)

    @extend_schema(
        request=ChildCloseSerializer, responses={200: ChildDetailSerializer}, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the file with a reason; it stays on record and can be reopened."""
        child: Child = self.get_object()
        self.check_precondition(child)
        serializer = ChildCloseSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        cleaned = validated_by(
            CloseForm(form_data({**serializer.validated_data, "version": child.version}))
        )
        try:
            closed = child_close(
                child=child,
                reason=cleaned["reason"],
                expected_version=child.version,
                by=signed_in_user(request),
            )
        except EditConflict:
            raise PreconditionFailed() from None
        return self._answer(closed)

    @extend_schema(request=None, responses={200: ChildDetailSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        """Reopen a closed file."""
        child: Child = self.get_object()
        self.check_precondition(child)
        try:
            reopened = child_reopen(
                child=child, expected_version=child.version, by=signed_in_user(request)
            )
        except EditConflict:
            raise PreconditionFailed() from None
        except DjangoValidationError as refused:
            raise service_errors(refused) from None
        return self._answer(reopened)

    @extend_schema(
        request=HandoverInputSerializer,
        responses={201: HandoverSerializer},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def handover(self, request: Request, pk: str | None = None) -> Response:
        """Hand the child over to another region (and school or institution), checked by the
        page's form: the receiving child directors and supervisors are told, the file keeps its
        history, and the sending side keeps the hand-over record. The child may leave the
        caller's scope: the answer is the hand-over, not the file."""
        child: Child = self.get_object()
        self.check_precondition(child)
        serializer = HandoverInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        cleaned = validated_by(
            HandoverForm(
                form_data({**serializer.validated_data, "version": child.version}), child=child
            )
        )
        try:
            handover = child_handover(
                child=child,
                target=HandoverTarget(
                    cleaned["to_region"], cleaned.get("to_school"), cleaned.get("to_institution")
                ),
                reason=cleaned["reason"],
                by=signed_in_user(request),
                expected_version=child.version,
            )
        except EditConflict:
            raise PreconditionFailed() from None
        return Response(HandoverSerializer(handover).data, status=status.HTTP_201_CREATED)


ROUTES = [
    ("children", ChildViewSet, "child"),
    ("guardians", GuardianViewSet, "guardian"),
    ("consents", ConsentViewSet, "consent"),
    ("care-team-members", CareTeamMemberViewSet, "care-team-member"),
    ("care-plans", CarePlanViewSet, "care-plan"),
]
