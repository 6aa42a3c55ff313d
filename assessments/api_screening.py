"""Screening sessions in the JSON API, as the screening pages allow: the sessions of the
caller's schools and institutions, one with its progress and its roster, opening one for a
class or an institution's residents, and closing it."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from assessments.forms.screening import ScreeningOpenForm, SheetForm
from assessments.models import ScreeningSession
from assessments.screening.entry import entry_problems
from assessments.screening.roster import (
    RosterRow,
    screening_groups,
    session_progress,
    session_roster,
)
from assessments.screening.services import (
    ScreeningConflict,
    screening_absence_record,
    screening_row_save,
    screening_session_close,
    screening_session_open,
    screening_sheet_import,
)
from assessments.screening.sheets import screening_sheet_check
from assessments.selectors import current_instruments, sessions_visible_to
from cases.models import Child, RiskLevel
from core.access import fetch
from core.access_log import access_record_many
from core.api_errors import Conflict
from core.api_inputs import IdField, UniqueKeysJSONParser, validated_by
from core.inputs import BoundedSerializerMixin
from core.models import AccessEvent
from institutions.api import ScopedAPIMixin
from institutions.masking import FieldKind, mask
from institutions.roles import Level
from institutions.selectors import scope_for, signed_in_user

# The screening pages' permissions (assessments.views.screening).
VIEW = "assessments.view_screeningsession"
OPEN = "assessments.add_screeningsession"
SCREEN = "assessments.change_screeningsession"


class ScreeningSessionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ScreeningSession.Status.choices)
    instrument = django_filters.CharFilter(
        field_name="instrument__code", lookup_expr="iexact", help_text="Instrument code."
    )

    class Meta:
        model = ScreeningSession
        fields = ["status", "instrument"]


class ScreeningSessionSerializer(serializers.ModelSerializer):
    """A session: what was screened, where, when, and whether it is still open."""

    instrument = serializers.CharField(source="instrument.code")
    instrument_version = serializers.IntegerField(source="instrument.version")
    school_name = serializers.CharField(source="school.name", default=None, allow_null=True)
    institution_name = serializers.CharField(
        source="institution.name", default=None, allow_null=True
    )

    class Meta:
        model = ScreeningSession
        fields = [
            "id",
            "title",
            "instrument",
            "instrument_version",
            "school",
            "school_name",
            "grade",
            "class_name",
            "institution",
            "institution_name",
            "administered_on",
            "status",
            "opened_by",
            "opened_at",
            "closed_at",
        ]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer):
    """How far the session is, among the children of its roster the caller may see."""

    done = serializers.IntegerField()
    pending = serializers.IntegerField()
    absent = serializers.IntegerField()
    total = serializers.IntegerField()
    percent_done = serializers.IntegerField()


class ScreeningSessionDetailSerializer(ScreeningSessionSerializer):
    progress = serializers.SerializerMethodField()

    class Meta(ScreeningSessionSerializer.Meta):
        fields = [*ScreeningSessionSerializer.Meta.fields, "progress"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, obj: ScreeningSession) -> dict[str, int]:
        progress = session_progress(session=obj, user=self.context["request"].user)
        return ProgressSerializer(progress).data


class RosterResultSerializer(serializers.Serializer):
    """A child's result in the session: scores and band, never the answers."""

    id = serializers.IntegerField()
    total = serializers.IntegerField()
    band = serializers.CharField(source="band_text")
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    critical = serializers.SerializerMethodField()
    valid = serializers.BooleanField()

    def get_critical(self, obj: Any) -> bool:
        return bool(obj.critical_items)


class RosterRowSerializer(serializers.Serializer):
    """One child of the roster, as the roster page shows them."""

    child = serializers.IntegerField(source="child.pk")
    name = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=["done", "pending", "absent"])
    result = RosterResultSerializer(allow_null=True)
    absence_reason = serializers.CharField(source="absence.reason", default=None, allow_null=True)
    consent_on_file = serializers.BooleanField()
    fit_problem = serializers.CharField(
        allow_null=True, help_text="Why the instrument cannot be used for this child, if so."
    )

    def get_name(self, row: RosterRow) -> str:
        return mask(self.context["request"].user, FieldKind.NAME, row.child.name)


def sheet_problem(error: tuple[int | None, str]) -> str:
    """One problem of a sheet, as the import page lists it: with its row number, if any."""
    number, message = error
    return f"{_('Row %(row)s') % {'row': number}}: {message}" if number else message


class ScreeningResultInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """One child's answers in the session (the roster page's entry)."""

    child = IdField(help_text="The child's id.")
    answers = serializers.DictField(
        child=serializers.JSONField(),
        help_text='Answer value per item key, e.g. {"1": 0, "2": 3}, as for an assessment.',
    )
    consent_given_today = serializers.BooleanField(
        default=False,
        help_text="Consent to the assessment was given today (by the primary guardian, or the "
        "child when there is none): it is recorded with the result. Needs the permission to "
        "record consent; ignored when consent is on file.",
    )


class ScreeningAbsenceInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    child = IdField(help_text="The child's id.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SheetUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The session's sheet (.xlsx or .csv, as its template): every row is checked "
        "and either all are saved or none."
    )


class SheetResultSerializer(serializers.Serializer):
    saved = serializers.IntegerField(help_text="How many results were saved.")
    ignored_columns = serializers.ListField(child=serializers.CharField())


class ScreeningSessionInputSerializer(BoundedSerializerMixin, serializers.Serializer):
    """A session for a class of one of the caller's schools (school, grade and class) or for
    the residents of one of the caller's institutions (institution)."""

    instrument = serializers.CharField(
        max_length=32, help_text="Instrument code: its version in use is taken."
    )
    school = serializers.IntegerField(required=False, allow_null=True)
    grade = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=32767)
    class_name = serializers.CharField(required=False, allow_blank=True, max_length=32)
    institution = serializers.IntegerField(required=False, allow_null=True)
    administered_on = serializers.DateField(required=False, help_text="Today when absent.")
    title = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Empty: the instrument, the class and the date.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = signed_in_user(self.context["request"])
        school, institution = attrs.get("school"), attrs.get("institution")
        # A school or institution that is not the caller's is out of scope: 404, as a child
        # or a referral would be (before anything else is said about the input).
        scope = scope_for(user)
        if school is not None and school not in scope.school_ids:
            raise NotFound
        if institution is not None and institution not in scope.residential_institution_ids:
            raise NotFound
        if (school is None) == (institution is None):
            raise serializers.ValidationError(
                {
                    "school": _(
                        "Give either a school with a grade and a class, or a residential "
                        "institution."
                    )
                }
            )
        key = (
            f"s:{school}:{attrs.get('grade')}:{attrs.get('class_name', '')}"
            if school is not None
            else f"i:{institution}"
        )
        instrument = current_instruments().filter(code=attrs["instrument"]).first()
        if instrument is None:
            raise serializers.ValidationError(
                {
                    "instrument": _("There is no instrument %(code)s in use.")
                    % {"code": attrs["instrument"]}
                }
            )
        form = ScreeningOpenForm(
            {
                "instrument": instrument.pk,
                "group": key,
                "administered_on": attrs.get("administered_on") or timezone.localdate(),
                "title": attrs.get("title", ""),
            },
            groups=screening_groups(user=user),
        )
        return validated_by(form, {"group": "class_name" if school is not None else "institution"})


@extend_schema(tags=["screening sessions"])
class ScreeningSessionViewSet(
    ScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Screening sessions of the caller's schools and institutions (and those they opened);
    one out of scope answers 404."""

    scope_selector = sessions_visible_to
    parser_classes = [UniqueKeysJSONParser]
    fetch_model = ScreeningSession
    write_level = Level.CONTRIBUTE  # closing, as on the page
    action_permissions = {
        "list": VIEW,
        "retrieve": VIEW,
        "roster": VIEW,
        "create": OPEN,
        "close": SCREEN,
        "results": SCREEN,
        "absences": SCREEN,
        "sheet": SCREEN,
    }
    filterset_class = ScreeningSessionFilter

    def get_queryset(self) -> QuerySet[ScreeningSession]:
        return super().get_queryset().order_by("-id")

    def get_fetch_queryset(self) -> QuerySet[ScreeningSession]:
        return ScreeningSession.objects.select_related("instrument", "school", "institution")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return ScreeningSessionSerializer
        if self.action == "create":
            return ScreeningSessionInputSerializer
        return ScreeningSessionDetailSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        return Response(
            ScreeningSessionDetailSerializer(session, context={"request": request}).data
        )

    @extend_schema(
        request=ScreeningSessionInputSerializer,
        responses={201: ScreeningSessionDetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ScreeningSessionInputSerializer(
            data=request.data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session = screening_session_open(
            group=data["group"],
            instrument=data["instrument"],
            administered_on=data["administered_on"],
            title=data["title"].strip(),
            by=signed_in_user(request),
        )
        output = ScreeningSessionDetailSerializer(session, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RosterRowSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def roster(self, request: Request, pk: str | None = None) -> Response:
        """The children of the session's class or institution that the caller may see, each
        with their result or absence (the roster page). A read of every child listed."""
        session = self.get_object()
        user = signed_in_user(request)
        rows = session_roster(session=session, user=user)
        access_record_many(
            user=user,
            action=AccessEvent.Action.LIST,
            child_ids=[row.child.pk for row in rows],
            request=request._request,
            detail={"screening": session.pk, "api": True},
        )
        return Response(RosterRowSerializer(rows, many=True, context={"request": request}).data)

    @extend_schema(request=None, responses={200: ScreeningSessionDetailSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the session: no more entries (closing a closed one changes nothing)."""
        session = screening_session_close(session=self.get_object(), by=signed_in_user(request))
        return Response(
            ScreeningSessionDetailSerializer(session, context={"request": request}).data
        )

    def _entry_row(self, request: Request, session: ScreeningSession, child_id: int) -> RosterRow:
        """The roster row of a child whose result or absence the caller records: the child at
        contribute (404 out of scope, 403 read only), and on the roster (404 otherwise)."""
        fetch(request._request, Child, child_id, level=Level.CONTRIBUTE, api=True)
        rows = session_roster(session=session, user=signed_in_user(request), child_id=child_id)
        if not rows:
            raise NotFound()
        return rows[0]

    def _row_answer(self, request: Request, session: ScreeningSession, child_id: int) -> Response:
        rows = session_roster(session=session, user=signed_in_user(request), child_id=child_id)
        data = RosterRowSerializer(rows[0], context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ScreeningResultInputSerializer, responses={201: RosterRowSerializer})
    @action(detail=True, methods=["post"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        """Save one child's answers in the session, scored on the server; consent given today
        is recorded with them. A session closed, or a result saved meanwhile, answers 409."""
        user = signed_in_user(request)
        if not user.has_perm("assessments.add_assessment"):
            raise PermissionDenied
        session: ScreeningSession = self.get_object()
        serializer = ScreeningResultInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row = self._entry_row(request, session, data["child"])
        if session.status != ScreeningSession.Status.OPEN:
            raise Conflict(_("This screening is closed."))
        consent_today = data["consent_given_today"] and not row.consent_on_file
        definition = session.instrument.parsed
        answers, answer_errors = definition.read_answers(data["answers"])
        errors: dict[str, Any] = {}
        problems = entry_problems(session=session, row=row, consent_today=consent_today, user=user)
        if problems:
            errors["child"] = problems
        if answer_errors:
            errors["answers"] = answer_errors
        if errors:
            raise serializers.ValidationError(errors)
        try:
            screening_row_save(
                session=session, row=row, answers=answers, by=user, consent_today=consent_today
            )
        except ScreeningConflict as conflict:
            raise Conflict(str(conflict)) from None
        return self._row_answer(request, session, row.child.pk)

    @extend_schema(request=ScreeningAbsenceInputSerializer, responses={201: RosterRowSerializer})
    @action(detail=True, methods=["post"])
    def absences(self, request: Request, pk: str | None = None) -> Response:
        """Note that a child of the roster was not screened, and why (once per session)."""
        session: ScreeningSession = self.get_object()
        serializer = ScreeningAbsenceInputSerializer(
            data=request.data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row = self._entry_row(request, session, data["child"])
        if session.status != ScreeningSession.Status.OPEN:
            raise Conflict(_("This screening is closed."))
        if row.result is not None:
            raise Conflict(_("This child already has a result."))
        screening_absence_record(
            session=session,
            child=row.child,
            reason=data.get("reason", ""),
            by=signed_in_user(request),
        )
        return self._row_answer(request, session, row.child.pk)

    @extend_schema(
        request={"multipart/form-data": SheetUploadSerializer},
        responses={201: SheetResultSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def sheet(self, request: Request, pk: str | None = None) -> Response:
        """Import a sheet of results (the session's template, filled in): every row is checked
        against the roster as on the import page, and either all are saved or none (400 with
        the problems by row: "row 3: …")."""
        user = signed_in_user(request)
        if not user.has_perm("assessments.add_assessment"):
            raise PermissionDenied
        session: ScreeningSession = self.get_object()
        if session.status != ScreeningSession.Status.OPEN:
            raise Conflict(_("This screening is closed."))
        upload = validated_by(SheetForm(request.POST, request.FILES))["file"]
        check = screening_sheet_check(session=session, user=user, upload=upload)
        if not check.ok:
            raise serializers.ValidationError({"file": [sheet_problem(e) for e in check.errors]})
        try:
            saved = screening_sheet_import(session=session, rows=check.rows, by=user)
        except ScreeningConflict as conflict:
            raise Conflict(str(conflict)) from None
        data = {"saved": len(saved), "ignored_columns": check.ignored_columns}
        return Response(SheetResultSerializer(data).data, status=status.HTTP_201_CREATED)
