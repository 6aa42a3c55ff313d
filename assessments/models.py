"""Instruments (versioned questionnaires), assessments, screening sessions, alerts and the
reassessment policy."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments.scoring import Definition, text_in
from cases.models import Child, Guardian, IntervalRule, RiskLevel
from institutions.models import Institution


class Instrument(models.Model):
    """One version of a scored questionnaire. A version with results is never edited."""

    class Respondent(models.TextChoices):
        """Who answers the questions: the child about themself, or an adult about the child."""

        CHILD = "child", _("The child (self-report)")
        GUARDIAN = "guardian", _("A guardian")
        TEACHER = "teacher", _("A teacher")
        GUARDIAN_OR_TEACHER = "guardian_or_teacher", _("A guardian or a teacher")

    code = models.CharField(_("code"), max_length=32)
    version = models.PositiveIntegerField(_("version"), default=1)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    source = models.TextField(
        _("source"), help_text=_("The published source of items and scoring.")
    )
    licence_note = models.TextField(_("licence note"))
    min_age = models.PositiveSmallIntegerField(_("youngest age"))
    max_age = models.PositiveSmallIntegerField(_("oldest age"))
    respondent = models.CharField(
        _("answered by"), max_length=24, choices=Respondent.choices, default=Respondent.CHILD
    )
    languages = ArrayField(
        models.CharField(max_length=10), verbose_name=_("languages"), default=list
    )
    definition = models.JSONField(_("items, options, scoring and bands"))
    is_builtin = models.BooleanField(_("built in"), default=False)
    is_active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_code_version"),
            models.CheckConstraint(
                condition=models.Q(min_age__lte=models.F("max_age")), name="instrument_age_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def name(self) -> str:
        return text_in({"zh-hans": self.name_zh, "en": self.name_en})

    @property
    def parsed(self) -> Definition:
        return Definition(self.definition)

    def fits_age(self, age: int) -> bool:
        return self.min_age <= age <= self.max_age


class ScreeningSession(models.Model):
    """A class or an institution's residents screened together with one instrument."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=200)
    instrument = models.ForeignKey(
        Instrument, verbose_name=_("instrument"), on_delete=models.PROTECT, related_name="+"
    )
    school = models.ForeignKey(
        Institution,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)
    class_name = models.CharField(_("class"), max_length=32, blank=True)
    institution = models.ForeignKey(
        Institution,
        verbose_name=_("residential institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    administered_on = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("screening session")
        verbose_name_plural = _("screening sessions")
        ordering = ["-administered_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(school__isnull=False, institution__isnull=True)
                    | models.Q(school__isnull=True, institution__isnull=False)
                ),
                name="screening_school_or_institution",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Assessment(models.Model):
    """One completed instrument for a child. Immutable: a correction is a new amending row."""

    class Setting(models.TextChoices):
        SCHOOL_SCREENING = "school_screening", _("School screening")
        INSTITUTION_PERIODIC = "institution_periodic", _("Institution periodic assessment")
        HOME_VISIT = "home_visit", _("Home visit")
        CLINIC = "clinic", _("Clinic")
        OTHER = "other", _("Other")

    # Looked up through assessment_child_latest, which begins with it.
    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="assessments",
        db_index=False,
    )
    instrument = models.ForeignKey(
        Instrument, verbose_name=_("instrument"), on_delete=models.PROTECT, related_name="results"
    )
    answers = models.JSONField(_("answers"))
    scores = models.JSONField(_("scores"))
    total = models.IntegerField(_("total score"))
    band_label = models.JSONField(_("band"), default=dict)
    risk_level = models.PositiveSmallIntegerField(_("risk level"), choices=RiskLevel.choices)
    critical_items = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    valid = models.BooleanField(_("valid answers"), default=True)
    setting = models.CharField(_("setting"), max_length=24, choices=Setting.choices)
    session = models.ForeignKey(
        ScreeningSession, null=True, blank=True, on_delete=models.PROTECT, related_name="results"
    )
    administered_on = models.DateField(_("date"))
    administered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("administered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    amends = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="amendments",
    )
    amendment_reason = models.CharField(_("reason for the correction"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-administered_on", "-id"]
        indexes = [
            models.Index(
                fields=["child", "instrument", "-administered_on"], name="assessment_child_latest"
            ),
            models.Index(fields=["session"], name="assessment_session"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amends__isnull=True) | ~models.Q(amendment_reason=""),
                name="assessment_amendment_reason",
            ),
            models.UniqueConstraint(
                fields=["session", "child"],
                condition=models.Q(session__isnull=False, amends__isnull=True),
                name="assessment_once_per_session",
            ),
            # A result is corrected once; a later correction corrects the correction.
            models.UniqueConstraint(
                fields=["amends"],
                condition=models.Q(amends__isnull=False),
                name="assessment_amended_once",
            ),
        ]
        permissions = [("view_item_answers", _("Can see item-level answers"))]

    def __str__(self) -> str:
        return f"{self.child_id} {self.instrument} {self.administered_on}"

    @property
    def band_text(self) -> str:
        return text_in(self.band_label) if self.band_label else ""


class ScreeningAbsence(models.Model):
    """A child of a session's roster who was not screened, and why."""

    # Looked up through absence_once_per_session, which begins with it.
    session = models.ForeignKey(
        ScreeningSession, on_delete=models.PROTECT, related_name="absences", db_index=False
    )
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        constraints = [
            models.UniqueConstraint(fields=["session", "child"], name="absence_once_per_session")
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.child_id}"


class Alert(models.Model):
    """A cause for concern about a child (a critical answer, a severe result) that stays open,
    and keeps the child's risk, until a responsible person closes it with a note and an outcome.
    One open alert per child and cause: later results with the same cause attach to it."""

    class Reason(models.TextChoices):
        CRITICAL_ANSWER = "critical_answer", _("Critical answer")
        SEVERE_RESULT = "severe_result", _("Severe result")
        FLAGGED_VISIT = "flagged_visit", _("Flagged visit")

    class Outcome(models.TextChoices):
        REFERRED = "referred", _("Referred")
        CARE_PLAN_STARTED = "care_plan_started", _("Care plan started")
        GUARDIAN_INFORMED = "guardian_informed", _("Guardian informed")
        FALSE_POSITIVE = "false_positive", _("False positive")
        # Set by the system, never chosen by a person:
        RESULT_CORRECTED = "result_corrected", _("Result corrected")
        MERGED = "merged", _("Merged into the open alert of the same cause")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged (before outcomes were recorded)")

    # Looked up through alert_child, which begins with it.
    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="alerts",
        db_index=False,
    )
    assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    results = models.ManyToManyField(
        Assessment, verbose_name=_("results"), blank=True, related_name="attached_alerts"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    risk_level = models.PositiveSmallIntegerField(_("risk level"), choices=RiskLevel.choices)
    created_at = models.DateTimeField(_("raised"), auto_now_add=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["child", "-created_at"], name="alert_child"),
            models.Index(
                fields=["created_at"],
                name="alert_open",
                condition=models.Q(acknowledged_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(acknowledged_at__isnull=True) | ~models.Q(note=""),
                name="alert_ack_needs_note",
            ),
            models.CheckConstraint(
                condition=models.Q(acknowledged_at__isnull=True) | ~models.Q(outcome=""),
                name="alert_close_needs_outcome",
            ),
            models.UniqueConstraint(
                fields=["child", "reason"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="alert_one_open_per_cause",
            ),
        ]
        permissions = [("acknowledge_alert", _("Can acknowledge alerts"))]

    def __str__(self) -> str:
        return f"{self.child_id} {self.reason} {self.created_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class GuardianInformed(models.Model):
    """That a guardian was told about an alert (与监护人沟通, guidance item 2): who told which
    guardian, when, and a short note. A step on the alert that leaves it open."""

    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        on_delete=models.PROTECT,
        related_name="guardians_informed",
    )
    guardian = models.ForeignKey(
        Guardian, verbose_name=_("guardian"), on_delete=models.PROTECT, related_name="+"
    )
    informed_at = models.DateTimeField(_("informed at"))
    note = models.CharField(_("note"), max_length=500)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("informed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("guardian informed")
        verbose_name_plural = _("guardians informed")
        ordering = ["informed_at", "id"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.guardian_id} {self.informed_at:%Y-%m-%d %H:%M}"


class ReassessmentPolicy(IntervalRule):
    """How often a child is reassessed; the shortest interval among matching rows applies."""

    class Setting(models.TextChoices):
        ANY = "any", _("Any child")
        INSTITUTION = "institution", _("Residents of institutions")
        SCHOOL = "school", _("Pupils")

    setting = models.CharField(
        _("applies to"), max_length=16, choices=Setting.choices, default=Setting.ANY
    )

    class Meta:
        verbose_name = _("reassessment policy")
        verbose_name_plural = _("reassessment policy")
        ordering = ["interval_days"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval_days__gte=1), name="policy_interval_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_setting_display()} / {self.interval_days}"
