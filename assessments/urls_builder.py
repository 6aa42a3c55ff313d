from django.urls import path

from assessments import views_builder as views

urlpatterns = [
    path("", views.InstrumentListView.as_view(), name="instrument_list"),
    path("new/", views.InstrumentCreateView.as_view(), name="instrument_create"),
    path("preview/", views.InstrumentPreviewView.as_view(), name="instrument_preview"),
    path("<int:pk>/", views.InstrumentDetailView.as_view(), name="instrument_detail"),
    path("<int:pk>/edit/", views.InstrumentEditView.as_view(), name="instrument_edit"),
]
