"""The demo world the tests run in, named once: its regions, organisations and users.

The `seed_demo` command builds the world; this module only names the parts tests refer to,
taking the organisations' names and the users from the seed itself so that the two cannot
drift apart. Tests import these names instead of copying the strings.

Who sees what (institutions/roles.py has the rules):

    director_a       child director of VILLAGE_A (东岭村)
    director_b       child director of VILLAGE_B (河口村)
    supervisor_town  child supervisor of TOWNSHIP_A (青石镇)
    social_worker    social worker of TOWNSHIP_B (白水乡; it has no child supervisor)
    counselor        mental-health teacher of MIDDLE_SCHOOL (its pupils live in A and B)
    mentor           mentor teacher of MIDDLE_SCHOOL: five pupils, through care-team places
    volunteer        volunteer: two children of VILLAGE_B2, through care-team places
    welfare_staff    staff of WELFARE: its residents
    clinician        psychiatrist at HOSPITAL: children referred to it, nothing else
    county_*         agency supervisors of COUNTY (read only)
    admin, security, auditor: the three separated administrators, no children
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core.management import get_commands

from institutions.models import User

# The seed's module, wherever the command lives (found as `manage.py` finds it).
seed_demo = import_module(f"{get_commands()['seed_demo']}.management.commands.seed_demo")

DEMO_PASSWORD = settings.DEMO_PASSWORD

# Regions. Province 99 does not exist; every code below is fictional.
PROVINCE = "99"  # 演示省
CITY = "9901"  # 演示市
COUNTY = seed_demo.COUNTY  # 990101 演示县: the whole demo world
TOWNSHIP_A = "990101001"  # 青石镇
TOWNSHIP_B = "990101002"  # 白水乡
TOWNSHIP_C = "990101003"  # 柳林乡: no demo user below the county works here
VILLAGE_A = "990101001001"  # 东岭村: director_a's village
VILLAGE_A2 = "990101001002"  # 西岭村: another village of the same township
VILLAGE_B = "990101002001"  # 河口村: director_b's village, in social_worker's township
VILLAGE_B2 = "990101002002"  # 上塘村: where the volunteer's two children live
FAR_VILLAGE = "990101003003"  # 新庄村: only the county roles see its children
VILLAGES = list(seed_demo.VILLAGES)

# A neighbouring county of the same demo city, which seed_demo does not create: children there
# are outside every demo user's scope (tests.factories.neighbouring_village creates it).
NEIGHBOUR_COUNTY = "990102"
NEIGHBOUR_TOWNSHIP = "990102001"
NEIGHBOUR_VILLAGE = "990102001001"

# Organisations, by the names seed_demo gives them.
_INSTITUTIONS = {key: spec[0] for key, spec in seed_demo.INSTITUTIONS.items()}
MIDDLE_SCHOOL = _INSTITUTIONS["middle_school"]  # 青石镇中学（演示）
PRIMARY_SCHOOL = _INSTITUTIONS["primary_school"]  # 青石镇中心小学（演示）
WELFARE = _INSTITUTIONS["welfare"]  # 演示县儿童福利院
HOSPITAL = _INSTITUTIONS["hospital"]  # 演示县人民医院
SOCIAL_PSYCH = _INSTITUTIONS["social_psych"]  # 演示县社会心理服务中心 (with the hotline)
CHILDRENS_HOME = _INSTITUTIONS["childrens_home"]  # 东岭村儿童之家
AGENCIES = dict(seed_demo.AGENCIES)  # Agency.Kind -> name

# Users: every demo username, and the groups tests often walk through.
USERNAMES = [row[0] for row in seed_demo.USERS]
COUNTY_SUPERVISORS = [name for name in USERNAMES if name.startswith("county_")]
ROLES_WITH_CHILDREN = [
    "director_a",
    "director_b",
    "supervisor_town",
    "social_worker",
    "counselor",
    "mentor",
    "volunteer",
    "welfare_staff",
    *COUNTY_SUPERVISORS,
]
# The clinician sees a child only once one is referred to the hospital.
ROLES_WITHOUT_CHILDREN = ["clinician", "admin", "security", "auditor"]
ADMINISTRATORS = ["admin", "security", "auditor"]


def user(username: str) -> User:
    """A demo user (or any user) by username."""
    return User.objects.get(username=username)


# Access-log actions about signing in and out (not about a child's data), which a test that
# counts the log's entries for a read or an export leaves aside.
SESSION_ACTIONS = ("sign_in", "sign_out", "sign_in_failed", "locked_out")
