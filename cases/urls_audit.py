"""Access log pages for auditors, under /children/audit/."""

from django.urls import path

from cases import views_audit

urlpatterns = [
    path("", views_audit.AccessLogView.as_view(), name="audit_log"),
    path("child/<int:pk>/", views_audit.ChildAccessLogView.as_view(), name="audit_child"),
    path("user/<int:pk>/", views_audit.UserAccessLogView.as_view(), name="audit_user"),
    path("admin-actions/", views_audit.AdminActionsView.as_view(), name="audit_admin_actions"),
]
