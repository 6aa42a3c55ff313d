"""The assessments app's API (issue 14): instruments (read by all, written through the
builder's rules), screening sessions as the screening pages allow, and alerts with their
closing and the record that a guardian was told."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.builder.services import InstrumentDetails, instrument_create
from assessments.builder.text import definition_from_text
from assessments.models import Alert, Assessment, GuardianInformed, Instrument, ScreeningSession
from assessments.screening.roster import screening_groups, session_roster
from assessments.screening.services import screening_result_save, screening_session_open
from assessments.selectors import current_instruments
from cases.models import Child
from core.models import AccessEvent
from tests.assessments.test_builder import form_data, record_result
from tests.assessments.test_screening import sheet
from tests.conftest import client_for
from tests.demo import WELFARE, user
from tests.factories import (
    AssessmentFactory,
    ChildFactory,
    ConsentFactory,
    GuardianFactory,
    institution,
)

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, body: dict[str, Any], **headers: str):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def patch(client: Client, url: str, body: dict[str, Any], **headers: str):
    return client.patch(url, json.dumps(body), content_type="application/json", headers=headers)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def queries(client: Client, url: str, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured.captured_queries)


# -- instruments --------------------------------------------------------------------------------


def builder_body(**changes: Any) -> dict[str, Any]:
    """What the builder's page posts, as JSON."""
    body: dict[str, Any] = {**form_data(), "min_age": 11, "max_age": 17, "is_active": True}
    body.update(changes)
    return body


def made(*, is_active: bool = True, code: str = "SDQ-T") -> Instrument:
    """A new instrument written through the builder's service."""
    parsed = definition_from_text(form_data())
    assert parsed.is_valid, parsed.errors
    return instrument_create(
        code=code,
        details=InstrumentDetails(
            name_zh="长处和困难问卷（测试）",
            name_en="SDQ (test)",
            description="",
            source="Goodman 1997",
            licence_note="Agency licence",
            min_age=11,
            max_age=17,
            is_active=is_active,
        ),
        definition=parsed.data,
        by=user("admin"),
    )


class TestInstrumentReads:
    def test_every_signed_in_user_reads_the_instruments_in_use(self):
        draft = made(is_active=False)
        phq9 = current_instruments().get(code="PHQ-9")
        for username in ("director_a", "clinician", "auditor"):
            listed = ids(client_for(username).get("/api/v1/instruments/", {"page_size": 100}))
            assert phq9.pk in listed and draft.pk not in listed, username
            # A version not in use is the builder's: 404 to anyone else.
            assert client_for(username).get(f"/api/v1/instruments/{draft.pk}/").status_code == 404

    def test_the_builders_administrator_reads_every_version(self):
        draft = made(is_active=False)
        admin = client_for("admin")
        assert draft.pk in ids(admin.get("/api/v1/instruments/", {"page_size": 100}))
        assert admin.get(f"/api/v1/instruments/{draft.pk}/").status_code == 200

    def test_current_gives_the_version_offered_for_new_assessments(self):
        instrument = made()
        record_result(instrument)
        revised = patch(
            client_for("admin"),
            f"/api/v1/instruments/{instrument.pk}/",
            {"name_en": "SDQ (second)"},
            If_Match="*",
        ).json()
        client = client_for("counselor")
        rows = client.get("/api/v1/instruments/", {"code": "sdq-t", "current": "true"}).json()
        assert [(r["id"], r["version"], r["is_current"]) for r in rows["results"]] == [
            (revised["id"], 2, True)
        ]
        both = client.get("/api/v1/instruments/", {"code": "SDQ-T"}).json()["results"]
        assert {r["version"]: r["is_current"] for r in both} == {1: False, 2: True}

    def test_a_version_reads_with_its_definition_texts_and_etag(self):
        phq9 = current_instruments().get(code="PHQ-9")
        response = client_for("director_a").get(f"/api/v1/instruments/{phq9.pk}/")
        body = response.json()
        assert response.status_code == 200
        assert body["code"] == "PHQ-9" and body["is_builtin"] is True
        assert [item["number"] for item in body["definition"]["items"]][:9] == list(range(1, 10))
        assert body["texts"]["items"].startswith("1. ")
        assert response["ETag"].startswith(f'"{phq9.pk}-')

    def test_list_query_count_does_not_grow_with_page_size(self):
        made(code="EXTRA-1")
        made(code="EXTRA-2")
        client = client_for("admin")
        url = "/api/v1/instruments/"
        assert queries(client, url, {"page_size": 1}) == queries(client, url, {"page_size": 100})


class TestInstrumentWrites:
    def test_the_administrator_creates_version_1_with_the_builders_parsing(self):
        response = post(client_for("admin"), "/api/v1/instruments/", builder_body())
        assert response.status_code == 201, response.content
        saved = Instrument.objects.get(code="SDQ-T")
        assert (saved.version, saved.created_by, saved.is_builtin) == (1, user("admin"), False)
        assert [s["code"] for s in saved.definition["subscales"]] == ["emotional", "conduct", "lie"]
        assert response.json()["id"] == saved.pk
        assert response["Location"] == f"/api/v1/instruments/{saved.pk}/"

    def test_what_the_builder_refuses_is_refused_on_the_field(self):
        client = client_for("admin")
        overlapping = builder_body(
            bands="total 0-5 = 低 | Low : none\ntotal 5-8 = 高 | High : high"
        )
        response = post(client, "/api/v1/instruments/", overlapping)
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"bands"}
        taken = post(client, "/api/v1/instruments/", builder_body(code="phq-9"))
        assert taken.status_code == 400 and "code" in taken.json()["fields"]
        ages = post(client, "/api/v1/instruments/", builder_body(min_age=15, max_age=12))
        assert "max_age" in ages.json()["fields"]
        assert not Instrument.objects.filter(code="SDQ-T").exists()

    @pytest.mark.parametrize("username", ["counselor", "director_a", "security", "auditor"])
    def test_other_roles_cannot_create_or_revise(self, username):
        client = client_for(username)
        assert post(client, "/api/v1/instruments/", builder_body()).status_code == 403
        phq9 = current_instruments().get(code="PHQ-9")
        url = f"/api/v1/instruments/{phq9.pk}/"
        assert patch(client, url, {"name_en": "x"}, If_Match="*").status_code == 403
        assert not Instrument.objects.filter(code__in=["SDQ-T"]).exists()
        assert Instrument.objects.filter(code="PHQ-9").count() == 1

    def test_a_version_with_results_is_never_changed_a_revision_is_a_new_version(self):
        instrument = made()
        record_result(instrument)
        client = client_for("admin")
        etag = client.get(f"/api/v1/instruments/{instrument.pk}/")["ETag"]
        response = patch(
            client, f"/api/v1/instruments/{instrument.pk}/", {"name_en": "SDQ v2"}, If_Match=etag
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["outcome"], body["version"], body["name_en"]) == ("new_version", 2, "SDQ v2")
        instrument.refresh_from_db()
        assert instrument.name_en == "SDQ (test)"  # version 1 stays as it was

    def test_a_version_without_results_changes_in_place_and_its_etag_with_it(self):
        instrument = made()
        client = client_for("admin")
        url = f"/api/v1/instruments/{instrument.pk}/"
        etag = client.get(url)["ETag"]
        response = patch(client, url, {"description": "新的说明"}, If_Match=etag)
        assert response.status_code == 200, response.content
        assert (response.json()["outcome"], response.json()["id"]) == (
            "changed_in_place",
            instrument.pk,
        )
        assert response["ETag"] != etag
        instrument.refresh_from_db()
        assert instrument.description == "新的说明"
        # The ETag read before the change no longer matches: nothing is overwritten.
        stale = patch(client, url, {"description": "旧的"}, If_Match=etag)
        assert stale.status_code == 412
        instrument.refresh_from_db()
        assert instrument.description == "新的说明"

    def test_a_revision_needs_if_match(self):
        instrument = made()
        client = client_for("admin")
        response = patch(client, f"/api/v1/instruments/{instrument.pk}/", {"name_en": "x"})
        assert response.status_code == 428
        assert response.json()["code"] == "precondition_required"

    def test_a_builtin_saved_unchanged_is_refused(self):
        phq9 = current_instruments().get(code="PHQ-9")
        client = client_for("admin")
        response = patch(client, f"/api/v1/instruments/{phq9.pk}/", {}, If_Match="*")
        assert response.status_code == 400
        assert response.json()["fields"]["non_field_errors"]

    def test_put_replaces_the_content_and_the_code_cannot_change(self):
        instrument = made()
        client = client_for("admin")
        url = f"/api/v1/instruments/{instrument.pk}/"
        renamed = client.put(
            url,
            json.dumps(builder_body(code="OTHER")),
            "application/json",
            headers={"If-Match": "*"},
        )
        assert renamed.status_code == 400 and "code" in renamed.json()["fields"]
        body = builder_body(name_zh="新名称")
        del body["code"]
        response = client.put(url, json.dumps(body), "application/json", headers={"If-Match": "*"})
        assert response.status_code == 200, response.content
        instrument.refresh_from_db()
        assert instrument.name_zh == "新名称" and instrument.code == "SDQ-T"


# -- screening sessions ------------------------------------------------------------------------


def a_class():
    """The largest class of the middle school the counsellor screens."""
    groups = [g for g in screening_groups(user=user("counselor")) if g.school is not None]
    return sorted(groups, key=lambda g: g.size)[-1]


def opened(title: str = "") -> ScreeningSession:
    """A session of the counsellor's largest class, opened through the service."""
    return screening_session_open(
        group=a_class(),
        instrument=current_instruments().get(code="PHQ-9"),
        administered_on=timezone.localdate(),
        title=title,
        by=user("counselor"),
    )


class TestScreeningSessions:
    def test_the_counsellor_opens_a_session_for_a_class(self):
        group = a_class()
        response = post(
            client_for("counselor"),
            "/api/v1/screening-sessions/",
            {
                "instrument": "PHQ-9",
                "school": group.school.pk,
                "grade": group.grade,
                "class_name": group.class_name,
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        session = ScreeningSession.objects.get(pk=body["id"])
        assert (session.school, session.grade, session.class_name) == (
            group.school,
            group.grade,
            group.class_name,
        )
        assert session.opened_by == user("counselor") and session.status == "open"
        assert body["progress"]["total"] == group.size and body["progress"]["done"] == 0

    def test_a_class_that_is_not_on_the_list_is_refused_on_its_field(self):
        group = a_class()
        response = post(
            client_for("counselor"),
            "/api/v1/screening-sessions/",
            {"instrument": "PHQ-9", "school": group.school.pk, "grade": 1, "class_name": "无此班"},
        )
        assert response.status_code == 400
        assert "class_name" in response.json()["fields"]

    def test_a_future_date_and_an_unknown_instrument_are_refused(self):
        group = a_class()
        body = {"school": group.school.pk, "grade": group.grade, "class_name": group.class_name}
        client = client_for("counselor")
        tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
        future = post(
            client,
            "/api/v1/screening-sessions/",
            {**body, "instrument": "PHQ-9", "administered_on": tomorrow},
        )
        assert "administered_on" in future.json()["fields"]
        unknown = post(client, "/api/v1/screening-sessions/", {**body, "instrument": "NOPE"})
        assert "instrument" in unknown.json()["fields"]
        assert not ScreeningSession.objects.exists()

    def test_another_institution_is_out_of_scope(self):
        response = post(
            client_for("counselor"),
            "/api/v1/screening-sessions/",
            {"instrument": "PHQ-9", "institution": institution(WELFARE).pk},
        )
        assert response.status_code == 404
        assert not ScreeningSession.objects.exists()

    def test_roles_without_screening_get_403(self):
        assert client_for("director_a").get("/api/v1/screening-sessions/").status_code == 403
        group = a_class()
        response = post(
            client_for("county_edu"),
            "/api/v1/screening-sessions/",
            {"instrument": "PHQ-9", "school": group.school.pk},
        )
        assert response.status_code == 403

    def test_the_roster_shows_each_child_with_the_result_and_logs_the_read(self):
        session = opened()
        counselor = user("counselor")
        row = next(
            r
            for r in session_roster(session=session, user=counselor)
            if r.fit_problem is None and (r.consent_on_file or r.may_consent_today)
        )
        child = row.child
        instrument = session.instrument
        answers = {int(i["number"]): 1 for i in instrument.parsed.items}
        screening_result_save(
            session=session,
            child=child,
            answers=answers,
            result=instrument.parsed.score(answers),
            by=counselor,
            record_consent=not row.consent_on_file,
            consent_guardian=row.primary_guardian,
        )
        client = client_for("counselor")
        response = client.get(f"/api/v1/screening-sessions/{session.pk}/roster/")
        assert response.status_code == 200
        rows = {row["child"]: row for row in response.json()}
        assert rows[child.pk]["status"] == "done"
        assert rows[child.pk]["name"] == child.name
        assert rows[child.pk]["result"]["total"] == 9
        assert "answers" not in rows[child.pk]["result"]
        assert AccessEvent.objects.filter(
            user=user("counselor"), action=AccessEvent.Action.LIST, detail__screening=session.pk
        ).exists()
        detail = client.get(f"/api/v1/screening-sessions/{session.pk}/").json()
        assert detail["progress"]["done"] == 1

    def test_the_education_bureau_reads_but_cannot_close(self):
        session = opened()
        bureau = client_for("county_edu")
        assert session.pk in ids(bureau.get("/api/v1/screening-sessions/"))
        assert bureau.get(f"/api/v1/screening-sessions/{session.pk}/").status_code == 200
        assert (
            post(bureau, f"/api/v1/screening-sessions/{session.pk}/close/", {}).status_code == 403
        )
        session.refresh_from_db()
        assert session.status == ScreeningSession.Status.OPEN

    def test_the_counsellor_closes_a_session(self):
        session = opened()
        response = post(
            client_for("counselor"), f"/api/v1/screening-sessions/{session.pk}/close/", {}
        )
        assert response.status_code == 200 and response.json()["status"] == "closed"
        session.refresh_from_db()
        assert session.status == ScreeningSession.Status.CLOSED and session.closed_at

    def test_list_filters_by_status_and_its_query_count_does_not_grow(self):
        open_one, closed_one = opened(), opened(title="第二次")
        post(client_for("counselor"), f"/api/v1/screening-sessions/{closed_one.pk}/close/", {})
        client = client_for("counselor")
        listed = ids(client.get("/api/v1/screening-sessions/", {"status": "open"}))
        assert open_one.pk in listed and closed_one.pk not in listed
        url = "/api/v1/screening-sessions/"
        assert queries(client, url, {"page_size": 1}) == queries(client, url, {"page_size": 100})


def roster_row(session: ScreeningSession, *, consent: bool, skip: int = 0):
    """A child of the session's roster with no result and the instrument fitting: with
    consent on file (recorded here if need be), or without it but able to give it today."""
    rows = [
        r
        for r in session_roster(session=session, user=user("counselor"))
        if r.result is None and r.fit_problem is None and r.absence is None
    ]
    if not consent:
        return next(r for r in rows if not r.consent_on_file and r.may_consent_today)
    row = rows[skip]
    if not row.consent_on_file:
        ConsentFactory(child=row.child)
    return row


class TestScreeningEntry:
    def test_a_result_is_scored_and_consent_given_today_recorded(self):
        session = opened()
        row = roster_row(session, consent=False)
        url = f"/api/v1/screening-sessions/{session.pk}/results/"
        client = client_for("counselor")
        answers = {str(n): 1 for n in range(1, 10)}
        # Without consent on file or given today, nothing is saved (the roster page's rule).
        refused = post(client, url, {"child": row.child.pk, "answers": answers})
        assert refused.status_code == 400 and "child" in refused.json()["fields"]
        bad = post(client, url, {"child": row.child.pk, "answers": {**answers, "3": 7}})
        assert bad.status_code == 400 and "answers.3" in bad.json()["fields"]
        saved = post(
            client, url, {"child": row.child.pk, "answers": answers, "consent_given_today": True}
        )
        assert saved.status_code == 201, saved.content
        assert saved.json()["status"] == "done" and saved.json()["result"]["total"] == 9
        assert Assessment.objects.get(session=session, child=row.child).total == 9
        assert row.child.consents.filter(purpose="assessment").exists()
        again = post(client, url, {"child": row.child.pk, "answers": answers})
        assert again.status_code == 400 and Assessment.objects.filter(session=session).count() == 1

    def test_an_absence_is_noted_once_and_a_closed_session_takes_nothing(self):
        session = opened()
        row = roster_row(session, consent=True)
        client = client_for("counselor")
        url = f"/api/v1/screening-sessions/{session.pk}/absences/"
        absent = post(client, url, {"child": row.child.pk, "reason": "病假"})
        assert absent.status_code == 201 and absent.json()["status"] == "absent"
        assert absent.json()["absence_reason"] == "病假"
        post(client, f"/api/v1/screening-sessions/{session.pk}/close/", {})
        other = roster_row(session, consent=True, skip=1)
        answers = {str(n): 0 for n in range(1, 10)}
        closed = post(
            client,
            f"/api/v1/screening-sessions/{session.pk}/results/",
            {"child": other.child.pk, "answers": answers},
        )
        assert closed.status_code == 409
        assert not Assessment.objects.filter(session=session).exists()

    def test_a_child_not_on_the_roster_answers_404(self):
        session = opened()
        elsewhere = ChildFactory(pupil=True, school=None)
        response = post(
            client_for("counselor"),
            f"/api/v1/screening-sessions/{session.pk}/absences/",
            {"child": elsewhere.pk},
        )
        assert response.status_code == 404

    def test_a_sheet_is_saved_whole_or_not_at_all(self):
        session = opened()
        first = roster_row(session, consent=True)
        url = f"/api/v1/screening-sessions/{session.pk}/sheet/"
        client = client_for("counselor")
        good = [first.child.record_number, first.child.name, *[1] * 9]
        bad = post_file(client, url, sheet([good, ["X-0", "无此人", *[0] * 9]]))
        assert bad.status_code == 400
        assert any("3" in message for message in bad.json()["fields"]["file"])
        assert not Assessment.objects.filter(session=session).exists()
        saved = post_file(client, url, sheet([good]))
        assert saved.status_code == 201, saved.content
        assert saved.json()["saved"] == 1
        assert Assessment.objects.get(session=session).child == first.child

    def test_roles_without_screening_get_403(self):
        session = opened()
        row = roster_row(session, consent=True)
        bureau = client_for("county_edu")
        url = f"/api/v1/screening-sessions/{session.pk}/"
        answers = {str(n): 0 for n in range(1, 10)}
        assert (
            post(bureau, f"{url}results/", {"child": row.child.pk, "answers": answers}).status_code
            == 403
        )
        assert post(bureau, f"{url}absences/", {"child": row.child.pk}).status_code == 403
        assert post_file(bureau, f"{url}sheet/", sheet([])).status_code == 403
        assert not Assessment.objects.filter(session=session).exists()


def post_file(client: Client, url: str, upload: io.BytesIO):
    return client.post(url, {"file": upload})


# -- alerts -------------------------------------------------------------------------------------


def pupil_with_alert() -> tuple[Child, Alert]:
    """A new pupil of the middle school (the counsellor's and the town supervisor's) with an
    open alert from a severe PHQ-9."""
    child = ChildFactory(pupil=True)
    alert = AssessmentFactory(child=child, value=3).alerts.get()
    return child, alert


class TestAlerts:
    def test_alerts_in_scope_are_listed_and_the_list_is_logged(self):
        child, alert = pupil_with_alert()
        client = client_for("counselor")
        assert alert.pk in ids(client.get("/api/v1/alerts/", {"open": "true", "page_size": 100}))
        assert alert.pk not in ids(client.get("/api/v1/alerts/", {"open": "false"}))
        assert AccessEvent.objects.filter(
            user=user("counselor"), action=AccessEvent.Action.LIST, child=child
        ).exists()
        # Another township's child director does not see it.
        assert alert.pk not in ids(client_for("director_b").get("/api/v1/alerts/"))

    def test_an_alert_reads_with_its_results_and_the_read_is_logged(self):
        child, alert = pupil_with_alert()
        response = client_for("supervisor_town").get(f"/api/v1/alerts/{alert.pk}/")
        body = response.json()
        assert response.status_code == 200
        assert body["is_open"] is True and body["instrument"] == "PHQ-9"
        assert body["results"] == [alert.assessment_id]
        assert AccessEvent.objects.filter(
            user=user("supervisor_town"), child=child, detail__alert=alert.pk
        ).exists()

    def test_the_counsellor_closes_an_alert_with_an_outcome_and_a_note(self):
        _child, alert = pupil_with_alert()
        url = f"/api/v1/alerts/{alert.pk}/acknowledge/"
        client = client_for("counselor")
        response = post(client, url, {"outcome": "referred", "note": "已转介县医院"})
        assert response.status_code == 200, response.content
        alert.refresh_from_db()
        assert (alert.outcome, alert.note, alert.acknowledged_by) == (
            "referred",
            "已转介县医院",
            user("counselor"),
        )
        again = post(client_for("supervisor_town"), url, {"outcome": "referred", "note": "再次"})
        assert again.status_code == 409
        alert.refresh_from_db()
        assert alert.note == "已转介县医院"

    def test_closing_needs_a_note_and_an_outcome_a_person_may_choose(self):
        _child, alert = pupil_with_alert()
        url = f"/api/v1/alerts/{alert.pk}/acknowledge/"
        client = client_for("counselor")
        assert "note" in post(client, url, {"outcome": "referred", "note": " "}).json()["fields"]
        system = post(client, url, {"outcome": "merged", "note": "x"})
        assert system.status_code == 400 and "outcome" in system.json()["fields"]
        alert.refresh_from_db()
        assert alert.is_open

    def test_a_child_director_without_the_permission_cannot_close(self):
        child = ChildFactory(region="990101001001")  # director_a's village
        alert = AssessmentFactory(child=child, value=3).alerts.get()
        response = post(
            client_for("director_a"),
            f"/api/v1/alerts/{alert.pk}/acknowledge/",
            {"outcome": "referred", "note": "x"},
        )
        assert response.status_code == 403
        alert.refresh_from_db()
        assert alert.is_open

    def test_a_guardian_told_is_recorded_and_the_alert_stays_open(self):
        child, alert = pupil_with_alert()
        guardian = child.guardians.first() or GuardianFactory(child=child)
        when = timezone.localtime() - timedelta(hours=1)
        response = post(
            client_for("counselor"),
            f"/api/v1/alerts/{alert.pk}/guardian-informed/",
            {"guardian": guardian.pk, "informed_at": when.isoformat(), "note": "电话告知母亲"},
        )
        assert response.status_code == 201, response.content
        record = GuardianInformed.objects.get(alert=alert)
        assert (record.guardian, record.recorded_by) == (guardian, user("counselor"))
        alert.refresh_from_db()
        assert alert.is_open

    def test_a_guardian_of_another_child_and_a_future_time_are_refused(self):
        child, alert = pupil_with_alert()
        url = f"/api/v1/alerts/{alert.pk}/guardian-informed/"
        client = client_for("counselor")
        other = GuardianFactory(child=ChildFactory(pupil=True))
        earlier = (timezone.localtime() - timedelta(hours=1)).isoformat()
        response = post(client, url, {"guardian": other.pk, "informed_at": earlier, "note": "x"})
        assert response.status_code == 400 and "guardian" in response.json()["fields"]
        guardian = child.guardians.first() or GuardianFactory(child=child)
        tomorrow = (timezone.localtime() + timedelta(days=1)).isoformat()
        response = post(
            client, url, {"guardian": guardian.pk, "informed_at": tomorrow, "note": "x"}
        )
        assert response.status_code == 400 and "informed_at" in response.json()["fields"]
        assert not GuardianInformed.objects.filter(alert=alert).exists()

    def test_list_query_count_does_not_grow_with_page_size(self):
        for _ in range(3):
            pupil_with_alert()
        client = client_for("counselor")
        assert queries(client, "/api/v1/alerts/", {"page_size": 1}) == queries(
            client, "/api/v1/alerts/", {"page_size": 100}
        )


def test_the_assessments_endpoint_still_scores_a_submission():
    child = ChildFactory(pupil=True)
    AssessmentFactory(child=child)  # records the consent to assessment first
    response = post(
        client_for("counselor"),
        "/api/v1/assessments/",
        {"child": child.pk, "instrument": "PHQ-9", "answers": {str(n): 1 for n in range(1, 10)}},
    )
    assert response.status_code == 201, response.content
    assert response.json()["total"] == 9
    assert Assessment.objects.filter(child=child).count() == 2
