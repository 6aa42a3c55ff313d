"""The delivery log in the admin site: every send of a notification by channel, with its time
and result; the system administrator opens it from the "could not be sent" notification,
filtered to the failed ones. Read only: the log is written by the senders alone. It shows the
kind of each message, never its text (administrators do not read children's files). Imported
by FollowupsConfig."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.models import Delivery
from institutions.admin.site import NoDeleteMixin, site


@admin.register(Delivery, site=site)
class DeliveryAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "recipient",
        "channel",
        "kind",
        "status",
        "attempts",
        "sent_at",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["recipient", "notification"]
    search_fields = ["recipient__username"]
    fields = readonly_fields = (
        "recipient",
        "channel",
        "kind",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "next_attempt_at",
        "last_error",
        "digest_of",
    )
    show_full_result_count = False  # the log is long; the page does not count it all

    @admin.display(description=_("kind"))
    def kind(self, obj: Delivery) -> Any:
        return obj.notification.kind if obj.notification is not None else _("daily digest")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
