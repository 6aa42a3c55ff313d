"""Top-level URLs: pages, accounts, the API and the administrators' site."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views import defaults
from django.views.generic import RedirectView

from core import offline
from core.api_errors import page_or_json
from dashboards import views as dashboard_views
from followups.urls import activity_patterns
from followups.views import notifications as notification_views
from institutions.admin.passwords import PasswordSetDoneView, PasswordSetView
from institutions.admin.site import site as admin_site
from institutions.forms import LoginForm
from institutions.views.accounts import two_factor_setup, two_factor_verify
from institutions.views.health import healthz

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
    path("sw.js", offline.service_worker, name="service_worker"),
    path("manifest.webmanifest", offline.web_manifest, name="web_manifest"),
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
    # The schema's old address (before the API's version prefix) leads to the new one.
    path("api/schema/", RedirectView.as_view(url="/api/v1/schema/", permanent=True)),
    path("api/v1/", include("config.api_urls")),
    path("admin/", admin_site.urls),
    path("healthz", healthz, name="healthz"),
]

# Errors under /api/ answer in the API's JSON shape (core.api_errors); pages keep Django's.
handler400 = page_or_json(defaults.bad_request, 400)
handler403 = page_or_json(defaults.permission_denied, 403)
handler404 = page_or_json(defaults.page_not_found, 404)
handler500 = page_or_json(defaults.server_error, 500)
