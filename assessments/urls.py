"""The assessments app's pages: results and alerts, screenings under screenings/ and the
instrument builder under instruments/, all in the "assessments" namespace."""

from django.urls import include, path

from assessments.views import alerts, assessments, builder, screening, screening_entry
from institutions.views.exports import ExportView

app_name = "assessments"

screening_patterns = [
    path("", screening.ScreeningListView.as_view(), name="screening_list"),
    path("new/", screening.ScreeningCreateView.as_view(), name="screening_create"),
    path(
        "export/",
        ExportView.as_view(export_kind="screening_sessions"),
        name="screening_export",
    ),
    path("<int:pk>/", screening.ScreeningDetailView.as_view(), name="screening_detail"),
    path(
        "<int:pk>/child/<int:child_pk>/",
        screening_entry.ScreeningEntryView.as_view(),
        name="screening_entry",
    ),
    path(
        "<int:pk>/child/<int:child_pk>/absent/",
        screening_entry.ScreeningAbsentView.as_view(),
        name="screening_absent",
    ),
    path(
        "<int:pk>/import/",
        screening_entry.ScreeningImportView.as_view(),
        name="screening_import",
    ),
    path("<int:pk>/summary/", screening.ScreeningSummaryView.as_view(), name="screening_summary"),
    path(
        "<int:pk>/summary/export/",
        screening.ScreeningSummaryExportView.as_view(),
        name="screening_summary_export",
    ),
    path("<int:pk>/close/", screening.ScreeningCloseView.as_view(), name="screening_close"),
]

instrument_patterns = [
    path("", builder.InstrumentListView.as_view(), name="instrument_list"),
    path("new/", builder.InstrumentCreateView.as_view(), name="instrument_create"),
    path("preview/", builder.InstrumentPreviewView.as_view(), name="instrument_preview"),
    path("<int:pk>/", builder.InstrumentDetailView.as_view(), name="instrument_detail"),
    path("<int:pk>/edit/", builder.InstrumentEditView.as_view(), name="instrument_edit"),
]

urlpatterns = [
    path(
        "child/<int:pk>/new/", assessments.AssessmentCreateView.as_view(), name="assessment_create"
    ),
    path("<int:pk>/", assessments.AssessmentDetailView.as_view(), name="assessment_detail"),
    path("<int:pk>/amend/", assessments.AssessmentAmendView.as_view(), name="assessment_amend"),
    path("alerts/", alerts.AlertListView.as_view(), name="alert_list"),
    path("alerts/<int:pk>/", alerts.AlertDetailView.as_view(), name="alert_detail"),
    path(
        "alerts/<int:pk>/guardian-informed/",
        alerts.AlertGuardianInformedView.as_view(),
        name="alert_guardian_informed",
    ),
    path("screenings/", include(screening_patterns)),
    path("instruments/", include(instrument_patterns)),
]
