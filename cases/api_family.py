"""A child's guardians and the consents recorded for them in the JSON API, through the same
selectors, forms and services as the family pages: read with the file, written by those who
record consent, at the manage level. Consent is recorded and withdrawn, never deleted."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.api_base import IF_MATCH, ChildInputSerializer, IdFilter, NoPutMixin
from cases.forms.family import ConsentForm, GuardianEditForm, GuardianForm, WithdrawConsentForm
from cases.models import Consent, Guardian
from cases.selectors.scope import consents_visible_to, guardians_visible_to
from cases.services.child import EditConflict
from cases.services.family import (
    CHILD_GIVES_CONSENT,
    consent_record,
    consent_withdraw,
    guardian_add,
    guardian_deactivate,
    guardian_update,
)
from core.api_errors import Conflict
from core.api_inputs import IdField, form_data, service_errors, validated_by
from core.inputs import BoundedSerializerMixin
from institutions.api import (
    ConditionalUpdateMixin,
    LoggedChildListMixin,
    PreconditionFailed,
    ScopedAPIMixin,
    etag_of,
)
from institutions.masking import FieldKind, MaskedField
from institutions.roles import Level
from institutions.selectors import signed_in_user

RECORD_CONSENT = "cases.record_consent"


# ---------------------------------------------------------------------------------------------
# Guardians


class GuardianSerializer(serializers.ModelSerializer):
    """A guardian; the phone number whole only for the roles that call families."""

    phone = MaskedField(FieldKind.PHONE)
    relation = serializers.ChoiceField(choices=Guardian.Relation.choices)
    institution = serializers.IntegerField(source="institution_id", allow_null=True)

    class Meta:
        model = Guardian
        fields = [
            "id",
            "child",
            "name",
            "relation",
            "institution",
            "phone",
            "lives_with_child",
            "works_away",
            "work_location",
            "is_primary_contact",
            "is_active",
            "version",
            "created_at",
        ]
        read_only_fields = fields


class GuardianFieldsSerializer(BoundedSerializerMixin, serializers.Serializer):
    """What the guardian form of the pages takes (and checks: a phone of 7 to 15 digits, where
    a guardian working away works, the institution of an institution guardian)."""

    name = serializers.CharField(max_length=64)
    relation = serializers.ChoiceField(choices=Guardian.Relation.choices)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    lives_with_child = serializers.BooleanField(required=False)
    works_away = serializers.BooleanField(required=False)
    work_location = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_primary_contact = serializers.BooleanField(
        required=False, help_text="A new primary contact replaces the previous one."
    )
    institution = IdField(
        required=False,
        help_text="For a guardian that is an institution (state guardianship): its id.",
    )


class GuardianCreateSerializer(ChildInputSerializer, GuardianFieldsSerializer):
    pass


def _guardian_values(guardian: Guardian) -> dict[str, Any]:
    """The guardian as the edit form starts from it."""
    return {
        "name": guardian.name,
        "relation": guardian.relation,
        "phone": guardian.phone,
        "lives_with_child": guardian.lives_with_child,
        "works_away": guardian.works_away,
        "work_location": guardian.work_location,
        "is_primary_contact": guardian.is_primary_contact,
        "institution": guardian.institution_id,
    }


class GuardianFilter(django_filters.FilterSet):
    child = IdFilter(field_name="child_id", label=gettext_lazy("Child"))
    is_active = django_filters.BooleanFilter(label=gettext_lazy("Current"))

    class Meta:
        model = Guardian
        fields = ["child", "is_active"]


@extend_schema(tags=["guardians"])
class GuardianViewSet(
    ScopedAPIMixin,
    NoPutMixin,
    ConditionalUpdateMixin,
    LoggedChildListMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Guardians of the children visible to the caller (filter `child`). Adding, changing and
    removing one (it stays on file as former) need `cases.record_consent` and the manage level
    on the child; a change or a removal needs If-Match with the guardian's ETag."""

    scope_selector = guardians_visible_to
    fetch_model = Guardian
    write_level = Level.MANAGE
    action_permissions = {
        "list": "cases.view_child",
        "retrieve": "cases.view_child",
        "create": RECORD_CONSENT,
        "update": RECORD_CONSENT,
        "partial_update": RECORD_CONSENT,
        "deactivate": RECORD_CONSENT,
    }
    serializer_class = GuardianSerializer
    filterset_class = GuardianFilter
    list_log_detail = {"listed": "guardians"}

    def get_queryset(self) -> QuerySet[Guardian]:
        return super().get_queryset().order_by("-id")

    log_key = "guardian"

    def _answer(self, guardian: Guardian, status_code: int = status.HTTP_200_OK) -> Response:
        data = GuardianSerializer(guardian, context=self.get_serializer_context()).data
        response = Response(data, status=status_code)
        response["ETag"] = etag_of(guardian)
        return response

    @extend_schema(request=GuardianCreateSerializer, responses={201: GuardianSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add a guardian to a child (the first one becomes the primary contact)."""
        serializer = GuardianCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        child = values.pop("child")
        cleaned = validated_by(GuardianForm(form_data(values)))
        guardian = guardian_add(child=child, data=cleaned, by=signed_in_user(request))
        return self._answer(guardian, status.HTTP_201_CREATED)

    @extend_schema(
        request=GuardianFieldsSerializer, responses={200: GuardianSerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a guardian: the fields given, checked with the rest by the page's form."""
        guardian: Guardian = self.get_object()
        self.check_precondition(guardian)
        serializer = GuardianFieldsSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        values = {
            **_guardian_values(guardian),
            **serializer.validated_data,
            "version": guardian.version,
        }
        cleaned = validated_by(GuardianEditForm(form_data(values), instance=guardian))
        try:
            saved = guardian_update(
                guardian=guardian,
                data=cleaned,
                expected_version=guardian.version,
                by=signed_in_user(request),
            )
        except EditConflict:
            raise PreconditionFailed() from None
        return self._answer(saved)

    @extend_schema(request=None, responses={200: GuardianSerializer}, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str | None = None) -> Response:
        """A guardian who no longer is one: kept on file, listed as former."""
        guardian: Guardian = self.get_object()
        self.check_precondition(guardian)
        try:
            saved = guardian_deactivate(
                guardian=guardian, by=signed_in_user(request), expected_version=guardian.version
            )
        except EditConflict:
            raise PreconditionFailed() from None
        return self._answer(saved)


# ---------------------------------------------------------------------------------------------
# Consents


class ConsentSerializer(serializers.ModelSerializer):
    """A consent for one purpose, by a guardian or (from 14) the child; `withdrawn_at` set once
    it is withdrawn (it applies no more, and stays on file)."""

    purpose = serializers.ChoiceField(choices=Consent.Purpose.choices)
    guardian = serializers.IntegerField(source="guardian_id", allow_null=True)
    guardian_name = serializers.CharField(source="guardian.name", default=None, allow_null=True)
    shared_with = serializers.IntegerField(source="shared_with_id", allow_null=True)
    is_active = serializers.BooleanField()

    class Meta:
        model = Consent
        fields = [
            "id",
            "child",
            "purpose",
            "guardian",
            "guardian_name",
            "given_by_child",
            "shared_with",
            "given_on",
            "note",
            "recorded_at",
            "is_active",
            "withdrawn_at",
            "withdrawal_reason",
        ]
        read_only_fields = fields


class ConsentCreateSerializer(ChildInputSerializer):
    """Consent as the page records it: who gives it (a current guardian, or the child from 14;
    an institution guardian only through its own staff), for which purpose, when."""

    purpose = serializers.ChoiceField(choices=Consent.Purpose.choices)
    guardian = IdField(
        allow_null=True,
        help_text="The guardian who gives consent; null: the child themself (from 14).",
    )
    shared_with = IdField(
        required=False, help_text="For sharing: the agency the file is shared with."
    )
    given_on = serializers.DateField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ConsentWithdrawSerializer(BoundedSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Why the consent is withdrawn.")


class ConsentFilter(django_filters.FilterSet):
    child = IdFilter(field_name="child_id", label=gettext_lazy("Child"))
    purpose = django_filters.ChoiceFilter(
        choices=Consent.Purpose.choices, label=gettext_lazy("Purpose")
    )
    is_active = django_filters.BooleanFilter(
        field_name="withdrawn_at",
        lookup_expr="isnull",
        label=gettext_lazy("Not withdrawn"),
    )

    class Meta:
        model = Consent
        fields = ["child", "purpose", "is_active"]


@extend_schema(tags=["consents"])
class ConsentViewSet(
    ScopedAPIMixin,
    LoggedChildListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Consents of the children visible to the caller (filter `child`). Recording and
    withdrawing one need `cases.record_consent` and the manage level on the child."""

    scope_selector = consents_visible_to
    fetch_model = Consent
    write_level = Level.MANAGE
    action_permissions = {
        "list": "cases.view_child",
        "retrieve": "cases.view_child",
        "create": RECORD_CONSENT,
        "withdraw": RECORD_CONSENT,
    }
    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter
    list_log_detail = {"listed": "consents"}

    def get_queryset(self) -> QuerySet[Consent]:
        return super().get_queryset().select_related("guardian").order_by("-id")

    def get_fetch_queryset(self) -> QuerySet[Consent]:
        return Consent.objects.select_related("guardian")

    log_key = "consent"

    def _answer(self, consent: Consent, status_code: int = status.HTTP_200_OK) -> Response:
        data = ConsentSerializer(consent, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    @extend_schema(request=ConsentCreateSerializer, responses={201: ConsentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record consent for one purpose."""
        user = signed_in_user(request)
        serializer = ConsentCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        child = values.pop("child")
        guardian = values.pop("guardian")
        values["given_by"] = CHILD_GIVES_CONSENT if guardian is None else guardian
        form = ConsentForm(form_data(values), child=child, user=user)
        cleaned = validated_by(form, {"given_by": "guardian"})
        try:
            consent = consent_record(
                child=child,
                purpose=cleaned["purpose"],
                given_on=cleaned["given_on"],
                by=user,
                guardian=cleaned["guardian"],
                shared_with=cleaned["shared_with"],
                note=cleaned.get("note", ""),
            )
        except DjangoValidationError as error:  # the rule, checked again as it is written
            raise service_errors(error, "guardian") from None
        return self._answer(consent, status.HTTP_201_CREATED)

    @extend_schema(request=ConsentWithdrawSerializer, responses={200: ConsentSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw a consent from now on; the record stays. The first withdrawal stands: a
        consent already withdrawn answers 409."""
        consent: Consent = self.get_object()
        serializer = ConsentWithdrawSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        cleaned = validated_by(WithdrawConsentForm(form_data(serializer.validated_data)))
        try:
            withdrawn = consent_withdraw(
                consent=consent, reason=cleaned["reason"], by=signed_in_user(request)
            )
        except EditConflict:
            raise Conflict(
                _("This consent was already withdrawn; the first withdrawal stands.")
            ) from None
        return self._answer(withdrawn)
