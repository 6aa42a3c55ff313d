"""Organisations (regions, agencies, institutions), the staff who work in them and their roles."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.contrib import auth
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.signals import setting_changed
from django.db import models
from django.utils.translation import gettext_lazy as _

from institutions.roles import Role

# Code lengths of the statistical division levels: province, city, county, township, village.
LEVEL_LENGTHS = (2, 4, 6, 9, 12)
_CODE_RE = re.compile(r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")


def normalize_region_code(raw: str) -> str:
    """Turn a code as published (12 digits, zero-padded) or already short into its short form.

    `110101000000` (a county) becomes `110101`; `990101001` stays as it is.
    """
    code = raw.strip()
    if not (code.isascii() and code.isdigit()):
        raise ValueError(_("A region code has only digits."))
    if len(code) == 12:
        for length in LEVEL_LENGTHS[:-1]:
            if set(code[length:]) == {"0"}:
                return code[:length]
        return code
    if len(code) not in LEVEL_LENGTHS:
        raise ValueError(_("A region code has 2, 4, 6, 9 or 12 digits."))
    return code


def validate_region_code(value: str) -> None:
    if not _CODE_RE.match(value or ""):
        raise ValidationError(
            _("%(value)s is not a region code (2, 4, 6, 9 or 12 digits)."),
            params={"value": value},
            code="invalid_region_code",
        )


class User(AbstractUser):
    """A person who signs in; what they may see and do comes from their memberships."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("issue_password_link", _("Can issue a one-time set-password link")),
        ]

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_demo = models.BooleanField(
        _("demo account"),
        default=False,
        help_text=_("Created by seed_demo; exempt from two-factor enrolment outside production."),
    )

    def __str__(self) -> str:
        return self.display_name or self.get_username()

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """Django's answer (an active superuser may; otherwise the first backend that grants
        it, unless one refuses first), from backends built once per process: Django loads and
        builds every backend again on each call, and a page asks some thirty times (the menu,
        the panels, each row's actions)."""
        if self.is_active and self.is_superuser:
            return True
        for backend in _permission_backends():
            try:
                if backend.has_perm(self, perm, obj):
                    return True
            except PermissionDenied:
                return False
        return False


@cache
def _permission_backends() -> tuple[Any, ...]:
    return tuple(b for b in auth.get_backends() if hasattr(b, "has_perm"))


def _backends_changed(*, setting: str, **_: Any) -> None:
    if setting == "AUTHENTICATION_BACKENDS":
        _permission_backends.cache_clear()


setting_changed.connect(_backends_changed, dispatch_uid="institutions.permission_backends")


class Region(models.Model):
    """A node of the statistical division tree; a subtree is every code with this code as prefix."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")
        COUNTY = 3, _("County")
        TOWNSHIP = 4, _("Township")
        VILLAGE = 5, _("Village")

    code = models.CharField(
        _("code"), max_length=12, primary_key=True, validators=[validate_region_code]
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subregions",
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        # `code LIKE '990101%'` (a whole subtree) uses the varchar_pattern_ops index Django adds
        # to every varchar key, whatever the database collation.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$"),
                name="region_code_digits",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(level=1, code__regex=r"^\d{2}$")
                    | models.Q(level=2, code__regex=r"^\d{4}$")
                    | models.Q(level=3, code__regex=r"^\d{6}$")
                    | models.Q(level=4, code__regex=r"^\d{9}$")
                    | models.Q(level=5, code__regex=r"^\d{12}$")
                ),
                name="region_level_matches_code",
            ),
            models.CheckConstraint(
                condition=models.Q(level=1, parent__isnull=True)
                | models.Q(level__gt=1, parent__isnull=False),
                name="region_parent_unless_province",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @staticmethod
    def level_for(code: str) -> int:
        return LEVEL_LENGTHS.index(len(code)) + 1

    @staticmethod
    def parent_code_for(code: str) -> str | None:
        index = LEVEL_LENGTHS.index(len(code))
        return code[: LEVEL_LENGTHS[index - 1]] if index else None

    @staticmethod
    def path_codes(code: str) -> list[str]:
        """The codes of the region and of every region above it, the province first: the
        jurisdictions that cover it."""
        return [code[:n] for n in LEVEL_LENGTHS if n <= len(code)]


class Agency(models.Model):
    """A government or mass organisation of one of the five kinds, at a region."""

    class Kind(models.TextChoices):
        CIVIL_AFFAIRS = "civil_affairs", _("Civil affairs")
        EDUCATION = "education", _("Education")
        HEALTH = "health", _("Health")
        YOUTH_LEAGUE = "youth_league", _("Communist Youth League")
        WOMENS_FEDERATION = "womens_federation", _("Women's Federation")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # Looked up through agency_unique_name, which begins with it.
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="agencies",
        db_index=False,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["region_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind", "name"], name="agency_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Institution(models.Model):
    """A school, welfare or protection institution, clinic, service or community venue."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("School")
        CHILD_WELFARE = "child_welfare", _("Child welfare institution")
        MINOR_PROTECTION = "minor_protection", _("Minor rescue and protection centre")
        HOSPITAL = "hospital", _("Hospital or mental-health clinic")
        MENTAL_HEALTH_WELFARE = "mental_health_welfare", _("Mental-health welfare institution")
        SOCIAL_PSYCH_SERVICE = "social_psych_service", _("Social-psychology service")
        CHILDRENS_HOME = "childrens_home", _("Children's home")
        YOUTH_PALACE = "youth_palace", _("Youth palace")
        SOCIAL_WORK_STATION = "social_work_station", _("Social-work station")
        PARENT_SCHOOL = "parent_school", _("Parent school")
        FAMILY_EDUCATION_STATION = (
            "family_education_station",
            _("Family-education guidance station"),
        )
        MINOR_PROTECTION_WORKSTATION = (
            "minor_protection_workstation",
            _("Minor protection workstation"),
        )

    class Service(models.TextChoices):
        COUNSELLING_ROOM = "counselling_room", _("Counselling room")
        HOTLINE = "hotline", _("Psychological hotline")
        PSYCHIATRIC_CLINIC = "psychiatric_clinic", _("Psychiatric clinic")
        PSYCHOTHERAPY = "psychotherapy", _("Psychotherapy")
        PSYCHOLOGICAL_COUNSELLING = "psychological_counselling", _("Psychological counselling")
        INPATIENT = "inpatient", _("Inpatient treatment")
        GROUP_ACTIVITY_ROOM = "group_activity_room", _("Group activity room")
        SOCIAL_WORK = "social_work", _("Social work")
        PARENT_EDUCATION = "parent_education", _("Parent education")
        RESIDENTIAL_CARE = "residential_care", _("Residential care")

    # Kinds whose children live there (residence scope) and kinds that enrol children.
    RESIDENTIAL_KINDS = frozenset({Kind.CHILD_WELFARE, Kind.MINOR_PROTECTION})
    ENROLLING_KINDS = frozenset({Kind.SCHOOL})

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    # Looked up through institution_unique_name, which begins with it.
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="institutions",
        db_index=False,
    )
    supervising_agency = models.ForeignKey(
        Agency,
        verbose_name=_("supervising agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="institutions",
    )
    services = ArrayField(
        models.CharField(max_length=40, choices=Service.choices),
        verbose_name=_("services offered"),
        default=list,
        blank=True,
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["region_id", "name"]
        indexes = [
            GinIndex(fields=["services"], name="institution_services"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="institution_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet["Membership"]):
    def in_force(self) -> MembershipQuerySet:
        """The memberships that give something now: active and approved (the database keeps
        `is_active` false for anything not approved; both are asked for, as the index is)."""
        return self.filter(is_active=True, approval_status=Membership.Approval.APPROVED)


class Membership(models.Model):
    """A user's role in one agency or institution, with the region codes they cover.

    A membership made in the admin site waits for a security administrator's approval
    (separated administrators, 三员分立): until then it is not active and gives nothing. Every
    query that counts memberships filters on `is_active`, which the database keeps false for
    anything not approved (membership_in_force_is_approved).
    """

    class Approval(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    # Looked up through membership_user_active, which begins with it.
    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="memberships",
        db_index=False,
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    jurisdiction = ArrayField(
        models.CharField(max_length=12, validators=[validate_region_code]),
        verbose_name=_("jurisdiction"),
        default=list,
        blank=True,
        help_text=_("Region codes this member is responsible for; each covers its whole subtree."),
    )
    # Active means in force: approved and not ended. Nothing is in force until approved.
    is_active = models.BooleanField(_("active"), default=False)
    started_on = models.DateField(_("started on"), auto_now_add=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    approval_status = models.CharField(
        _("approval"), max_length=16, choices=Approval.choices, default=Approval.PENDING
    )
    requested_by = models.ForeignKey(
        User,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("approved or refused by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("approved or refused at"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["user_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(agency__isnull=False, institution__isnull=True)
                    | models.Q(agency__isnull=True, institution__isnull=False)
                ),
                name="membership_one_organisation",
            ),
            models.UniqueConstraint(
                fields=["user", "agency", "institution", "role"],
                condition=models.Q(is_active=True),
                nulls_distinct=False,
                name="membership_unique_active_role",
            ),
            models.UniqueConstraint(
                fields=["user", "agency", "institution", "role"],
                condition=models.Q(approval_status="pending"),
                nulls_distinct=False,
                name="membership_unique_pending_role",
            ),
            models.CheckConstraint(
                condition=models.Q(is_active=False) | models.Q(approval_status="approved"),
                name="membership_in_force_is_approved",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "is_active"], name="membership_user_active"),
            # The scheduler finds a region's holders of a role by `jurisdiction @> ARRAY[code]`.
            GinIndex(fields=["jurisdiction"], name="membership_jurisdiction"),
        ]
        permissions = [
            ("approve_membership", _("Can approve or refuse a membership")),
            ("view_dashboard", _("Can see the dashboards of their jurisdiction")),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"

    @property
    def organisation(self) -> Agency | Institution:
        # membership_one_organisation guarantees exactly one of the two is set.
        return self.agency or self.institution  # type: ignore[return-value]


class Training(models.Model):
    """A staff training held (能力建设): topic, date, hours and organiser."""

    topic = models.CharField(_("topic"), max_length=200)
    held_on = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    organiser = models.CharField(_("organiser"), max_length=200)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trainings",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="trainings"
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=0, hours__lte=200), name="training_hours_range"
            )
        ]
        permissions = [("view_training_report", _("Can see staff training hours"))]

    def __str__(self) -> str:
        return f"{self.topic} ({self.held_on})"


class TrainingAttendance(models.Model):
    """A staff member who attended a training."""

    # Looked up through training_attendance_once, which begins with it.
    training = models.ForeignKey(
        Training, on_delete=models.PROTECT, related_name="attendance", db_index=False
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="trainings")

    class Meta:
        verbose_name = _("training attendance")
        verbose_name_plural = _("training attendance")
        constraints = [
            models.UniqueConstraint(fields=["training", "user"], name="training_attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.training_id} {self.user_id}"


class RegionHolder(models.Model):
    """Read-only: every active holder of each role for each region code (a row per region code
    of each active membership's jurisdiction), from the materialized view of institutions
    migrations 0006 and 0007, refreshed by `institutions.services.region_holders_refresh`. The
    earliest holder of a (code, role) is one B-tree look-up on (code, role, membership_id),
    where the memberships' jurisdiction arrays need an index search."""

    # Not unique alone (a membership has a row per code); Django only reads this view.
    membership_id = models.BigIntegerField(primary_key=True)
    code = models.CharField(max_length=12)
    role = models.CharField(max_length=32)
    user_id = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "institutions_region_holder"

    def __str__(self) -> str:
        return f"{self.code} {self.role}: {self.user_id}"
