from django.urls import include, path

from cases import views, views_care

app_name = "cases"

urlpatterns = [
    path("", views.ChildListView.as_view(), name="child_list"),
    path("new/", views.ChildCreateView.as_view(), name="child_create"),
    path("new/duplicates/", views.DuplicateCheckView.as_view(), name="child_duplicates"),
    path("request-access/", views.AccessRequestCreateView.as_view(), name="access_request"),
    path("access-requests/", views_care.AccessRequestListView.as_view(), name="access_requests"),
    path("emergency-access/", views.EmergencyAccessView.as_view(), name="emergency_access"),
    path("emergency-reviews/", views.EmergencyReviewView.as_view(), name="emergency_reviews"),
    path("handed-over/", views_care.HandoverListView.as_view(), name="handover_list"),
    path("handed-over/<int:pk>/", views_care.HandoverDetailView.as_view(), name="handover_detail"),
    path("<int:pk>/", views.ChildDetailView.as_view(), name="child_detail"),
    path("<int:pk>/edit/", views.ChildEditView.as_view(), name="child_edit"),
    path("<int:pk>/close/", views.ChildCloseView.as_view(), name="child_close"),
    path("<int:pk>/history/", views.ChildHistoryView.as_view(), name="child_history"),
    path("<int:pk>/handover/", views_care.HandoverView.as_view(), name="child_handover"),
    path("<int:pk>/guardians/new/", views_care.GuardianAddView.as_view(), name="guardian_add"),
    path("guardians/<int:pk>/", views_care.GuardianEditView.as_view(), name="guardian_edit"),
    path("<int:pk>/consents/new/", views_care.ConsentAddView.as_view(), name="consent_add"),
    path(
        "consents/<int:pk>/withdraw/",
        views_care.ConsentWithdrawView.as_view(),
        name="consent_withdraw",
    ),
    path("<int:pk>/team/new/", views_care.CareTeamAddView.as_view(), name="care_team_add"),
    path("team/<int:pk>/remove/", views_care.CareTeamRemoveView.as_view(), name="care_team_remove"),
    path("<int:pk>/plans/new/", views_care.CarePlanAddView.as_view(), name="care_plan_add"),
    path(
        "plans/<int:pk>/review/", views_care.CarePlanReviewView.as_view(), name="care_plan_review"
    ),
    path("import/", include("cases.urls_import")),
    path("audit/", include("cases.urls_audit")),
]
