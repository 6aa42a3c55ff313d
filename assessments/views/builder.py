"""The instrument builder's pages: the list of codes and versions, a version, creating,
editing (in place or as a new version) and a preview that saves nothing."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from typing import Any

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from assessments.builder.parsing import SECTIONS
from assessments.builder.selectors import instruments_visible_to, next_version_number
from assessments.builder.services import InstrumentConflict, instrument_create, instrument_revise
from assessments.builder.text import definition_from_text, definition_to_text
from assessments.forms.builder import InstrumentForm, initial_from
from assessments.models import Instrument
from assessments.scoring import TOTAL, Definition, text_in
from cases.models import RiskLevel
from core.access import fetch
from core.inputs import whole_number
from institutions.roles import Level
from institutions.scoping import ScopedViewMixin
from institutions.selectors import signed_in_user

FORM_TEMPLATE = "assessments/instrument_form.html"


def _with_counts(queryset: QuerySet[Instrument]) -> QuerySet[Instrument]:
    return queryset.annotate(result_count=Count("results")).order_by("code", "-version")


def _versions(rows: list[Instrument]) -> list[dict[str, Any]]:
    """Versions of one code, newest first, each with its status; the current one is the
    newest active version (what `current_instruments()` offers)."""
    current = next((v for v in rows if v.is_active), None)
    return [
        {
            "instrument": v,
            "status": "current" if v is current else "superseded" if v.is_active else "inactive",
        }
        for v in rows
    ]


def _risk_label(risk: int) -> str:
    return str(RiskLevel(risk).label) if risk in RiskLevel.values else str(risk)


def preview_context(
    data: dict[str, Any],
    *,
    name: str = "",
    description: str = "",
    problems: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """What the preview shows: the questions as a child sees them, and the scoring."""
    definition = Definition(data)
    labels = dict(_section_labels())
    scales = []
    for code, scale_name, scale in [
        (TOTAL, _("Total"), None),
        *[(s["code"], text_in(s["name"]), s) for s in definition.subscales],
    ]:
        low, high = definition.bounds(code)
        scales.append(
            {
                "code": code,
                "name": scale_name,
                "low": low,
                "high": high,
                "validity": bool(scale and scale.get("validity")),
                "invalid_from": scale.get("invalid_from") if scale else None,
                "items": [
                    {"number": i["number"], "reverse": bool(i.get("reverse"))}
                    for i in definition.items_of(code)
                ],
                "bands": [
                    {
                        "min": b.min,
                        "max": b.max,
                        "label": text_in(b.label),
                        "risk": b.risk,
                        "risk_label": _risk_label(b.risk),
                    }
                    for b in sorted(definition.bands, key=lambda b: b.min)
                    if b.scale == code
                ],
            }
        )
    return {
        "preview": {
            "name": name,
            "description": description,
            "options": [
                {"value": o["value"], "label": text_in(o["label"])} for o in definition.options
            ],
            "items": [
                {
                    "number": i["number"],
                    "text": text_in(i["text"]),
                    "required": i.get("required", True),
                }
                for i in sorted(definition.items, key=lambda i: int(i["number"]))
            ],
            "scales": scales,
            "critical": [
                {
                    "item": r["item"],
                    "min_value": r["min_value"],
                    "label": text_in(r["label"]),
                    "risk": r["risk"],
                    "risk_label": _risk_label(r["risk"]),
                }
                for r in definition.critical
            ],
            "problems": [
                (labels.get(part, ""), problem)
                for part, found in (problems or {}).items()
                for problem in found
            ],
        }
    }


def _section_labels() -> list[tuple[str, str]]:
    form = InstrumentForm()
    return [(name, str(form.fields[name].label)) for name in SECTIONS]


def _preview_from_post(request: HttpRequest) -> dict[str, Any]:
    parsed = definition_from_text({name: request.POST.get(name, "") for name in SECTIONS})
    return preview_context(
        parsed.data,
        name=text_in(
            {"zh-hans": request.POST.get("name_zh", ""), "en": request.POST.get("name_en", "")}
        ),
        description=request.POST.get("description", ""),
        problems=parsed.errors,
    )


class InstrumentListView(ScopedViewMixin, View):
    """Every instrument code with its versions, their results and whether they are in use."""

    scope_selector = instruments_visible_to
    permission_required = "assessments.view_instrument"

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = _with_counts(self.get_scoped_queryset()).defer("definition")
        codes = []
        for code, versions in groupby(rows, key=lambda i: i.code):
            listed = _versions(list(versions))
            codes.append({"code": code, "newest": listed[0]["instrument"], "versions": listed})
        return render(request, "assessments/instrument_list.html", {"codes": codes})


class InstrumentDetailView(ScopedViewMixin, View):
    """One version: its details, a preview, its definition as text, and the other versions."""

    scope_selector = instruments_visible_to
    fetch_model = Instrument
    permission_required = "assessments.view_instrument"

    def get_fetch_queryset(self) -> QuerySet[Instrument]:
        return _with_counts(Instrument.objects.all())

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        scoped = self.get_scoped_queryset()
        instrument = self.object
        versions = _versions(
            list(_with_counts(scoped.filter(code=instrument.code)).defer("definition"))
        )
        texts = definition_to_text(instrument.definition)
        context = {
            "instrument": instrument,
            "versions": versions,
            "parts": [
                (name, label, texts[name]) for name, label in _section_labels() if texts[name]
            ],
            "next_version": max(v["instrument"].version for v in versions) + 1,
            **preview_context(
                instrument.definition, name=instrument.name, description=instrument.description
            ),
        }
        return render(request, "assessments/instrument_detail.html", context)


class InstrumentCreateView(ScopedViewMixin, View):
    """A new instrument (version 1), optionally starting from a copy of another."""

    scope_selector = instruments_visible_to
    permission_required = "assessments.add_instrument"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial: dict[str, Any] = {}
        source = request.GET.get("copy", "")
        if whole_number(source) is not None:
            original = fetch(
                request,
                Instrument,
                source,
                level=Level.READ,
                permission="assessments.view_instrument",
            )
            initial = initial_from(original, with_code=False)
        return self._page(request, InstrumentForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InstrumentForm(request.POST)
        if "preview" in request.POST:
            form.is_valid()
            return self._page(request, form, _preview_from_post(request))
        if not form.is_valid():
            return self._page(request, form)
        instrument = instrument_create(
            code=form.cleaned_data["code"],
            details=form.details(),
            definition=form.definition,
            by=signed_in_user(request),
        )
        messages.success(request, _("The instrument was saved as version 1."))
        return redirect("assessments:instrument_detail", pk=instrument.pk)

    def _page(
        self, request: HttpRequest, form: InstrumentForm, preview: dict[str, Any] | None = None
    ) -> HttpResponse:
        return render(request, FORM_TEMPLATE, {"form": form, **(preview or {})})


class InstrumentEditView(ScopedViewMixin, View):
    """Edit a version: in place while it has no results, otherwise as a new version."""

    fetch_model = Instrument
    permission_required = "assessments.change_instrument"

    def get_fetch_queryset(self) -> QuerySet[Instrument]:
        return Instrument.objects.annotate(result_count=Count("results"))

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        instrument = self.object
        return self._page(request, InstrumentForm(instrument=instrument), instrument)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        instrument = self.object
        form = InstrumentForm(request.POST, instrument=instrument)
        if "preview" in request.POST:
            form.is_valid()
            return self._page(request, form, instrument, _preview_from_post(request))
        if not form.is_valid():
            return self._page(request, form, instrument)
        try:
            revision = instrument_revise(
                instrument=instrument,
                details=form.details(),
                definition=form.definition,
                by=signed_in_user(request),
                seen=form.cleaned_data.get("seen") or None,
            )
        except InstrumentConflict:
            form.add_error(
                None,
                _(
                    "Someone else changed this version while you were editing it. Nothing was "
                    "saved: open it again to see their changes."
                ),
            )
            return self._page(request, form, instrument)
        if revision.outcome == "unchanged":
            messages.info(request, _("Nothing was changed."))
        elif revision.outcome == "new_version":
            messages.success(
                request,
                _("Saved as version %(new)s. Version %(old)s stays as it was.")
                % {"new": revision.instrument.version, "old": instrument.version},
            )
        else:
            messages.success(request, _("The changes were saved."))
        return redirect("assessments:instrument_detail", pk=revision.instrument.pk)

    def _page(
        self,
        request: HttpRequest,
        form: InstrumentForm,
        instrument: Instrument,
        preview: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {
            "form": form,
            "instrument": instrument,
            "makes_new_version": instrument.is_builtin or instrument.result_count > 0,  # type: ignore[attr-defined]
            "next_version": next_version_number(instrument),
            **(preview or {}),
        }
        return render(request, FORM_TEMPLATE, context)


class InstrumentPreviewView(ScopedViewMixin, View):
    """The questionnaire and its scoring as typed so far; nothing is saved."""

    scope_selector = instruments_visible_to
    permission_required = "assessments.view_instrument"

    def post(self, request: HttpRequest) -> HttpResponse:
        context = _preview_from_post(request)
        if getattr(request, "htmx", False):
            return render(request, "assessments/partials/instrument_preview.html", context)
        return render(request, "assessments/instrument_preview.html", context)
