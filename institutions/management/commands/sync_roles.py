"""Create or update one group per role from the role table; safe to run any number of times."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from institutions.services import roles_sync


class Command(BaseCommand):
    help = "Syncs the role groups and their permissions from institutions/roles.py."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = roles_sync()
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if options["verbosity"] > 1:
            for name, count in counts.items():
                self.stdout.write(f"{name}: {count} permissions")
        self.stdout.write(f"{len(counts)} role groups in sync.")
