"""The roles staff hold, and the one declarative table of what each role may see and do.

`sync_roles` turns this table into Django groups (one per role); memberships put users into the
groups of the roles they hold. Nothing else grants action permissions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.access import Level


class Role(models.TextChoices):
    CHILD_DIRECTOR = "child_director", _("Child director")
    CHILD_SUPERVISOR = "child_supervisor", _("Child supervisor")
    SCHOOL_COUNSELLOR = "school_counsellor", _("Mental-health teacher")
    MENTOR_TEACHER = "mentor_teacher", _("Mentor teacher")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    VOLUNTEER = "volunteer", _("Volunteer")
    INSTITUTION_STAFF = "institution_staff", _("Institution staff")
    CLINICIAN = "clinician", _("Clinician")
    AGENCY_SUPERVISOR = "agency_supervisor", _("Agency supervisor")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDITOR = "auditor", _("Auditor")


class ScopeSource(enum.Enum):
    """Where a role's view of children comes from (DESIGN.md §5, layer 1)."""

    JURISDICTION = (
        "jurisdiction"  # residence or household region under one of the membership's codes
    )
    ENROLMENT = "enrolment"  # children enrolled at the membership's school
    RESIDENCE = "residence"  # children living in the membership's institution


@dataclass(frozen=True)
class RoleSpec:
    """What one role sees (scope sources, and the level they give), must do to sign in, and may
    do (permissions)."""

    scope: frozenset[ScopeSource]
    permissions: frozenset[str]
    scope_level: Level = Level.MANAGE
    requires_two_factor: bool = False
    admin_site: bool = False


_CHILD_READ = {"cases.view_child"}
_ASSESS = {"assessments.add_assessment"}
# Closing an alert lowers the child's risk: only the responsible people (issue 10) do it, the
# counsellor, the clinician and the child supervisor.
_CLOSE_ALERT = {"assessments.acknowledge_alert"}
_VISIT = {"followups.add_visit"}
_ACTIVITY = {"followups.add_activity"}
_REFER = {"referrals.add_referral"}
# Guardians' phone numbers whole (institutions.masking): for roles that call families in their
# work. Mentors, volunteers and agency supervisors (who work from aggregates) see them masked.
_CONTACT = {"cases.view_contact_details"}
_SUPERVISE = {
    "institutions.view_dashboard",
    "cases.review_emergency_access",
    "followups.review_visit",
    "institutions.add_training",
    "institutions.view_training_report",
    "referrals.review_override",
}
# Reading a screening's sessions and summaries (an education bureau reads its schools');
# opening one and entering results are the writes.
_SCREEN_READ = {"assessments.view_screeningsession"}
_SCREEN = _SCREEN_READ | {"assessments.add_screeningsession", "assessments.change_screeningsession"}
# Who holds it at an institution acts for it where it is a child's guardian (国家监护).
CONSENT_PERMISSION = "cases.record_consent"
_CHILD_WRITE = {
    "cases.view_child",
    "cases.add_child",
    "cases.change_child",
    CONSENT_PERMISSION,
    "cases.manage_care",
}

# A region, school or residence scope gives the role's `scope_level` (manage unless said
# otherwise). Explicit grants (cases.ChildAccessGrant: care team, referral, access request,
# share) and break-the-glass widen any role's scope at their own level; they are not listed here.
ROLE_TABLE: dict[Role, RoleSpec] = {
    Role.CHILD_DIRECTOR: RoleSpec(
        scope=frozenset({ScopeSource.JURISDICTION}),
        permissions=frozenset(
            _VISIT
            | _ACTIVITY
            | _REFER
            | _CHILD_WRITE
            | _ASSESS
            | _CONTACT
            | {"cases.view_child_identity", "cases.handover_child"}
        ),
    ),
    Role.CHILD_SUPERVISOR: RoleSpec(
        scope=frozenset({ScopeSource.JURISDICTION}),
        permissions=frozenset(
            _VISIT
            | _ACTIVITY
            | _REFER
            | _SUPERVISE
            | _CHILD_WRITE
            | _ASSESS
            | _CLOSE_ALERT
            | _CONTACT
            | {
                "cases.view_child_identity",
                "cases.view_confidential_notes",
                "cases.handover_child",
            }
        ),
        requires_two_factor=True,
    ),
    Role.SCHOOL_COUNSELLOR: RoleSpec(
        scope=frozenset({ScopeSource.ENROLMENT}),
        permissions=frozenset(
            _VISIT
            | _ACTIVITY
            | _REFER
            | {"referrals.view_clinical_details"}
            | _CHILD_WRITE
            | _ASSESS
            | _CLOSE_ALERT
            | _SCREEN
            | _CONTACT
            | {"cases.view_confidential_notes", "assessments.view_item_answers"}
        ),
    ),
    Role.MENTOR_TEACHER: RoleSpec(
        scope=frozenset(),
        permissions=frozenset(_VISIT | _CHILD_READ),
    ),
    Role.SOCIAL_WORKER: RoleSpec(
        scope=frozenset({ScopeSource.JURISDICTION}),
        permissions=frozenset(_VISIT | _ACTIVITY | _REFER | _CHILD_WRITE | _ASSESS | _CONTACT),
    ),
    Role.VOLUNTEER: RoleSpec(scope=frozenset(), permissions=frozenset(_VISIT | _CHILD_READ)),
    Role.INSTITUTION_STAFF: RoleSpec(
        scope=frozenset({ScopeSource.RESIDENCE}),
        permissions=frozenset(
            _VISIT
            | _ACTIVITY
            | _REFER
            | _CHILD_WRITE
            | _ASSESS
            | _SCREEN
            | _CONTACT
            | {"cases.view_child_identity", "cases.handover_child", "cases.import_children"}
        ),
    ),
    # Clinic staff see a child through the grant a referral adds, not through a region.
    Role.CLINICIAN: RoleSpec(
        scope=frozenset(),
        permissions=frozenset(
            {"referrals.process_referral", "referrals.view_clinical_details", "followups.add_visit"}
            | _CHILD_READ
            | _ASSESS
            | _CLOSE_ALERT
            | _CONTACT
            | {"cases.view_confidential_notes", "assessments.view_item_answers"}
        ),
    ),
    Role.AGENCY_SUPERVISOR: RoleSpec(
        scope=frozenset({ScopeSource.JURISDICTION}),
        permissions=frozenset(
            _ACTIVITY | _SUPERVISE | _CHILD_READ | _SCREEN_READ | {"cases.export_child"}
        ),
        scope_level=Level.READ,
        requires_two_factor=True,
    ),
    Role.SYSTEM_ADMIN: RoleSpec(
        scope=frozenset(),
        permissions=frozenset(
            {"institutions.add_training"}
            | {
                "institutions.view_region",
                "institutions.add_region",
                "institutions.change_region",
                "institutions.view_agency",
                "institutions.add_agency",
                "institutions.change_agency",
                "institutions.view_institution",
                "institutions.add_institution",
                "institutions.change_institution",
                "institutions.view_membership",
                "institutions.add_membership",
                "institutions.change_membership",
                "institutions.view_user",
                "institutions.add_user",
                "institutions.change_user",
                "cases.import_children",
                "assessments.view_instrument",
                "assessments.add_instrument",
                "assessments.change_instrument",
                "django_celery_beat.view_periodictask",
                "django_celery_beat.change_periodictask",
                "assessments.view_reassessmentpolicy",
                "assessments.add_reassessmentpolicy",
                "assessments.change_reassessmentpolicy",
                # The delivery log of notifications: failed sends are shown to this role.
                "core.view_delivery",
                # The outbox: background jobs waiting for the broker, and what ran.
                "core.view_outboxmessage",
                "followups.view_visitpolicy",
                "followups.add_visitpolicy",
                "followups.change_visitpolicy",
                "followups.view_followupschedule",
                "followups.add_followupschedule",
                "followups.change_followupschedule",
                "followups.view_taskpolicy",
                "followups.change_taskpolicy",
            }
        ),
        requires_two_factor=True,
        admin_site=True,
    ),
    Role.SECURITY_ADMIN: RoleSpec(
        scope=frozenset(),
        permissions=frozenset(
            {
                "institutions.view_user",
                "institutions.change_user",
                "institutions.view_membership",
                "axes.view_accessattempt",
                "axes.delete_accessattempt",  # unlocks a locked-out account
                "axes.view_accessfailurelog",
                "axes.view_accesslog",
                "otp_totp.view_totpdevice",
                "otp_totp.delete_totpdevice",  # resets a lost authenticator
                "knox.view_authtoken",
                "knox.delete_authtoken",  # revokes an API token
                # Separated administrators: approves the memberships the system administrator
                # makes, and issues one-time set-password links instead of setting passwords.
                # Reads neither children's files nor the access log (the auditor does).
                "institutions.approve_membership",
                "institutions.issue_password_link",
            }
        ),
        requires_two_factor=True,
        admin_site=True,
    ),
    Role.AUDITOR: RoleSpec(
        scope=frozenset(),
        permissions=frozenset({"core.view_accessevent"}),
        requires_two_factor=True,
    ),
}


# The three separated administrators (三员分立): none has a tie to any child, and a person who
# holds one of these roles holds no other role at all.
ADMINISTRATOR_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})


def group_name(role: Role | str) -> str:
    """The name of the Django group that carries a role's permissions."""
    return f"role:{Role(role).value}"


def spec(role: Role | str) -> RoleSpec:
    return ROLE_TABLE[Role(role)]
