"""`manage.py restore DIR [--dbname NAME]`: a backup restored into an empty database; the row
count of every table is checked against the backup's manifest. `make restore BACKUP=DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into an empty database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("backup", help="The backup's directory (backups/<time>).")
        parser.add_argument(
            "--dbname", help="Restore into this database of the same server instead."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = backup_restore(source=Path(options["backup"]), dbname=options["dbname"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"restored {len(counts)} tables, {sum(counts.values())} rows; the counts match"
        )
