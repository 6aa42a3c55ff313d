"""Pages of the child import, under /children/import/."""

from django.urls import path, re_path

from cases import views_import

urlpatterns = [
    path("", views_import.ImportStartView.as_view(), name="import_start"),
    path("<int:pk>/", views_import.ImportStatusView.as_view(), name="import_status"),
    re_path(
        r"^template\.(?P<fmt>xlsx|csv)$",
        views_import.ImportTemplateView.as_view(),
        name="import_template",
    ),
]
