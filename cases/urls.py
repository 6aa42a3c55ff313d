"""The children's pages, under /children/: the file and its care, access beyond the user's scope,
the import (/children/import/) and the access log for auditors (/children/audit/)."""

from django.urls import include, path, re_path

from cases.views import access, audit, care, children, family, handover, imports, registration
from institutions.views.exports import ExportView

app_name = "cases"

import_patterns = [
    path("", imports.ImportStartView.as_view(), name="import_start"),
    path("<int:pk>/", imports.ImportStatusView.as_view(), name="import_status"),
    path("<int:pk>/again/", imports.ImportRestartView.as_view(), name="import_restart"),
    re_path(
        r"^template\.(?P<fmt>xlsx|csv)$",
        imports.ImportTemplateView.as_view(),
        name="import_template",
    ),
]

audit_patterns = [
    path("", audit.AccessLogView.as_view(), name="audit_log"),
    path("child/<int:pk>/", audit.ChildAccessLogView.as_view(), name="audit_child"),
    path("user/<int:pk>/", audit.UserAccessLogView.as_view(), name="audit_user"),
    path("admin-actions/", audit.AdminActionsView.as_view(), name="audit_admin_actions"),
    path("export/", ExportView.as_view(export_kind="access_log"), name="audit_export"),
]

urlpatterns = [
    path("", children.ChildListView.as_view(), name="child_list"),
    # The list's export: the same query string, with fmt=xlsx|csv (and deidentified=1).
    path("export/", ExportView.as_view(export_kind="children"), name="child_export"),
    path(
        "filter-options/<slug:field>/",
        children.ChildFilterOptionsView.as_view(),
        name="child_filter_options",
    ),
    path("new/", registration.ChildCreateView.as_view(), name="child_create"),
    path("new/duplicates/", registration.DuplicateCheckView.as_view(), name="child_duplicates"),
    path("new/regions/", registration.RegionSearchView.as_view(), name="region_search"),
    path("request-access/", access.AccessRequestCreateView.as_view(), name="access_request"),
    path("access-requests/", access.AccessRequestListView.as_view(), name="access_requests"),
    path("emergency-access/", access.EmergencyAccessView.as_view(), name="emergency_access"),
    path("emergency-reviews/", access.EmergencyReviewView.as_view(), name="emergency_reviews"),
    path("handed-over/", handover.HandoverListView.as_view(), name="handover_list"),
    path("handed-over/<int:pk>/", handover.HandoverDetailView.as_view(), name="handover_detail"),
    path("<int:pk>/", children.ChildDetailView.as_view(), name="child_detail"),
    path("<int:pk>/edit/", children.ChildEditView.as_view(), name="child_edit"),
    path(
        "<int:pk>/edit/regions/",
        children.ChildRegionSearchView.as_view(),
        name="child_region_search",
    ),
    path("<int:pk>/close/", children.ChildCloseView.as_view(), name="child_close"),
    path("<int:pk>/history/", children.ChildHistoryView.as_view(), name="child_history"),
    path("<int:pk>/handover/", handover.HandoverView.as_view(), name="child_handover"),
    path(
        "<int:pk>/handover/regions/",
        handover.HandoverRegionSearchView.as_view(),
        name="handover_region_search",
    ),
    path("<int:pk>/guardians/new/", family.GuardianAddView.as_view(), name="guardian_add"),
    path("guardians/<int:pk>/", family.GuardianEditView.as_view(), name="guardian_edit"),
    path("<int:pk>/consents/new/", family.ConsentAddView.as_view(), name="consent_add"),
    path(
        "consents/<int:pk>/withdraw/",
        family.ConsentWithdrawView.as_view(),
        name="consent_withdraw",
    ),
    path("<int:pk>/team/new/", care.CareTeamAddView.as_view(), name="care_team_add"),
    path(
        "<int:pk>/team/colleagues/",
        care.CareTeamColleaguesView.as_view(),
        name="care_team_colleagues",
    ),
    path("team/<int:pk>/remove/", care.CareTeamRemoveView.as_view(), name="care_team_remove"),
    path("<int:pk>/plans/new/", care.CarePlanAddView.as_view(), name="care_plan_add"),
    path("plans/<int:pk>/review/", care.CarePlanReviewView.as_view(), name="care_plan_review"),
    path("import/", include(import_patterns)),
    path("audit/", include(audit_patterns)),
]
