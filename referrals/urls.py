from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.ReferralListView.as_view(), name="list"),
    path("inbox/", views.InboxView.as_view(), name="inbox"),
    path("new/<int:pk>/", views.ReferralCreateView.as_view(), name="referral_create"),
    path(
        "new/<int:pk>/institutions/",
        views.InstitutionOptionsView.as_view(),
        name="institution_options",
    ),
    path("attachments/<int:pk>/", views.AttachmentView.as_view(), name="attachment"),
    path("<int:pk>/", views.ReferralDetailView.as_view(), name="detail"),
    path("<int:pk>/review/", views.OverrideReviewView.as_view(), name="review"),
    path("<int:pk>/<slug:step>/", views.ReferralStepView.as_view(), name="step"),
]
