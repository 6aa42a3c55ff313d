"""Instruments in the JSON API: every signed-in user reads them; the administrators who use the
instrument builder create and revise them through the builder's own form and service, so a
version with results (or a built-in one) is never changed in place: a change makes a new
version."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from assessments.builder.selectors import instruments_visible_to
from assessments.builder.services import (
    InstrumentConflict,
    fingerprint,
    instrument_create,
    instrument_revise,
)
from assessments.builder.text import definition_to_text
from assessments.forms.builder import DEFINITION_MAX_LENGTH, MAX_AGE, InstrumentForm, initial_from
from assessments.models import Instrument
from core.api_inputs import UniqueKeysJSONParser, present, validated_by
from core.inputs import TEXT_MAX_LENGTH, BoundedSerializerMixin
from institutions.api import PreconditionFailed, PreconditionRequired, ScopedAPIMixin
from institutions.models import User
from institutions.roles import Level
from institutions.selectors import signed_in_user

VIEW_ALL = "assessments.view_instrument"  # the builder's: every version, in use or not
ADD = "assessments.add_instrument"
CHANGE = "assessments.change_instrument"


def _with_current(queryset: QuerySet[Instrument]) -> QuerySet[Instrument]:
    """Each version marked `is_current`: the newest version of its code in use (the one
    `current_instruments()` offers for new assessments)."""
    newer = Instrument.objects.filter(
        code=OuterRef("code"), is_active=True, version__gt=OuterRef("version")
    )
    return queryset.annotate(is_current=Q(is_active=True) & ~Exists(newer))


def instruments_readable_by(user: User | AnonymousUser) -> QuerySet[Instrument]:
    """Every version for those who use the builder; the versions in use for everyone else
    signed in (what assessments are taken with). Instruments hold no personal information."""
    if not (user.is_authenticated and user.is_active):
        return Instrument.objects.none()
    if user.has_perm(VIEW_ALL):
        return _with_current(instruments_visible_to(user))
    return _with_current(Instrument.objects.filter(is_active=True))


def _read_back(pk: int) -> Instrument:
    """A version just saved, as the API shows it (instruments have no scope to apply)."""
    return _with_current(Instrument.objects.filter(pk=pk)).get()


def etag_of_instrument(instrument: Instrument) -> str:
    """The version's ETag: its digest as stored, so that an edit in place changes it too."""
    return f'"{instrument.pk}-{fingerprint(instrument)}"'


class InstrumentFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(
        field_name="code", lookup_expr="iexact", help_text="One instrument code, e.g. PHQ-9."
    )
    current = django_filters.BooleanFilter(
        field_name="is_current",
        help_text="true: only the version of each code offered for new assessments.",
    )
    is_active = django_filters.BooleanFilter(field_name="is_active")

    class Meta:
        model = Instrument
        fields = ["code", "current", "is_active"]


class InstrumentTextsSerializer(serializers.Serializer):
    """The definition in the builder's line format, one text per part (see the builder)."""

    options = serializers.CharField()
    items = serializers.CharField()
    subscales = serializers.CharField()
    bands = serializers.CharField()
    critical = serializers.CharField()


class InstrumentSerializer(serializers.ModelSerializer):
    """One version of an instrument, without its definition (lists)."""

    name = serializers.CharField(read_only=True, help_text="In the request's language.")
    is_current = serializers.BooleanField(
        read_only=True, help_text="The version of its code offered for new assessments."
    )

    class Meta:
        model = Instrument
        fields = [
            "id",
            "code",
            "version",
            "name",
            "name_zh",
            "name_en",
            "description",
            "respondent",
            "min_age",
            "max_age",
            "languages",
            "is_builtin",
            "is_active",
            "is_current",
            "created_at",
        ]
        read_only_fields = fields


class InstrumentDetailSerializer(InstrumentSerializer):
    """One version with its source, licence and definition (as data and as the builder's
    texts, which an update sends back)."""

    definition = serializers.JSONField(
        read_only=True, help_text="Items, options, subscales, bands and critical answers."
    )
    texts = serializers.SerializerMethodField()

    class Meta(InstrumentSerializer.Meta):
        fields = [
            *InstrumentSerializer.Meta.fields,
            "source",
            "licence_note",
            "definition",
            "texts",
        ]
        read_only_fields = fields

    @extend_schema_field(InstrumentTextsSerializer)
    def get_texts(self, obj: Instrument) -> dict[str, str]:
        return definition_to_text(obj.definition)


class InstrumentRevisionSerializer(InstrumentDetailSerializer):
    """The version an update saved, and what the update did."""

    outcome = serializers.SerializerMethodField(
        help_text="unchanged; status_changed (in use or not); changed_in_place (a version "
        "without results); new_version (this is a new version: the one edited stays as it was)."
    )

    class Meta(InstrumentDetailSerializer.Meta):
        fields = [*InstrumentDetailSerializer.Meta.fields, "outcome"]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(
            choices=["unchanged", "status_changed", "changed_in_place", "new_version"]
        )
    )
    def get_outcome(self, obj: Instrument) -> str:
        return str(self.context["outcome"])


def _text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=DEFINITION_MAX_LENGTH, trim_whitespace=False, **kwargs)


class InstrumentInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """A new instrument, or the new content of a version, as the builder takes it: the details,
    and the definition as five texts in the builder's line format (one entry per line; see
    the `texts` of any instrument read from this API for an example)."""

    code = serializers.CharField(
        max_length=32,
        required=False,
        help_text="Needed to create; cannot change (a version keeps its code).",
    )
    name_zh = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    # A field named like Field.source: DRF takes declared fields off the class, so the name is
    # free at run time; the stubs only see the class attribute.
    source = serializers.CharField(max_length=TEXT_MAX_LENGTH)  # type: ignore[assignment]
    licence_note = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    min_age = serializers.IntegerField(min_value=0, max_value=MAX_AGE)
    max_age = serializers.IntegerField(min_value=0, max_value=MAX_AGE)
    respondent = serializers.ChoiceField(
        choices=Instrument.Respondent.choices, default=Instrument.Respondent.CHILD
    )
    is_active = serializers.BooleanField(default=True)
    options = _text(help_text="One per line: value = 中文 | English.")
    items = _text(
        help_text="One per line: number. 中文 | English, then [R], [optional], [unscored] and "
        "a [code] per subscale."
    )
    subscales = _text(
        required=False,
        allow_blank=True,
        default="",
        help_text="One per line: code = 中文 | English, [validity >= n] for a validity scale.",
    )
    bands = _text(help_text="One per line: total|code min-max = 中文 | English : risk.")
    critical = _text(
        required=False,
        allow_blank=True,
        default="",
        help_text="One per line: question >= value : risk = 中文 | English.",
    )


@extend_schema(tags=["instruments"])
class InstrumentViewSet(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Instruments: read by everyone signed in (the versions in use; every version for the
    builder's administrators); created and revised by those administrators."""

    scope_selector = instruments_readable_by
    parser_classes = [UniqueKeysJSONParser]
    fetch_model = Instrument
    write_level = Level.READ  # no child: the builder's permissions decide
    action_permissions = {"create": ADD, "update": CHANGE, "partial_update": CHANGE}
    filterset_class = InstrumentFilter

    def get_queryset(self) -> QuerySet[Instrument]:
        queryset = super().get_queryset()
        return queryset.defer("definition") if self.action == "list" else queryset

    def get_fetch_queryset(self) -> QuerySet[Instrument]:
        return self.get_queryset()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return InstrumentSerializer if self.action == "list" else InstrumentDetailSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instrument = self.get_object()
        response = Response(
            InstrumentDetailSerializer(instrument, context={"request": request}).data
        )
        response["ETag"] = etag_of_instrument(instrument)
        return response

    def _form(
        self, request: Request, instrument: Instrument | None, partial: bool
    ) -> InstrumentForm:
        """The builder's form filled with the request, checked (400 naming the fields): the
        same rules as the builder's page. A partial update starts from the version as stored."""
        serializer = InstrumentInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        code = data.pop("code", None)
        if instrument is not None and code is not None and code != instrument.code:
            raise serializers.ValidationError(
                {"code": _("A version keeps its code: create a new instrument instead.")}
            )
        base = initial_from(instrument, with_code=False) if instrument and partial else {}
        form = InstrumentForm(
            present({**base, **data, "code": code if instrument is None else None}),
            instrument=instrument,
        )
        validated_by(form)
        return form

    def _seen(self, request: Request, instrument: Instrument) -> str | None:
        """The digest the client read, from If-Match (428 without, 412 for another state)."""
        given = request.headers.get("If-Match")
        if not given:
            raise PreconditionRequired()
        tags = {tag.strip() for tag in given.split(",")}
        if "*" in tags:
            return None
        current = etag_of_instrument(instrument)
        if current not in tags:
            raise PreconditionFailed()
        return fingerprint(instrument)

    @extend_schema(
        request=InstrumentInputSerializer,
        responses={201: InstrumentDetailSerializer},
        description="Version 1 of a new instrument. The code must be new (any case).",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = self._form(request, None, partial=False)
        instrument = instrument_create(
            code=form.cleaned_data["code"],
            details=form.details(),
            definition=form.definition,
            by=signed_in_user(request),
        )
        fresh = _read_back(instrument.pk)
        response = Response(
            InstrumentDetailSerializer(fresh, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )
        response["ETag"] = etag_of_instrument(fresh)
        response["Location"] = reverse("api:instrument-detail", kwargs={"pk": fresh.pk})
        return response

    def _revise(self, request: Request, partial: bool) -> Response:
        instrument = self.get_object()
        seen = self._seen(request, instrument)
        form = self._form(request, instrument, partial=partial)
        try:
            revision = instrument_revise(
                instrument=instrument,
                details=form.details(),
                definition=form.definition,
                by=signed_in_user(request),
                seen=seen,
            )
        except InstrumentConflict:
            raise PreconditionFailed() from None
        saved = _read_back(revision.instrument.pk)
        context = {"request": request, "outcome": revision.outcome}
        created = revision.outcome == "new_version"
        response = Response(
            InstrumentRevisionSerializer(saved, context=context).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
        response["ETag"] = etag_of_instrument(saved)
        if created:
            response["Location"] = reverse("api:instrument-detail", kwargs={"pk": saved.pk})
        return response

    @extend_schema(
        request=InstrumentInputSerializer,
        responses={
            200: InstrumentRevisionSerializer,
            201: OpenApiResponse(
                InstrumentRevisionSerializer,
                description="The version had results or is built in: saved as a new version.",
            ),
        },
        description="Revise a version (send If-Match with the ETag read): in place while it has "
        "no results and is not built in, otherwise as the code's next version.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._revise(request, partial=False)

    @extend_schema(
        request=InstrumentInputSerializer,
        responses={
            200: InstrumentRevisionSerializer,
            201: OpenApiResponse(
                InstrumentRevisionSerializer,
                description="The version had results or is built in: saved as a new version.",
            ),
        },
        description="Change some fields of a version (the others as stored); as PUT otherwise.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._revise(request, partial=True)
