"""Visits of every kind and psycho-education activities with attendance."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Visit(models.Model):
    """A home visit, talk, phone call, questionnaire, school visit or follow-up visit."""

    class Kind(models.TextChoices):
        HOME_VISIT = "home_visit", _("Home visit")
        TALK = "talk", _("Heart-to-heart talk")
        PHONE_CALL = "phone_call", _("Phone call")
        QUESTIONNAIRE = "questionnaire", _("Questionnaire")
        SCHOOL_VISIT = "school_visit", _("School visit")
        FOLLOWUP_VISIT = "followup_visit", _("Post-treatment follow-up visit")

    class Present(models.TextChoices):
        CHILD = "child", _("Child")
        GUARDIAN = "guardian", _("Guardian")
        TEACHER = "teacher", _("Teacher")
        OTHER = "other", _("Other")

    class Concern(models.TextChoices):
        ACADEMIC_PRESSURE = "academic_pressure", _("Academic pressure")
        ECONOMIC_HARDSHIP = "economic_hardship", _("Economic hardship")
        FAMILY_CHANGE = "family_change", _("Family change")
        RIGHTS_VIOLATED = "rights_violated", _("Rights violated")
        WITHDRAWAL = "withdrawal", _("Withdrawal")
        SELF_HARM_TALK = "self_harm_talk", _("Talk of self-harm")
        CONFLICT_AT_HOME = "conflict_at_home", _("Conflict at home")
        ABNORMAL_BEHAVIOUR = "abnormal_behaviour", _("Abnormal behaviour")

    # A visit with one of these concerns is flagged: risk raised, supervisor told.
    SERIOUS_CONCERNS = frozenset(
        {Concern.SELF_HARM_TALK, Concern.RIGHTS_VIOLATED, Concern.ABNORMAL_BEHAVIOUR}
    )

    class Mood(models.TextChoices):
        GOOD = "good", _("Good")
        CALM = "calm", _("Calm")
        LOW = "low", pgettext_lazy("mood", "Low")
        ANXIOUS = "anxious", _("Anxious")
        ANGRY = "angry", _("Angry")
        DISTRESSED = "distressed", _("Distressed")

    class NextStep(models.TextChoices):
        ROUTINE = "routine", _("Routine: visit again as planned")
        VISIT_SOON = "visit_soon", _("Visit again soon")
        INFORM_SCHOOL = "inform_school", _("Tell the school")
        CARE_PLAN = "care_plan", _("Review the care plan")
        REFER = "refer", _("Refer for assessment or treatment")
        REPORT = "report", _("Report to the supervisor")

    child = models.ForeignKey(
        "cases.Child", verbose_name=_("child"), on_delete=models.PROTECT, related_name="visits"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.HOME_VISIT)
    visited_on = models.DateField(_("date"))
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visited by"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    present = ArrayField(
        models.CharField(max_length=16, choices=Present.choices),
        verbose_name=_("present"),
        default=list,
        blank=True,
    )
    concerns = ArrayField(
        models.CharField(max_length=24, choices=Concern.choices),
        verbose_name=_("concerns"),
        default=list,
        blank=True,
    )
    mood = models.CharField(
        _("observed mood"), max_length=16, choices=Mood.choices, default=Mood.CALM
    )
    guardian_informed = models.BooleanField(_("guardian informed"), default=False)
    guardian_informed_note = models.CharField(
        _("what the guardian was told"), max_length=300, blank=True
    )
    next_step = models.CharField(
        _("next step"), max_length=16, choices=NextStep.choices, default=NextStep.ROUTINE
    )
    note = models.TextField(_("note"), blank=True)
    note_confidential = models.BooleanField(_("the note is confidential"), default=False)
    flagged = models.BooleanField(_("flagged"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]
        indexes = [
            models.Index(fields=["child", "-visited_on"], name="visit_child_latest"),
            models.Index(
                fields=["created_at"],
                name="visit_flagged_open",
                condition=models.Q(flagged=True, reviewed_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reviewed_at__isnull=True) | ~models.Q(review_note=""),
                name="visit_review_needs_note",
            )
        ]
        permissions = [("review_visit", _("Can review flagged visits"))]

    def __str__(self) -> str:
        return f"{self.child_id} {self.kind} {self.visited_on}"


class Activity(models.Model):
    """A psycho-education activity (心理健康教育) for children and guardians, with attendance."""

    class Kind(models.TextChoices):
        CLASS_MEETING = "class_meeting", _("Themed class meeting")
        GUARDIAN_TRAINING = "guardian_training", _("Guardian training")
        PARENT_SCHOOL = "parent_school", _("Parent school session")
        HOME_GUIDANCE = "home_guidance", _("Home guidance")
        PEER_SUPPORT = "peer_support", _("Peer-support activity")
        OTHER = "other", _("Other activity")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    topic = models.CharField(_("topic"), max_length=200)
    held_on = models.DateField(_("date"))
    venue = models.ForeignKey(
        "institutions.Institution",
        verbose_name=_("venue"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    venue_text = models.CharField(
        _("place (if not a registered venue)"), max_length=200, blank=True
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organiser"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        "institutions.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        "institutions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    guardians_attending = models.PositiveIntegerField(_("guardians attending"), default=0)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.topic} ({self.held_on})"


class ActivityAttendance(models.Model):
    """A child (or a named guardian of a child) who attended an activity."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="attendance")
    child = models.ForeignKey(
        "cases.Child", on_delete=models.PROTECT, related_name="activity_attendance"
    )
    guardian_attended = models.BooleanField(_("a guardian attended"), default=False)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["activity", "child"], name="attendance_once")
        ]
        indexes = [models.Index(fields=["child"], name="attendance_child")]

    def __str__(self) -> str:
        return f"{self.activity_id} {self.child_id}"
