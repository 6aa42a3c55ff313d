"""Writes that cannot collide or repeat (issue 9, reproductions 8, 9 and 10).

8. The hand-over snapshot is frozen at the hand-over: what changed after it does not show.
9. Two people editing one record from the same version: the second gets 409 and the first's
   change is kept (guardians, care-plan reviews, consent withdrawal, referral steps, hand-overs).
10. A form posted twice with the same one-time submission key makes one record; the repeat is
    answered with the first result (a double tap on "register" no longer warns about the child
    it just made).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.messages import INFO, get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import connection
from django.http import HttpResponseRedirect
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment, Instrument, ScreeningSession
from assessments.screening.roster import screening_groups
from cases.models import (
    CarePlan,
    CarePlanReview,
    CareTeamMember,
    Child,
    Consent,
    Guardian,
    Handover,
)
from cases.services.care import care_plan_create, care_plan_review, care_team_add
from cases.services.child import HandoverTarget, child_handover, child_update
from cases.services.family import consent_record, consent_withdraw, guardian_add, guardian_update
from core.models import Submission
from core.submissions import submit_once
from followups.models import Activity, Visit
from institutions.models import Institution
from referrals.models import Referral
from tests.cases.test_identity import make_id
from tests.conftest import user
from tests.demo import HOSPITAL, MIDDLE_SCHOOL, VILLAGE_A, VILLAGE_A2, VILLAGE_B
from tests.factories import ChildFactory, region
from tests.referrals import advance, sent

pytestmark = pytest.mark.django_db


HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def hidden_inputs(response: Any) -> dict[str, str]:
    """The hidden fields of the page's forms: the submission key, a version, a plan state…"""
    assert response.status_code == 200
    return dict(HIDDEN.findall(response.content.decode()))


def new_child(village: str, *, household: str | None = None, **fields: Any) -> Child:
    """A left-behind girl born 2013-03-03 living in `village`, registered by county_civil."""
    fields.setdefault("name", "测试孩子")
    fields.setdefault("birth_date", date(2013, 3, 3))
    fields.setdefault("categories", ["rural_left_behind"])
    return ChildFactory(region=village, household=household, **fields)


def info_messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == INFO]


# 8. The hand-over snapshot.


class TestHandoverSnapshot:
    def handed_over(self, login: Callable[[str], Client]) -> tuple[Child, Handover]:
        national_id = make_id(born=date(2013, 3, 3))
        child = new_child(
            VILLAGE_A,
            household=VILLAGE_A2,
            name="卫小雨",
            national_id=national_id,
            notes="喜欢画画",
        )
        director = user("director_a")
        guardian_add(
            child=child,
            data={"name": "外婆", "relation": "grandparent", "phone": "13800001111"},
            by=director,
        )
        consent_record(
            child=child,
            purpose=Consent.Purpose.ASSESSMENT,
            given_on=timezone.localdate(),
            by=director,
            guardian=child.guardians.get(),
        )
        care_team_add(child=child, team_role="peer_partner", peer_name="小伙伴阿福", by=director)
        care_plan_create(
            child=child,
            data={
                "classification": "focused",
                "goals": "稳定情绪，每周谈心",
                "interventions": ["counselling"],
                "owner": director,
                "start_date": timezone.localdate(),
                "review_date": timezone.localdate() + timedelta(days=30),
            },
            by=director,
        )
        sender = login("director_a")
        url = reverse("cases:child_handover", args=[child.pk])
        form = hidden_inputs(sender.get(url))
        response = sender.post(url, {**form, "to_region": VILLAGE_B, "reason": "随父母迁居"})
        assert response.status_code == 302
        return child, child.handovers.get()

    def change_everything_after(self, child: Child) -> None:
        """The receiving side edits the file, the guardian, the plan and the consent."""
        receiver = user("director_b")
        child = Child.objects.get(pk=child.pk)
        child_update(
            child=child,
            changes={"name": "卫小雪", "notes": "新学校适应良好"},
            expected_version=child.version,
            by=receiver,
        )
        guardian = child.guardians.get()
        guardian_update(
            guardian=guardian,
            data={"name": "外公", "phone": "13999990000"},
            expected_version=guardian.version,
            by=receiver,
        )
        plan = child.care_plans.get()
        care_plan_review(
            plan=plan,
            reviewed_on=timezone.localdate(),
            note="转入后复核：方案结束",
            new_status=CarePlan.Status.COMPLETED,
            by=receiver,
        )
        consent_withdraw(consent=child.consents.get(), reason="监护人撤回", by=receiver)
        guardian_add(child=child, data={"name": "新监护人", "relation": "father"}, by=receiver)

    def test_the_snapshot_page_shows_the_file_as_handed_over_not_as_changed_since(self, login):
        child, handover = self.handed_over(login)
        self.change_everything_after(child)
        page = login("director_a").get(reverse("cases:handover_detail", args=[handover.pk]))
        html = page.content.decode()
        assert page.status_code == 200
        assert "卫小雨" in html and "卫小雪" not in html
        assert "喜欢画画" in html and "新学校适应良好" not in html
        assert "外婆" in html and "外公" not in html and "新监护人" not in html
        assert "13800001111" in html and "13999990000" not in html  # a child director's view
        assert "稳定情绪，每周谈心" in html and "转入后复核" not in html
        assert "小伙伴阿福" in html
        consents = html.split('data-testid="snapshot-consents"')[1].split("</ul>")[0]
        assert "text-bg-warning" not in consents  # not shown as withdrawn
        # The frozen copy is data on the hand-over, taken when it happened.
        assert handover.snapshot["child"]["name"] == "卫小雨"
        assert handover.snapshot["consents"][0]["withdrawn_on"] is None

    def test_the_snapshot_keeps_only_the_masked_id_and_masks_phones_by_role(self, login):
        child, handover = self.handed_over(login)
        full_id = make_id(born=date(2013, 3, 3))
        assert full_id not in json.dumps(handover.snapshot)
        assert handover.snapshot["child"]["national_id_masked"] == child.national_id_masked
        # A county supervisor (who sees phones masked) reads the township's hand-overs.
        html = (
            login("county_civil")
            .get(reverse("cases:handover_detail", args=[handover.pk]))
            .content.decode()
        )
        assert "13800001111" not in html and "138****1111" in html

    def test_an_older_handover_without_a_snapshot_is_rebuilt_from_the_history(self, login):
        child = new_child(VILLAGE_A, household=VILLAGE_A2, name="卫老档")
        handover = child_handover(
            child=child,
            target=HandoverTarget(region(VILLAGE_B), None, None),
            reason="迁居",
            by=user("director_a"),
        )
        Handover.objects.filter(pk=handover.pk).update(snapshot={})  # as before snapshots
        moved = Child.objects.get(pk=child.pk)
        child_update(
            child=moved,
            changes={"name": "卫新档"},
            expected_version=moved.version,
            by=user("director_b"),
        )
        html = (
            login("director_a")
            .get(reverse("cases:handover_detail", args=[handover.pk]))
            .content.decode()
        )
        assert 'data-testid="snapshot-rebuilt"' in html
        assert "卫老档" in html and "卫新档" not in html

    def test_a_handover_the_history_does_not_reach_says_no_snapshot_was_kept(self, login):
        child = new_child(VILLAGE_A, household=VILLAGE_A2, name="卫无档")
        handover = Handover.objects.create(
            child=child,
            from_region_id=VILLAGE_A,
            to_region_id=VILLAGE_B,
            reason="迁居",
            child_version=999,
            handed_over_by=user("director_a"),
        )
        page = login("director_a").get(reverse("cases:handover_detail", args=[handover.pk]))
        assert page.status_code == 200
        assert 'data-testid="no-snapshot"' in page.content.decode()

    def test_a_second_handover_from_a_form_opened_before_the_first_is_refused(self, login):
        # Registered in village A, so that director_a keeps the file after the move.
        child = new_child(VILLAGE_A, name="卫两次")
        first, second = login("director_a"), login("director_a")
        url = reverse("cases:child_handover", args=[child.pk])
        form_one, form_two = hidden_inputs(first.get(url)), hidden_inputs(second.get(url))
        moved = first.post(url, {**form_one, "to_region": VILLAGE_A2, "reason": "迁居"})
        assert moved.status_code == 302
        response = second.post(url, {**form_two, "to_region": VILLAGE_B, "reason": "迁居"})
        assert response.status_code == 409
        assert 'data-testid="edit-conflict"' in response.content.decode()
        assert child.handovers.count() == 1
        assert Child.objects.get(pk=child.pk).residence_region_id == VILLAGE_A2


# 9. Versions and "the first one wins" on edit forms.


def guardian_form(response: Any, **changes: str) -> dict[str, Any]:
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    return {**hidden_inputs(response), **data, **changes}


class TestVersions:
    def test_two_edits_of_one_guardian_the_second_gets_409_and_the_first_change_stays(self, login):
        child = new_child(VILLAGE_B, name="王小明")
        guardian = guardian_add(
            child=child,
            data={"name": "王芳", "relation": "mother", "phone": "13800002222"},
            by=user("director_b"),
        )
        url = reverse("cases:guardian_edit", args=[guardian.pk])
        one, two = login("director_b"), login("social_worker")
        first_form, second_form = one.get(url), two.get(url)  # both open version 1
        first = one.post(url, guardian_form(first_form, phone="13911112222"))
        assert first.status_code == 302
        second = two.post(url, guardian_form(second_form, name="王芳芳"))
        assert second.status_code == 409
        html = second.content.decode()
        assert 'data-testid="edit-conflict"' in html
        assert "13911112222" in html  # the form now shows the guardian as on file
        guardian.refresh_from_db()
        assert (guardian.name, guardian.phone, guardian.version) == ("王芳", "13911112222", 2)

    def test_removing_a_guardian_someone_just_edited_is_refused(self, login):
        child = new_child(VILLAGE_B, name="王小红")
        guardian = guardian_add(
            child=child, data={"name": "王强", "relation": "father"}, by=user("director_b")
        )
        url = reverse("cases:guardian_edit", args=[guardian.pk])
        one, two = login("director_b"), login("social_worker")
        first_form, second_form = one.get(url), two.get(url)
        assert one.post(url, guardian_form(first_form, phone="13700003333")).status_code == 302
        removal = two.post(url, {**hidden_inputs(second_form), "remove": "1"})
        assert removal.status_code == 409
        guardian.refresh_from_db()
        assert guardian.is_active and guardian.phone == "13700003333"

    def test_a_stale_care_plan_review_is_refused_and_the_first_review_stands(self, login):
        child = new_child(VILLAGE_B, name="王小刚")
        plan = care_plan_create(
            child=child,
            data={
                "classification": "general",
                "goals": "定期谈心",
                "interventions": ["counselling"],
                "owner": user("director_b"),
                "start_date": timezone.localdate(),
                "review_date": timezone.localdate() + timedelta(days=10),
            },
            by=user("director_b"),
        )
        url = reverse("cases:care_plan_review", args=[plan.pk])
        one, two = login("director_b"), login("social_worker")
        first_form, second_form = hidden_inputs(one.get(url)), hidden_inputs(two.get(url))
        today = timezone.localdate().isoformat()
        ended = {"reviewed_on": today, "note": "目标达成", "new_status": "completed"}
        assert one.post(url, {**first_form, **ended}).status_code == 302
        again = {
            "reviewed_on": today,
            "note": "继续观察",
            "new_status": "active",
            "next_review_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
        }
        response = two.post(url, {**second_form, **again})
        assert response.status_code == 409
        assert "继续观察" in response.content.decode()  # what they wrote is kept in the form
        plan.refresh_from_db()
        assert plan.status == CarePlan.Status.COMPLETED
        assert list(plan.reviews.values_list("note", flat=True)) == ["目标达成"]

    def test_a_consent_withdrawn_twice_keeps_the_first_withdrawal(self, login):
        child = new_child(VILLAGE_B, name="王小丽")
        guardian = guardian_add(
            child=child, data={"name": "王敏", "relation": "mother"}, by=user("director_b")
        )
        consent = consent_record(
            child=child,
            purpose=Consent.Purpose.ASSESSMENT,
            given_on=timezone.localdate(),
            by=user("director_b"),
            guardian=guardian,
        )
        url = reverse("cases:consent_withdraw", args=[consent.pk])
        one, two = login("director_b"), login("social_worker")
        first_form, second_form = hidden_inputs(one.get(url)), hidden_inputs(two.get(url))
        assert one.post(url, {**first_form, "reason": "监护人电话撤回"}).status_code == 302
        response = two.post(url, {**second_form, "reason": "另一个理由"})
        assert response.status_code == 409
        assert "监护人电话撤回" in response.content.decode()
        consent.refresh_from_db()
        assert consent.withdrawal_reason == "监护人电话撤回"
        assert consent.withdrawn_by == user("director_b")

    def test_a_referral_step_taken_on_a_stale_form_is_refused(self, login):
        referral = advance(sent(), Referral.Status.APPOINTMENT)
        url = reverse("referrals:step", args=[referral.pk, "book"])
        one, two = login("clinician"), login("clinician")
        first_form, second_form = hidden_inputs(one.get(url)), hidden_inputs(two.get(url))
        later = timezone.localtime() + timedelta(days=3)
        stamp = later.strftime("%Y-%m-%dT%H:%M")
        moved = one.post(url, {**first_form, "appointment_at": stamp, "note": "改期"})
        assert moved.status_code == 302
        response = two.post(url, {**second_form, "appointment_at": stamp, "note": "再改期"})
        assert response.status_code == 302
        notes = list(referral.events.values_list("note", flat=True))
        assert "改期" in notes and "再改期" not in notes


# 10. One-time submission keys on every create form.


@dataclass
class CreateForm:
    """A create form: who fills it, where, with what, and how many records it has made."""

    username: str
    url: str
    data: dict[str, Any]
    count: Callable[[], int]


def registration() -> CreateForm:
    data = {
        "name": "双击登记",
        "sex": "M",
        "birth_date": "2014-06-06",
        "national_id": "",
        "residence_region": VILLAGE_A,
        "household_region": "",
        "categories": ["rural_left_behind"],
        "grade": "",
        "class_name": "",
        "notes": "",
    }
    return CreateForm(
        "director_a",
        reverse("cases:child_create"),
        data,
        lambda: Child.objects.filter(name="双击登记").count(),
    )


def a_village_a_child() -> Child:
    return new_child(VILLAGE_A, name="表单孩子")


def guardian() -> CreateForm:
    child = a_village_a_child()
    return CreateForm(
        "director_a",
        reverse("cases:guardian_add", args=[child.pk]),
        {"name": "李梅", "relation": "mother", "phone": "13812345678", "lives_with_child": "on"},
        lambda: Guardian.objects.filter(child=child).count(),
    )


def consent() -> CreateForm:
    child = a_village_a_child()
    parent = guardian_add(
        child=child, data={"name": "李军", "relation": "father"}, by=user("director_a")
    )
    return CreateForm(
        "director_a",
        reverse("cases:consent_add", args=[child.pk]),
        {
            "purpose": "assessment",
            "given_by": str(parent.pk),
            "given_on": timezone.localdate().isoformat(),
        },
        lambda: Consent.objects.filter(child=child).count(),
    )


def care_team_member() -> CreateForm:
    child = a_village_a_child()
    return CreateForm(
        "director_a",
        reverse("cases:care_team_add", args=[child.pk]),
        {"team_role": "peer_partner", "peer_name": "同桌小刚"},
        lambda: CareTeamMember.objects.filter(child=child).count(),
    )


def care_plan() -> CreateForm:
    child = a_village_a_child()
    return CreateForm(
        "director_a",
        reverse("cases:care_plan_add", args=[child.pk]),
        {
            "classification": "focused",
            "goals": "稳定情绪",
            "interventions": ["counselling"],
            "owner": str(user("director_a").pk),
            "start_date": timezone.localdate().isoformat(),
            "review_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
        lambda: CarePlan.objects.filter(child=child).count(),
    )


def care_plan_review_form() -> CreateForm:
    child = a_village_a_child()
    plan = care_plan_create(
        child=child,
        data={
            "classification": "general",
            "goals": "定期谈心",
            "interventions": ["counselling"],
            "owner": user("director_a"),
            "start_date": timezone.localdate(),
            "review_date": timezone.localdate() + timedelta(days=10),
        },
        by=user("director_a"),
    )
    return CreateForm(
        "director_a",
        reverse("cases:care_plan_review", args=[plan.pk]),
        {
            "reviewed_on": timezone.localdate().isoformat(),
            "note": "情绪平稳",
            "new_status": "active",
            "next_review_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
        lambda: CarePlanReview.objects.filter(plan=plan).count(),
    )


def visit() -> CreateForm:
    child = a_village_a_child()
    return CreateForm(
        "director_a",
        reverse("followups:visit_create", args=[child.pk]),
        {
            "kind": Visit.Kind.HOME_VISIT,
            "visited_on": timezone.localdate().isoformat(),
            "present": ["child", "guardian"],
            "mood": Visit.Mood.CALM,
            "next_step": Visit.NextStep.ROUTINE,
        },
        lambda: Visit.objects.filter(child=child).count(),
    )


def pupil() -> Child:
    return Child.objects.filter(school__name=MIDDLE_SCHOOL, residence_region_id=VILLAGE_A).order_by(
        "id"
    )[0]


def assessment() -> CreateForm:
    child = pupil()
    parent = child.guardians.filter(is_active=True).first() or guardian_add(
        child=child, data={"name": "测试家长", "relation": "mother"}, by=user("counselor")
    )
    consent_record(
        child=child,
        purpose=Consent.Purpose.ASSESSMENT,
        given_on=timezone.localdate(),
        by=user("counselor"),
        guardian=parent,
    )
    phq9 = Instrument.objects.get(code="PHQ-9", version=1)
    answers = {f"q{n}": "1" for n in range(1, 9)} | {"q9": "0"}
    return CreateForm(
        "counselor",
        reverse("assessments:assessment_create", args=[child.pk]) + f"?instrument={phq9.pk}",
        {
            "instrument": str(phq9.pk),
            "setting": "school_screening",
            "administered_on": timezone.localdate().isoformat(),
            **answers,
        },
        lambda: Assessment.objects.filter(child=child).count(),
    )


def referral_draft() -> CreateForm:
    child = pupil()
    return CreateForm(
        "counselor",
        reverse("referrals:referral_create", args=[child.pk]),
        {
            "service": Institution.Service.PSYCHIATRIC_CLINIC,
            "area": child.residence_region_id[:6],
            "to_institution": str(Institution.objects.get(name=HOSPITAL).pk),
            "urgency": Referral.Urgency.ROUTINE,
            "reason": "长期失眠，情绪低落。",
            "consent_by": "",
            "consent_given_on": timezone.localdate().isoformat(),
            "draft": "1",
        },
        lambda: Referral.objects.filter(child=child).count(),
    )


def activity() -> CreateForm:
    return CreateForm(
        "director_a",
        reverse("activities:activity_create"),
        {
            "kind": Activity.Kind.CLASS_MEETING,
            "topic": "双击测试主题班会",
            "held_on": timezone.localdate().isoformat(),
            "region": VILLAGE_A,
            "venue": "",
            "venue_text": "村委会会议室",
            "agency": "",
            "children": "",
            "guardian_children": "",
            "guardians_attending": "3",
            "note": "",
        },
        lambda: Activity.objects.filter(topic="双击测试主题班会").count(),
    )


def screening_session() -> CreateForm:
    counselor = user("counselor")
    groups = [g for g in screening_groups(user=counselor) if g.school is not None]
    return CreateForm(
        "counselor",
        reverse("assessments:screening_create"),
        {
            "instrument": str(Instrument.objects.get(code="PHQ-9", version=1).pk),
            "group": groups[0].key,
            "administered_on": timezone.localdate().isoformat(),
            "title": "双击测试筛查",
        },
        lambda: ScreeningSession.objects.filter(title="双击测试筛查").count(),
    )


CREATE_FORMS = {
    "child registration": registration,
    "guardian": guardian,
    "consent": consent,
    "care-team member": care_team_member,
    "care plan": care_plan,
    "care-plan review": care_plan_review_form,
    "visit": visit,
    "assessment": assessment,
    "referral draft": referral_draft,
    "activity": activity,
    "screening session": screening_session,
}


@pytest.mark.parametrize("name", list(CREATE_FORMS))
def test_the_same_form_posted_twice_makes_one_record_and_answers_with_the_first(name, login):
    form = CREATE_FORMS[name]()
    client = login(form.username)
    hidden = hidden_inputs(client.get(form.url))
    assert "submission_key" in hidden, "the form carries a one-time key"
    before = form.count()
    data = {**hidden, **form.data}
    first = client.post(form.url, data)
    assert first.status_code == 302, first.content.decode()[:2000]
    second = client.post(form.url, data)
    assert form.count() == before + 1
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    assert info_messages(second), "the repeat is told it was already saved"
    assert Submission.objects.filter(user=user(form.username)).count() == 1


def test_a_double_tap_on_register_leads_to_the_child_just_made_not_to_a_duplicate_warning(
    login,
):
    form = registration()
    client = login(form.username)
    data = {**hidden_inputs(client.get(form.url)), **form.data}
    first = client.post(form.url, data)
    second = client.post(form.url, data)
    child = Child.objects.get(name="双击登记")
    assert first["Location"] == second["Location"] == reverse("cases:child_detail", args=[child.pk])
    assert "candidates" not in (second.context or {})


def test_a_new_form_gets_a_new_key_so_a_second_record_is_still_possible(login):
    form = visit()
    client = login(form.username)
    for _ in range(2):
        data = {**hidden_inputs(client.get(form.url)), **form.data}
        assert client.post(form.url, data).status_code == 302
    assert form.count() == 2


def test_a_form_sent_back_with_errors_keeps_its_key_and_saves_once_corrected(login):
    form = guardian()
    client = login(form.username)
    hidden = hidden_inputs(client.get(form.url))
    bad = client.post(form.url, {**hidden, **form.data, "phone": "12"})
    assert bad.status_code == 200
    assert hidden_inputs(bad)["submission_key"] == hidden["submission_key"]
    assert client.post(form.url, {**hidden, **form.data}).status_code == 302
    assert form.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_repeat_arriving_while_the_first_is_still_saving_waits_and_gets_its_result(
    demo_world,
):
    """A real race: two threads, two connections. The second POST with the key blocks on the
    key's claim until the first commits, then answers with the first's result."""
    child = new_child(VILLAGE_A, name="并发孩子")
    director = user("director_a")
    key = str(uuid.uuid4())
    first_is_saving = threading.Event()
    answers: dict[str, Any] = {}

    def post(name: str) -> None:
        request = RequestFactory().post("/children/x/guardians/new/", {"submission_key": key})
        request.user = director
        request.session = {}  # type: ignore[assignment]
        request._messages = FallbackStorage(request)  # type: ignore[attr-defined]

        def save() -> Any:
            made = guardian_add(child=child, data={"name": name, "relation": "mother"}, by=director)
            first_is_saving.set()
            time.sleep(0.5)  # a slow network: the repeat arrives meanwhile
            return HttpResponseRedirect(f"/guardians/{made.pk}/")

        try:
            answers[name] = submit_once(request, save)
        finally:
            connection.close()

    first = threading.Thread(target=post, args=("甲",))
    first.start()
    assert first_is_saving.wait(timeout=10)
    second = threading.Thread(target=post, args=("乙",))
    second.start()
    first.join(timeout=30)
    second.join(timeout=30)
    made = Guardian.objects.get(child=child)
    assert made.name == "甲"
    assert answers["甲"]["Location"] == answers["乙"]["Location"] == f"/guardians/{made.pk}/"
