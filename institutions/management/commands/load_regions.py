"""Load regions from a CSV of `code,name` rows (the national statistical division list)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from institutions.services import region_load_csv


class Command(BaseCommand):
    help = (
        "Loads region codes and names from a UTF-8 CSV (code,name per line; 12-digit published "
        "codes or short codes; a header row is allowed). The file is checked whole first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="CSV file with code,name rows")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = region_load_csv(path=options["path"])
        except FileNotFoundError:
            raise CommandError(f"No such file: {options['path']}") from None
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        self.stdout.write(f"{result.created} regions created, {result.updated} renamed.")
