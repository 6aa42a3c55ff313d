from django.urls import include, path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("child/<int:pk>/new/", views.AssessmentCreateView.as_view(), name="assessment_create"),
    path("<int:pk>/", views.AssessmentDetailView.as_view(), name="assessment_detail"),
    path("<int:pk>/amend/", views.AssessmentAmendView.as_view(), name="assessment_amend"),
    path("alerts/", views.AlertListView.as_view(), name="alert_list"),
    path("alerts/<int:pk>/", views.AlertDetailView.as_view(), name="alert_detail"),
    path("screenings/", include("assessments.urls_screening")),
    path("instruments/", include("assessments.urls_builder")),
]
