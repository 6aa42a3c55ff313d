"""Records about a child's file: hand-overs between regions, access requests, imports, grants."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.child import Child
from institutions.models import Institution, Region
from institutions.roles import Level


class Handover(models.Model):
    """A child moving to another region (转移接续): where from, where to, who, when and why."""

    # Looked up through handover_child_time, which begins with it.
    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="handovers",
        db_index=False,
    )
    from_region = models.ForeignKey(
        Region, verbose_name=_("from region"), on_delete=models.PROTECT, related_name="+"
    )
    to_region = models.ForeignKey(
        Region, verbose_name=_("to region"), on_delete=models.PROTECT, related_name="+"
    )
    from_school = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_school = models.ForeignKey(
        Institution,
        verbose_name=_("new school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    from_institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_institution = models.ForeignKey(
        Institution,
        verbose_name=_("new residential institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300)
    # The file's version just before the move: the sending side's view is that snapshot.
    child_version = models.PositiveIntegerField(_("file version at hand-over"))
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), auto_now_add=True)
    # The file as it was at the hand-over, frozen: what the sending side keeps seeing.
    snapshot = models.JSONField(_("file at hand-over"), default=dict, blank=True)

    class Meta:
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["child", "-at"], name="handover_child_time")]

    def __str__(self) -> str:
        return f"{self.child_id}: {self.from_region_id} → {self.to_region_id}"


class AccessRequest(models.Model):
    """A request, from outside a child's scope, to the owning region for access to the file."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="access_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="access_requests",
    )
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "requested_by"],
                condition=models.Q(status="pending"),
                name="access_request_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.requested_by_id} → {self.child_id} ({self.status})"


class ChildImport(models.Model):
    """An uploaded file of children, checked whole and imported by a background job."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CHECKING = "checking", _("Checking")
        REJECTED = "rejected", _("Rejected: the file has errors")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    filename = models.CharField(_("file name"), max_length=200)
    content = models.BinaryField(_("content"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("children created"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    # When a run took the job (a run past the job's time limit died: core.jobs, the page).
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class EmergencyAccess(models.Model):
    """Break the glass (紧急访问): a user opens a file outside their scope in an emergency,
    for a few hours, with a stated reason that the supervisor reviews."""

    # Looked up through emergency_access_live, which begins with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="emergency_accesses",
        db_index=False,
    )
    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="emergency_accesses"
    )

    class Reason(models.TextChoices):
        DANGER = "danger", _("The child is in immediate danger")
        MEDICAL = "medical", _("A medical emergency")
        MISSING = "missing", _("The child is missing or has run away")
        SELF_HARM = "self_harm", _("Risk of self-harm or suicide")
        ABUSE = "abuse", _("Suspected abuse or violence")
        OTHER = "other", _("Another emergency")

    reason_code = models.CharField(
        _("kind of emergency"), max_length=16, choices=Reason.choices, default=Reason.OTHER
    )
    reason = models.TextField(_("reason"))
    # The duplicate-search token it was opened with: a token opens the glass once.
    token_nonce = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    expires_at = models.DateTimeField(_("access until"))
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

    class Meta:
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "expires_at"], name="emergency_access_live")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reviewed_at__isnull=True) | ~models.Q(review_note=""),
                name="emergency_review_needs_note",
            )
        ]
        permissions = [("review_emergency_access", _("Can review emergency access"))]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.child_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class ChildAccessGrant(models.Model):
    """One user's tie to one child outside their region, school or residence scope.

    Each grant names its source (a care-team place, a referral, an approved access request, a
    one-off share) so that ending one source ends only its own grants, and may carry an expiry.
    """

    class Source(models.TextChoices):
        CARE_TEAM = "care_team", _("Care team")
        REFERRAL = "referral", _("Referral")
        ACCESS_REQUEST = "access_request", _("Approved access request")
        SHARE = "share", _("One-off share")

    child = models.ForeignKey(
        Child, verbose_name=_("child"), on_delete=models.PROTECT, related_name="access_grants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="child_grants",
    )
    level = models.PositiveSmallIntegerField(
        _("level"),
        choices=[(Level.READ, Level.READ.label), (Level.CONTRIBUTE, Level.CONTRIBUTE.label)],
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    source_id = models.BigIntegerField(_("source record"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("granted"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        indexes = [
            models.Index(
                fields=["user", "child"],
                condition=models.Q(ended_at__isnull=True),
                name="grant_live_user_child",
            ),
            models.Index(fields=["source", "source_id"], name="grant_source"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "user", "source", "source_id"],
                condition=models.Q(ended_at__isnull=True),
                nulls_distinct=False,
                name="grant_one_live_per_source",
            ),
            models.CheckConstraint(condition=models.Q(level__in=[1, 2]), name="grant_level_range"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.child_id} ({self.source}, level {self.level})"
