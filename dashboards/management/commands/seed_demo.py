"""Create the fictional demo region, organisations, users of every role and ~200 children.

Safe to run any number of times: everything is keyed on a natural key and created only if
missing; demo passwords are reset to DEMO_PASSWORD. All names are synthetic, the province code 99
does not exist, and no record carries a real identity number.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from assessments.builtin import install as install_instruments
from assessments.models import Instrument, ReassessmentPolicy
from cases.identity import name_key
from cases.models import CareTeamMember, Category, Child, Guardian, RiskLevel
from cases.services.care import care_team_add
from followups.models import FollowupSchedule, TaskPolicy, VisitPolicy
from followups.policy_defaults import install as install_followup_policy
from followups.services.schedule import tasks_plan
from institutions.models import Agency, Institution, User
from institutions.roles import Role
from institutions.services import membership_grant, region_load

COUNTY = "990101"
REGIONS = [
    ("99", "演示省"),
    ("9901", "演示市"),
    (COUNTY, "演示县"),
    ("990101001", "青石镇"),
    ("990101002", "白水乡"),
    ("990101003", "柳林乡"),
    ("990101001001", "东岭村"),
    ("990101001002", "西岭村"),
    ("990101001003", "南坡村"),
    ("990101002001", "河口村"),
    ("990101002002", "上塘村"),
    ("990101002003", "下塘村"),
    ("990101003001", "柳树村"),
    ("990101003002", "杨家村"),
    ("990101003003", "新庄村"),
]
VILLAGES = [code for code, _name in REGIONS if len(code) == 12]

AGENCIES = {
    Agency.Kind.CIVIL_AFFAIRS: "演示县民政局",
    Agency.Kind.EDUCATION: "演示县教育局",
    Agency.Kind.HEALTH: "演示县卫生健康局",
    Agency.Kind.YOUTH_LEAGUE: "共青团演示县委员会",
    Agency.Kind.WOMENS_FEDERATION: "演示县妇女联合会",
}

S = Institution.Service
INSTITUTIONS = {
    "middle_school": (
        "青石镇中学（演示）",
        Institution.Kind.SCHOOL,
        "990101001",
        Agency.Kind.EDUCATION,
        [S.COUNSELLING_ROOM],
    ),
    "primary_school": (
        "青石镇中心小学（演示）",
        Institution.Kind.SCHOOL,
        "990101001",
        Agency.Kind.EDUCATION,
        [S.COUNSELLING_ROOM],
    ),
    "welfare": (
        "演示县儿童福利院",
        Institution.Kind.CHILD_WELFARE,
        COUNTY,
        Agency.Kind.CIVIL_AFFAIRS,
        [S.RESIDENTIAL_CARE, S.COUNSELLING_ROOM],
    ),
    "hospital": (
        "演示县人民医院",
        Institution.Kind.HOSPITAL,
        COUNTY,
        Agency.Kind.HEALTH,
        [S.PSYCHIATRIC_CLINIC, S.PSYCHOTHERAPY, S.INPATIENT],
    ),
    "social_psych": (
        "演示县社会心理服务中心",
        Institution.Kind.SOCIAL_PSYCH_SERVICE,
        COUNTY,
        Agency.Kind.HEALTH,
        [S.PSYCHOLOGICAL_COUNSELLING, S.HOTLINE],
    ),
    "childrens_home": (
        "东岭村儿童之家",
        Institution.Kind.CHILDRENS_HOME,
        "990101001001",
        Agency.Kind.CIVIL_AFFAIRS,
        [S.GROUP_ACTIVITY_ROOM, S.COUNSELLING_ROOM],
    ),
}

# username, display name, role, organisation (agency kind or institution key), jurisdiction
USERS: list[tuple[str, str, Role, Agency.Kind | str, list[str]]] = [
    (
        "director_a",
        "演示·东岭村儿童主任",
        Role.CHILD_DIRECTOR,
        Agency.Kind.CIVIL_AFFAIRS,
        ["990101001001"],
    ),
    (
        "director_b",
        "演示·河口村儿童主任",
        Role.CHILD_DIRECTOR,
        Agency.Kind.CIVIL_AFFAIRS,
        ["990101002001"],
    ),
    (
        "supervisor_town",
        "演示·青石镇儿童督导员",
        Role.CHILD_SUPERVISOR,
        Agency.Kind.CIVIL_AFFAIRS,
        ["990101001"],
    ),
    ("counselor", "演示·心理健康教师", Role.SCHOOL_COUNSELLOR, "middle_school", []),
    ("mentor", "演示·成长导师", Role.MENTOR_TEACHER, "middle_school", []),
    (
        "social_worker",
        "演示·白水乡社工",
        Role.SOCIAL_WORKER,
        Agency.Kind.CIVIL_AFFAIRS,
        ["990101002"],
    ),
    ("volunteer", "演示·志愿者", Role.VOLUNTEER, Agency.Kind.YOUTH_LEAGUE, []),
    ("welfare_staff", "演示·福利院工作人员", Role.INSTITUTION_STAFF, "welfare", []),
    ("clinician", "演示·精神科医师", Role.CLINICIAN, "hospital", []),
    (
        "county_civil",
        "演示·县民政局管理人员",
        Role.AGENCY_SUPERVISOR,
        Agency.Kind.CIVIL_AFFAIRS,
        [COUNTY],
    ),
    (
        "county_edu",
        "演示·县教育局管理人员",
        Role.AGENCY_SUPERVISOR,
        Agency.Kind.EDUCATION,
        [COUNTY],
    ),
    (
        "county_health",
        "演示·县卫健局管理人员",
        Role.AGENCY_SUPERVISOR,
        Agency.Kind.HEALTH,
        [COUNTY],
    ),
    (
        "county_youth",
        "演示·团县委管理人员",
        Role.AGENCY_SUPERVISOR,
        Agency.Kind.YOUTH_LEAGUE,
        [COUNTY],
    ),
    (
        "county_women",
        "演示·县妇联管理人员",
        Role.AGENCY_SUPERVISOR,
        Agency.Kind.WOMENS_FEDERATION,
        [COUNTY],
    ),
    ("admin", "演示·系统管理员", Role.SYSTEM_ADMIN, Agency.Kind.CIVIL_AFFAIRS, []),
    ("security", "演示·安全管理员", Role.SECURITY_ADMIN, Agency.Kind.CIVIL_AFFAIRS, []),
    ("auditor", "演示·审计管理员", Role.AUDITOR, Agency.Kind.CIVIL_AFFAIRS, []),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = list("小晓子雨星梓欣浩宇涵然轩一可乐安禾木朵豆")
GIVEN2 = list("明月阳晨辰琪悦航杰彤萌泽语佳睿瑶岚川果苗")

CHILDREN_PER_VILLAGE = 20
WELFARE_RESIDENTS = 20


def demo_children(today: date) -> list[dict[str, Any]]:
    """The same ~200 synthetic children every time (a fixed seed), spread as described above."""
    rng = random.Random(2026)
    rows: list[dict[str, Any]] = []
    number = 0

    def next_child(residence: str, household: str, age_range: tuple[int, int]) -> dict[str, Any]:
        nonlocal number
        number += 1
        age_days = rng.randint(age_range[0] * 365 + 30, age_range[1] * 365 + 300)
        categories = []
        if household != residence and residence != COUNTY:
            categories.append(Category.MIGRANT)
        elif residence != COUNTY and rng.random() < 0.45:
            categories.append(Category.RURAL_LEFT_BEHIND)
        if rng.random() < 0.15:
            categories.append(Category.FAMILY_POVERTY)
        return {
            "record_number": f"DEMO-{number:04d}",
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN2),
            "sex": rng.choice([Child.Sex.FEMALE, Child.Sex.MALE]),
            "birth_date": today - timedelta(days=age_days),
            "residence_region_id": residence,
            "household_region_id": household,
            "categories": categories,
            "risk_level": rng.choices(
                [RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH],
                weights=[70, 18, 9, 3],
            )[0],
        }

    for village in VILLAGES:
        for index in range(CHILDREN_PER_VILLAGE):
            household = village
            if index >= CHILDREN_PER_VILLAGE - 3:
                # Migrant children: registered in a village of another township.
                others = [v for v in VILLAGES if v[:9] != village[:9]]
                household = rng.choice(others)
            rows.append(next_child(village, household, (4, 16)))
    for _index in range(WELFARE_RESIDENTS):
        row = next_child(COUNTY, COUNTY, (3, 17))
        row["residential"] = True
        row["categories"] = [
            Category.ORPHAN if rng.random() < 0.6 else Category.DE_FACTO_UNSUPPORTED
        ]
        rows.append(row)
    return rows


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class Command(BaseCommand):
    help = "Creates the fictional demo province 99 with organisations, users and children."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        call_command("sync_roles", verbosity=0)
        region_load(rows=REGIONS)
        # A flush between transactional tests empties the tables the migrations filled.
        install_instruments(Instrument, ReassessmentPolicy)
        install_followup_policy(VisitPolicy, FollowupSchedule, TaskPolicy)
        agencies = {
            kind: Agency.objects.get_or_create(region_id=COUNTY, kind=kind, name=name)[0]
            for kind, name in AGENCIES.items()
        }
        institutions: dict[str, Institution] = {}
        for key, (name, kind, region, agency_kind, services) in INSTITUTIONS.items():
            institutions[key], _created = Institution.objects.update_or_create(
                region_id=region,
                name=name,
                defaults={
                    "kind": kind,
                    "supervising_agency": agencies[agency_kind],
                    "services": list(services),
                    "address": f"{dict(REGIONS)[region]}（演示地址）",
                    "phone": "0000-0000000",
                },
            )
        users = self._users(agencies, institutions)
        created = self._children(institutions)
        # The mentor and the volunteer see a few children through their care-team places.
        middle_school_pupils = list(
            Child.objects.filter(school=institutions["middle_school"]).order_by("record_number")
        )
        for child in middle_school_pupils[:5]:
            self._join_team(
                child, users["mentor"], CareTeamMember.TeamRole.MENTOR, users["counselor"]
            )
        for child in Child.objects.filter(residence_region_id="990101002002").order_by(
            "record_number"
        )[:2]:
            self._join_team(
                child, users["volunteer"], CareTeamMember.TeamRole.VOLUNTEER, users["social_worker"]
            )
        # What is due for the demo children, as the scheduler would have made it.
        tasks_plan(today=timezone.localdate())
        self.stdout.write(
            f"Demo data ready: {len(users)} users, {Child.objects.count()} children "
            f"({created} new). Password for every demo user: the DEMO_PASSWORD setting."
        )

    def _join_team(self, child: Child, member: User, team_role: str, by: User) -> None:
        if not CareTeamMember.objects.filter(child=child, user=member, is_active=True).exists():
            care_team_add(child=child, team_role=team_role, by=by, user=member)

    def _users(
        self, agencies: dict[Agency.Kind, Agency], institutions: dict[str, Institution]
    ) -> dict[str, User]:
        users: dict[str, User] = {}
        for username, display, role, organisation, jurisdiction in USERS:
            user, _created = User.objects.get_or_create(
                username=username, defaults={"display_name": display, "is_demo": True}
            )
            user.display_name = display
            user.is_demo = True
            user.email = f"{username}@demo.invalid"  # a reserved domain: nothing is delivered
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
            if isinstance(organisation, Agency.Kind):
                membership_grant(
                    user=user, role=role, agency=agencies[organisation], jurisdiction=jurisdiction
                )
            else:
                membership_grant(
                    user=user,
                    role=role,
                    institution=institutions[organisation],
                    jurisdiction=jurisdiction,
                )
            users[username] = user
        return users

    def _children(self, institutions: dict[str, Institution]) -> int:
        today = date(2026, 9, 1)  # fixed, so that reruns on later days keep the same children
        existing = set(
            Child.objects.filter(record_number__startswith="DEMO-").values_list(
                "record_number", flat=True
            )
        )
        new: list[Child] = []
        for row in demo_children(today):
            if row["record_number"] in existing:
                continue
            residential = row.pop("residential", False)
            age = age_on(row["birth_date"], today)
            child = Child(**row, name_pinyin=name_key(row["name"]))
            if residential:
                child.residential_institution = institutions["welfare"]
            elif row["residence_region_id"].startswith("990101001"):
                if 12 <= age <= 15:
                    child.school = institutions["middle_school"]
                elif 6 <= age <= 11:
                    child.school = institutions["primary_school"]
            elif row["residence_region_id"].startswith("990101002") and 12 <= age <= 15:
                child.school = institutions["middle_school"]
            if child.school is not None:
                # Primary grades 1-6 from age 6; middle school grades 7-9 from age 12.
                child.grade = min(max(age - 5, 1), 9)
                child.class_name = f"{(int(row['record_number'][-1]) % 2) + 1}班"
            new.append(child)
        Child.objects.bulk_create(new)
        self._guardians(new)
        self._state_guardians(institutions["welfare"])
        return len(new)

    def _state_guardians(self, welfare: Institution) -> None:
        """The welfare institution's residents are under state guardianship (国家监护): the
        institution is their guardian, and its staff consent for them (added where missing,
        so an older demo database gets them too)."""
        residents = Child.objects.filter(residential_institution=welfare).exclude(
            guardians__relation=Guardian.Relation.INSTITUTION, guardians__is_active=True
        )
        with_contact = set(
            Guardian.objects.filter(
                child__in=residents, is_active=True, is_primary_contact=True
            ).values_list("child_id", flat=True)
        )
        Guardian.objects.bulk_create(
            Guardian(
                child=child,
                name="院长（演示）",
                relation=Guardian.Relation.INSTITUTION,
                institution=welfare,
                phone=welfare.phone.replace("-", ""),
                lives_with_child=True,
                is_primary_contact=child.pk not in with_contact,
            )
            for child in residents
        )

    def _guardians(self, children: list[Child]) -> None:
        """One or two synthetic guardians per new child; phone numbers start 000 (not real)."""
        rng = random.Random(99)
        rows = []
        for child in children:
            if child.residential_institution_id:
                continue
            left_behind = Category.RURAL_LEFT_BEHIND in child.categories
            rows.append(
                Guardian(
                    child=child,
                    name=child.name[0]
                    + rng.choice(["建国", "秀英", "国强", "桂兰", "志明", "美华"]),
                    relation=Guardian.Relation.GRANDPARENT
                    if left_behind
                    else Guardian.Relation.MOTHER,
                    phone=f"000{rng.randint(10_000_000, 99_999_999)}",
                    lives_with_child=True,
                    is_primary_contact=True,
                )
            )
            if left_behind:
                rows.append(
                    Guardian(
                        child=child,
                        name=child.name[0] + rng.choice(["大伟", "春生", "海涛"]),
                        relation=Guardian.Relation.FATHER,
                        phone=f"000{rng.randint(10_000_000, 99_999_999)}",
                        lives_with_child=False,
                        works_away=True,
                        work_location=rng.choice(["广东东莞", "浙江义乌", "江苏苏州"]),
                    )
                )
        Guardian.objects.bulk_create(rows)
