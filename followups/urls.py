"""The followups app's pages. `urlpatterns` (the "followups" namespace) is included at the site's
root; `activity_patterns` is included under activities/ in its own "activities" namespace by
config/urls.py."""

from django.urls import path

from followups.views import activities, notifications, visits

app_name = "followups"

urlpatterns = [
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notification_read, name="notification_read"),
    path("visits/new/<int:pk>/", visits.VisitCreateView.as_view(), name="visit_create"),
    path("visits/<int:pk>/", visits.VisitDetailView.as_view(), name="visit_detail"),
]

# Psycho-education activities: config/urls.py includes these as (activity_patterns, "activities").
activity_patterns = [
    path("", activities.ActivityListView.as_view(), name="activity_list"),
    path("new/", activities.ActivityCreateView.as_view(), name="activity_create"),
    path("<int:pk>/", activities.ActivityDetailView.as_view(), name="activity_detail"),
]
