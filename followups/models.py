"""Visits of every kind and psycho-education activities with attendance."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.models import IntervalRule


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

    # Looked up through visit_child_latest, which begins with it.
    child = models.ForeignKey(
        "cases.Child",
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="visits",
        db_index=False,
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

    # Looked up through attendance_once, which begins with it.
    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="attendance", db_index=False
    )
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


# --- Policy tables (administrators edit them in the admin site; DESIGN.md §6) -------------------


class VisitPolicy(IntervalRule):
    """How often a child is visited at home: the shortest interval among the rows that match
    the child's risk level and categories applies."""

    class Meta:
        verbose_name = _("home-visit policy")
        verbose_name_plural = _("home-visit policy")
        ordering = ["interval_days", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval_days__gte=1), name="visit_policy_interval_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.risk_level} / {self.category or '*'} / {self.interval_days}"


class FollowupSchedule(models.Model):
    """A named schedule of follow-up visits after treatment, offered when a plan is made: every
    `first_interval_days` for the first `first_period_days`, then every `interval_days`."""

    name = models.CharField(_("name"), max_length=100)
    first_interval_days = models.PositiveIntegerField(_("at first, every (days)"))
    first_period_days = models.PositiveIntegerField(
        _("for the first (days)"), default=0, help_text=_("0: one interval throughout.")
    )
    interval_days = models.PositiveIntegerField(_("then every (days)"))
    duration_weeks = models.PositiveIntegerField(_("plan lasts (weeks)"))
    is_active = models.BooleanField(_("in force"), default=True)

    class Meta:
        verbose_name = _("follow-up schedule")
        verbose_name_plural = _("follow-up schedules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    first_interval_days__gte=1, interval_days__gte=1, duration_weeks__gte=1
                ),
                name="followup_schedule_positive",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TaskPolicy(models.Model):
    """For one kind of task: how far ahead tasks are made, when the assignee is reminded, and
    how long a task may stay overdue before it escalates to the assignee's supervisor."""

    kind = models.CharField(_("kind of task"), max_length=24, unique=True)
    lookahead_days = models.PositiveIntegerField(
        _("made this many days before it is due"), default=14
    )
    remind_days_before = models.PositiveIntegerField(_("remind this many days before"), default=2)
    escalate_after_days = models.PositiveIntegerField(
        _("escalate when overdue for (days)"), default=7
    )

    class Meta:
        verbose_name = _("task policy")
        verbose_name_plural = _("task policy")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(escalate_after_days__gte=1), name="task_policy_escalate_positive"
            )
        ]

    def __str__(self) -> str:
        return self.kind


# --- After treatment: the follow-up plan (结对关爱, 定期随访) -----------------------------------


class FollowupPlan(models.Model):
    """Regular visits to a child back from treatment by named people (the pairing), for a
    period, towards a goal. Visits of kind "post-treatment follow-up" count against it."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    child = models.ForeignKey(
        "cases.Child",
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="followup_plans",
    )
    # The discharge it came from (a model may name a higher floor's model; code may not).
    referral = models.ForeignKey(
        "referrals.Referral",
        verbose_name=_("referral"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followup_plans",
    )
    partners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("paired with"),
        related_name="followup_plans",
        blank=True,
    )
    # The care-team role the partners serve in (the clinic's "who should follow up").
    partner_role = models.CharField(_("paired person's role"), max_length=20)
    first_interval_days = models.PositiveIntegerField(_("at first, every (days)"))
    first_period_days = models.PositiveIntegerField(_("for the first (days)"), default=0)
    interval_days = models.PositiveIntegerField(_("then every (days)"))
    start_on = models.DateField(_("start"))
    end_on = models.DateField(_("end"))
    goal = models.TextField(_("goal"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    end_reason = models.TextField(_("why it ended"), blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up plan")
        verbose_name_plural = _("follow-up plans")
        ordering = ["-start_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_on__gte=models.F("start_on")),
                name="followup_plan_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(first_interval_days__gte=1, interval_days__gte=1),
                name="followup_plan_intervals_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(status="active") | ~models.Q(end_reason=""),
                name="followup_plan_end_needs_reason",
            ),
            models.UniqueConstraint(
                fields=["child"],
                condition=models.Q(status="active"),
                name="followup_plan_one_active",
            ),
        ]
        indexes = [models.Index(fields=["status", "end_on"], name="followup_plan_active")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.start_on}–{self.end_on} ({self.status})"

    def interval_on(self, day: date) -> int:
        """The interval that applies to a visit on `day`."""
        if self.first_period_days and day < self.start_on + timedelta(days=self.first_period_days):
            return self.first_interval_days
        return self.interval_days


# --- Tasks: what is due, for whom, done by the record that fulfils it ----------------------------


class Task(models.Model):
    """One thing due for one child: made by the scheduler from the data, closed by the record
    that fulfils it (never by ticking a box), moved when its due date moves."""

    class Kind(models.TextChoices):
        REASSESSMENT = "reassessment", _("Reassessment due")
        FOLLOWUP_VISIT = "followup_visit", _("Follow-up visit due")
        HOME_VISIT = "home_visit", _("Routine home visit due")
        CARE_PLAN_REVIEW = "care_plan_review", _("Care-plan review due")
        REFERRAL_UNANSWERED = "referral_unanswered", _("Referral unanswered")
        ALERT_UNREVIEWED = "alert_unreviewed", _("Alert not reviewed")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        OVERDUE = "overdue", _("Overdue")
        ESCALATED = "escalated", _("Escalated")
        CANCELLED = "cancelled", _("Cancelled")

    # The statuses of a task still to do.
    PENDING = ("open", "overdue", "escalated")

    # Looked up through task_once, which begins with it.
    child = models.ForeignKey(
        "cases.Child",
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="tasks",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    due_on = models.DateField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    # The record the task is about (a follow-up plan, care plan, referral or alert), by kind.
    source_id = models.BigIntegerField(_("about record"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    reminded_on = models.DateField(_("last reminded"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # What fulfilled it ("visit:12", "assessment:7") or why it was cancelled.
    closed_by_record = models.CharField(_("closed by"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["child", "kind", "due_on"], name="task_once"),
            # At most one task of a kind still to do per child and record: the scheduler moves
            # it rather than making a second.
            models.UniqueConstraint(
                fields=["child", "kind"],
                condition=models.Q(status__in=["open", "overdue", "escalated"]),
                name="task_one_pending",
            ),
        ]
        indexes = [
            models.Index(
                fields=["assignee", "due_on"],
                name="task_worklist",
                condition=models.Q(status__in=["open", "overdue", "escalated"]),
            ),
            models.Index(
                fields=["kind", "child"],
                name="task_pending_kind",
                condition=models.Q(status__in=["open", "overdue", "escalated"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.kind} {self.due_on} ({self.status})"
