"""`manage.py backup [--into DIR]`: a consistent dump of the database and the uploaded files in
`DIR/<UTC time>/` (backups/ by default). `make backup` runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, backup_make


class Command(BaseCommand):
    help = "Back up the database (pg_dump, custom format) and the uploaded files."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--into", default=str(Path(settings.BASE_DIR) / "backups"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            made = backup_make(into=Path(options["into"]))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"backup written to {made.path} ({made.tables} tables, {made.rows} rows)")
