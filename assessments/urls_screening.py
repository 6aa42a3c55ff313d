"""Screening sessions; included under assessments/screenings/ in the "assessments" namespace."""

from django.urls import path

from assessments import views_screening as views

urlpatterns = [
    path("", views.ScreeningListView.as_view(), name="screening_list"),
    path("new/", views.ScreeningCreateView.as_view(), name="screening_create"),
    path("<int:pk>/", views.ScreeningDetailView.as_view(), name="screening_detail"),
    path(
        "<int:pk>/child/<int:child_pk>/",
        views.ScreeningEntryView.as_view(),
        name="screening_entry",
    ),
    path(
        "<int:pk>/child/<int:child_pk>/absent/",
        views.ScreeningAbsentView.as_view(),
        name="screening_absent",
    ),
    path("<int:pk>/import/", views.ScreeningImportView.as_view(), name="screening_import"),
    path("<int:pk>/summary/", views.ScreeningSummaryView.as_view(), name="screening_summary"),
    path("<int:pk>/close/", views.ScreeningCloseView.as_view(), name="screening_close"),
]
