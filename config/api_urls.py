"""The JSON API under /api/v1/: each app's resources (its `api.ROUTES`), tokens, the OpenAPI
schema and its documentation page, served without a CDN."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from assessments import api as assessments_api
from cases import api as cases_api
from core.api_errors import api_not_found
from dashboards import api as dashboards_api
from followups import api as followups_api
from institutions import api_resources as institutions_api
from institutions.api import IsVerifiedStaff
from institutions.api_tokens import TokenDetailView, TokenListView, TokenView
from referrals import api as referrals_api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False
for module in (
    institutions_api,
    cases_api,
    assessments_api,
    referrals_api,
    followups_api,
    dashboards_api,
):
    for prefix, viewset, basename in module.ROUTES:
        router.register(prefix, viewset, basename=basename)

app_name = "api"
urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/tokens/", TokenListView.as_view(), name="tokens"),
    path("auth/tokens/<str:token_key>/", TokenDetailView.as_view(), name="token_detail"),
    *[
        path(f"dashboards/{route}", view, name=f"dashboards_{name}")
        for route, view, name in dashboards_api.PATHS
    ],
    *router.urls,
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[IsVerifiedStaff]),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", permission_classes=[IsVerifiedStaff]
        ),
        name="docs",
    ),
    # Anything else under /api/ answers the API's 404, never the pages' HTML one.
    re_path(r"^.*$", api_not_found),
]
