"""What every API caller meets: tokens, the one error shape in the caller's language, cursor
pages, throttling, the schema and its documentation page (issue 14)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import yaml
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.request import Request
from rest_framework.settings import api_settings

from cases.models import Child, Guardian
from core.models import AccessEvent
from institutions.api import BoundedCursorPagination
from tests.conftest import client_for
from tests.demo import DEMO_PASSWORD, user
from tests.institutions.test_accounts import STRONG, make_supervisor

pytestmark = pytest.mark.django_db


def obtain(username: str, password: str = DEMO_PASSWORD, **extra: str):
    return Client().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password, **extra},
        content_type="application/json",
    )


def with_token(token: str, **headers: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}", **headers)


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


class TestTokens:
    def test_a_token_reads_the_callers_scope_without_a_session(self):
        response = obtain("director_a")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["expires_at"] and body["token_key"] == body["token"][:15]
        client = with_token(body["token"])
        listed = client.get("/api/v1/children/", {"page_size": 100})
        assert listed.status_code == 200
        session_list = client_for("director_a").get("/api/v1/children/", {"page_size": 100})
        assert {c["id"] for c in listed.json()["results"]} == {
            c["id"] for c in session_list.json()["results"]
        }
        # Only the hash is kept: the token itself is nowhere in the database.
        assert not AuthToken.objects.filter(digest=body["token"]).exists()
        assert AccessEvent.objects.filter(
            user=user("director_a"), action=AccessEvent.Action.SIGN_IN
        ).exists()

    def test_a_token_writes_without_csrf(self):
        token = obtain("counselor").json()["token"]
        response = with_token(token).post(
            "/api/v1/assessments/", {}, content_type="application/json"
        )
        # Reached validation (400), not refused for a missing CSRF token (403).
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"

    def test_wrong_password_is_401_and_counts_towards_the_lockout(self):
        for _attempt in range(4):
            wrong = obtain("director_b", "not-the-password")
            assert wrong.status_code == 401
            assert wrong.json()["code"] == "authentication_failed"
        fifth = obtain("director_b", "not-the-password")
        assert fifth.status_code == 429 and fifth.json()["code"] == "locked_out"
        locked = obtain("director_b")  # the right password, after five failures
        assert locked.status_code == 429
        assert locked.json()["code"] == "locked_out"
        assert not AuthToken.objects.filter(user=user("director_b")).exists()

    def test_two_factor_users_must_send_their_code(self):
        supervisor = make_supervisor()
        device = TOTPDevice.objects.create(user=supervisor, name="phone", confirmed=True)
        without = obtain("real_supervisor", STRONG)
        assert without.status_code == 401
        assert "otp" in without.json()["message"]
        wrong = obtain("real_supervisor", STRONG, otp="000000")
        assert wrong.status_code == 401
        time.sleep(1.1)  # django-otp makes the next try after a wrong code wait
        right = obtain("real_supervisor", STRONG, otp=code_of(device))
        assert right.status_code == 201, right.content
        assert with_token(right.json()["token"]).get("/api/v1/children/").status_code == 200

    def test_a_user_who_owes_two_factor_enrolment_gets_no_token(self):
        make_supervisor()
        response = obtain("real_supervisor", STRONG)
        assert response.status_code == 403
        assert not AuthToken.objects.filter(user__username="real_supervisor").exists()

    def test_a_token_expires(self):
        token = obtain("director_a").json()["token"]
        AuthToken.objects.filter(user=user("director_a")).update(
            expiry=timezone.now() - timedelta(seconds=1)
        )
        response = with_token(token).get("/api/v1/children/")
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"

    def test_the_user_revokes_this_token_or_another_of_theirs(self):
        first = obtain("director_a").json()
        second = obtain("director_a").json()
        client = with_token(first["token"])
        assert {t["token_key"] for t in client.get("/api/v1/auth/tokens/").json()} >= {
            first["token_key"],
            second["token_key"],
        }
        assert client.delete(f"/api/v1/auth/tokens/{second['token_key']}/").status_code == 204
        assert with_token(second["token"]).get("/api/v1/children/").status_code == 401
        assert client.delete("/api/v1/auth/token/").status_code == 204
        assert client.get("/api/v1/children/").status_code == 401

    def test_nobody_revokes_another_users_token_through_the_api(self):
        theirs = obtain("director_b").json()
        mine = with_token(obtain("director_a").json()["token"])
        assert mine.delete(f"/api/v1/auth/tokens/{theirs['token_key']}/").status_code == 404
        assert with_token(theirs["token"]).get("/api/v1/children/").status_code == 200

    def test_the_security_administrator_revokes_a_token_in_the_admin(self):
        theirs = obtain("director_b").json()
        security = client_for("security")
        token = AuthToken.objects.get(token_key=theirs["token_key"])
        page = security.get(f"/admin/knox/authtoken/{token.pk}/delete/")
        assert page.status_code == 200
        done = security.post(f"/admin/knox/authtoken/{token.pk}/delete/", {"post": "yes"})
        assert done.status_code == 302
        assert with_token(theirs["token"]).get("/api/v1/children/").status_code == 401
        assert AccessEvent.objects.filter(
            user=user("security"), detail__event="api_token_revoked"
        ).exists()
        # The system administrator may not.
        other = obtain("director_a").json()
        pk = AuthToken.objects.get(token_key=other["token_key"]).pk
        assert client_for("admin").get(f"/admin/knox/authtoken/{pk}/delete/").status_code == 403


class TestErrors:
    def test_field_errors_in_the_requested_language(self):
        client = client_for("counselor")
        for language, expected in (("en", "not valid"), ("zh-CN", "无效")):
            response = client.post(
                "/api/v1/assessments/",
                {"child": "x", "instrument": "PHQ-9", "answers": {}},
                content_type="application/json",
                HTTP_ACCEPT_LANGUAGE=language,
            )
            body = response.json()
            assert response.status_code == 400
            assert set(body) == {"code", "message", "fields"}
            assert body["code"] == "invalid" and expected in body["message"]
            assert "child" in body["fields"]

    def test_chinese_without_accept_language(self):
        response = Client().get("/api/v1/children/")
        assert response.status_code in (401, 403)
        body = response.json()
        assert body["code"] in {"not_authenticated", "authentication_failed"}
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])

    @pytest.mark.parametrize(
        "path", ["/api/v1/nothing-here/", "/api/v1/children/not-a-number/", "/api/v2/"]
    )
    def test_unknown_paths_answer_json_not_html(self, path):
        response = client_for("director_a").get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"code": "not_found", "message": "Not found."}

    def test_malformed_json_is_400(self):
        response = client_for("counselor").post(
            "/api/v1/assessments/", "{not json", content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["code"] == "parse_error"

    @pytest.mark.parametrize(
        "cursor",
        [
            "cD1hYmM=",  # p=abc: a position that is not an id
            "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ==",  # p=99999999999999999999999
            "bz05OTk5OTk5OTk5OTk5OTk5OTk5OQ==",  # o=99999999999999999999
            "not base64 at all!",
        ],
    )
    def test_a_forged_cursor_is_an_error_not_a_crash(self, cursor):
        response = client_for("director_a").get("/api/v1/children/", {"cursor": cursor})
        assert response.status_code in (200, 400, 404), response.content[:200]
        if response.status_code != 200:
            assert response.json()["code"] in {"invalid", "not_found"}


class TestPagesOfAList:
    def test_cursor_pages_walk_every_child_once(self):
        client = client_for("county_civil")
        seen: list[int] = []
        url = "/api/v1/children/?page_size=40"
        queries = []
        while url:
            body = client.get(url).json()
            seen.extend(row["id"] for row in body["results"])
            url = body["next"]
            queries.append(url)
        assert len(seen) == len(set(seen)) > 40
        assert seen == sorted(seen, reverse=True)  # newest first, by id

    def test_a_list_without_joins_reads_its_keys_from_its_own_filter(self):
        """The children's keys come from the list's filter on the table itself, not from the
        whole table's ids matched against it (a self-join); the pages stay those above."""
        client = client_for("county_civil")
        with CaptureQueriesContext(connection) as captured:
            body = client.get("/api/v1/children/?page_size=40").json()
        keys = [q["sql"] for q in captured.captured_queries if "cursor_sort_key" in q["sql"]]
        assert len(keys) == 1
        assert "IN (SELECT" not in keys[0]
        assert len(body["results"]) == 40

    def test_a_list_whose_join_repeats_rows_still_names_each_row_once(self):
        """A join to a many side (a child with two active guardians) repeats the child: the
        keys are then the table's rows the list names, each once."""
        children = list(Child.objects.order_by("pk")[:3])
        for child in children:
            for name in ("Fictional Guardian One", "Fictional Guardian Two"):
                Guardian.objects.create(child=child, name=name, relation="other", is_active=True)
        joined = Child.objects.filter(pk__in=[c.pk for c in children], guardians__is_active=True)
        assert joined.count() > len(children)  # the join repeats them
        request = Request(RequestFactory().get("/", {"page_size": 2}))
        seen: list[int] = []
        while True:
            pagination = BoundedCursorPagination()  # one per request, as DRF's views make it
            page = pagination.paginate_queryset(joined, request)
            seen.extend(row.pk for row in page)
            following = pagination.get_next_link()
            if following is None:
                break
            request = Request(RequestFactory().get(following))
        assert seen == sorted((c.pk for c in children), reverse=True)

    def test_page_size_is_capped(self):
        body = client_for("county_civil").get("/api/v1/children/", {"page_size": 5000}).json()
        assert len(body["results"]) == 100


def forget_throttles(*idents: object) -> None:
    """Start a throttle test from empty counters (other tests' requests stay in the cache)."""
    for ident in idents:
        for scope in ("user", "address"):
            cache.delete(f"throttle_{scope}_{ident}")


class TestThrottling:
    def test_each_user_is_throttled_past_the_rate(self):
        rates = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"}
        rest = {**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": rates}
        forget_throttles(user("director_a").pk, user("director_b").pk, "127.0.0.1")
        with override_settings(REST_FRAMEWORK=rest):
            director = client_for("director_a")
            answers = [director.get("/api/v1/children/").status_code for _ in range(4)]
            assert answers == [200, 200, 200, 429]
            limited = director.get("/api/v1/children/", HTTP_ACCEPT_LANGUAGE="en")
            assert limited.json()["code"] == "throttled"
            assert "Retry-After" in limited
            # Another user is not held back by the first one's requests.
            assert client_for("director_b").get("/api/v1/children/").status_code == 200

    def test_one_address_is_throttled_whoever_signs_in(self):
        rates = {**api_settings.DEFAULT_THROTTLE_RATES, "address": "4/min"}
        rest = {**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": rates}
        forget_throttles("10.9.8.7", "10.9.8.8")
        with override_settings(REST_FRAMEWORK=rest):
            statuses = [
                client_for(name).get("/api/v1/children/", REMOTE_ADDR="10.9.8.7").status_code
                for name in ("director_a", "director_b", "counselor", "mentor", "volunteer")
            ]
            assert statuses == [200, 200, 200, 200, 429]
            other = client_for("director_a").get("/api/v1/children/", REMOTE_ADDR="10.9.8.8")
            assert other.status_code == 200


class TestSchema:
    def test_the_schema_has_no_warnings_and_documents_errors(self, tmp_path):
        out = tmp_path / "schema.yaml"
        # --fail-on-warn: any drf-spectacular warning fails the command (and this test).
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
        schema = yaml.safe_load(out.read_text())
        assert schema["openapi"].startswith("3.")
        children = schema["paths"]["/api/v1/children/"]["get"]
        assert {"400", "401", "403", "404", "429"} <= set(children["responses"])
        error = children["responses"]["404"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}
        assert "tokenAuth" in schema["components"]["securitySchemes"]

    def test_schema_and_docs_are_served_to_staff_from_our_own_files(self):
        client = client_for("director_a")
        schema = client.get("/api/v1/schema/")
        assert schema.status_code == 200 and b"/api/v1/children/" in schema.content
        docs = client.get("/api/v1/docs/")
        assert docs.status_code == 200
        html = docs.content.decode()
        assert "swagger-ui" in html and "cdn" not in html.lower()
        assert "/static/drf_spectacular_sidecar/" in html
        assert Client().get("/api/v1/schema/").status_code in (401, 403)
        assert Client().get("/api/schema/")["Location"] == "/api/v1/schema/"
