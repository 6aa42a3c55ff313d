from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.ChildListView.as_view(), name="child_list"),
    path("<int:pk>/", views.ChildDetailView.as_view(), name="child_detail"),
]
