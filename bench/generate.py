"""Fill the configured database with a fictional province (code 98) for the benchmark.

    python bench/generate.py --children 100000 [--seed 1] [--batch 10000]

Regions, agencies, institutions and staff are made through the ORM (a few thousand rows); the
children and everything about them are streamed with PostgreSQL COPY, one transaction per batch
of children, with every trigger and constraint on. The whole run writes under one history
context (`source=bench.generate`), set in each batch's transaction so that the append-only
history triggers attach it to every row they write.

Every derived field is what the services would have written: the pinyin name key, the national
ID's keyed hash, encrypted and masked forms, scores, bands and risk levels from the instruments'
own scoring, the child's risk from their latest results and open alerts, grants for care teams
and referrals. Names are synthetic; province 98 does not exist.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

if __package__ in (None, ""):
    # Run as a script: the repository root is the parent of this directory.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.accounts import BENCH_PASSWORD, BENCH_TOTP_KEY, BENCH_USERS, PROVINCE_CODE

SOURCE = "bench.generate"
CHILDREN_PER_VILLAGE = 200
VILLAGES_PER_TOWNSHIP = 15
TOWNSHIPS_PER_COUNTY = 12
COUNTIES_PER_CITY = 8
DEFAULT_BATCH = 10_000
# The oldest child record made (days before today); the access log starts with it.
OLDEST_RECORD_DAYS = 1400

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧"
GIVEN1 = "小晓子雨星梓欣浩宇涵然轩一可安禾木朵豆思"
GIVEN2 = "明月阳晨辰琪悦航杰彤萌泽语佳睿瑶岚川果苗"
ADULT_GIVEN = ["建国", "秀英", "国强", "桂兰", "志明", "美华", "大伟", "春生", "海涛", "玉梅"]
WORK_PLACES = ["广东东莞", "浙江义乌", "江苏苏州", "福建晋江", "上海松江"]
NUMERALS = "〇一二三四五六七八九"

# Per-child upper bounds of the rows of each kind (ids are reserved in blocks per batch).
ID_BOUNDS = {
    "child": 1,
    "guardian": 2,
    "consent": 4,
    "assessment": 4,
    "alert": 3,
    "visit": 3,
    "referral": 1,
    "followupplan": 1,
    "careplan": 1,
    "careteammember": 5,
}


class GenerateRefused(Exception):
    """The generator will not write to this database (message says why)."""


def cn_number(n: int) -> str:
    """1 → 一, 12 → 一二: short, obviously made-up place numbers."""
    return "".join(NUMERALS[int(d)] for d in str(n))


# --- The world: regions, organisations, staff ------------------------------------------------


@dataclass
class County:
    code: str
    name: str
    agencies: dict[str, int] = field(default_factory=dict)
    supervisors: dict[str, int] = field(default_factory=dict)
    welfare: int = 0
    welfare_staff: int = 0
    hospital: int = 0
    hospital_staff: list[int] = field(default_factory=list)
    psych: int = 0
    psych_staff: list[int] = field(default_factory=list)


@dataclass
class Township:
    code: str
    name: str
    county: int
    school: int = 0
    counsellor: int = 0
    mentor: int = 0
    supervisor: int = 0
    social_worker: int = 0


@dataclass
class Village:
    code: str
    name: str
    township: int
    director: int = 0
    volunteer: int = 0


@dataclass
class World:
    children: int
    villages: list[Village]
    townships: list[Township]
    counties: list[County]
    instruments: list[InstrumentPool]
    staff: int = 0


@dataclass
class InstrumentPool:
    id: int
    code: str
    min_age: int
    max_age: int
    # risk level → [(answers, scores, total, band_label, risk, critical_items, valid)]
    patterns: dict[int, list[tuple[str, str, int, str, int, list[int], bool]]]

    def pattern(self, rng: random.Random, risk: int) -> tuple[Any, ...]:
        for level in range(risk, -1, -1):
            if self.patterns.get(level):
                return rng.choice(self.patterns[level])
        for level in range(risk + 1, 5):
            if self.patterns.get(level):
                return rng.choice(self.patterns[level])
        raise RuntimeError(f"no answer patterns for {self.code}")


def _groups(parts: int, per_group: int, *, at_least: int) -> int:
    """How many parents `parts` children-regions need at `per_group` each: at least
    `at_least` (when there are that many parts), so that a small province still has two of
    each level and every scope is a proper part of the one above it."""
    return max(min(parts, at_least), -(-parts // per_group))


def plan_regions(children: int) -> tuple[list[tuple[str, str]], list[Village], list[Township]]:
    """The region rows (code, name), parents first, and the villages and townships in order.

    About 200 children per village, 15 villages per township, 12 townships per county and 8
    counties per city, spread evenly; two of each level at least where there are enough."""
    n_villages = max(1, round(children / CHILDREN_PER_VILLAGE))
    n_townships = _groups(n_villages, VILLAGES_PER_TOWNSHIP, at_least=2)
    n_counties = _groups(n_townships, TOWNSHIPS_PER_COUNTY, at_least=2)
    n_cities = _groups(n_counties, COUNTIES_PER_CITY, at_least=2)
    rows: list[tuple[str, str]] = [(PROVINCE_CODE, "虚构省（基准测试）")]
    city_codes = []
    for k in range(n_cities):
        city_codes.append(f"{PROVINCE_CODE}{k + 1:02d}")
        rows.append((city_codes[-1], f"虚构市{cn_number(k + 1)}"))
    county_codes = []
    for c in range(n_counties):
        city = c * n_cities // n_counties
        local = c - min(i for i in range(n_counties) if i * n_cities // n_counties == city)
        county_codes.append(f"{city_codes[city]}{local + 1:02d}")
        rows.append((county_codes[-1], f"样例县{cn_number(c + 1)}"))
    townships: list[Township] = []
    for t in range(n_townships):
        county = t * n_counties // n_townships
        local = t - min(i for i in range(n_townships) if i * n_counties // n_townships == county)
        code = f"{county_codes[county]}{local + 1:03d}"
        townships.append(Township(code=code, name=f"样例镇{cn_number(t + 1)}", county=county))
        rows.append((code, townships[-1].name))
    villages: list[Village] = []
    first_of: dict[int, int] = {}
    for v in range(n_villages):
        township = v * n_townships // n_villages
        local = v - first_of.setdefault(township, v)
        code = f"{townships[township].code}{local + 1:03d}"
        villages.append(Village(code=code, name=f"样例村{cn_number(v + 1)}", township=township))
        rows.append((code, villages[-1].name))
    return rows, villages, townships


def _ensure_reference_data() -> None:
    """Roles, instruments and policies: present after migrate and sync_roles, but a flushed
    test database may lack them."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from assessments.builtin import install as install_instruments
    from assessments.models import Instrument, ReassessmentPolicy
    from followups.models import FollowupSchedule, TaskPolicy, VisitPolicy
    from followups.policy_defaults import install as install_followup_policy
    from institutions.roles import ROLE_TABLE, group_name

    if Group.objects.filter(name__in=[group_name(r) for r in ROLE_TABLE]).count() < len(ROLE_TABLE):
        call_command("sync_roles", verbosity=0)
    if not Instrument.objects.filter(is_builtin=True).exists():
        install_instruments(Instrument, ReassessmentPolicy)
    if not VisitPolicy.objects.exists():
        install_followup_policy(VisitPolicy, FollowupSchedule, TaskPolicy)


def _instrument_patterns(rng: random.Random) -> list[InstrumentPool]:
    """For each built-in instrument, answer sets scored by the instrument's own scoring,
    grouped by the risk they give: results are drawn from these."""
    from assessments.models import Instrument

    found: dict[str, Instrument] = {}
    for instrument in Instrument.objects.filter(is_active=True).order_by("code", "-version"):
        if instrument.is_builtin and instrument.code not in found:
            found[instrument.code] = instrument
    result = []
    for code, instrument in sorted(found.items()):
        definition = instrument.parsed
        patterns: dict[int, list[tuple[Any, ...]]] = {level: [] for level in range(5)}
        for attempt in range(1500):
            severity = (attempt % 100) / 100
            answers: dict[int, int] = {}
            for item in definition.items:
                values = definition.values_of(item)
                pick = int(rng.random() * severity * len(values) * 1.5)
                if rng.random() < 0.3:
                    pick = int(rng.random() * len(values) * severity)
                answers[int(item["number"])] = values[min(pick, len(values) - 1)]
            scored = definition.score(answers)
            bucket = patterns[scored.risk]
            if len(bucket) >= 30:
                continue
            bucket.append(
                (
                    json.dumps({str(k): v for k, v in sorted(answers.items())}),
                    json.dumps(scored.as_scores(), ensure_ascii=False),
                    scored.total,
                    json.dumps(scored.band.label if scored.band else {}, ensure_ascii=False),
                    scored.risk,
                    scored.critical_items,
                    scored.valid,
                )
            )
        result.append(
            InstrumentPool(
                id=instrument.pk,
                code=code,
                min_age=instrument.min_age,
                max_age=instrument.max_age,
                patterns=patterns,
            )
        )
    if not result:
        raise RuntimeError("no built-in instruments: run migrate first")
    return result


def build_world(children: int, *, rng: random.Random, log: Callable[[str], None]) -> World:
    """Regions, agencies, institutions, staff with their memberships and role groups, and the
    benchmark accounts (one transaction)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from institutions.models import Agency, Institution, Membership, User
    from institutions.roles import Role, group_name, spec
    from institutions.services import region_holders_refresh, region_load

    rows, villages, townships = plan_regions(children)
    county_rows = [(code, name) for code, name in rows if len(code) == 6]
    city_rows = [(code, name) for code, name in rows if len(code) == 4]
    counties = [County(code=code, name=name) for code, name in county_rows]
    S = Institution.Service
    K = Agency.Kind
    kind_names = {
        K.CIVIL_AFFAIRS: "{}民政局",
        K.EDUCATION: "{}教育局",
        K.HEALTH: "{}卫生健康委员会",
        K.YOUTH_LEAGUE: "共青团{}委员会",
        K.WOMENS_FEDERATION: "{}妇女联合会",
    }
    password = make_password(BENCH_PASSWORD)
    users: list[User] = []
    # (user index, role, ("agency", region, kind) or ("institution", key), jurisdiction)
    plan: list[tuple[int, str, tuple[Any, ...], list[str]]] = []

    def staff(
        username: str, display: str, role: str, org: tuple[Any, ...], juris: list[str]
    ) -> int:
        users.append(
            User(
                username=username,
                display_name=display,
                email=f"{username}@bench.invalid",
                password=password,
                is_demo=False,
            )
        )
        plan.append((len(users) - 1, role, org, juris))
        return len(users) - 1

    with transaction.atomic():
        region_load(rows=rows)
        agencies: dict[tuple[str, str], Agency] = {}
        for code, name in [(PROVINCE_CODE, "虚构省"), *city_rows, *county_rows]:
            for kind, pattern in kind_names.items():
                agencies[(code, kind)], _ = Agency.objects.get_or_create(
                    region_id=code, kind=kind, name=pattern.format(name)
                )
        institutions: dict[tuple[str, str], Institution] = {}

        def institution(
            key: str, region: str, name: str, kind: str, agency: str, services: list[str]
        ) -> Institution:
            county = region[:6]
            obj, _ = Institution.objects.get_or_create(
                region_id=region,
                name=name,
                defaults={
                    "kind": kind,
                    "supervising_agency": agencies[(county, agency)],
                    "services": services,
                    "address": f"{name}（虚构地址）",
                    "phone": "0000-0000000",
                },
            )
            institutions[(key, region)] = obj
            return obj

        for township in townships:
            township.school = institution(
                "school",
                township.code,
                f"{township.name}中心学校（样例）",
                Institution.Kind.SCHOOL,
                K.EDUCATION,
                [S.COUNSELLING_ROOM],
            ).pk
        for county in counties:
            county.welfare = institution(
                "welfare",
                county.code,
                f"{county.name}儿童福利院",
                Institution.Kind.CHILD_WELFARE,
                K.CIVIL_AFFAIRS,
                [S.RESIDENTIAL_CARE, S.COUNSELLING_ROOM],
            ).pk
            county.hospital = institution(
                "hospital",
                county.code,
                f"{county.name}人民医院",
                Institution.Kind.HOSPITAL,
                K.HEALTH,
                [S.PSYCHIATRIC_CLINIC, S.PSYCHOTHERAPY, S.INPATIENT],
            ).pk
            county.psych = institution(
                "psych",
                county.code,
                f"{county.name}社会心理服务中心",
                Institution.Kind.SOCIAL_PSYCH_SERVICE,
                K.HEALTH,
                [S.PSYCHOLOGICAL_COUNSELLING, S.HOTLINE],
            ).pk
            for kind in kind_names:
                county.agencies[kind] = agencies[(county.code, kind)].pk

        if User.objects.filter(username=BENCH_USERS["director"]).exists():
            raise GenerateRefused(
                "The benchmark accounts exist already, but province 98 has no children: "
                "the database holds a half-made run. Start from an empty database."
            )
        # Staff, with the benchmark accounts first in their places.
        named = {
            ("village", 0): BENCH_USERS["director"],
            ("township", 0): BENCH_USERS["township"],
            ("county", 0): BENCH_USERS["county"],
            ("city", 0): BENCH_USERS["city"],
            ("province", 0): BENCH_USERS["province"],
            ("school", 0): BENCH_USERS["counsellor"],
            ("hospital", 0): BENCH_USERS["clinician"],
        }
        serial = iter(range(1, 10**9))

        def username(place: str, index: int, role: str) -> str:
            return named.get((place, index)) or f"bench_{role}_{next(serial):06d}"

        CA = K.CIVIL_AFFAIRS
        for kind in kind_names:
            who = "province" if kind == CA else f"province_{kind}"
            staff(
                username(who, 0, "supervisor"),
                f"样例·虚构省{kind_names[kind].format('')}管理人员",
                Role.AGENCY_SUPERVISOR,
                ("agency", PROVINCE_CODE, kind),
                [PROVINCE_CODE],
            )
        for index, (code, name) in enumerate(city_rows):
            for kind in kind_names:
                staff(
                    username("city" if kind == CA else "city_other", index, "supervisor"),
                    f"样例·{name}{kind_names[kind].format('')}管理人员",
                    Role.AGENCY_SUPERVISOR,
                    ("agency", code, kind),
                    [code],
                )
        for index, county in enumerate(counties):
            for kind in kind_names:
                county.supervisors[kind] = staff(
                    username("county" if kind == CA else "county_other", index, "supervisor"),
                    f"样例·{county.name}{kind_names[kind].format('')}管理人员",
                    Role.AGENCY_SUPERVISOR,
                    ("agency", county.code, kind),
                    [county.code],
                )
            county.welfare_staff = staff(
                username("welfare", index, "welfare"),
                f"样例·{county.name}福利院工作人员",
                Role.INSTITUTION_STAFF,
                ("institution", "welfare", county.code),
                [],
            )
            county.hospital_staff = [
                staff(
                    username("hospital", index if n == 0 else -1, "clinician"),
                    f"样例·{county.name}精神科医师{n + 1}",
                    Role.CLINICIAN,
                    ("institution", "hospital", county.code),
                    [],
                )
                for n in range(2)
            ]
            county.psych_staff = [
                staff(
                    username("psych", index, "clinician"),
                    f"样例·{county.name}心理咨询师",
                    Role.CLINICIAN,
                    ("institution", "psych", county.code),
                    [],
                )
            ]
        for index, township in enumerate(townships):
            county = counties[township.county]
            township.supervisor = staff(
                username("township", index, "supervisor"),
                f"样例·{township.name}儿童督导员",
                Role.CHILD_SUPERVISOR,
                ("agency", county.code, CA),
                [township.code],
            )
            township.social_worker = staff(
                username("social", index, "social"),
                f"样例·{township.name}社工",
                Role.SOCIAL_WORKER,
                ("agency", county.code, CA),
                [township.code],
            )
            township.counsellor = staff(
                username("school", index, "counsellor"),
                f"样例·{township.name}心理健康教师",
                Role.SCHOOL_COUNSELLOR,
                ("institution", "school", township.code),
                [],
            )
            township.mentor = staff(
                username("mentor", index, "mentor"),
                f"样例·{township.name}成长导师",
                Role.MENTOR_TEACHER,
                ("institution", "school", township.code),
                [],
            )
        for index, village in enumerate(villages):
            county = counties[townships[village.township].county]
            village.director = staff(
                username("village", index, "director"),
                f"样例·{village.name}儿童主任",
                Role.CHILD_DIRECTOR,
                ("agency", county.code, CA),
                [village.code],
            )
            if index % 2 == 0:
                village.volunteer = staff(
                    username("volunteer", index, "volunteer"),
                    f"样例·{village.name}志愿者",
                    Role.VOLUNTEER,
                    ("agency", county.code, K.YOUTH_LEAGUE),
                    [],
                )
            else:
                village.volunteer = villages[index - 1].volunteer

        User.objects.bulk_create(users, batch_size=2000)
        memberships = []
        for index, role, org, juris in plan:
            if org[0] == "agency":
                where = {"agency": agencies[(org[1], org[2])]}
            else:
                where = {"institution": institutions[(org[1], org[2])]}
            memberships.append(
                Membership(
                    user=users[index],
                    role=role,
                    jurisdiction=juris,
                    is_active=True,
                    approval_status=Membership.Approval.APPROVED,
                    **where,
                )
            )
        Membership.objects.bulk_create(memberships, batch_size=2000)
        region_holders_refresh()  # bulk_create sends no signal
        groups = {g.name: g.pk for g in Group.objects.filter(name__startswith="role:")}
        through = User.groups.through
        through.objects.bulk_create(
            [
                through(user_id=users[index].pk, group_id=groups[group_name(role)])
                for index, role, _org, _juris in plan
            ],
            batch_size=5000,
        )
        roles = {users[index].username: role for index, role, _org, _juris in plan}
        for username_ in BENCH_USERS.values():
            if spec(roles[username_]).requires_two_factor:
                TOTPDevice.objects.create(
                    user=User.objects.get(username=username_),
                    name="bench",
                    key=BENCH_TOTP_KEY,
                    confirmed=True,
                )

    # Replace user indexes by primary keys.
    pk = [u.pk for u in users]
    for county in counties:
        county.supervisors = {k: pk[i] for k, i in county.supervisors.items()}
        county.welfare_staff = pk[county.welfare_staff]
        county.hospital_staff = [pk[i] for i in county.hospital_staff]
        county.psych_staff = [pk[i] for i in county.psych_staff]
    for township in townships:
        for name in ("supervisor", "social_worker", "counsellor", "mentor"):
            setattr(township, name, pk[getattr(township, name)])
    for village in villages:
        village.director = pk[village.director]
        village.volunteer = pk[village.volunteer]
    log(
        f"world: {len(rows)} regions ({len(counties)} counties, {len(townships)} townships, "
        f"{len(villages)} villages), {len(agencies)} agencies, {len(institutions)} institutions, "
        f"{len(users)} staff"
    )
    return World(
        children=children,
        villages=villages,
        townships=townships,
        counties=counties,
        instruments=_instrument_patterns(rng),
        staff=len(users),
    )


# --- Children and their records ----------------------------------------------------------------


# Columns written for each table, in the order rows give them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "child": (
        "id",
        "record_number",
        "name",
        "name_pinyin",
        "sex",
        "birth_date",
        "national_id_hash",
        "national_id_encrypted",
        "national_id_masked",
        "residence_region_id",
        "household_region_id",
        "categories",
        "school_id",
        "grade",
        "class_name",
        "residential_institution_id",
        "status",
        "status_reason",
        "risk_level",
        "risk_updated_at",
        "notes",
        "notes_confidential",
        "version",
        "created_at",
        "created_by_id",
        "updated_at",
    ),
    "guardian": (
        "id",
        "child_id",
        "name",
        "relation",
        "institution_id",
        "phone",
        "lives_with_child",
        "works_away",
        "work_location",
        "is_primary_contact",
        "is_active",
        "version",
        "created_at",
        "created_by_id",
    ),
    "consent": (
        "id",
        "child_id",
        "purpose",
        "guardian_id",
        "given_by_child",
        "shared_with_id",
        "given_on",
        "note",
        "recorded_by_id",
        "recorded_at",
        "withdrawn_at",
        "withdrawn_by_id",
        "withdrawal_reason",
    ),
    "assessment": (
        "id",
        "child_id",
        "instrument_id",
        "answers",
        "scores",
        "total",
        "band_label",
        "risk_level",
        "critical_items",
        "valid",
        "setting",
        "session_id",
        "administered_on",
        "administered_by_id",
        "created_at",
        "amends_id",
        "amendment_reason",
    ),
    "alert": (
        "id",
        "child_id",
        "assessment_id",
        "reason",
        "risk_level",
        "created_at",
        "raised_by_id",
        "acknowledged_by_id",
        "acknowledged_at",
        "note",
        "outcome",
    ),
    "alert_results": ("alert_id", "assessment_id"),
    "visit": (
        "id",
        "child_id",
        "kind",
        "visited_on",
        "visitor_id",
        "present",
        "concerns",
        "mood",
        "guardian_informed",
        "guardian_informed_note",
        "next_step",
        "note",
        "note_confidential",
        "flagged",
        "reviewed_by_id",
        "reviewed_at",
        "review_note",
        "created_at",
    ),
    "referral": (
        "id",
        "child_id",
        "from_user_id",
        "from_agency_id",
        "from_institution_id",
        "to_institution_id",
        "service",
        "reason",
        "urgency",
        "assessment_id",
        "visit_id",
        "consent_id",
        "emergency_override",
        "override_reason",
        "override_reviewed_by_id",
        "override_reviewed_at",
        "override_review_note",
        "status",
        "diagnosis",
        "treatment",
        "treatment_type",
        "outcome_summary",
        "decline_reason",
        "appointment_at",
        "followup_interval_days",
        "followup_by",
        "followup_weeks",
        "created_at",
        "sent_at",
        "accepted_at",
        "declined_at",
        "first_seen_at",
        "discharged_at",
        "closed_at",
        "access_until",
    ),
    "referralevent": ("referral_id", "from_status", "to_status", "actor_id", "at", "note"),
    "followupplan": (
        "id",
        "child_id",
        "referral_id",
        "partner_role",
        "first_interval_days",
        "first_period_days",
        "interval_days",
        "start_on",
        "end_on",
        "goal",
        "status",
        "end_reason",
        "ended_at",
        "ended_by_id",
        "created_by_id",
        "created_at",
    ),
    "followupplan_partners": ("followupplan_id", "user_id"),
    "careplan": (
        "id",
        "child_id",
        "classification",
        "goals",
        "interventions",
        "other_intervention",
        "owner_id",
        "start_date",
        "review_date",
        "status",
        "created_by_id",
        "created_at",
    ),
    "careteammember": (
        "id",
        "child_id",
        "team_role",
        "user_id",
        "peer_name",
        "is_active",
        "started_on",
        "ended_on",
        "added_by_id",
    ),
    "grant": (
        "child_id",
        "user_id",
        "level",
        "source",
        "source_id",
        "granted_by_id",
        "created_at",
        "expires_at",
        "ended_at",
    ),
    "task": (
        "child_id",
        "kind",
        "due_on",
        "assignee_id",
        "source_id",
        "status",
        "created_at",
        "reminded_on",
        "escalated_to_id",
        "escalated_at",
        "closed_at",
        "closed_by_record",
    ),
    "access": ("at", "user_id", "child_id", "action", "path", "ip_address", "detail"),
}


def _tables() -> dict[str, str]:
    """Table name of each kind of row (read from the models, so renames follow)."""
    from assessments.models import Alert, Assessment
    from cases.models import (
        CarePlan,
        CareTeamMember,
        Child,
        ChildAccessGrant,
        Consent,
        Guardian,
    )
    from core.models import AccessEvent
    from followups.models import FollowupPlan, Task, Visit
    from referrals.models import Referral, ReferralEvent

    return {
        "child": Child._meta.db_table,
        "guardian": Guardian._meta.db_table,
        "consent": Consent._meta.db_table,
        "assessment": Assessment._meta.db_table,
        "alert": Alert._meta.db_table,
        "alert_results": Alert.results.through._meta.db_table,
        "visit": Visit._meta.db_table,
        "referral": Referral._meta.db_table,
        "referralevent": ReferralEvent._meta.db_table,
        "followupplan": FollowupPlan._meta.db_table,
        "followupplan_partners": FollowupPlan.partners.through._meta.db_table,
        "careplan": CarePlan._meta.db_table,
        "careteammember": CareTeamMember._meta.db_table,
        "grant": ChildAccessGrant._meta.db_table,
        "task": Task._meta.db_table,
        "access": AccessEvent._meta.db_table,
    }


# How the scheduler would space routine tasks (days), by whether the child's risk is moderate+.
HOME_VISIT_DAYS = (90, 30)
REASSESS_DAYS = (180, 90)

REFERRAL_STATUSES = [
    ("draft", 3),
    ("sent", 12),
    ("accepted", 8),
    ("declined", 5),
    ("appointment", 10),
    ("seen", 8),
    ("in_treatment", 12),
    ("discharged", 14),
    ("closed", 22),
    ("withdrawn", 6),
]
# The path of each final status through the life cycle.
REFERRAL_PATHS = {
    "draft": ["draft"],
    "withdrawn": ["draft", "sent", "withdrawn"],
    "sent": ["draft", "sent"],
    "declined": ["draft", "sent", "declined"],
    "accepted": ["draft", "sent", "accepted"],
    "appointment": ["draft", "sent", "accepted", "appointment"],
    "seen": ["draft", "sent", "accepted", "appointment", "seen"],
    "in_treatment": ["draft", "sent", "accepted", "appointment", "seen", "in_treatment"],
    "discharged": [
        "draft",
        "sent",
        "accepted",
        "appointment",
        "seen",
        "in_treatment",
        "discharged",
    ],
    "closed": [
        "draft",
        "sent",
        "accepted",
        "appointment",
        "seen",
        "in_treatment",
        "discharged",
        "closed",
    ],
}
# Days from the previous step to each step.
STEP_DAYS = {
    "draft": (0, 0),
    "sent": (0, 2),
    "accepted": (1, 5),
    "declined": (1, 5),
    "withdrawn": (1, 10),
    "appointment": (1, 4),
    "seen": (3, 12),
    "in_treatment": (0, 3),
    "discharged": (14, 60),
    "closed": (3, 20),
}
CLINIC_STEPS = {"accepted", "declined", "appointment", "seen", "in_treatment", "discharged"}


class Batch:
    """The rows of one batch of children, each table's ids taken from a reserved block."""

    def __init__(self, bases: dict[str, int]) -> None:
        self.next_id = dict(bases)
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}

    def new_id(self, kind: str) -> int:
        value = self.next_id[kind]
        self.next_id[kind] = value + 1
        return value

    def add(self, kind: str, row: tuple[Any, ...]) -> None:
        self.rows[kind].append(row)


class ChildMaker:
    """Makes the rows of one child and everything about it (pure Python, no queries)."""

    def __init__(self, world: World, *, today: date, now: datetime, seed: int) -> None:
        from cases.identity import fernet, name_key, national_id_check_digit, national_id_hash
        from institutions.masking import mask_national_id
        from referrals.selectors import access_days_after_close

        self.world = world
        self.today = today
        self.now = now
        self.tz = now.tzinfo
        self.seed = seed
        self.fernet = fernet()
        self.id_hash = national_id_hash
        self.check_digit = national_id_check_digit
        self.mask = mask_national_id
        self.access_days = access_days_after_close()
        self.id_serials: dict[tuple[str, str, str], int] = {}
        # Every name of the pool with its pinyin key, computed once.
        names = []
        for surname in SURNAMES:
            for given in [*GIVEN1, *GIVEN2]:
                names.append(surname + given)
            for first in GIVEN1:
                for second in GIVEN2:
                    names.append(surname + first + second)
        self.names = [(name, name_key(name)) for name in names]
        self.adult_names = {s: [s + g for g in ADULT_GIVEN] for s in SURNAMES}

    # -- helpers --

    def at(self, day: date, rng: random.Random) -> datetime:
        """A working-hours moment on `day`, never in the future."""
        moment = datetime(
            day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), tzinfo=self.tz
        )
        return min(moment, self.now)

    def national_id(self, region6: str, birth: date, sex: str) -> str:
        born = birth.strftime("%Y%m%d")
        key = (region6, born, sex)
        n = self.id_serials.get(key, 0)
        self.id_serials[key] = n + 1
        sequence = 2 * (n % 499) + (1 if sex == "M" else 2)
        first17 = f"{region6}{born}{sequence:03d}"
        return first17 + self.check_digit(first17)

    # -- one child --

    def make(self, batch: Batch, index: int, rng: random.Random) -> None:
        w = self.world
        today, now = self.today, self.now
        v = index * len(w.villages) // w.children
        village = w.villages[v]
        township = w.townships[village.township]
        county = w.counties[township.county]
        director = village.director
        child_id = batch.new_id("child")

        age_days = rng.randint(3 * 365 + 30, 17 * 365 + 300)
        birth = today - timedelta(days=age_days)
        age = _age(birth, today)
        sex = "M" if rng.random() < 0.52 else "F"
        name, pinyin = rng.choice(self.names)
        residential = rng.random() < 0.02
        categories: list[str] = []
        school = grade = None
        class_name = ""
        institution = None
        household = village.code
        if residential:
            residence = county.code
            institution = county.welfare
            categories.append("orphan" if rng.random() < 0.6 else "de_facto_unsupported")
            creator = county.welfare_staff
        else:
            residence = village.code
            creator = director
            if rng.random() < 0.08:
                household = w.villages[rng.randrange(len(w.villages))].code
            if household != residence:
                categories.append("migrant")
            elif rng.random() < 0.45:
                categories.append("rural_left_behind")
            if rng.random() < 0.15:
                categories.append("family_poverty")
            if rng.random() < 0.03:
                categories.append("disability")
            if 6 <= age <= 15 and rng.random() < 0.8:
                school = township.school
                grade = min(max(age - 5, 1), 9)
                class_name = f"{rng.randint(1, 4)}班"
        pupil = school is not None
        created_on = max(
            birth + timedelta(days=30), today - timedelta(days=rng.randint(400, OLDEST_RECORD_DAYS))
        )
        created_at = self.at(created_on, rng)
        if rng.random() < 0.95:
            value = self.national_id(
                household[:6] if len(household) >= 6 else county.code, birth, sex
            )
            nid = (
                self.id_hash(value),
                self.fernet.encrypt(value.encode()).decode(),
                self.mask(value),
            )
        else:
            nid = (None, "", "")

        # Guardians.
        guardians: list[int] = []
        if residential:
            gid = batch.new_id("guardian")
            batch.add(
                "guardian",
                (
                    gid,
                    child_id,
                    "院长（样例）",
                    "institution",
                    institution,
                    "00000000000",
                    True,
                    False,
                    "",
                    True,
                    True,
                    1,
                    created_at,
                    creator,
                ),
            )
            guardians.append(gid)
        else:
            left_behind = "rural_left_behind" in categories
            gid = batch.new_id("guardian")
            batch.add(
                "guardian",
                (
                    gid,
                    child_id,
                    rng.choice(self.adult_names[name[0]]),
                    "grandparent" if left_behind else rng.choice(["mother", "father"]),
                    None,
                    f"000{rng.randint(10_000_000, 99_999_999)}",
                    True,
                    False,
                    "",
                    True,
                    True,
                    1,
                    created_at,
                    creator,
                ),
            )
            guardians.append(gid)
            if left_behind or rng.random() < 0.3:
                gid = batch.new_id("guardian")
                batch.add(
                    "guardian",
                    (
                        gid,
                        child_id,
                        rng.choice(self.adult_names[name[0]]),
                        "father",
                        None,
                        f"000{rng.randint(10_000_000, 99_999_999)}",
                        not left_behind,
                        left_behind,
                        rng.choice(WORK_PLACES) if left_behind else "",
                        False,
                        True,
                        1,
                        created_at,
                        creator,
                    ),
                )
                guardians.append(gid)

        # Consents: to assessment always, to sharing sometimes.
        def consent(purpose: str, on: date, shared_with: int | None = None) -> int:
            cid = batch.new_id("consent")
            by_child = age >= 14 and not residential and rng.random() < 0.4
            batch.add(
                "consent",
                (
                    cid,
                    child_id,
                    purpose,
                    None if by_child else guardians[0],
                    by_child,
                    shared_with,
                    on,
                    "",
                    creator,
                    self.at(on, rng),
                    None,
                    None,
                    "",
                ),
            )
            return cid

        consent("assessment", created_on)
        if rng.random() < 0.1:
            consent("sharing", created_on, county.agencies["education"])

        # Assessments, drawn from answer sets scored by the instrument itself.
        prone = rng.random() < 0.15
        weights = (30, 25, 25, 15, 5) if prone else (80, 14, 4.5, 1.2, 0.3)
        cadence = 1 if prone else 0
        days = _cadence(rng, today, created_on, REASSESS_DAYS[cadence], rng.choice((3, 3, 4, 4)))
        assessments: list[tuple[int, str, date, int, bool]] = []
        if residential:
            setting, assessor = "institution_periodic", county.welfare_staff
        elif pupil:
            setting, assessor = "school_screening", township.counsellor
        else:
            setting, assessor = "home_visit", director
        for day in days:
            age_then = _age(birth, day)
            fitting = [i for i in w.instruments if i.min_age <= age_then <= i.max_age]
            if not fitting:
                continue
            instrument = rng.choice(fitting)
            target = rng.choices(range(5), weights=weights)[0]
            answers, scores, total, band, risk, critical, valid = instrument.pattern(rng, target)
            aid = batch.new_id("assessment")
            batch.add(
                "assessment",
                (
                    aid,
                    child_id,
                    instrument.id,
                    answers,
                    scores,
                    total,
                    band,
                    risk,
                    critical,
                    valid,
                    setting,
                    None,
                    day,
                    assessor,
                    self.at(day, rng),
                    None,
                    "",
                ),
            )
            assessments.append((aid, instrument.code, day, risk, bool(critical)))

        # Visits; a serious concern flags the visit.
        visits: list[tuple[int, date, bool]] = []
        for day in _cadence(
            rng, today, created_on, HOME_VISIT_DAYS[cadence], rng.choice((1, 2, 2, 3))
        ):
            roll = rng.random()
            if roll < 0.03:
                concerns = [rng.choice(["self_harm_talk", "rights_violated", "abnormal_behaviour"])]
            elif roll < 0.15:
                concerns = [
                    rng.choice(
                        [
                            "academic_pressure",
                            "economic_hardship",
                            "family_change",
                            "withdrawal",
                            "conflict_at_home",
                        ]
                    )
                ]
            else:
                concerns = []
            flagged = bool(concerns) and concerns[0] in {
                "self_harm_talk",
                "rights_violated",
                "abnormal_behaviour",
            }
            vid = batch.new_id("visit")
            visitor = township.counsellor if pupil and rng.random() < 0.2 else creator
            kind = rng.choices(["home_visit", "talk", "phone_call"], weights=(70, 20, 10))[0]
            visits.append((vid, day, flagged))
            batch.add(
                "visit",
                [
                    vid,
                    child_id,
                    kind,
                    day,
                    visitor,
                    ["child", "guardian"] if kind == "home_visit" else ["child"],
                    concerns,
                    rng.choices(["good", "calm", "low", "anxious"], weights=(40, 45, 10, 5))[0]
                    if not flagged
                    else "distressed",
                    flagged,
                    "告知近期情况（样例）" if flagged else "",
                    "report" if flagged else ("visit_soon" if concerns else "routine"),
                    "例行走访，情况稳定（样例记录）"
                    if not concerns
                    else "发现需要关注的情况（样例记录）",
                    False,
                    flagged,
                    None,
                    None,
                    "",
                    self.at(day, rng),
                ],
            )

        # Alerts: one per cause, holding every result with that cause.
        open_risks: list[int] = []
        open_alerts: list[tuple[int, datetime]] = []
        supervisor = township.supervisor
        groups: dict[str, list[tuple[int, str, date, int, bool]]] = {}
        for row in assessments:
            if row[4] or row[3] >= 3:
                groups.setdefault("critical_answer" if row[4] else "severe_result", []).append(row)
        flagged_visits = [row for row in visits if row[2]]
        for reason, members in [*groups.items(), ("flagged_visit", flagged_visits)]:
            if not members:
                continue
            alert_id = batch.new_id("alert")
            first, last = members[0], members[-1]
            last_day = last[2] if reason != "flagged_visit" else last[1]
            first_day_ = first[2] if reason != "flagged_visit" else first[1]
            risk = max(m[3] for m in members) if reason != "flagged_visit" else 3
            created = self.at(first_day_, rng)
            closed = (today - last_day).days > 30 and rng.random() < 0.7
            closer = township.counsellor if pupil and reason != "flagged_visit" else supervisor
            if closed:
                ack_at = min(self.at(last_day + timedelta(days=rng.randint(1, 10)), rng), now)
                ack = (
                    closer,
                    ack_at,
                    "已与监护人沟通并安排跟进（样例）",
                    rng.choice(
                        ["referred", "care_plan_started", "guardian_informed", "false_positive"]
                    ),
                )
            else:
                ack = (None, None, "", "")
                open_risks.append(risk)
                open_alerts.append((alert_id, created))
            batch.add(
                "alert",
                (
                    alert_id,
                    child_id,
                    first[0] if reason != "flagged_visit" else None,
                    reason,
                    risk,
                    created,
                    assessor if reason != "flagged_visit" else creator,
                    *ack,
                ),
            )
            if reason == "flagged_visit":
                if closed:
                    for visit_row in batch.rows["visit"][-len(visits) :]:
                        if visit_row[0] in {m[0] for m in members}:
                            visit_row[14] = supervisor
                            visit_row[15] = ack[1]
                            visit_row[16] = "已核实并跟进（样例）"
            else:
                for member in members:
                    batch.add("alert_results", (alert_id, member[0]))

        # The child's risk: the latest result of each instrument and the open alerts.
        latest: dict[str, int] = {}
        for _aid, code, _day, risk, _crit in assessments:
            latest[code] = risk
        child_risk = max([*latest.values(), *open_risks], default=0)
        risk_at = self.at(assessments[-1][2], rng) if assessments and child_risk else None

        status, status_reason = "active", ""
        if rng.random() < 0.01:
            status, status_reason = "moved", "随家人迁往外省（样例）"
        batch.add(
            "child",
            (
                child_id,
                f"{residence[:6]}-{child_id:08d}",
                name,
                pinyin,
                sex,
                birth,
                *nid,
                residence,
                household,
                categories,
                school,
                grade,
                class_name,
                institution,
                status,
                status_reason,
                child_risk,
                risk_at,
                "",
                False,
                1,
                created_at,
                creator,
                created_at,
            ),
        )

        # Care team and care plan for children who need one.
        team: list[tuple[str, int]] = []
        plan_id = None
        if child_risk >= 3 or (child_risk == 2 and rng.random() < 0.2):
            plan_id = batch.new_id("careplan")
            start = today - timedelta(days=rng.randint(5, 120))
            owner = township.counsellor if pupil else director
            batch.add(
                "careplan",
                (
                    plan_id,
                    child_id,
                    "intensive"
                    if child_risk >= 4
                    else ("focused" if child_risk == 3 else "general"),
                    "稳定情绪，恢复日常学习与生活（样例）",
                    rng.sample(
                        [
                            "counselling",
                            "emotional_guidance",
                            "comfort",
                            "peer_support",
                            "family_guidance",
                        ],
                        2,
                    ),
                    "",
                    owner,
                    start,
                    start + timedelta(days=90),
                    "active",
                    owner,
                    self.at(start, rng),
                ),
            )
            batch.add(
                "task",
                (
                    child_id,
                    "care_plan_review",
                    start + timedelta(days=90),
                    owner,
                    plan_id,
                    _due_status(start + timedelta(days=90), today),
                    self.at(start, rng),
                    None,
                    None,
                    None,
                    None,
                    "",
                ),
            )

        # Referral (about one child in ten).
        referral = None
        chance = 0.5 if child_risk >= 3 else (0.2 if child_risk == 2 else 0.06)
        if rng.random() < chance:
            referral = self._referral(
                batch,
                rng,
                child_id,
                age,
                pupil,
                county,
                township,
                director,
                guardians,
                assessments,
                residential,
                creator,
            )

        if plan_id or referral or child_risk >= 2:
            team.append(("child_director", director))
            if pupil:
                team.append(("counsellor", township.counsellor))
                if rng.random() < 0.15:
                    team.append(("mentor", township.mentor))
            if rng.random() < 0.3:
                team.append(("volunteer", village.volunteer))
        elif pupil and rng.random() < 0.02:
            team.append(("mentor", township.mentor))
        for team_role, user in team:
            mid = batch.new_id("careteammember")
            started = created_on + timedelta(days=rng.randint(0, 60))
            batch.add(
                "careteammember",
                (mid, child_id, team_role, user, "", True, started, None, director),
            )
            batch.add(
                "grant",
                (child_id, user, 2, "care_team", mid, director, self.at(started, rng), None, None),
            )
        if team and rng.random() < 0.15:
            mid = batch.new_id("careteammember")
            batch.add(
                "careteammember",
                (
                    mid,
                    child_id,
                    "peer_partner",
                    None,
                    rng.choice(self.names)[0],
                    True,
                    created_on,
                    None,
                    director,
                ),
            )

        # Tasks: routine visits and reassessments, done and due; alerts not reviewed.
        interval = 1 if child_risk >= 2 else 0
        if visits:
            last_vid, last_day, _flag = visits[-1]
            batch.add(
                "task",
                (
                    child_id,
                    "home_visit",
                    last_day,
                    creator,
                    None,
                    "done",
                    self.at(last_day - timedelta(days=14), rng),
                    None,
                    None,
                    None,
                    self.at(last_day, rng),
                    f"visit:{last_vid}",
                ),
            )
            due = last_day + timedelta(days=HOME_VISIT_DAYS[interval])
            status_, escalated = _pending(due, today, rng)
            batch.add(
                "task",
                (
                    child_id,
                    "home_visit",
                    due,
                    creator,
                    None,
                    status_,
                    self.at(last_day, rng),
                    None,
                    supervisor if escalated else None,
                    self.at(due + timedelta(days=7), rng) if escalated else None,
                    None,
                    "",
                ),
            )
        if assessments:
            _aid, _code, last_day, _r, _c = assessments[-1]
            if len(assessments) > 1 and assessments[-2][2] != last_day:
                prev = assessments[-2]
                batch.add(
                    "task",
                    (
                        child_id,
                        "reassessment",
                        prev[2],
                        assessor,
                        None,
                        "done",
                        self.at(prev[2] - timedelta(days=14), rng),
                        None,
                        None,
                        None,
                        self.at(prev[2], rng),
                        f"assessment:{prev[0]}",
                    ),
                )
            due = last_day + timedelta(days=REASSESS_DAYS[interval])
            status_, escalated = _pending(due, today, rng)
            batch.add(
                "task",
                (
                    child_id,
                    "reassessment",
                    due,
                    assessor,
                    None,
                    status_,
                    self.at(last_day, rng),
                    None,
                    supervisor if escalated else None,
                    self.at(due + timedelta(days=7), rng) if escalated else None,
                    None,
                    "",
                ),
            )
        if open_alerts:
            alert_id, raised = open_alerts[0]
            due = raised.date() + timedelta(days=2)
            if due <= today:
                status_ = _due_status(due, today)
                batch.add(
                    "task",
                    (
                        child_id,
                        "alert_unreviewed",
                        due,
                        supervisor,
                        alert_id,
                        status_,
                        raised,
                        None,
                        None,
                        None,
                        None,
                        "",
                    ),
                )

        # The access log: the file's creation and a few reads.
        path = f"/children/{child_id}/"
        batch.add(
            "access",
            (created_at, creator, child_id, "change", path, "10.0.0.1", '{"created": true}'),
        )
        for _ in range(rng.choice((1, 1, 2))):
            day = today - timedelta(days=rng.randint(0, 180))
            batch.add(
                "access", (self.at(day, rng), creator, child_id, "view", path, "10.0.0.1", "{}")
            )
        if pupil and rng.random() < 0.5:
            day = today - timedelta(days=rng.randint(0, 180))
            batch.add(
                "access",
                (self.at(day, rng), township.counsellor, child_id, "view", path, "10.0.0.2", "{}"),
            )

    def _referral(
        self,
        batch: Batch,
        rng: random.Random,
        child_id: int,
        age: int,
        pupil: bool,
        county: County,
        township: Township,
        director: int,
        guardians: list[int],
        assessments: list[tuple[Any, ...]],
        residential: bool,
        creator: int,
    ) -> int:
        today, now = self.today, self.now
        final = rng.choices(
            [s for s, _w in REFERRAL_STATUSES], weights=[w for _s, w in REFERRAL_STATUSES]
        )[0]
        path = REFERRAL_PATHS[final]
        offsets = [rng.randint(*STEP_DAYS[step]) for step in path]
        start = today - timedelta(days=sum(offsets) + rng.randint(1, 120))
        times: dict[str, datetime] = {}
        day = start
        for step, offset in zip(path, offsets, strict=True):
            day = day + timedelta(days=offset)
            times[step] = self.at(day, rng)
        to_hospital = rng.random() < 0.8
        to_institution = county.hospital if to_hospital else county.psych
        clinic_staff = county.hospital_staff if to_hospital else county.psych_staff
        clinician = clinic_staff[0]
        sender = township.counsellor if pupil else creator
        from_agency = None if pupil or residential else county.agencies["civil_affairs"]
        from_institution = township.school if pupil else (county.welfare if residential else None)
        # Consent to the referral, before it was sent.
        consent_id = batch.new_id("consent")
        by_child = age >= 14 and not residential and rng.random() < 0.4
        consent_day = start
        batch.add(
            "consent",
            (
                consent_id,
                child_id,
                "referral",
                None if by_child else guardians[0],
                by_child,
                None,
                consent_day,
                "",
                creator,
                self.at(consent_day, rng),
                None,
                None,
                "",
            ),
        )
        rid = batch.new_id("referral")
        seen = "seen" in times
        discharged = times.get("discharged")
        closed = times.get("closed")
        access_until = None
        for step in ("withdrawn", "declined"):
            if step in times:
                access_until = times[step]
        if closed:
            access_until = closed + timedelta(days=self.access_days)
        followup = (14, "child_director", 12) if discharged else (None, "", None)
        high = [a for a in assessments if a[3] >= 2]
        batch.add(
            "referral",
            (
                rid,
                child_id,
                sender,
                from_agency,
                from_institution,
                to_institution,
                "psychiatric_clinic" if to_hospital else "psychological_counselling",
                "持续情绪低落，量表结果偏高，建议专业评估（样例）",
                rng.choices(["routine", "urgent", "emergency"], weights=(80, 17, 3))[0],
                high[-1][0] if high else None,
                None,
                consent_id,
                False,
                "",
                None,
                None,
                "",
                final,
                "样例诊断：情绪障碍（轻度）" if seen else "",
                "门诊心理治疗（样例）" if "in_treatment" in times else "",
                "outpatient" if "in_treatment" in times else "",
                "治疗后情绪稳定，建议定期随访（样例）" if discharged else "",
                "本机构暂无相应服务，建议转至上级医院（样例）" if final == "declined" else "",
                times.get("appointment"),
                *followup,
                times["draft"],
                times.get("sent"),
                times.get("accepted"),
                times.get("declined"),
                times.get("seen"),
                discharged,
                closed,
                access_until,
            ),
        )
        previous = ""
        for step in path:
            actor = clinician if step in CLINIC_STEPS else sender
            batch.add("referralevent", (rid, previous, step, actor, times[step], ""))
            previous = step
        if "sent" in times:
            ended = None
            if final in ("withdrawn", "declined"):
                ended = times[final]
            elif access_until is not None and access_until <= now:
                ended = access_until
            expires = access_until if closed else None
            for member in clinic_staff:
                batch.add(
                    "grant",
                    (child_id, member, 1, "referral", rid, sender, times["sent"], expires, ended),
                )
        if final == "sent" and (today - times["sent"].date()).days > 7:
            due = times["sent"].date() + timedelta(days=7)
            status_ = _due_status(due, today)
            batch.add(
                "task",
                (
                    child_id,
                    "referral_unanswered",
                    due,
                    sender,
                    rid,
                    status_,
                    times["sent"],
                    None,
                    None,
                    None,
                    None,
                    "",
                ),
            )
        if discharged:
            pid = batch.new_id("followupplan")
            start_on = discharged.date()
            end_on = start_on + timedelta(weeks=12)
            active = end_on >= today
            batch.add(
                "followupplan",
                (
                    pid,
                    child_id,
                    rid,
                    "child_director",
                    14,
                    0,
                    14,
                    start_on,
                    end_on,
                    "出院后定期随访（样例）",
                    "active" if active else "ended",
                    "" if active else "随访期满（样例）",
                    None if active else self.at(end_on, rng),
                    None if active else director,
                    clinician,
                    discharged,
                ),
            )
            batch.add("followupplan_partners", (pid, director))
            if active:
                due = min(start_on + timedelta(days=14 * rng.randint(1, 6)), end_on)
                status_ = _due_status(due, today)
                batch.add(
                    "task",
                    (
                        child_id,
                        "followup_visit",
                        due,
                        director,
                        pid,
                        status_,
                        discharged,
                        None,
                        None,
                        None,
                        None,
                        "",
                    ),
                )
        return rid


def _cadence(rng: random.Random, today: date, since: date, interval: int, count: int) -> list[date]:
    """`count` dates about `interval` days apart, the latest mostly within the last interval
    (as the scheduler's tasks keep them), none before `since`; oldest first."""
    days = []
    day = today - timedelta(days=rng.randint(0, interval * 5 // 4))
    for _ in range(count):
        if day <= since:
            break
        days.append(day)
        day -= timedelta(days=interval + rng.randint(-interval // 5, interval // 3))
    return days[::-1] or [min(today, since + timedelta(days=1))]


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _due_status(due: date, today: date) -> str:
    """The status of a task still to do that falls due on `due`."""
    return "open" if due >= today else "overdue"


def _pending(due: date, today: date, rng: random.Random) -> tuple[str, bool]:
    """Like `_due_status`, but some tasks long overdue have escalated to the supervisor."""
    if due < today and (today - due).days > 7 and rng.random() < 0.3:
        return "escalated", True
    return _due_status(due, today), False


# --- Writing -------------------------------------------------------------------------------


def _reserve(cursor: Any, table: str, count: int) -> int:
    """Take `count` consecutive ids from the table's sequence; return the first."""
    cursor.execute(
        "WITH s AS (SELECT pg_get_serial_sequence(%s, 'id') AS name), "
        "f AS (SELECT nextval(name) AS first, name FROM s) "
        "SELECT first, setval(name, first + %s - 1) FROM f",
        [table, count],
    )
    return int(cursor.fetchone()[0])


def _copy(cursor: Any, table: str, columns: Iterable[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# Tables in the order they are written (children first: the others point to them).
WRITE_ORDER = (
    "child",
    "guardian",
    "consent",
    "assessment",
    "visit",
    "alert",
    "alert_results",
    "referral",
    "referralevent",
    "followupplan",
    "followupplan_partners",
    "careplan",
    "careteammember",
    "grant",
    "task",
    "access",
)


def _check_allowed(*, allow_production: bool) -> None:
    from django.conf import settings

    from cases.models import Child

    if settings.PRODUCTION and not allow_production:
        raise GenerateRefused(
            "Refusing to generate benchmark data: DJANGO_ENV is production. Pass "
            "--i-know-this-is-not-production if this database really is a scratch copy."
        )
    existing = Child.objects.filter(residence_region__code__startswith=PROVINCE_CODE).count()
    if existing:
        raise GenerateRefused(
            f"Province {PROVINCE_CODE} already has {existing} children: the generator fills an "
            "empty province only. Use a fresh database."
        )


def generate(
    children: int,
    *,
    seed: int = 1,
    log: Callable[[str], None] = print,
    batch_size: int = DEFAULT_BATCH,
    allow_production: bool = False,
) -> dict[str, int]:
    """Make province 98 with `children` children and all their records; returns the number
    of rows written per table (history rows included)."""
    import pghistory
    from django.db import connection, transaction
    from django.utils import timezone

    if children < 1:
        raise ValueError("children must be at least 1")
    _check_allowed(allow_production=allow_production)
    _ensure_reference_data()
    started = time.monotonic()
    rng = random.Random(f"{seed}:world")
    world = build_world(children, rng=rng, log=log)
    tables = _tables()
    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate(now)
    maker = ChildMaker(world, today=today, now=timezone.localtime(now), seed=seed)
    # The access log goes back to the oldest record (about four years): its months get their
    # partitions first, so no row lands in the DEFAULT partitions (core.partitions).
    from core.partitions import ensure_monthly_partitions

    ensure_monthly_partitions(since=today - timedelta(days=OLDEST_RECORD_DAYS + 31))
    counts: dict[str, int] = dict.fromkeys(WRITE_ORDER, 0)
    starts = list(range(0, children, batch_size))

    def make_batch(first: int, bases: dict[str, int]) -> Batch:
        batch = Batch(bases)
        batch_rng = random.Random(f"{seed}:{first}")
        for index in range(first, min(first + batch_size, children)):
            maker.make(batch, index, batch_rng)
        return batch

    def reserve(first: int) -> dict[str, int]:
        size = min(batch_size, children - first)
        with connection.cursor() as cursor:
            return {
                kind: _reserve(cursor, tables[kind], bound * size)
                for kind, bound in ID_BOUNDS.items()
            }

    # One thread makes the next batch's rows while this one streams the current batch (the
    # COPY waits on the server, which frees the interpreter).
    with (
        ThreadPoolExecutor(max_workers=1) as maker_thread,
        pghistory.context(source=SOURCE, seed=seed, children=children) as history,
    ):
        context = [str(history.id), json.dumps(history.metadata)]
        pending = maker_thread.submit(make_batch, starts[0], reserve(starts[0]))
        for number, first in enumerate(starts):
            batch = pending.result()
            if number + 1 < len(starts):
                following = starts[number + 1]
                pending = maker_thread.submit(make_batch, following, reserve(following))
            with transaction.atomic(), connection.cursor() as cursor:
                # Foreign keys checked at the end of each statement rather than at commit: a
                # deferred check queued per row makes each history trigger's insert scan the
                # queue, and a batch slows down quadratically.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                # COPY bypasses the execute wrapper that sets the history context: set it for
                # the whole transaction, as the wrapper does for each statement.
                cursor.execute(
                    "SELECT set_config('pghistory.context_id', %s, true), "
                    "set_config('pghistory.context_metadata', %s, true)",
                    context,
                )
                for kind in WRITE_ORDER:
                    _copy(cursor, tables[kind], COLUMNS[kind], batch.rows[kind])
                    counts[kind] += len(batch.rows[kind])
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            del batch
            done = min(first + batch_size, children)
            elapsed = time.monotonic() - started
            log(f"{done}/{children} children, {elapsed:.0f} s, {done / elapsed:.0f} children/s")
    # VACUUM as well as ANALYZE: a live database's tables have been through autovacuum, whose
    # visibility map lets a list walk its index alone. Straight after a bulk load it is unset,
    # and skipping 10,000 rows of a county read 260,000 heap pages (455 ms, against 56 ms).
    # (Inside a caller's transaction, a test's, VACUUM cannot run: statistics only.)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
    result = {tables[kind]: count for kind, count in counts.items()}
    for kind in ("child", "guardian", "careteammember", "careplan"):
        result[f"{tables[kind]}event"] = counts[kind]
    result["institutions_user"] = world.staff
    elapsed = time.monotonic() - started
    log(f"done: {children} children in {elapsed:.1f} s ({children / elapsed:.0f} children/s)")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, required=True, help="how many children to make")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="children per transaction")
    parser.add_argument(
        "--i-know-this-is-not-production",
        dest="allow_production",
        action="store_true",
        help="run even though DJANGO_ENV is production",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    try:
        counts = generate(
            args.children,
            seed=args.seed,
            batch_size=args.batch,
            allow_production=args.allow_production,
        )
    except GenerateRefused as refused:
        print(refused, file=sys.stderr)
        return 2
    width = max(len(name) for name in counts)
    for name, count in counts.items():
        print(f"{name:<{width}}  {count:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
