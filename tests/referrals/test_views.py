"""Referral pages: scope (404) and permissions (403), the form and its refusals, steps out of
order, clinical details hidden, the inbox's fixed query count, attachments and the child's file.

Clients read the English interface, so that messages are checked whatever the translations."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Consent
from core.models import AccessEvent
from institutions.models import Institution
from referrals.models import Referral, ReferralAttachment
from referrals.services.lifecycle import referral_decline
from referrals.services.sending import AttachmentData, referral_create
from tests.conftest import client_for, user
from tests.referrals import (
    S,
    advance,
    draft,
    give_consent,
    hospital,
    pupil,
    sent,
    severe_assessment,
    social_psych,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def english(username: str):
    client = client_for(username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def upload(name: str, content: bytes):
    f = io.BytesIO(content)
    f.name = name
    return f


def form_data(child, **extra):
    guardian = child.guardians.filter(is_active=True).first()
    data = {
        "service": Institution.Service.PSYCHIATRIC_CLINIC,
        "area": child.residence_region_id[:6],
        "to_institution": hospital().pk,
        "urgency": Referral.Urgency.ROUTINE,
        "reason": "长期失眠，情绪低落。",
        "consent_by": str(guardian.pk),
        "consent_given_on": timezone.localdate().isoformat(),
        "send": "1",
    }
    data.update(extra)
    return data


def no_referral_consent(child):
    Consent.objects.filter(child=child, purpose=Consent.Purpose.REFERRAL).delete()
    return child


# Scope and permissions.


def test_outsider_gets_404():
    referral = sent()
    ReferralAttachment.objects.create(
        referral=referral,
        filename="a.pdf",
        content_type="application/pdf",
        size=len(PDF),
        content=PDF,
        uploaded_by=user("counselor"),
    )
    attachment = referral.attachments.get()
    client = english("director_b")
    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 404
    assert client.get(reverse("referrals:attachment", args=[attachment.pk])).status_code == 404
    step = reverse("referrals:step", args=[referral.pk, "withdraw"])
    assert client.post(step, {"reason": "x"}).status_code == 404
    other_child = english("director_b").get(
        reverse("referrals:referral_create", args=[referral.child.pk])
    )
    assert other_child.status_code == 404


def test_a_role_without_the_permission_cannot_refer_or_take_steps():
    referral = sent()
    assert (
        english("mentor")
        .get(reverse("referrals:referral_create", args=[referral.child.pk]))
        .status_code
        == 403
    )
    # In scope, reads only: an agency supervisor can neither withdraw nor accept.
    supervisor = english("county_health")
    assert supervisor.get(reverse("referrals:detail", args=[referral.pk])).status_code == 200
    for step in ("withdraw", "accept"):
        url = reverse("referrals:step", args=[referral.pk, step])
        assert supervisor.post(url, {"reason": "x"}).status_code == 403
    # The sending side cannot accept; the clinic cannot withdraw.
    accept = reverse("referrals:step", args=[referral.pk, "accept"])
    withdraw = reverse("referrals:step", args=[referral.pk, "withdraw"])
    assert english("counselor").post(accept).status_code == 403
    assert english("clinician").post(withdraw, {"reason": "x"}).status_code == 403
    referral.refresh_from_db()
    assert referral.status == S.SENT


def test_an_unknown_step_is_404():
    referral = sent()
    url = reverse("referrals:step", args=[referral.pk, "teleport"])
    assert english("clinician").post(url).status_code == 404


# The form.


def test_counsellor_refers_a_child_with_consent_given_now_and_a_pdf():
    child = no_referral_consent(pupil(1))
    client = english("counselor")
    data = form_data(child, attachments=[upload("转介单.pdf", PDF), upload("照片.png", PNG)])
    response = client.post(reverse("referrals:referral_create", args=[child.pk]), data)
    assert response.status_code == 302
    referral = Referral.objects.filter(child=child).latest("id")
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert referral.status == S.SENT
    assert referral.from_institution.name == "青石镇中学（演示）"
    assert referral.consent.purpose == Consent.Purpose.REFERRAL
    types = sorted(referral.attachments.values_list("content_type", flat=True))
    assert types == ["application/pdf", "image/png"]


def test_saving_a_draft_needs_no_consent_and_sending_it_later_does():
    child = no_referral_consent(pupil(1))
    client = english("counselor")
    data = form_data(child, consent_by="", send="", draft="1")
    del data["send"]
    response = client.post(reverse("referrals:referral_create", args=[child.pk]), data)
    assert response.status_code == 302
    referral = Referral.objects.filter(child=child).latest("id")
    assert referral.status == S.DRAFT
    send = reverse("referrals:step", args=[referral.pk, "send"])
    response = client.post(send, {})
    assert response.status_code == 400
    assert "consent" in response.content.decode()
    guardian = child.guardians.filter(is_active=True).first()
    response = client.post(
        send,
        {"consent_by": guardian.pk, "consent_given_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == S.SENT and referral.consent is not None


def test_sending_without_consent_is_refused_with_a_clear_message():
    child = no_referral_consent(pupil(1))
    count = Referral.objects.count()
    response = english("counselor").post(
        reverse("referrals:referral_create", args=[child.pk]), form_data(child, consent_by="")
    )
    assert response.status_code == 200
    assert "Guardian consent to the referral is required" in response.content.decode()
    assert Referral.objects.count() == count


def test_emergency_override_through_the_form_and_its_review():
    child = no_referral_consent(pupil(1))
    response = english("counselor").post(
        reverse("referrals:referral_create", args=[child.pk]),
        form_data(
            child,
            consent_by="",
            urgency=Referral.Urgency.EMERGENCY,
            emergency_override="on",
            override_reason="今晚有自伤风险，监护人在外地",
        ),
    )
    assert response.status_code == 302
    referral = Referral.objects.filter(child=child).latest("id")
    assert referral.emergency_override and referral.status == S.SENT
    review = reverse("referrals:review", args=[referral.pk])
    assert english("counselor").get(review).status_code == 403
    supervisor = english("supervisor_town")
    assert supervisor.post(review, {"note": ""}).status_code == 400
    assert supervisor.post(review, {"note": "情况属实，同意"}).status_code == 302
    referral.refresh_from_db()
    assert referral.override_reviewed_by == user("supervisor_town")


def test_an_institution_that_does_not_offer_the_service_is_refused():
    child = pupil(1)
    give_consent(child)
    count = Referral.objects.count()
    response = english("counselor").post(
        reverse("referrals:referral_create", args=[child.pk]),
        form_data(child, service=Institution.Service.INPATIENT, to_institution=social_psych().pk),
    )
    assert response.status_code == 200
    assert "does not offer Inpatient treatment" in response.content.decode()
    assert Referral.objects.count() == count


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.exe", b"MZ\x90\x00" * 10, "is not a PDF, PNG or JPEG file"),
        ("report.pdf", b"<html>not a pdf</html>", "is not a PDF, PNG or JPEG file"),
        ("huge.pdf", PDF + b"0" * 4096, "is larger than"),
    ],
)
def test_a_bad_attachment_is_refused_and_nothing_saved(settings, name, content, message):
    settings.REFERRAL_ATTACHMENT_MAX_BYTES = 2048
    child = pupil(1)
    give_consent(child)
    count, files = Referral.objects.count(), ReferralAttachment.objects.count()
    response = english("counselor").post(
        reverse("referrals:referral_create", args=[child.pk]),
        form_data(child, attachments=[upload(name, content)]),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and name in html
    assert Referral.objects.count() == count
    assert ReferralAttachment.objects.count() == files


def test_the_form_is_prefilled_from_a_severe_assessment():
    child = pupil(1)
    assessment = severe_assessment(child)
    url = reverse("referrals:referral_create", args=[child.pk]) + f"?assessment={assessment.pk}"
    response = english("counselor").get(url)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["assessment"] == assessment.pk
    assert "PHQ-9" in form.initial["reason"]
    assert form.initial["urgency"] in (Referral.Urgency.URGENT, Referral.Urgency.EMERGENCY)


def test_prefill_from_another_childs_assessment_is_404():
    assessment = severe_assessment(pupil(1))
    url = reverse("referrals:referral_create", args=[pupil(0).pk]) + f"?assessment={assessment.pk}"
    assert english("counselor").get(url).status_code == 404
    assert english("counselor").get(url.replace(str(assessment.pk), "abc")).status_code == 404


def test_institution_choices_follow_the_service():
    child = pupil(1)
    url = reverse("referrals:institution_options", args=[child.pk])
    client = english("counselor")
    psychiatric = client.get(url, {"service": "psychiatric_clinic", "area": "990101"})
    assert "演示县人民医院" in psychiatric.content.decode()
    assert "演示县社会心理服务中心" not in psychiatric.content.decode()
    counselling = client.get(url, {"service": "psychological_counselling", "area": "990101"})
    assert "演示县社会心理服务中心" in counselling.content.decode()
    assert "<html" not in counselling.content.decode()


# Steps.


def test_a_step_out_of_order_is_refused_with_a_message():
    referral = sent()
    client = english("clinician")
    url = reverse("referrals:step", args=[referral.pk, "discharge"])
    response = client.post(
        url,
        {
            "outcome_summary": "x",
            "followup_interval_days": 7,
            "followup_by": "counsellor",
            "followup_weeks": 4,
        },
        follow=True,
    )
    assert "cannot move" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == S.SENT and referral.discharged_at is None
    declined = sent(pupil(1))
    referral_decline(referral=declined, by=user("clinician"), reason="满员")
    # The clinic has lost the referral with its access: the page is gone for it.
    assert client.get(reverse("referrals:step", args=[declined.pk, "book"])).status_code == 404
    # While another referral still opens the child's file to the clinic, the declined one can
    # be read but not acted on.
    also_declined = sent()
    referral_decline(referral=also_declined, by=user("clinician"), reason="满员")
    assert client.get(reverse("referrals:detail", args=[also_declined.pk])).status_code == 200
    step = reverse("referrals:step", args=[also_declined.pk, "book"])
    assert client.get(step).status_code == 403


def test_accept_and_decline_in_one_step_from_the_inbox():
    first, second = sent(), sent()
    client = english("clinician")
    inbox = reverse("referrals:inbox")
    response = client.post(reverse("referrals:step", args=[first.pk, "accept"]), {"next": "inbox"})
    assert response.status_code == 302 and response["Location"] == inbox
    decline = reverse("referrals:step", args=[second.pk, "decline"])
    response = client.post(decline, {"next": "inbox", "reason": ""}, follow=True)
    assert "This field is required" in response.content.decode()
    second.refresh_from_db()
    assert second.status == S.SENT
    client.post(decline, {"next": "inbox", "reason": "本院暂无床位"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.ACCEPTED, S.DECLINED)
    assert second.decline_reason == "本院暂无床位"


def test_a_second_accept_from_the_page_is_refused():
    referral = sent()
    client = english("clinician")
    url = reverse("referrals:step", args=[referral.pk, "accept"])
    client.post(url)
    response = client.post(url, follow=True)
    assert "already" in response.content.decode()
    assert referral.events.filter(to_status=S.ACCEPTED).count() == 1


# Reading.


def test_the_sender_sees_the_outcome_but_not_the_diagnosis():
    referral = advance(sent(), S.DISCHARGED)
    counselor = english("counselor").get(reverse("referrals:detail", args=[referral.pk]))
    html = counselor.content.decode()
    assert "门诊治疗结束" in html
    assert 'data-testid="clinical-hidden"' in html
    assert "抑郁发作" not in html and "舍曲林" not in html
    clinician = english("clinician").get(reverse("referrals:detail", args=[referral.pk]))
    html = clinician.content.decode()
    assert "抑郁发作" in html and "舍曲林" in html


def test_every_read_of_a_referral_is_logged():
    referral = sent()
    before = AccessEvent.objects.filter(child=referral.child, action="view").count()
    english("clinician").get(reverse("referrals:detail", args=[referral.pk]))
    logged = AccessEvent.objects.filter(child=referral.child, action="view")
    assert logged.count() == before + 1
    assert logged.latest("id").detail == {"referral": referral.pk}


def test_an_attachment_downloads_as_a_file_and_the_read_is_logged():
    child = pupil(1)
    give_consent(child)
    referral = referral_create(
        child=child,
        by=user("counselor"),
        to_institution=hospital(),
        service="psychiatric_clinic",
        reason="见附件",
        attachments=[AttachmentData("检查报告.pdf", "application/pdf", PDF)],
        send=True,
    )
    attachment = referral.attachments.get()
    response = english("clinician").get(reverse("referrals:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == PDF
    assert AccessEvent.objects.filter(detail__attachment=attachment.pk).exists()


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_inbox_query_count_does_not_grow_with_rows():
    client = english("clinician")
    sent()
    advance(sent(), S.APPOINTMENT)
    few = [count_queries(client, f"/referrals/inbox/?tab={t}") for t in ("new", "active")]
    for i in range(8):
        referral = sent(pupil(i % 4))
        if i % 2:
            advance(referral, S.APPOINTMENT)
    many = [count_queries(client, f"/referrals/inbox/?tab={t}") for t in ("new", "active")]
    assert few == many


def test_list_query_count_does_not_grow_with_rows():
    client = english("counselor")
    sent()
    few = count_queries(client, "/referrals/")
    for i in range(6):
        sent(pupil(i % 3))
    assert count_queries(client, "/referrals/") == few


def test_the_inbox_shows_new_and_overdue_referrals():
    referral = sent(urgency=Referral.Urgency.EMERGENCY)
    Referral.objects.filter(pk=referral.pk).update(sent_at=timezone.now() - timedelta(hours=5))
    html = english("clinician").get("/referrals/inbox/?tab=overdue").content.decode()
    assert f'data-testid="inbox-row-{referral.pk}"' in html
    assert 'data-testid="overdue"' in html


# The child's file.


def test_the_file_shows_referrals_with_their_step_and_refer_links():
    child = pupil(1)
    assessment = severe_assessment(child)
    referral = advance(sent(child), S.ACCEPTED)
    html = english("counselor").get(reverse("cases:child_detail", args=[child.pk])).content.decode()
    assert 'data-testid="file-referrals"' in html
    assert reverse("referrals:detail", args=[referral.pk]) in html
    assert "Referral to 演示县人民医院: Accepted" in html  # on the timeline
    assert f"?assessment={assessment.pk}" in html
    assert 'data-testid="refer"' in html
    # Without the permission to refer there is no refer link.
    mentor_html = english("mentor").get(reverse("cases:child_detail", args=[child.pk]))
    if mentor_html.status_code == 200:
        assert 'data-testid="refer"' not in mentor_html.content.decode()


def test_the_file_page_query_count_does_not_grow_with_referrals():
    child = pupil(1)
    client = english("counselor")
    sent(child)
    url = reverse("cases:child_detail", args=[child.pk])
    few = count_queries(client, url)
    for _ in range(4):
        advance(sent(child), S.ACCEPTED)
    draft(child)
    assert count_queries(client, url) == few


def test_navigation_offers_referrals_and_the_clinic_inbox():
    assert 'href="/referrals/"' in english("counselor").get("/").content.decode()
    clinic = english("clinician").get("/").content.decode()
    assert 'href="/referrals/inbox/"' in clinic
    assert 'href="/referrals/"' not in english("mentor").get("/").content.decode()


def test_a_flagged_visit_offers_a_prefilled_referral():
    from followups.models import Visit
    from followups.services import visit_record

    child = pupil(1)
    visit = visit_record(
        child=child,
        data={
            "kind": Visit.Kind.HOME_VISIT,
            "visited_on": timezone.localdate(),
            "concerns": [Visit.Concern.SELF_HARM_TALK],
            "note": "孩子提到不想活了",
        },
        by=user("counselor"),
    )
    assert visit.flagged
    client = english("counselor")
    html = client.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
    assert f"?visit={visit.pk}" in html
    url = reverse("referrals:referral_create", args=[child.pk]) + f"?visit={visit.pk}"
    form = client.get(url).context["form"]
    assert form.initial["visit"] == visit.pk
    assert form.initial["urgency"] == Referral.Urgency.URGENT
    assert "Talk of self-harm" in form.initial["reason"]
    # Once referred, the file no longer offers that visit.
    give_consent(child)
    draft(child, visit=visit)
    html = client.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
    assert f"?visit={visit.pk}" not in html


def test_the_file_offers_the_newest_three_flagged_visits_even_beyond_the_visits_it_lists():
    """The refer links come from the visits the file reads for its timeline (the newest 50);
    a flagged visit older than those, still within the window, is offered all the same."""
    from followups.models import Visit
    from followups.services import visit_record

    child = pupil(1)
    today = timezone.localdate()

    def visit(days_ago: int, *, flagged: bool) -> Visit:
        return visit_record(
            child=child,
            data={
                "kind": Visit.Kind.HOME_VISIT,
                "visited_on": today - timedelta(days=days_ago),
                "concerns": [Visit.Concern.SELF_HARM_TALK] if flagged else [],
                "note": "演示记录",
            },
            by=user("counselor"),
        )

    flagged = [visit(days, flagged=True) for days in (10, 20, 30, 40)]
    client = english("counselor")
    url = reverse("cases:child_detail", args=[child.pk])

    def offered() -> set[int]:
        html = client.get(url).content.decode()
        return {v.pk for v in flagged if f"?visit={v.pk}" in html}

    newest_three = {v.pk for v in flagged[:3]}
    assert offered() == newest_three
    for days in range(50):  # newer than every flagged one: the timeline's 50 hold none
        visit(days % 5, flagged=False)
    assert offered() == newest_three
