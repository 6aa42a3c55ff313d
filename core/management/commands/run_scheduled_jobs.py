"""Run every periodic job once, in the foreground, with the code the beat schedule runs."""

from __future__ import annotations

import inspect
import time
from datetime import date, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone


def scheduled_job_names() -> list[str]:
    """The jobs of the beat schedule, in its order (planning before reminding before sending)."""
    return [str(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()]


class Command(BaseCommand):
    help = (
        "Run each scheduled job (CELERY_BEAT_SCHEDULE) once in the foreground. --today runs "
        "them as on that day: what a scheduler that was down would catch up; --days-ahead N as "
        "N days after today (in TIME_ZONE)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="the day to run as (YYYY-MM-DD); default: today")
        parser.add_argument(
            "--days-ahead", type=int, help="run as this many days after today (in TIME_ZONE)"
        )
        parser.add_argument("--only", action="append", default=[], help="a job name (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        today = options["today"]
        if today and options["days_ahead"] is not None:
            raise CommandError("give --today or --days-ahead, not both")
        if options["days_ahead"] is not None:
            today = (timezone.localdate() + timedelta(days=options["days_ahead"])).isoformat()
            self.stdout.write(f"as on {today}")
        elif today:
            try:
                date.fromisoformat(today)
            except ValueError as exc:
                raise CommandError(f"--today must be a date as YYYY-MM-DD, not {today!r}") from exc
        names = options["only"] or scheduled_job_names()
        current_app.loader.import_default_modules()
        for name in names:
            task = current_app.tasks.get(name)
            if task is None:
                raise CommandError(f"no such job: {name}")
            kwargs = {}
            if today and "today" in inspect.signature(task.run).parameters:
                kwargs["today"] = today
            started = time.perf_counter()
            result = task.apply(kwargs=kwargs, throw=True).get()
            seconds = time.perf_counter() - started
            self.stdout.write(f"{name}: {result} ({seconds:.1f} s)")
