"""Referrals through the API (issue 14): a draft written through the page's form and service,
each step of the life cycle its own endpoint with the page's rules (who, which side, the
consent, the dates), the history, and concurrent steps answered 409 or 412."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import ChildAccessGrant, Consent
from cases.services.access import grant_open
from core.models import AccessEvent
from followups.models import FollowupPlan
from institutions.models import Institution
from institutions.roles import Level
from referrals.models import Referral
from tests.conftest import client_for, user
from tests.factories import AssessmentFactory, ChildFactory, GuardianFactory
from tests.referrals import S, advance, draft, give_consent, hospital, pupil, sent, social_psych

pytestmark = pytest.mark.django_db


def post(username: str, url: str, body: dict[str, Any] | None = None, **headers: str):
    return client_for(username).post(
        url, json.dumps(body or {}), content_type="application/json", headers=headers
    )


def step(username: str, referral: Referral, name: str, body: dict[str, Any] | None = None, **h):
    return post(username, f"/api/v1/referrals/{referral.pk}/{name}/", body, **h)


def status_of(referral: Referral) -> str:
    referral.refresh_from_db()
    return referral.status


def later(**delta: int) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


def draft_body(child, **changes: Any) -> dict[str, Any]:
    return {
        "child": child.pk,
        "to_institution": hospital().pk,
        "service": Institution.Service.PSYCHIATRIC_CLINIC,
        "urgency": Referral.Urgency.ROUTINE,
        "reason": "持续情绪低落，PHQ-9 分数高。",
        **changes,
    }


class TestDraft:
    def test_the_counsellor_writes_a_draft_through_the_service(self):
        child = pupil()
        response = post("counselor", "/api/v1/referrals/", draft_body(child))
        assert response.status_code == 201, response.content
        body = response.json()
        referral = Referral.objects.get(pk=body["id"])
        assert (referral.status, referral.child, referral.from_user) == (
            S.DRAFT,
            child,
            user("counselor"),
        )
        assert referral.from_institution is not None  # the counsellor's school
        assert list(referral.events.values_list("to_status", flat=True)) == [S.DRAFT]
        assert body["actions"] == ["send", "withdraw"]
        assert response["ETag"] == f'"{referral.pk}-s{body["last_step"]}"'

    def test_an_institution_without_the_service_is_refused_on_its_field(self):
        response = post(
            "counselor",
            "/api/v1/referrals/",
            draft_body(pupil(), service=Institution.Service.SOCIAL_WORK),
        )
        assert response.status_code == 400
        assert "to_institution" in response.json()["fields"]
        assert not Referral.objects.filter(child=pupil()).exists()

    def test_a_result_of_another_child_answers_404(self):
        other = AssessmentFactory(child=pupil(1))
        response = post("counselor", "/api/v1/referrals/", draft_body(pupil(), assessment=other.pk))
        assert response.status_code == 404
        assert not Referral.objects.filter(child=pupil()).exists()

    @pytest.mark.parametrize("username", ["county_civil", "mentor", "clinician"])
    def test_roles_that_do_not_refer_get_403(self, username):
        response = post(username, "/api/v1/referrals/", draft_body(pupil()))
        assert response.status_code == 403
        assert not Referral.objects.filter(child=pupil()).exists()

    def test_read_only_access_to_the_child_is_not_enough(self):
        child = ChildFactory()  # the far village: nobody's but the county's
        grant_open(
            child=child,
            user=user("director_b"),
            level=Level.READ,
            source=ChildAccessGrant.Source.SHARE,
            by=user("admin"),
        )
        response = post("director_b", "/api/v1/referrals/", draft_body(child))
        assert response.status_code == 403


class TestSending:
    def test_sending_needs_consent(self):
        referral = draft()
        response = step("counselor", referral, "send")
        assert response.status_code == 400
        assert "consent_by" in response.json()["fields"]
        assert status_of(referral) == S.DRAFT

    def test_consent_given_now_is_recorded_and_the_clinic_reads_the_child(self):
        child = pupil()
        guardian = GuardianFactory(child=child)
        referral = draft(child)
        assert client_for("clinician").get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
        response = step(
            "counselor",
            referral,
            "send",
            {"consent_by": str(guardian.pk), "consent_given_on": timezone.localdate().isoformat()},
        )
        assert response.status_code == 200, response.content
        assert status_of(referral) == S.SENT
        assert Consent.objects.filter(
            child=child, guardian=guardian, purpose=Consent.Purpose.REFERRAL
        ).exists()
        clinic = client_for("clinician").get(f"/api/v1/referrals/{referral.pk}/")
        assert clinic.status_code == 200
        assert clinic.json()["actions"] == ["accept", "decline"]

    def test_only_an_emergency_goes_without_consent(self):
        referral = draft()
        response = step(
            "counselor", referral, "send", {"emergency_override": True, "override_reason": "急"}
        )
        assert response.status_code == 400
        assert "emergency_override" in response.json()["fields"]
        assert status_of(referral) == S.DRAFT

    def test_a_sent_referral_is_not_sent_again(self):
        referral = sent()
        response = step("counselor", referral, "send")
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"

    def test_withdrawing_needs_a_reason_and_ends_the_clinics_access(self):
        referral = sent()
        assert step("counselor", referral, "withdraw", {"reason": " "}).status_code == 400
        response = step("counselor", referral, "withdraw", {"reason": "家长改去省医院"})
        assert response.status_code == 200, response.content
        assert status_of(referral) == S.WITHDRAWN
        assert client_for("clinician").get(f"/api/v1/referrals/{referral.pk}/").status_code == 404


class TestTheClinicsSteps:
    def test_the_sending_side_cannot_take_the_clinics_steps(self):
        referral = sent()
        assert step("counselor", referral, "accept").status_code == 403
        assert status_of(referral) == S.SENT

    def test_a_clinician_of_another_clinic_cannot_accept(self):
        child = pupil()
        give_consent(child)
        referral = draft(
            child,
            to_institution=social_psych(),
            service=Institution.Service.PSYCHOLOGICAL_COUNSELLING,
            send=True,
        )
        # The clinician sees the child through a referral to the hospital, not this one's inbox.
        give_consent(child)
        draft(child, send=True)
        assert step("clinician", referral, "accept").status_code == 403
        assert status_of(referral) == S.SENT

    def test_accept_book_see_treat_discharge_and_close(self):
        referral = sent()
        assert step("clinician", referral, "accept", {"note": "本周安排"}).status_code == 200
        assert step("clinician", referral, "accept").status_code == 409
        past = step("clinician", referral, "book", {"appointment_at": later(days=-2)})
        assert past.status_code == 400 and "appointment_at" in past.json()["fields"]
        booked = step("clinician", referral, "book", {"appointment_at": later(days=2)})
        assert booked.status_code == 200 and booked.json()["status"] == S.APPOINTMENT
        future = step("clinician", referral, "seen", {"seen_at": later(days=1)})
        assert future.status_code == 400 and "seen_at" in future.json()["fields"]
        seen = step(
            "clinician",
            referral,
            "seen",
            {
                "seen_at": later(),
                "diagnosis": "焦虑",
                "confirm_early": True,  # before the day booked above
                "early_reason": "门诊有空位，提前就诊",
            },
        )
        assert seen.status_code == 200 and seen.json()["diagnosis"] == "焦虑"
        treated = step("clinician", referral, "treatment", {"treatment_type": "outpatient"})
        assert treated.status_code == 200
        out_of_range = step(
            "clinician",
            referral,
            "discharge",
            {
                "outcome_summary": "好转",
                "followup_interval_days": 0,
                "followup_by": "counsellor",
                "followup_weeks": 8,
            },
        )
        assert "followup_interval_days" in out_of_range.json()["fields"]
        discharged = step(
            "clinician",
            referral,
            "discharge",
            {
                "outcome_summary": "门诊治疗结束，情绪明显好转。",
                "followup_interval_days": 7,
                "followup_by": "counsellor",
                "followup_weeks": 8,
            },
        )
        assert discharged.status_code == 200, discharged.content
        assert FollowupPlan.objects.filter(referral=referral).exists()
        closed = step("counselor", referral, "close", {"note": "随访已安排"})
        assert closed.status_code == 200, closed.content
        assert status_of(referral) == S.CLOSED
        steps = list(referral.events.values_list("to_status", flat=True))
        assert steps == [
            S.DRAFT,
            S.SENT,
            S.ACCEPTED,
            S.APPOINTMENT,
            S.SEEN,
            S.IN_TREATMENT,
            S.DISCHARGED,
            S.CLOSED,
        ]

    def test_the_sending_side_does_not_read_the_diagnosis(self):
        referral = advance(sent(), S.SEEN)
        response = client_for("director_a").get(f"/api/v1/referrals/{referral.pk}/")
        assert response.status_code == 200
        assert response.json()["diagnosis"] is None

    def test_declining_needs_a_reason_and_ends_the_clinics_access(self):
        referral = sent()
        assert step("clinician", referral, "decline", {}).status_code == 400
        response = step("clinician", referral, "decline", {"reason": "本院无儿童精神科"})
        assert response.status_code == 200
        referral.refresh_from_db()
        assert (referral.status, referral.decline_reason) == (S.DECLINED, "本院无儿童精神科")


class TestConcurrentSteps:
    def test_a_step_on_an_older_state_answers_412_and_changes_nothing(self):
        referral = sent()
        etag = client_for("clinician").get(f"/api/v1/referrals/{referral.pk}/")["ETag"]
        assert step("clinician", referral, "accept", If_Match=etag).status_code == 200
        stale = step(
            "clinician", referral, "book", {"appointment_at": later(days=1)}, If_Match=etag
        )
        assert stale.status_code == 412
        assert status_of(referral) == S.ACCEPTED
        fresh = client_for("clinician").get(f"/api/v1/referrals/{referral.pk}/")["ETag"]
        booked = step(
            "clinician", referral, "book", {"appointment_at": later(days=1)}, If_Match=fresh
        )
        assert booked.status_code == 200

    def test_an_etag_of_another_referral_answers_412(self):
        one, other = sent(), sent(pupil(1))
        etag = client_for("clinician").get(f"/api/v1/referrals/{other.pk}/")["ETag"]
        assert step("clinician", one, "accept", If_Match=etag).status_code == 412
        assert status_of(one) == S.SENT


class TestOverrideReview:
    def emergency(self) -> Referral:
        return draft(
            urgency=Referral.Urgency.EMERGENCY,
            emergency_override=True,
            override_reason="监护人无法联系，孩子有自伤风险",
            send=True,
        )

    def test_the_supervisor_reviews_once(self):
        referral = self.emergency()
        url = f"/api/v1/referrals/{referral.pk}/review-override/"
        assert post("supervisor_town", url, {"note": " "}).status_code == 400
        response = post("supervisor_town", url, {"note": "情况属实"})
        assert response.status_code == 200, response.content
        referral.refresh_from_db()
        assert referral.override_reviewed_by == user("supervisor_town")
        assert post("supervisor_town", url, {"note": "再次"}).status_code == 409

    def test_a_referral_with_consent_has_no_review(self):
        referral = sent()
        url = f"/api/v1/referrals/{referral.pk}/review-override/"
        assert post("supervisor_town", url, {"note": "x"}).status_code == 404

    def test_only_supervisors_review(self):
        referral = self.emergency()
        url = f"/api/v1/referrals/{referral.pk}/review-override/"
        assert post("counselor", url, {"note": "x"}).status_code == 403


class TestReads:
    def test_the_history_lists_every_step_and_the_read_is_logged(self):
        referral = advance(sent(), S.ACCEPTED)
        response = client_for("counselor").get(f"/api/v1/referrals/{referral.pk}/events/")
        assert response.status_code == 200
        rows = response.json()
        assert [(r["from_status"], r["to_status"]) for r in rows] == [
            ("", S.DRAFT),
            (S.DRAFT, S.SENT),
            (S.SENT, S.ACCEPTED),
        ]
        assert rows[-1]["actor"] == user("clinician").pk
        assert AccessEvent.objects.filter(
            user=user("counselor"), child=referral.child, detail__referral=referral.pk
        ).exists()
        assert (
            client_for("director_b").get(f"/api/v1/referrals/{referral.pk}/events/").status_code
            == 404
        )

    def test_the_list_filters_by_status(self):
        waiting, drafted = sent(), draft()
        client = client_for("counselor")
        rows = client.get("/api/v1/referrals/", {"status": S.SENT, "page_size": 100}).json()
        listed = {row["id"] for row in rows["results"]}
        assert waiting.pk in listed and drafted.pk not in listed

    def test_list_query_count_does_not_grow_with_page_size(self):
        for index in range(3):
            sent(pupil(index))
        client = client_for("counselor")

        def count(size: int) -> int:
            with CaptureQueriesContext(connection) as captured:
                assert client.get("/api/v1/referrals/", {"page_size": size}).status_code == 200
            return len(captured.captured_queries)

        assert count(1) == count(100)


PDF = b"%PDF-1.4\n% a fictional clinic letter\n"


def upload(username: str, referral: Referral, content: bytes = PDF, name: str = "出院小结.pdf"):
    return client_for(username).post(
        f"/api/v1/referrals/{referral.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content)},
    )


class TestAttachments:
    def test_either_side_attaches_and_both_download_the_same_bytes(self):
        referral = advance(sent(), S.ACCEPTED)
        added = upload("clinician", referral)
        assert added.status_code == 201, added.content
        body = added.json()
        assert body["filename"] == "出院小结.pdf" and body["size"] == len(PDF)
        assert upload("counselor", referral, name="信.pdf").status_code == 201
        listed = client_for("counselor").get(f"/api/v1/referrals/{referral.pk}/attachments/")
        assert [row["filename"] for row in listed.json()] == ["出院小结.pdf", "信.pdf"]
        download = client_for("counselor").get(body["download"], HTTP_ACCEPT="application/pdf")
        assert download.status_code == 200 and download.content == PDF
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"].startswith("attachment")
        assert AccessEvent.objects.filter(
            user=user("counselor"), child=referral.child, detail__attachment=body["id"]
        ).exists()
        assert client_for("director_b").get(body["download"]).status_code == 404

    def test_a_file_is_checked_by_its_content_and_the_count_is_capped(self):
        referral = sent()
        fake = upload("counselor", referral, content=b"MZ\x90\x00 not a pdf", name="a.pdf")
        assert fake.status_code == 400 and "file" in fake.json()["fields"]
        for index in range(5):
            assert upload("counselor", referral, name=f"{index}.pdf").status_code == 201
        sixth = upload("counselor", referral)
        assert sixth.status_code == 400 and "file" in sixth.json()["fields"]
        assert referral.attachments.count() == 5

    def test_an_ended_referral_takes_none_and_readers_may_not_attach(self):
        referral = sent()
        assert step("counselor", referral, "withdraw", {"reason": "家长撤回"}).status_code == 200
        assert upload("counselor", referral).status_code == 409
        other = sent()
        shared = ChildAccessGrant.Source.SHARE
        grant_open(
            child=other.child,
            user=user("county_civil"),
            level=Level.READ,
            source=shared,
            by=user("admin"),
        )
        assert upload("county_civil", other).status_code == 403
        assert not other.attachments.exists() and not referral.attachments.exists()
