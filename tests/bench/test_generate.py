"""The synthetic province of the benchmark (bench/generate.py): what it makes is what the app
would have made, in the proportions asked for, and the benchmark's accounts can work with it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import F
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from assessments.models import Alert, Assessment
from assessments.services import latest_result_risks, open_alert_risks
from bench.accounts import BENCH_PASSWORD, BENCH_TOTP_KEY, BENCH_USERS, PROVINCE_CODE
from bench.generate import GenerateRefused, generate, main
from cases.identity import decrypt, name_key, national_id_hash, parse_national_id
from cases.models import (
    CarePlan,
    CareTeamMember,
    Child,
    ChildAccessGrant,
    Consent,
    Guardian,
)
from cases.selectors.scope import children_visible_to
from core.models import AccessEvent
from followups.models import FollowupPlan, Task, Visit
from institutions.masking import mask_national_id
from institutions.models import Agency, Institution, Membership, Region, User
from institutions.roles import spec
from referrals.models import Referral, ReferralEvent

CHILDREN = 2000
ChildEvent = apps.get_model("cases", "ChildEvent")


def in_province(model: type, path: str = "child__residence_region__code"):
    return model.objects.filter(**{f"{path}__startswith": PROVINCE_CODE})


@pytest.fixture
def province(db):
    return generate(CHILDREN, seed=1, log=lambda _message: None)


def test_a_province_of_two_thousand_children_is_made_in_realistic_proportions(province):
    children = in_province(Child, "residence_region__code")
    assert children.count() == CHILDREN
    per_child = {
        "assessments": in_province(Assessment).count() / CHILDREN,
        "visits": in_province(Visit).count() / CHILDREN,
        "referrals": in_province(Referral).count() / CHILDREN,
        "guardians": in_province(Guardian).count() / CHILDREN,
        "tasks": in_province(Task).count() / CHILDREN,
        "access events": in_province(AccessEvent).count() / CHILDREN,
    }
    assert 2.3 <= per_child["assessments"] <= 3.5, per_child
    assert 1.7 <= per_child["visits"] <= 2.3, per_child
    assert 0.06 <= per_child["referrals"] <= 0.15, per_child
    assert 1.0 <= per_child["guardians"] <= 2.0, per_child
    assert per_child["tasks"] >= 1 and per_child["access events"] >= 1, per_child
    assert not children.filter(guardians__isnull=True).exists()
    assert not children.filter(consents__isnull=True).exists()
    staff = User.objects.filter(username__startswith="bench_").count()
    # About one per hundred children at scale; a small province has its fixed county, city
    # and province staff on top.
    assert CHILDREN / 100 <= staff <= 3 * CHILDREN / 100
    # The counts returned are the rows written.
    assert province["cases_child"] == CHILDREN
    assert province["assessments_assessment"] == in_province(Assessment).count()
    assert province["cases_childevent"] == CHILDREN
    # Every access-log row found its month's partition (none fell into DEFAULT).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_accessevent_default")
        assert cursor.fetchone()[0] == 0
    # Some of everything a file can hold.
    statuses = set(in_province(Referral).values_list("status", flat=True))
    assert {"sent", "discharged", "closed"} <= statuses
    assert in_province(FollowupPlan).exists()
    assert in_province(CarePlan).filter(child__risk_level__gte=3).exists()
    assert (
        not in_province(Child, "residence_region__code")
        .filter(risk_level__gte=3, care_plans__isnull=True)
        .exists()
    )
    assert in_province(Alert).filter(acknowledged_at__isnull=True).exists()
    assert {"open", "done", "overdue"} <= set(in_province(Task).values_list("status", flat=True))
    pupils = children.filter(school__isnull=False).count()
    assert 0.35 * CHILDREN <= pupils <= 0.65 * CHILDREN
    residents = children.filter(residential_institution__isnull=False).count()
    assert 0.005 * CHILDREN <= residents <= 0.04 * CHILDREN
    assert children.exclude(household_region=F("residence_region")).exists()


def test_the_benchmark_accounts_see_their_part_of_the_province(province):
    users = {role: User.objects.get(username=name) for role, name in BENCH_USERS.items()}
    for role, user in users.items():
        assert user.check_password(BENCH_PASSWORD), role
        assert not user.is_demo and user.is_active, role
        memberships = Membership.objects.filter(user=user, is_active=True)
        assert memberships.count() == 1, role
        needs_device = spec(memberships.get().role).requires_two_factor
        devices = TOTPDevice.objects.filter(user=user, confirmed=True, key=BENCH_TOTP_KEY)
        assert devices.exists() == needs_device, role
    visible = {role: children_visible_to(user).count() for role, user in users.items()}
    assert 150 <= visible["director"] <= 300, visible
    assert visible["director"] < visible["township"] < CHILDREN, visible
    assert visible["township"] <= visible["county"] < CHILDREN, visible
    assert visible["county"] <= visible["city"] < CHILDREN, visible
    assert visible["province"] == CHILDREN, visible
    assert 0 < visible["counsellor"] < visible["township"], visible
    assert visible["clinician"] > 0, visible  # through referrals to the first hospital

    director = users["director"]
    child = children_visible_to(director).order_by("pk").first()
    client = Client()
    client.force_login(director)
    response = client.get(f"/children/{child.pk}/")
    assert response.status_code == 200
    assert child.name in response.content.decode()


def test_generated_records_are_what_the_services_would_have_written(province):
    children = list(in_province(Child, "residence_region__code").order_by("pk")[:60])
    for child in children:
        assert child.name_pinyin == name_key(child.name)
        assert child.record_number == f"{child.residence_region_id[:6]}-{child.pk:08d}"
        # The risk is the one the child's results and open alerts give.
        expected = max([*latest_result_risks(child), *open_alert_risks(child)], default=0)
        assert child.risk_level == expected, child
        if child.national_id_hash:
            value, born = parse_national_id(decrypt(child.national_id_encrypted))
            assert born == child.birth_date
            assert national_id_hash(value) == child.national_id_hash
            assert mask_national_id(value) == child.national_id_masked
    for assessment in in_province(Assessment).select_related("instrument")[:60]:
        answers = {int(k): v for k, v in assessment.answers.items()}
        result = assessment.instrument.parsed.score(answers)
        assert (result.total, result.risk) == (assessment.total, assessment.risk_level)
        assert assessment.instrument.fits_age(assessment.child.age(assessment.administered_on))

    samples = [
        in_province(Region, "code"),
        in_province(Agency, "region__code"),
        in_province(Institution, "region__code"),
        Membership.objects.filter(user__username__startswith="bench_"),
        User.objects.filter(username__startswith="bench_"),
        in_province(Child, "residence_region__code"),
        in_province(Guardian),
        in_province(Consent),
        in_province(Assessment),
        in_province(Alert),
        in_province(Visit),
        in_province(Referral),
        in_province(ReferralEvent, "referral__child__residence_region__code"),
        in_province(FollowupPlan),
        in_province(CarePlan),
        in_province(CareTeamMember),
        in_province(ChildAccessGrant),
        in_province(Task),
        in_province(AccessEvent),
    ]
    for queryset in samples:
        rows = list(queryset.order_by("pk")[:15])
        assert rows, queryset.model
        for row in rows:
            row.full_clean()


def test_history_rows_carry_the_generators_context(province):
    events = ChildEvent.objects.filter(pgh_obj__residence_region__code__startswith=PROVINCE_CODE)
    assert events.count() == CHILDREN
    contexts = set(events.values_list("pgh_context__metadata__source", flat=True))
    assert contexts == {"bench.generate"}


def test_a_second_run_is_refused_with_the_number_of_children_there(province):
    with pytest.raises(GenerateRefused, match=f"already has {CHILDREN} children"):
        generate(10)


def test_it_refuses_a_production_database(db, settings, capsys):
    settings.PRODUCTION = True
    with pytest.raises(GenerateRefused, match="production"):
        generate(10)
    assert main(["--children", "10"]) == 2
    assert "production" in capsys.readouterr().err
    assert not Region.objects.filter(code=PROVINCE_CODE).exists()
