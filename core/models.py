"""Ground-floor records that belong to no domain: form submissions, the access log,
notifications and export jobs (every app writes them; none owns them)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class Submission(models.Model):
    """One use of a form's one-time key: a repeated POST with it gets the first result."""

    key = models.UUIDField(_("submission key"))
    # Looked up through submission_once_per_user, which begins with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    path = models.CharField(_("path"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    # Where the first POST led (its redirect); a repeat is sent there too.
    result_url = models.CharField(_("result"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="submission_once_per_user")
        ]
        indexes = [models.Index(fields=["created_at"], name="submission_created")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key} → {self.result_url}"


class AccessEvent(models.Model):
    """One read, export or change of a child's data: append-only, kept for audit.

    A list page adds a row for every child it shows, so the log takes more rows than any other
    table. Its user and child are not foreign keys in the database: each row checked against
    both tables cost two lookups under a share lock (56,000 a minute under the benchmark's
    load). The ids come from the rows the request has just read, neither users nor children are
    ever deleted, and Django still refuses to delete one the log names (PROTECT)."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed file")
        LIST = "list", _("Listed")
        EXPORT = "export", _("Exported")
        CHANGE = "change", _("Changed")
        API_VIEW = "api_view", _("Read through the API")
        EMERGENCY = "emergency", _("Emergency access")
        ADMIN = "admin", _("Administration")
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_OUT = "sign_out", _("Signed out")
        SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
        LOCKED_OUT = "locked_out", _("Locked out")
        TWO_FACTOR = "two_factor", _("Two-factor authentication")
        ARCHIVED = "archived", _("Log archived")
        DEIDENTIFIED = "deidentified", _("De-identified")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # Empty for a failed sign-in as an unknown user name, and for the system's own steps.
    # Looked up through access_user_time, which begins with it. Without a constraint in the
    # database (as the child below): see the class's note.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_events",
        db_index=False,
        db_constraint=False,
    )
    # A row about a child points up to it by name (DESIGN.md §3: models may, code may not).
    # Looked up through access_child_time, which begins with it.
    child = models.ForeignKey(
        "cases.Child",
        verbose_name=_("child"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_events",
        db_index=False,
        db_constraint=False,
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    path = models.CharField(_("path"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        # The table keeps the name it had in `cases`, its first home (the append-only trigger
        # of cases migration 0002 is on it).
        db_table = "cases_accessevent"
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["child", "-at"], name="access_child_time"),
            models.Index(fields=["user", "-at"], name="access_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.child_id}"


class Notification(models.Model):
    """A message to one user in the app, with a link to what it is about."""

    # Looked up through notification_recipient, which begins with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    text = models.CharField(_("text"), max_length=300)
    link = models.CharField(_("link"), max_length=300, blank=True)
    child = models.ForeignKey(
        "cases.Child",
        verbose_name=_("child"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        # The table keeps the name it had in `followups`, its first home.
        db_table = "followups_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.text}"


class NotificationPreference(models.Model):
    """How one user wants to be told: the language messages are written in, and the channels
    besides the app (e-mail, SMS), each message at once or gathered in one daily digest."""

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    by_email = models.BooleanField(_("by e-mail"), default=True)
    by_sms = models.BooleanField(_("by text message (SMS)"), default=False)
    daily_digest = models.BooleanField(
        _("one daily digest instead of a message each time"), default=False
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"


class Delivery(models.Model):
    """One send of a notification (or of a digest of several) on one channel: the log of every
    send with its time and result. A failed send is retried, then shown to administrators."""

    class Channel(models.TextChoices):
        IN_APP = "in_app", _("In the app")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("Text message")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        DIGEST = "digest", _("Waiting for the daily digest")

    # No database constraint: notifications are partitioned by month (core.partitions), and no
    # foreign key can point at a partitioned table's id alone. It cannot dangle: notifications
    # are append-only, never deleted (only their read time changes), and PROTECT still guards
    # a delete through Django.
    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
        db_constraint=False,
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(
        _("result"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    # A digest (no single notification) lists the notifications it carried.
    digest_of = ArrayField(
        models.BigIntegerField(), verbose_name=_("digest of"), default=list, blank=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_pending",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["recipient", "channel"],
                name="delivery_digest",
                condition=models.Q(status="digest"),
            ),
            models.Index(fields=["status", "-created_at"], name="delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.channel} {self.status}"


class ExportJob(models.Model):
    """A large export written by a background job, kept for its requester alone until it
    expires (small exports are written at once and never stored)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being written")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (XLSX)"
        CSV = "csv", "CSV"

    # Looked up through exportjob_requester, which begins with it.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # Which export (core.exports registry) and the list's filters, as the query string had them.
    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    fmt = models.CharField(_("format"), max_length=4, choices=Format.choices)
    deidentified = models.BooleanField(_("without names and ID numbers"), default=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    done = models.PositiveIntegerField(_("rows written"), default=0)
    total = models.PositiveIntegerField(_("rows"), default=0)
    # The file is kept in pieces (ExportChunk) until it expires; its size while it is kept.
    file_size = models.PositiveBigIntegerField(_("file size"), null=True, blank=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    # Where the export was asked for, for the access log the job writes.
    path = models.CharField(_("path"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requester", "-created_at"], name="exportjob_requester"),
            models.Index(
                fields=["expires_at"],
                name="exportjob_stored",
                condition=models.Q(file_size__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.fmt} {self.status} ({self.requester_id})"

    @property
    def progress_percent(self) -> int:
        if not self.total:
            return 0
        return min(100, round(100 * self.done / self.total))


class ExportChunk(models.Model):
    """A piece of an export's file (EXPORT_CHUNK_BYTES): the job writes the file piece by
    piece and the download sends it so, and neither holds a province's file whole. In the
    database, not on a disk of one machine: any web worker can send what any worker wrote."""

    # Looked up through exportchunk_job_seq, which begins with it.
    job = models.ForeignKey(
        ExportJob, on_delete=models.CASCADE, related_name="chunks", db_index=False
    )
    seq = models.PositiveIntegerField(_("piece"))
    data = models.BinaryField(_("data"))

    class Meta:
        verbose_name = _("piece of an export file")
        verbose_name_plural = _("pieces of export files")
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="exportchunk_job_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.seq}"


class OutboxMessage(models.Model):
    """A background job queued by a change, written in the change's own transaction: the job
    exists exactly when the change does. The relay (`core.jobs`) hands it to the broker when
    the broker answers and marks it sent; the job marks it finished, and a second delivery of a
    finished job does nothing. Rows are kept as the record of what ran."""

    key = models.UUIDField(_("key"), unique=True, default=uuid.uuid4, editable=False)
    task = models.CharField(_("job"), max_length=100)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    # While a relay hands the row to the broker, no other relay takes it (a conditional update).
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("queued job")
        verbose_name_plural = _("queued jobs")
        indexes = [
            models.Index(
                fields=["id"], name="outbox_unsent", condition=models.Q(sent_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.key}"
