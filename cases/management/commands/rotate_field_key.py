"""`manage.py rotate_field_key`: re-encrypt every encrypted field under the current key (the
first of FIELD_ENCRYPTION_KEY="NEW,OLD"); resumable. See cases/key_rotation.py for the steps."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cases.key_rotation import field_key_rotate


class Command(BaseCommand):
    help = "Re-encrypt the encrypted fields under the first key of FIELD_ENCRYPTION_KEY."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many.")

    def handle(self, *args: Any, **options: Any) -> None:
        done = field_key_rotate(batch_size=options["batch_size"], limit=options["limit"])
        self.stdout.write(
            f"re-encrypted {done.rotated}, already under the current key {done.already}, "
            f"left {done.left}"
        )
