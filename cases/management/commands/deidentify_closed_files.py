"""`manage.py deidentify_closed_files [--dry-run]`: what the daily job does, on demand, with a
report of the children and the rows per table changed (cases/retention.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cases.retention import closed_files_deidentify


class Command(BaseCommand):
    help = "De-identify the files closed longer than RETENTION_YEARS_AFTER_CLOSE years."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count the files due.")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        done = closed_files_deidentify(batch_size=options["batch_size"], dry_run=options["dry_run"])
        closed = f"{done.cutoff:%Y-%m-%d}" if done.cutoff else "?"
        if options["dry_run"]:
            self.stdout.write(f"{done.children} files closed before {closed} are due")
            return
        self.stdout.write(f"de-identified {done.children} files closed before {closed}")
        for label, rows in sorted(done.rows.items()):
            self.stdout.write(f"  {label}: {rows} rows")
