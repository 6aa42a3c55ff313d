from django.urls import path

from institutions.views.exports import ExportView
from referrals.views.create import InstitutionOptionsView, ReferralCreateView
from referrals.views.detail import AttachmentView, ReferralDetailView
from referrals.views.lists import InboxView, ReferralListView
from referrals.views.review import OverrideReviewView
from referrals.views.steps import ReferralStepView

app_name = "referrals"

urlpatterns = [
    path("", ReferralListView.as_view(), name="list"),
    path("export/", ExportView.as_view(export_kind="referrals"), name="export"),
    path("inbox/", InboxView.as_view(), name="inbox"),
    path("new/<int:pk>/", ReferralCreateView.as_view(), name="referral_create"),
    path(
        "new/<int:pk>/institutions/",
        InstitutionOptionsView.as_view(),
        name="institution_options",
    ),
    path("attachments/<int:pk>/", AttachmentView.as_view(), name="attachment"),
    path("<int:pk>/", ReferralDetailView.as_view(), name="detail"),
    path("<int:pk>/review/", OverrideReviewView.as_view(), name="review"),
    path("<int:pk>/<slug:step>/", ReferralStepView.as_view(), name="step"),
]
