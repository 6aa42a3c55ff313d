"""The service venue directory ("venues" namespace), staff training ("training" namespace) and
the pages of long exports ("exports" namespace)."""

from django.urls import include, path

from institutions.views.exports import ExportJobDownloadView, ExportJobView, ExportView
from institutions.views.training import (
    TrainingCreateView,
    TrainingDetailView,
    TrainingListView,
    TrainingReportView,
)
from institutions.views.venues import VenueDetailView, VenueListView

venue_patterns = [
    path("", VenueListView.as_view(), name="venue_list"),
    path("<int:pk>/", VenueDetailView.as_view(), name="venue_detail"),
]

training_patterns = [
    path("", TrainingListView.as_view(), name="training_list"),
    path("new/", TrainingCreateView.as_view(), name="training_create"),
    path("report/", TrainingReportView.as_view(), name="training_report"),
    path(
        "report/export/",
        ExportView.as_view(export_kind="training_report"),
        name="training_report_export",
    ),
    path("<int:pk>/", TrainingDetailView.as_view(), name="training_detail"),
]

# A long export written in the background: its page and its file, for its requester alone.
export_patterns = [
    path("<int:pk>/", ExportJobView.as_view(), name="job"),
    path("<int:pk>/download/", ExportJobDownloadView.as_view(), name="download"),
]

urlpatterns = [
    path("venues/", include((venue_patterns, "venues"))),
    path("exports/", include((export_patterns, "exports"))),
    path("trainings/", include((training_patterns, "training"))),
]
