from django.urls import include, path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.ChildListView.as_view(), name="child_list"),
    path("<int:pk>/", views.ChildDetailView.as_view(), name="child_detail"),
    path("import/", include("cases.urls_import")),
    path("audit/", include("cases.urls_audit")),
]
