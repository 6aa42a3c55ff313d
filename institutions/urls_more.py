"""The service venue directory ("venues" namespace) and staff training ("training" namespace)."""

from django.urls import include, path

from institutions import views_training, views_venues

venue_patterns = [
    path("", views_venues.VenueListView.as_view(), name="venue_list"),
    path("<int:pk>/", views_venues.VenueDetailView.as_view(), name="venue_detail"),
]

training_patterns = [
    path("", views_training.TrainingListView.as_view(), name="training_list"),
    path("new/", views_training.TrainingCreateView.as_view(), name="training_create"),
    path("report/", views_training.TrainingReportView.as_view(), name="training_report"),
    path("<int:pk>/", views_training.TrainingDetailView.as_view(), name="training_detail"),
]

urlpatterns = [
    path("venues/", include((venue_patterns, "venues"))),
    path("trainings/", include((training_patterns, "training"))),
]
