"""Ground-floor records that belong to no domain."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Submission(models.Model):
    """One use of a form's one-time key: a repeated POST with it gets the first result."""

    key = models.UUIDField(_("submission key"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
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
