"""The followups app's pages. `urlpatterns` (the "followups" namespace) is included at the site's
root; `activity_patterns` is included under activities/ in its own "activities" namespace by
config/urls.py."""

from django.urls import path

from followups.exports import VisitExportFilterForm
from followups.views import activities, notifications, plans, tasks, visits
from institutions.views.exports import ExportView

app_name = "followups"

urlpatterns = [
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notification_read, name="notification_read"),
    path(
        "notifications/settings/",
        notifications.notification_settings,
        name="notification_settings",
    ),
    path("tasks/", tasks.MyTaskListView.as_view(), name="my_tasks"),
    path("tasks/team/", tasks.TeamTaskView.as_view(), name="team_tasks"),
    # ?scope=team: the team's overdue tasks (the team page); otherwise the user's own.
    path("tasks/export/", ExportView.as_view(export_kind="tasks"), name="task_export"),
    # No list of visits is shown: the export has its own page with the filters.
    path(
        "visits/export/",
        ExportView.as_view(export_kind="visits", filter_form_class=VisitExportFilterForm),
        name="visit_export",
    ),
    path("visits/new/<int:pk>/", visits.VisitCreateView.as_view(), name="visit_create"),
    path("visits/<int:pk>/", visits.VisitDetailView.as_view(), name="visit_detail"),
    path("followup-plans/<int:pk>/", plans.PlanDetailView.as_view(), name="plan_detail"),
    path("followup-plans/<int:pk>/pair/", plans.PlanPairView.as_view(), name="plan_pair"),
    path("followup-plans/<int:pk>/end/", plans.PlanEndView.as_view(), name="plan_end"),
    path(
        "children/<int:pk>/followup-plans/new/",
        plans.PlanCreateView.as_view(),
        name="plan_create",
    ),
]

# Psycho-education activities: config/urls.py includes these as (activity_patterns, "activities").
activity_patterns = [
    path("", activities.ActivityListView.as_view(), name="activity_list"),
    path("new/", activities.ActivityCreateView.as_view(), name="activity_create"),
    path("<int:pk>/", activities.ActivityDetailView.as_view(), name="activity_detail"),
]
