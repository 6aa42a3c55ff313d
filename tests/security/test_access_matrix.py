"""The access matrix (issue 9): every URL about a child's data × every kind of demo user × every
kind of tie to the child (in scope, a read share, a care-team place, none), for GET and POST.

The expected answer is written here from DESIGN.md §5, independently of the views:

- no tie at all → 404 (out of scope and missing look the same);
- a tie below the level the action needs → 403;
- the level, but not the role's permission for the action → 403;
- otherwise the action is allowed: neither 403 nor 404, and never a server error.

A second test walks the URL resolver: every URL that names an object by id fetches it through the
one fetch (`core.access.fetch`, via `ScopedViewMixin.fetch_model` or `ScopedAPIMixin`), and every
such URL about a child's data has a row in MATRIX, so a new view cannot forget either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cases.models import CareTeamMember, Child, ChildAccessGrant
from cases.services.access import grant_open
from core.access import Level, is_registered, scoping
from core.models import ExportChunk, ExportJob
from followups.models import Task
from institutions.api import ScopedAPIMixin
from institutions.models import Institution, User
from institutions.scoping import ScopedViewMixin
from referrals.models import ReferralAttachment
from tests.conftest import client_for, user
from tests.demo import SOCIAL_PSYCH
from tests.factories import (
    AssessmentFactory,
    CarePlanFactory,
    CareTeamMemberFactory,
    ConsentFactory,
    GuardianFactory,
    ReferralFactory,
    VisitFactory,
    child_in_scope_of,
    child_out_of_scope_of,
)
from tests.factories.followups import FollowupPlanFactory
from tests.factories.institutions import institution

pytestmark = pytest.mark.django_db

R, C, M = Level.READ, Level.CONTRIBUTE, Level.MANAGE


@dataclass(frozen=True)
class Row:
    """What one URL is about, and what GET and POST need (None: the method is not offered)."""

    obj: str  # key of the object the URL names (see `objects_of`)
    get: Level | None
    post: Level | None
    get_perm: str | tuple[str, ...] | None = None
    post_perm: str | tuple[str, ...] | None = None


AMEND = ("assessments.add_assessment", "assessments.view_item_answers")

MATRIX: dict[str, Row] = {
    # The child's file: reading it, and managing it (identity, family, consent, team, plans).
    "cases:child_detail": Row("child", R, None, "cases.view_child"),
    "cases:child_history": Row("child", R, None, "cases.view_child"),
    "cases:child_edit": Row("child", M, M, "cases.change_child", "cases.change_child"),
    "cases:child_close": Row("child", M, M, "cases.change_child", "cases.change_child"),
    "cases:child_handover": Row("child", M, M, "cases.handover_child", "cases.handover_child"),
    "cases:handover_region_search": Row("child", M, None, "cases.handover_child"),
    "cases:child_region_search": Row("child", M, None, "cases.change_child"),
    "cases:guardian_add": Row("child", M, M, "cases.record_consent", "cases.record_consent"),
    "cases:guardian_edit": Row("guardian", M, M, "cases.record_consent", "cases.record_consent"),
    "cases:consent_add": Row("child", M, M, "cases.record_consent", "cases.record_consent"),
    "cases:consent_withdraw": Row("consent", M, M, "cases.record_consent", "cases.record_consent"),
    "cases:care_team_add": Row("child", M, M, "cases.manage_care", "cases.manage_care"),
    "cases:care_team_colleagues": Row("child", M, None, "cases.manage_care"),
    "cases:care_team_remove": Row("team_member", None, M, None, "cases.manage_care"),
    "cases:care_plan_add": Row("child", M, M, "cases.manage_care", "cases.manage_care"),
    "cases:care_plan_review": Row("plan", M, M, "cases.manage_care", "cases.manage_care"),
    # What a role records: visits, assessments, referrals (contribute).
    "followups:visit_create": Row("child", C, C, "followups.add_visit", "followups.add_visit"),
    "followups:visit_detail": Row("visit", R, R, "cases.view_child", "followups.review_visit"),
    # Follow-up plans: read with the file; made, paired and ended as care is managed.
    "followups:plan_detail": Row("followup_plan", R, None, "cases.view_child"),
    "followups:plan_create": Row("child", M, M, "cases.manage_care", "cases.manage_care"),
    "followups:plan_pair": Row("followup_plan", M, M, "cases.manage_care", "cases.manage_care"),
    "followups:plan_end": Row("followup_plan", M, M, "cases.manage_care", "cases.manage_care"),
    "assessments:assessment_create": Row(
        "child", C, C, "assessments.add_assessment", "assessments.add_assessment"
    ),
    "assessments:assessment_detail": Row("assessment", R, None, "cases.view_child"),
    # Correcting a result someone else took means reading its answers (DESIGN.md §5, fields).
    "assessments:assessment_amend": Row("assessment", C, C, AMEND, AMEND),
    "assessments:alert_detail": Row(
        "alert", R, C, "cases.view_child", "assessments.acknowledge_alert"
    ),
    # Telling a guardian is a contact with the family: those who record visits (issue 10).
    "assessments:alert_guardian_informed": Row("alert", None, C, None, "followups.add_visit"),
    "referrals:referral_create": Row(
        "child", C, C, "referrals.add_referral", "referrals.add_referral"
    ),
    "referrals:institution_options": Row("child", C, None, "referrals.add_referral"),
    "referrals:detail": Row("referral", R, None),
    "referrals:attachment": Row("attachment", R, None),
    # The API reads at read.
    "api:child-detail": Row("child", R, None, "cases.view_child"),
    # The API's writes of the file (PATCH is tried in tests/api/test_cases_api.py): POST here
    # without If-Match, so an allowed call answers 428 and changes nothing.
    "api:child-close": Row("child", None, M, None, "cases.change_child"),
    "api:child-reopen": Row("child", None, M, None, "cases.change_child"),
    "api:child-handover": Row("child", None, M, None, "cases.handover_child"),
    "api:guardian-detail": Row("guardian", R, None, "cases.view_child"),
    "api:guardian-deactivate": Row("guardian", None, M, None, "cases.record_consent"),
    "api:consent-detail": Row("consent", R, None, "cases.view_child"),
    "api:consent-withdraw": Row("consent", None, M, None, "cases.record_consent"),
    "api:care-team-member-detail": Row("team_member", R, None, "cases.view_child"),
    "api:care-team-member-remove": Row("team_member", None, M, None, "cases.manage_care"),
    "api:care-plan-detail": Row("plan", R, None, "cases.view_child"),
    "api:care-plan-review": Row("plan", None, M, None, "cases.manage_care"),
    "api:assessment-detail": Row("assessment", R, None),
    "api:referral-detail": Row("referral", R, None),
    # Visits, follow-up plans and tasks (followups' API): read with the file; a flagged visit
    # reviewed by a supervisor at read; plans paired and ended as care is managed.
    "api:visit-detail": Row("visit", R, None, "cases.view_child"),
    "api:visit-review": Row("visit", None, R, None, "followups.review_visit"),
    "api:followup-plan-detail": Row("followup_plan", R, None, "cases.view_child"),
    "api:followup-plan-pair": Row("followup_plan", None, M, None, "cases.manage_care"),
    "api:followup-plan-end": Row("followup_plan", None, M, None, "cases.manage_care"),
    "api:task-detail": Row("task", R, None),
    "api:referral-events": Row("referral", R, None, "cases.view_child"),
    # Adding an attachment needs either side of the referral (tests/api/test_referrals_api.py).
    "api:referral-attachments": Row("referral", R, None, "cases.view_child"),
    "api:referral-attachment-detail": Row("attachment", R, None, "cases.view_child"),
    # The sending side's steps: contribute on the child and the sender's permission (the
    # referral goes to a clinic where no user under test works, so no one acts as the clinic).
    "api:referral-send": Row("referral", None, C, None, "referrals.add_referral"),
    "api:referral-withdraw": Row("referral", None, C, None, "referrals.add_referral"),
    "api:referral-close": Row("referral", None, C, None, "referrals.add_referral"),
    "api:alert-detail": Row("alert", R, None, "cases.view_child"),
    "api:alert-acknowledge": Row("alert", None, C, None, "assessments.acknowledge_alert"),
    "api:alert-guardian-informed": Row("alert", None, C, None, "followups.add_visit"),
}

# URLs that name a child-related object but whose rules are more than a level and a
# permission; each has its own tests.
SPECIAL = {
    "cases:handover_detail": "scoped by the sending region (tests/security/test_writes_once.py)",
    "referrals:step": "clinic steps need the receiving clinic (tests/referrals/test_views.py)",
    "referrals:review": "only referrals sent without consent (tests/referrals/test_views.py)",
    **{
        f"api:referral-{step}": "clinic steps need the receiving clinic "
        "(tests/api/test_referrals_api.py)"
        for step in ("accept", "decline", "book", "seen", "treatment", "discharge")
    },
    "api:referral-review-override": "only referrals sent without consent "
    "(tests/api/test_referrals_api.py)",
}

# URLs with an id that is not a child-related object fetched for its reader.
NOT_FETCHED = {
    "password_set": "a one-time link, before signing in",
    "cases:import_status": "the uploader's own import job (tests/cases/test_import.py)",
    "cases:import_restart": "the uploader's own failed import (tests/cases/test_import.py)",
    "cases:import_template": "a blank template; the id is a file format",
    "cases:audit_child": "the auditor reads the log about a child, not the file",
    "cases:audit_user": "the auditor reads the log about a user",
    "api-root": "the API's index",
    "api:notification-detail": "the caller's own notification (tests/api/test_followups_api.py)",
    "api:notification-read": "the caller's own notification (tests/api/test_followups_api.py)",
    "api:region-detail": "a region: public reference data, read from its selector",
    "api:institution-detail": "an organisation: reference data, read from its selector",
}

USERS = [
    "director_a",
    "supervisor_town",
    "counselor",
    "mentor",
    "social_worker",
    "volunteer",
    "welfare_staff",
    "clinician",
    "county_civil",
    "admin",
    "security",
    "auditor",
]
ADMINISTRATORS = {"admin", "security", "auditor"}
# The level a user's own scope (or own tie, for roles without a region) gives.
OWN_LEVEL = {
    "director_a": M,
    "supervisor_town": M,
    "counselor": M,
    "social_worker": M,
    "welfare_staff": M,
    "mentor": C,  # their care-team places
    "volunteer": C,
    "clinician": R,  # a referral to their clinic
    "county_civil": R,  # agency supervisors read their county
}


def objects_of(child: Child) -> dict[str, Any]:
    """One of each child-related object, for this child (written through the services)."""
    guardian = GuardianFactory(child=child)
    consent = ConsentFactory(child=child, guardian=guardian)
    severe = AssessmentFactory(child=child, value=3)  # severe: raises an alert
    # Sent to the social-psychology service, where no demo user works: the referral gives none
    # of the users under test a tie.
    referral = ReferralFactory(
        child=child,
        to_institution=institution(SOCIAL_PSYCH),
        service=Institution.Service.PSYCHOLOGICAL_COUNSELLING,
        send=True,
    )
    attachment = ReferralAttachment.objects.create(
        referral=referral,
        filename="测试报告.pdf",
        content_type="application/pdf",
        size=8,
        content=b"%PDF-1.4",
        uploaded_by=user("counselor"),
    )
    return {
        "child": child,
        "guardian": guardian,
        "consent": consent,
        "team_member": CareTeamMemberFactory(child=child, peer=True),
        "plan": CarePlanFactory(child=child),
        "visit": VisitFactory(child=child),
        "followup_plan": FollowupPlanFactory(child=child),
        # What the scheduler made of the records above (the visit's next one, at least).
        "task": Task.objects.filter(child=child).order_by("id").first(),
        "assessment": severe,
        "alert": severe.alerts.first(),
        "referral": referral,
        "attachment": attachment,
    }


def ties_of(username: str) -> Iterator[tuple[str, Child, Level | None]]:
    """(tie, child, level it gives) for each kind of tie the user can have."""
    who = user(username)
    if username in OWN_LEVEL:
        yield "own", child_in_scope_of(username), OWN_LEVEL[username]
    if username not in ADMINISTRATORS:
        shared = child_out_of_scope_of(username)
        grant_open(
            child=shared, user=who, level=R, source=ChildAccessGrant.Source.SHARE, by=user("admin")
        )
        yield "shared", shared, R
        team = child_out_of_scope_of(username)
        CareTeamMemberFactory(child=team, user=who, team_role=CareTeamMember.TeamRole.VOLUNTEER)
        yield "team", team, C
    yield "none", child_out_of_scope_of(username), None


def url_of(name: str, obj: Any) -> str:
    if name.startswith("api:"):
        return reverse(name, kwargs={"pk": obj.pk})
    return reverse(name, args=[obj.pk])


def expected(level: Level | None, need: Level, perm: Any, who: User) -> str:
    if level is None:
        return "404"
    perms = (perm,) if isinstance(perm, str) else (perm or ())
    if level < need or not all(who.has_perm(p) for p in perms):
        return "403"
    return "allowed"


def answer(status: int) -> str:
    if status >= 500:
        return f"server error {status}"
    return str(status) if status in (403, 404) else "allowed"


@pytest.mark.parametrize("username", USERS)
def test_every_child_url_answers_by_level_and_permission(username):
    who = user(username)
    client: Client = client_for(username)
    wrong = []
    for tie, child, level in list(ties_of(username)):
        objects = objects_of(child)
        for name, row in MATRIX.items():
            obj = objects[row.obj]
            assert obj is not None, f"no {row.obj} was made for {name}"
            url = url_of(name, obj)
            for method, need, perm in (
                ("get", row.get, row.get_perm),
                ("post", row.post, row.post_perm),
            ):
                if need is None:
                    continue
                response = getattr(client, method)(url, {})
                want = expected(level, need, perm, who)
                got = answer(response.status_code)
                if got != want:
                    wrong.append(
                        f"{username} {tie:6} {method.upper():4} {name}: {got}, expected {want}"
                    )
    assert not wrong, "\n".join(wrong)


def routes(resolver: URLResolver | None = None, ns: str = "") -> Iterator[tuple[str, str, Any]]:
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ns + (f"{pattern.namespace}:" if pattern.namespace else "")
            for route, name, callback in routes(pattern, inner):
                yield str(pattern.pattern) + route, name, callback
        elif isinstance(pattern, URLPattern):
            yield str(pattern.pattern), ns + (pattern.name or ""), pattern.callback


def test_every_url_that_names_an_object_fetches_it_through_the_one_fetch():
    unchecked = []
    for route, name, callback in routes():
        if route.startswith("admin/") or "format" in route:
            continue
        if not re.search(r"<(?:int:)?\w+>|\(\?P<(?!format)\w+>", route):
            continue
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if name in NOT_FETCHED:
            continue
        fetching = view is not None and issubclass(view, (ScopedAPIMixin, ScopedViewMixin))
        model = view.fetch_model if fetching else None
        if model is None:
            unchecked.append(f"{name} ({route}): does not fetch through core.access.fetch")
            continue
        if not is_registered(model):
            unchecked.append(f"{name}: {model} has no registered scoping")
            continue
        if scoping(model).child_id is not None and name not in MATRIX and name not in SPECIAL:
            unchecked.append(f"{name}: about a child's data, but not in the access matrix")
    assert not unchecked, "\n".join(unchecked)


def test_every_export_job_url_answers_its_requester_alone():
    """A long export's page and file hold children's data but no one child: they are the
    requester's alone. Every URL that fetches an ExportJob answers every other user 404."""
    names = [
        name
        for _route, name, callback in routes()
        if getattr(getattr(callback, "view_class", None), "fetch_model", None) is ExportJob
    ]
    assert {"exports:job", "exports:download"} <= set(names)
    requester = user("county_civil")
    job = ExportJob.objects.create(
        requester=requester,
        kind="children",
        fmt="csv",
        status=ExportJob.Status.DONE,
        file_size=4,
        filename="children.csv",
        total=1,
        done=1,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    ExportChunk.objects.create(job=job, seq=0, data=b"\xef\xbb\xbfx")
    wrong = []
    for username in USERS:
        client = client_for(username)
        for name in names:
            status = client.get(reverse(name, args=[job.pk])).status_code
            want = 200 if username == "county_civil" else 404
            if status != want:
                wrong.append(f"{username} {name}: {status}, expected {want}")
    assert not wrong, "\n".join(wrong)
