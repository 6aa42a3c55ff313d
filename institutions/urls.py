"""The service venue directory ("venues" namespace) and staff training ("training" namespace)."""

from django.urls import include, path

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
    path("<int:pk>/", TrainingDetailView.as_view(), name="training_detail"),
]

urlpatterns = [
    path("venues/", include((venue_patterns, "venues"))),
    path("trainings/", include((training_patterns, "training"))),
]
