"""Follow-up plans after treatment (issue 11, point 1): a discharge makes the plan and pairs the
care team's holder of the recommended role; nobody holding it, the child supervisor is asked to
name someone; the referral closes only once the follow-up is settled; a plan ends only with a
reason, which cancels the visit still due; a plan by hand shows its problems on their fields;
a reader out of scope gets 404, one in scope without the level 403."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import CareTeamMember, Child
from cases.selectors.scope import access_level
from core.models import Notification
from followups.models import FollowupPlan, FollowupSchedule, Task, Visit
from followups.services.plans import plan_end
from referrals.models import Referral
from referrals.services.lifecycle import referral_discharge
from tests.conftest import user
from tests.factories import CareTeamMemberFactory, ChildFactory, VisitFactory
from tests.factories.followups import FollowupPlanFactory
from tests.referrals import advance, sent

pytestmark = pytest.mark.django_db

S = Referral.Status
MENTOR = CareTeamMember.TeamRole.MENTOR


def pupil_with_mentor() -> Child:
    """A new middle-school pupil (the counsellor's and the town supervisor's) whose care team
    has the demo mentor."""
    child = ChildFactory(pupil=True)
    CareTeamMemberFactory(child=child, user=user("mentor"), team_role=MENTOR)
    return child


def discharged(child: Child, *, every: int = 14, by: str = "mentor", weeks: int = 12) -> Referral:
    """The counsellor's referral of `child` to the county hospital, treated and discharged
    by the clinician with "every `every` days by the `by` for `weeks` weeks"."""
    referral = advance(sent(child), S.IN_TREATMENT)
    return referral_discharge(
        referral=referral,
        by=user("clinician"),
        outcome_summary="门诊治疗结束，情绪明显好转，可返校。",
        followup_interval_days=every,
        followup_by=by,
        followup_weeks=weeks,
    )


def pending_followup(child: Child) -> Task | None:
    return Task.objects.filter(
        child=child, kind=Task.Kind.FOLLOWUP_VISIT, status__in=Task.PENDING
    ).first()


def partners_offered(page: str) -> str:
    """The list of people a form offers to pair (its checkboxes, by name)."""
    start = page.index('data-testid="partners"')
    return page[start : page.index("</fieldset>", start)]


def plan_form_data(child: Child, **overrides) -> dict:
    today = timezone.localdate()
    data = {
        "preset": "",
        "first_interval_days": "7",
        "first_period_days": "28",
        "interval_days": "30",
        "partner_role": MENTOR,
        "partners": [str(user("mentor").pk)],
        "start_on": today.isoformat(),
        "end_on": (today + timedelta(weeks=26)).isoformat(),
        "goal": "返校后情绪稳定，按时上学",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


class TestDischargeMakesThePlan:
    def test_the_mentor_on_the_team_is_paired_and_has_the_first_visit_due(self, login):
        child = pupil_with_mentor()
        referral = discharged(child, every=14, by=MENTOR, weeks=12)

        plan = FollowupPlan.objects.get(child=child)
        start = timezone.localdate(referral.discharged_at)
        assert plan.referral_id == referral.pk
        assert plan.status == FollowupPlan.Status.ACTIVE
        assert list(plan.partners.all()) == [user("mentor")]
        assert (plan.first_interval_days, plan.interval_days) == (14, 14)
        assert (plan.start_on, plan.end_on) == (start, start + timedelta(weeks=12))
        task = pending_followup(child)
        assert task is not None
        assert task.assignee == user("mentor")
        assert task.due_on == start + timedelta(days=14)
        assert task.source_id == plan.pk
        assert Notification.objects.filter(
            recipient=user("mentor"), kind="followup_partner_named", child=child
        ).exists()

        # The mentor reads the plan: who is paired, and the visit due.
        page = login("mentor").get(reverse("followups:plan_detail", args=[plan.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert str(user("mentor")) in html
        assert f"{task.due_on:%Y-%m-%d}" in html
        assert 'data-testid="log-followup-visit"' in html
        assert 'data-testid="end-plan"' not in html  # pairing and ending need manage

        # The referral's page links to the plan; the child's file lists it with the visit due.
        counsellor = login("counselor")
        page = counsellor.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
        assert reverse("followups:plan_detail", args=[plan.pk]) in page
        assert 'data-testid="make-followup-plan"' not in page
        page = counsellor.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
        assert 'data-testid="file-followup-plans"' in page
        assert reverse("followups:plan_detail", args=[plan.pk]) in page
        assert f"{task.due_on:%Y-%m-%d}" in page

    def test_nobody_in_the_role_asks_the_child_supervisor_to_name_one(self, login):
        child = ChildFactory(pupil=True)
        discharged(child, by=MENTOR)

        plan = FollowupPlan.objects.get(child=child)
        assert not plan.partners.exists()
        assert Notification.objects.filter(
            recipient=user("supervisor_town"), kind="followup_partner_needed", child=child
        ).exists()
        page = login("supervisor_town").get(reverse("followups:plan_detail", args=[plan.pk]))
        assert 'data-testid="pair"' in page.content.decode()

        # The supervisor names the village's child director, chosen by name from a list.
        supervisor = login("supervisor_town")
        url = reverse("followups:plan_pair", args=[plan.pk])
        form = supervisor.get(url).content.decode()
        director = user("director_a")
        assert f'value="{director.pk}"' in partners_offered(form)
        assert str(director) in partners_offered(form)
        response = supervisor.post(url, {"partners": [str(director.pk)]})
        assert response.status_code == 302
        assert list(plan.partners.all()) == [director]
        assert access_level(director, child) is not None
        assert CareTeamMember.objects.filter(
            child=child, user=director, team_role=MENTOR, is_active=True
        ).exists()
        task = pending_followup(child)
        assert task is not None and task.assignee == director

    def test_a_follow_up_visit_closes_the_task_and_the_next_is_due_from_it(self, login):
        # A plan that started ten days ago: the first visit is due in four days.
        child = pupil_with_mentor()
        today = timezone.localdate()
        FollowupPlanFactory(
            child=child,
            partners=[user("mentor")],
            start_on=today - timedelta(days=10),
            by=user("counselor"),
        )
        first = pending_followup(child)
        assert first is not None
        assert (first.due_on, first.assignee) == (today + timedelta(days=4), user("mentor"))

        form = login("mentor").get(
            reverse("followups:visit_create", args=[child.pk]) + "?kind=followup_visit"
        )
        assert 'value="followup_visit" checked' in form.content.decode()
        response = login("mentor").post(
            reverse("followups:visit_create", args=[child.pk]),
            {
                "kind": Visit.Kind.FOLLOWUP_VISIT,
                "visited_on": today.isoformat(),
                "present": ["child"],
                "mood": Visit.Mood.CALM,
                "next_step": Visit.NextStep.ROUTINE,
            },
        )
        assert response.status_code == 302
        first.refresh_from_db()
        assert first.status == Task.Status.DONE
        following = pending_followup(child)
        assert following is not None
        assert following.due_on == today + timedelta(days=14)
        assert following.assignee == user("mentor")


class TestClosingTheReferral:
    def test_a_discharge_without_a_plan_closes_only_with_a_reason_or_a_plan(self, login):
        # The child had a plan in progress, so the discharge made none of its own: the
        # running plan settles the follow-up while it runs.
        child = pupil_with_mentor()
        earlier = FollowupPlanFactory(child=child, by=user("counselor"))
        referral = discharged(child, every=14, by=MENTOR, weeks=12)
        assert list(FollowupPlan.objects.filter(child=child)) == [earlier]
        counsellor = login("counselor")
        detail = counsellor.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
        assert reverse("followups:plan_detail", args=[earlier.pk]) in detail
        close = reverse("referrals:step", args=[referral.pk, "close"])
        assert 'name="no_followup_reason"' not in counsellor.get(close).content.decode()

        # Once that plan has ended, nothing follows the discharge up: closing is refused, on
        # the field that settles it.
        response = counsellor.post(
            reverse("followups:plan_end", args=[earlier.pk]), {"reason": "新的出院随访建议取代"}
        )
        assert response.status_code == 302
        assert 'name="no_followup_reason"' in counsellor.get(close).content.decode()
        response = counsellor.post(close, {"note": "结案"})
        assert response.status_code == 400
        assert 'id="id_no_followup_reason_error"' in response.content.decode()
        referral.refresh_from_db()
        assert referral.status == S.DISCHARGED

        # The counsellor makes the plan from the discharge, from the referral's page.
        detail = counsellor.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
        assert 'data-testid="make-followup-plan"' in detail
        new = reverse("followups:plan_create", args=[child.pk]) + f"?referral={referral.pk}"
        form = counsellor.get(new).content.decode()
        assert 'name="first_interval_days" value="14"' in form
        # The team's mentor, ticked.
        assert f'value="{user("mentor").pk}" checked' in partners_offered(form)
        response = counsellor.post(
            new,
            plan_form_data(
                child,
                first_interval_days="14",
                first_period_days="0",
                interval_days="14",
                end_on=(timezone.localdate() + timedelta(weeks=12)).isoformat(),
            ),
        )
        assert response.status_code == 302
        plan = FollowupPlan.objects.get(child=child, status=FollowupPlan.Status.ACTIVE)
        assert plan.referral_id == referral.pk

        # Settled: the close form asks nothing more and closes.
        assert 'name="no_followup_reason"' not in counsellor.get(close).content.decode()
        assert counsellor.post(close, {"note": "结案"}).status_code == 302
        referral.refresh_from_db()
        assert referral.status == S.CLOSED

    def test_a_reason_for_no_follow_up_closes_it(self, login):
        child = pupil_with_mentor()
        earlier = FollowupPlanFactory(child=child, by=user("counselor"))
        referral = discharged(child)
        plan_end(plan=earlier, by=user("counselor"), reason="家庭迁往外省")
        counsellor = login("counselor")
        close = reverse("referrals:step", args=[referral.pk, "close"])
        response = counsellor.post(close, {"note": "", "no_followup_reason": "已转当地机构随访"})
        assert response.status_code == 302
        referral.refresh_from_db()
        assert referral.status == S.CLOSED
        assert "已转当地机构随访" in referral.events.order_by("-id").first().note


class TestEndingAPlan:
    def test_ending_needs_a_reason_and_cancels_the_visit_still_due(self, login):
        child = pupil_with_mentor()
        discharged(child, by=MENTOR)
        plan = FollowupPlan.objects.get(child=child)
        task = pending_followup(child)
        assert task is not None
        counsellor = login("counselor")
        url = reverse("followups:plan_end", args=[plan.pk])

        response = counsellor.post(url, {"reason": "  "})
        assert response.status_code == 400
        assert 'id="id_reason_error"' in response.content.decode()
        plan.refresh_from_db()
        assert plan.status == FollowupPlan.Status.ACTIVE

        response = counsellor.post(url, {"reason": "孩子转学到外县，已移交"})
        assert response.status_code == 302
        plan.refresh_from_db()
        assert plan.status == FollowupPlan.Status.ENDED
        assert plan.end_reason == "孩子转学到外县，已移交"
        assert plan.ended_by == user("counselor")
        task.refresh_from_db()
        assert task.status == Task.Status.CANCELLED
        assert pending_followup(child) is None
        page = counsellor.get(reverse("followups:plan_detail", args=[plan.pk])).content.decode()
        assert "孩子转学到外县，已移交" in page
        assert 'data-testid="log-followup-visit"' not in page

    def test_the_mentor_may_read_but_not_end_or_pair(self, login):
        child = pupil_with_mentor()
        discharged(child, by=MENTOR)
        plan = FollowupPlan.objects.get(child=child)
        mentor = login("mentor")
        assert mentor.get(reverse("followups:plan_detail", args=[plan.pk])).status_code == 200
        for name in ("followups:plan_end", "followups:plan_pair"):
            assert mentor.post(reverse(name, args=[plan.pk]), {"reason": "x"}).status_code == 403
        assert mentor.get(reverse("followups:plan_create", args=[child.pk])).status_code == 403


class TestPlanByHand:
    def test_problems_are_shown_on_their_fields_and_nothing_is_saved(self, login):
        child = ChildFactory(pupil=True)
        counsellor = login("counselor")
        url = reverse("followups:plan_create", args=[child.pk])
        today = timezone.localdate()
        file_page = counsellor.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
        assert 'data-testid="new-followup-plan"' in file_page

        response = counsellor.post(
            url,
            plan_form_data(
                child,
                first_interval_days="0",
                end_on=(today - timedelta(days=1)).isoformat(),
                goal=" ",
                partners=[str(user("director_a").pk)],
            ),
        )
        assert response.status_code == 400
        html = response.content.decode()
        for field in ("first_interval_days", "end_on", "goal"):
            assert f'id="id_{field}_error"' in html, field
        assert 'id="id_partners_error"' not in html
        # Nobody was paired (and so given the child) by the refused plan.
        assert not FollowupPlan.objects.filter(child=child).exists()
        assert not CareTeamMember.objects.filter(child=child, user=user("director_a")).exists()

        response = counsellor.post(url, plan_form_data(child, partners=None))
        assert response.status_code == 400
        assert 'id="id_partners_error"' in response.content.decode()
        assert not FollowupPlan.objects.filter(child=child).exists()

    def test_a_child_with_a_plan_in_progress_gets_no_second_one(self, login):
        child = ChildFactory(pupil=True)
        FollowupPlanFactory(child=child, by=user("counselor"))
        counsellor = login("counselor")
        file_page = counsellor.get(reverse("cases:child_detail", args=[child.pk])).content.decode()
        assert 'data-testid="new-followup-plan"' not in file_page
        response = counsellor.post(
            reverse("followups:plan_create", args=[child.pk]),
            plan_form_data(child, partners=[str(user("director_a").pk)]),
        )
        assert response.status_code == 400
        assert 'data-testid="form-errors"' in response.content.decode()
        assert FollowupPlan.objects.filter(child=child).count() == 1
        assert not CareTeamMember.objects.filter(child=child, user=user("director_a")).exists()

    def test_a_preset_fills_the_days_and_the_end(self, login):
        child = ChildFactory(pupil=True)
        preset = FollowupSchedule.objects.filter(is_active=True, first_period_days__gt=0).first()
        assert preset is not None
        counsellor = login("counselor")
        url = reverse("followups:plan_create", args=[child.pk])
        form = counsellor.get(url).content.decode()
        assert 'id="followup-presets"' in form
        director = user("director_a")
        response = counsellor.post(
            url,
            plan_form_data(
                child,
                preset=str(preset.pk),
                first_interval_days="",
                first_period_days="",
                interval_days="",
                end_on="",
                partner_role=CareTeamMember.TeamRole.CHILD_DIRECTOR,
                partners=[str(director.pk)],
            ),
        )
        assert response.status_code == 302
        plan = FollowupPlan.objects.get(child=child)
        assert (plan.first_interval_days, plan.first_period_days, plan.interval_days) == (
            preset.first_interval_days,
            preset.first_period_days,
            preset.interval_days,
        )
        assert plan.end_on == plan.start_on + timedelta(weeks=preset.duration_weeks)
        assert list(plan.partners.all()) == [director]
        assert access_level(director, child) is not None
        task = pending_followup(child)
        assert task is not None
        assert task.assignee == director
        assert task.due_on == plan.start_on + timedelta(days=preset.first_interval_days)

    def test_only_the_care_team_and_the_regions_colleagues_can_be_paired(self, login):
        child = ChildFactory(pupil=True)
        outsider = user("director_b")  # a child director of another township's village
        counsellor = login("counselor")
        url = reverse("followups:plan_create", args=[child.pk])
        offered = partners_offered(counsellor.get(url).content.decode())
        assert f'value="{user("director_a").pk}"' in offered
        assert f'value="{outsider.pk}"' not in offered
        response = counsellor.post(url, plan_form_data(child, partners=[str(outsider.pk)]))
        assert response.status_code == 400
        assert 'id="id_partners_error"' in response.content.decode()
        assert not FollowupPlan.objects.filter(child=child).exists()


class TestWhoMay:
    def test_outside_the_scope_every_plan_page_is_404(self, login):
        child = pupil_with_mentor()
        discharged(child, by=MENTOR)
        plan = FollowupPlan.objects.get(child=child)
        outsider = login("director_b")
        assert access_level(user("director_b"), child) is None
        for url in (
            reverse("followups:plan_detail", args=[plan.pk]),
            reverse("followups:plan_pair", args=[plan.pk]),
            reverse("followups:plan_end", args=[plan.pk]),
            reverse("followups:plan_create", args=[child.pk]),
        ):
            assert outsider.get(url).status_code == 404, url
        assert (
            outsider.post(
                reverse("followups:plan_end", args=[plan.pk]), {"reason": "x"}
            ).status_code
            == 404
        )
        plan.refresh_from_db()
        assert plan.status == FollowupPlan.Status.ACTIVE


class TestTheNextTaskOnTheSameDate:
    def test_a_follow_up_visit_on_the_day_of_discharge_leaves_the_next_one_due(self):
        child = pupil_with_mentor()
        discharged(child, every=14, by=MENTOR)
        first = pending_followup(child)
        assert first is not None
        VisitFactory(child=child, kind=Visit.Kind.FOLLOWUP_VISIT, by=user("mentor"))
        first.refresh_from_db()
        assert first.status == Task.Status.DONE
        following = pending_followup(child)
        assert following is not None
        assert following.due_on == timezone.localdate() + timedelta(days=14)

    def test_a_plan_made_the_day_the_last_one_ended_has_its_visit_due(self):
        child = pupil_with_mentor()
        earlier = FollowupPlanFactory(child=child, partners=[user("mentor")])
        plan_end(plan=earlier, by=user("counselor"), reason="重新制定计划")
        FollowupPlanFactory(child=child, partners=[user("mentor")])
        assert pending_followup(child) is not None
