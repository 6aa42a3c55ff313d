"""`manage.py outbox`: what waits in the outbox of background jobs; `--relay` sends it now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count, Min

from core.jobs import outbox_relay
from core.models import OutboxMessage


class Command(BaseCommand):
    help = "Show the background jobs waiting for the broker; --relay hands them to it now."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--relay", action="store_true", help="Send the waiting jobs now.")

    def handle(self, *args: Any, **options: Any) -> None:
        waiting = OutboxMessage.objects.filter(sent_at__isnull=True)
        summary = waiting.aggregate(count=Count("id"), oldest=Min("created_at"))
        self.stdout.write(f"waiting: {summary['count']} (oldest queued {summary['oldest'] or '-'})")
        for row in waiting.values("task").annotate(n=Count("id")).order_by("task"):
            self.stdout.write(f"  {row['task']}: {row['n']}")
        last = waiting.exclude(last_error="").order_by("-id").values_list("last_error", flat=True)
        if last:
            self.stdout.write(f"last error: {last[0]}")
        if options["relay"]:
            self.stdout.write(f"sent: {outbox_relay()}")
