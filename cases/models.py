"""Children (the cases), the explicit grants on them, and the append-only log of access to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from institutions.models import Institution, Region


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
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    residence_region = models.ForeignKey(
        Region,
        verbose_name=_("current residence"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    household_region = models.ForeignKey(
        Region,
        verbose_name=_("household registration"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    school = models.ForeignKey(
        Institution,
        verbose_name=_("school"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pupils",
    )
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
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        ordering = ["name", "id"]
        # Scope is a region-code prefix on either region (DESIGN.md §8): Django gives each of
        # these varchar foreign keys a varchar_pattern_ops ("_like") index, which LIKE 'code%' uses.
        permissions = [
            ("view_child_identity", _("Can see a child's national ID unmasked")),
            ("view_confidential_notes", _("Can read notes marked confidential")),
            ("export_child", _("Can export children's records")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.record_number})"


class ChildUserObjectPermission(UserObjectPermissionBase):
    """An explicit grant of a permission on one child to one user (a mentor, a one-off share)."""

    content_object = models.ForeignKey(Child, on_delete=models.CASCADE)
    # The base class's unique (user, permission, content_object) index serves the scope lookup.


class ChildGroupObjectPermission(GroupObjectPermissionBase):
    """An explicit grant of a permission on one child to a group of users."""

    content_object = models.ForeignKey(Child, on_delete=models.CASCADE)


class AccessEvent(models.Model):
    """One read, export or change of a child's data: append-only, kept for audit."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed file")
        LIST = "list", _("Listed")
        EXPORT = "export", _("Exported")
        CHANGE = "change", _("Changed")
        API_VIEW = "api_view", _("Read through the API")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="access_events",
    )
    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_events",
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    path = models.CharField(_("path"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["child", "-at"], name="access_child_time"),
            models.Index(fields=["user", "-at"], name="access_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.child_id}"
