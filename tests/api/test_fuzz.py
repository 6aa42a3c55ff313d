"""Schemathesis against the API's own OpenAPI schema (issue 14): requests generated from the
schema, valid and not, sent as demo users to the real app; no answer may be a server error, and
every answer must match the schema (status code, content type, body, headers).

The schema is generated in-process (the same document /api/v1/schema/ serves) and the calls go
to Django's WSGI handler in the test's own database transaction, where the demo world is.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from rest_framework.settings import api_settings
from schemathesis import checks

from tests.demo import user

pytestmark = pytest.mark.django_db

# Examples per operation and user; FUZZ_EXAMPLES=200 for a longer run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
# Roles whose rights differ most: a child director (village, contributes), a counsellor (a
# school's pupils, submits questionnaires) and a clinician (referred children only).
USERS = ("director_a", "counselor", "clinician")


def _app() -> Any:
    """Django's WSGI handler, kept from closing the test's database connection at the end of
    each request (as Django's test client does): the demo world and the test's writes live in
    that connection's transaction."""
    handler = get_wsgi_application()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = handler(environ, start_response)
            body = list(response)
            if hasattr(response, "close"):
                response.close()
            return body
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


def _schema() -> Any:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = _app()
    return loaded


schema = _schema()


# What the issue asks: no server error, and every answer as the schema describes it (status,
# content type, body, headers). Not `positive_data_acceptance`: input the schema allows may
# still break a rule no schema expresses (a school or an institution, a date within bounds,
# a child in the caller's scope), and is then refused with 400 or 404 as documented.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture(params=USERS)
def token(request: Any) -> str:
    _instance, secret = AuthToken.objects.create(
        user=user(request.param), expiry=timedelta(hours=1)
    )
    return str(secret)


def _unthrottled() -> Any:
    # Thousands of requests a minute from one user: the throttles have their own test.
    rates = {"user": "1000000/min", "address": "1000000/min", "token": "1000000/min"}
    return override_settings(
        REST_FRAMEWORK={**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": rates}
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_schema_says(case: Any, token: str) -> None:
    with _unthrottled():
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
