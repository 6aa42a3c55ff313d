"""Top-level URLs: pages, accounts, the API and the administrators' site."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from assessments.api import AssessmentViewSet
from cases.api import ChildViewSet
from dashboards import views as dashboard_views
from followups.urls import activity_patterns
from followups.views import notifications as notification_views
from institutions.admin.passwords import PasswordSetDoneView, PasswordSetView
from institutions.admin.site import site as admin_site
from institutions.api import IsVerifiedStaff
from institutions.forms import LoginForm
from institutions.views.accounts import two_factor_setup, two_factor_verify
from institutions.views.health import healthz
from referrals.api import ReferralViewSet

router = DefaultRouter()
router.register("children", ChildViewSet, basename="child")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("referrals", ReferralViewSet, basename="referral")

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("dashboards/", include("dashboards.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # A one-time set-password link (issued by the security administrator) opens here.
    path("accounts/set-password/done/", PasswordSetDoneView.as_view(), name="password_set_done"),
    path("accounts/set-password/<uidb64>/<token>/", PasswordSetView.as_view(), name="password_set"),
    path("accounts/two-factor/", two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", two_factor_verify, name="two_factor_verify"),
    # Django's language switch, which also keeps a signed-in user's language for their e-mails.
    path("i18n/setlang/", notification_views.set_language, name="set_language"),
    path("children/", include("cases.urls")),
    path("", include("followups.urls")),
    path("assessments/", include("assessments.urls")),
    path("referrals/", include("referrals.urls")),
    path("activities/", include((activity_patterns, "activities"))),
    path("", include("institutions.urls")),
    path("api/v1/", include(router.urls)),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsVerifiedStaff]),
        name="api_schema",
    ),
    path("admin/", admin_site.urls),
    path("healthz", healthz, name="healthz"),
]
