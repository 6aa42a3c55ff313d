"""The child: the personal file (个人档案) every agency shares, and explicit grants on it."""

from __future__ import annotations

from datetime import date

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.models import Institution, Region


class RiskLevel(models.IntegerChoices):
    """Derived from assessments and flagged visits; ordered so that higher is worse."""

    NONE = 0, _("None")
    LOW = 1, _("Low")
    MODERATE = 2, _("Moderate")
    HIGH = 3, _("High")
    CRISIS = 4, _("Crisis")


class Category(models.TextChoices):
    """Policy categories of children in difficult circumstances; a child may have several."""

    FAMILY_POVERTY = "family_poverty", _("Family poverty")
    DISABILITY = "disability", _("Disability")
    GUARDIANSHIP = "guardianship", _("Lacking or improper guardianship")
    ORPHAN = "orphan", _("Orphan")
    DE_FACTO_UNSUPPORTED = "de_facto_unsupported", _("De-facto unsupported child")
    RURAL_LEFT_BEHIND = "rural_left_behind", _("Rural left-behind child")
    MIGRANT = "migrant", _("Migrant child")
    OTHER = "other", _("Other")


def name_grams(name: models.Expression | models.F) -> models.Func:
    """The distinct characters and pairs of adjacent characters of a name, upper-cased: the
    SQL function `child_name_grams` (cases migration 0009), indexed with GIN for name search.

    Not pg_trgm: a two-character name (王芳) holds no whole trigram, and pg_trgm takes no
    trigrams at all from Chinese characters in a database whose LC_CTYPE is C.
    """
    return models.Func(
        name, function="child_name_grams", output_field=ArrayField(models.TextField())
    )


def name_search_grams(text: str) -> models.Func:
    """What a name containing `text` must hold among its `name_grams`: the pairs of adjacent
    characters of `text`, or its one character (SQL function `child_name_query_grams`)."""
    return models.Func(
        models.Value(text),
        function="child_name_query_grams",
        output_field=ArrayField(models.TextField()),
    )


def age_on(birth_date: date, day: date) -> int:
    """Completed years on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@pghistory.track(
    exclude=["updated_at", "national_id_encrypted"],
    append_only=True,
    meta={"verbose_name": _("child change"), "verbose_name_plural": _("child changes")},
)
class Child(models.Model):
    """A child in difficult circumstances: the personal file every agency shares."""

    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        MOVED = "moved", _("Moved away")
        CLOSED = "closed", _("Closed")

    record_number = models.CharField(_("record number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    # Lower-case toneless pinyin without spaces: 張偉, 张伟 and "Zhang Wei" all give "zhangwei".
    name_pinyin = models.CharField(_("name in pinyin"), max_length=200, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    # The national ID is never stored in clear: a keyed hash for matching, an encrypted copy for
    # the roles allowed to see it, and a masked copy for everyone else.
    national_id_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    national_id_encrypted = models.TextField(blank=True)
    national_id_masked = models.CharField(_("national ID"), max_length=18, blank=True)
    residence_region = models.ForeignKey(
        Region, verbose_name=_("current residence"), on_delete=models.PROTECT, related_name="+"
    )
    household_region = models.ForeignKey(
        Region,
        verbose_name=_("household registration"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    categories = ArrayField(
        models.CharField(max_length=32, choices=Category.choices),
        verbose_name=_("categories"),
        default=list,
        blank=True,
    )
    school = models.ForeignKey(
        Institution,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pupils",
    )
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)
    class_name = models.CharField(_("class"), max_length=32, blank=True)
    residential_institution = models.ForeignKey(
        Institution,
        verbose_name=_("residential institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(_("reason for the status"), max_length=300, blank=True)
    # When the file was last closed; the retention clock (RETENTION_YEARS_AFTER_CLOSE) runs
    # from here, and a reopened file stops it.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # When names, contacts and free text were removed from the file and its history
    # (cases.retention); such a file stays closed.
    deidentified_at = models.DateTimeField(_("de-identified"), null=True, blank=True)
    risk_level = models.PositiveSmallIntegerField(
        _("risk level"), choices=RiskLevel.choices, default=RiskLevel.NONE
    )
    risk_updated_at = models.DateTimeField(_("risk level updated"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    notes_confidential = models.BooleanField(_("notes are confidential"), default=False)
    # Optimistic locking: an edit names the version it started from (STYLE.md, concurrency).
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        ordering = ["name", "id"]
        # Scope is a region-code prefix on either region (DESIGN.md §8): Django gives each of
        # these varchar foreign keys a varchar_pattern_ops ("_like") index, which LIKE 'code%' uses.
        indexes = [
            GinIndex(fields=["categories"], name="child_categories"),
            # (By risk alone: child_list_order below, which begins with it.)
            models.Index(fields=["status"], name="child_status"),
            # The retention job's candidates: closed files not yet de-identified.
            models.Index(
                fields=["closed_at"],
                condition=models.Q(status="closed", deidentified_at__isnull=True),
                name="child_retention_due",
            ),
            models.Index(fields=["birth_date"], name="child_birth_date"),
            # Search (cases.selectors.children.search_q): characters anywhere in the name, and
            # the record number case-insensitively; the pinyin prefix uses name_pinyin's
            # varchar_pattern_ops ("_like") index that db_index gives it.
            GinIndex(name_grams(models.F("name")), name="child_name_grams"),
            models.Index(Upper("record_number"), name="child_record_number_upper"),
            # The children list's order, carrying the scope's columns: a page of any depth is
            # an index-only walk that filters on the scope in the index itself
            # (core.pagination.CappedPaginator reads a page's ids first, then its rows).
            models.Index(
                fields=["-risk_level", "name_pinyin", "id"],
                include=[
                    "residence_region",
                    "household_region",
                    "school",
                    "residential_institution",
                ],
                name="child_list_order",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__isnull=True) | models.Q(grade__gte=1, grade__lte=12),
                name="child_grade_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(status_reason=""),
                name="child_closed_needs_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(deidentified_at__isnull=True) | models.Q(status="closed"),
                name="child_deidentified_stays_closed",
            ),
        ]
        permissions = [
            ("view_child_identity", _("Can see a child's national ID unmasked")),
            ("view_confidential_notes", _("Can read notes marked confidential")),
            ("export_child", _("Can export children's records")),
            ("handover_child", _("Can hand a child over to another region")),
            ("import_children", _("Can import children from a file")),
            ("manage_care", _("Can manage care teams and care plans")),
            ("record_consent", _("Can record guardians and consent")),
            ("view_contact_details", _("Can see guardians' phone numbers unmasked")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.record_number})"

    def age(self, on: date | None = None) -> int:

        return age_on(self.birth_date, on or timezone.localdate())

    @property
    def category_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(c, c)) for c in self.categories]

    @property
    def is_high_risk(self) -> bool:
        return self.risk_level >= RiskLevel.HIGH


class IntervalRule(models.Model):
    """A row of an interval policy (how often a child is reassessed, visited): it applies to
    children of a risk level and a category (empty: any), and the shortest interval among the
    rows in force that match a child applies to that child."""

    risk_level = models.PositiveSmallIntegerField(
        _("risk level"),
        choices=RiskLevel.choices,
        null=True,
        blank=True,
        help_text=_("Empty: any risk level."),
    )
    category = models.CharField(
        _("category"),
        max_length=32,
        choices=Category.choices,
        blank=True,
        help_text=_("Empty: any category."),
    )
    interval_days = models.PositiveIntegerField(_("interval in days"))
    is_active = models.BooleanField(_("in force"), default=True)

    class Meta:
        abstract = True
