"""The people around a child (care team, peer partners) and the child's care plan."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.child import Child


@pghistory.track(append_only=True)
class CareTeamMember(models.Model):
    """A named person around a child; staff members get access to the child while they serve."""

    class TeamRole(models.TextChoices):
        CHILD_DIRECTOR = "child_director", _("Child director")
        MENTOR = "mentor", _("Mentor teacher")
        COUNSELLOR = "counsellor", _("Mental-health teacher")
        SOCIAL_WORKER = "social_worker", _("Social worker")
        VOLUNTEER = "volunteer", _("Volunteer")
        PEER_PARTNER = "peer_partner", _("Peer partner")

    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="care_team"
    )
    team_role = models.CharField(_("role in the team"), max_length=20, choices=TeamRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="care_teams",
    )
    # Peer partners (互助伙伴) are other children: only a name is kept.
    peer_name = models.CharField(_("peer partner's name"), max_length=64, blank=True)
    is_active = models.BooleanField(_("current"), default=True)
    started_on = models.DateField(_("since"), auto_now_add=True)
    ended_on = models.DateField(_("until"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("care team member")
        verbose_name_plural = _("care team members")
        ordering = ["team_role", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(team_role="peer_partner", user__isnull=True) & ~models.Q(peer_name="")
                )
                | (~models.Q(team_role="peer_partner") & models.Q(user__isnull=False)),
                name="care_team_staff_or_peer",
            ),
            models.UniqueConstraint(
                fields=["child", "team_role", "user"],
                condition=models.Q(is_active=True, user__isnull=False),
                name="care_team_unique_active_member",
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.peer_name
        return f"{who} ({self.get_team_role_display()})"


@pghistory.track(append_only=True)
class CarePlan(models.Model):
    """An individual psychological care plan (心理关爱方案) with an owner and a review date."""

    class Classification(models.TextChoices):
        GENERAL = "general", _("General care")
        FOCUSED = "focused", _("Focused attention")
        INTENSIVE = "intensive", _("Intensive intervention")

    class Intervention(models.TextChoices):
        COUNSELLING = "counselling", _("Counselling")
        EMOTIONAL_GUIDANCE = "emotional_guidance", _("Emotional guidance")
        COMFORT = "comfort", _("Psychological comfort")
        PEER_SUPPORT = "peer_support", _("Peer support")
        FAMILY_GUIDANCE = "family_guidance", _("Family guidance")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        DISCONTINUED = "discontinued", _("Discontinued")

    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="care_plans"
    )
    classification = models.CharField(
        _("classification"), max_length=16, choices=Classification.choices
    )
    goals = models.TextField(_("goals"))
    interventions = ArrayField(
        models.CharField(max_length=24, choices=Intervention.choices),
        verbose_name=_("interventions"),
    )
    other_intervention = models.CharField(_("other intervention"), max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_care_plans",
    )
    start_date = models.DateField(_("start date"))
    review_date = models.DateField(_("review date"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(review_date__gte=models.F("start_date")),
                name="care_plan_review_after_start",
            ),
            models.UniqueConstraint(
                fields=["child"],
                condition=models.Q(status="active"),
                name="care_plan_one_active",
            ),
        ]
        indexes = [models.Index(fields=["status", "review_date"], name="care_plan_review_due")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.get_classification_display()} ({self.status})"

    @property
    def intervention_labels(self) -> list[str]:
        labels = dict(self.Intervention.choices)
        return [str(labels.get(i, i)) for i in self.interventions]


class CarePlanReview(models.Model):
    """A dated review of a care plan: what happened and when to look again."""

    plan = models.ForeignKey(
        CarePlan, verbose_name=_("care plan"), on_delete=models.PROTECT, related_name="reviews"
    )
    reviewed_on = models.DateField(_("review date"))
    note = models.TextField(_("what was found"))
    next_review_date = models.DateField(_("next review"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("care plan review")
        verbose_name_plural = _("care plan reviews")
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.reviewed_on}"
