"""Re-encrypting the encrypted fields under a new FIELD_ENCRYPTION_KEY.

The order of steps (README "Operations"): set FIELD_ENCRYPTION_KEY="NEW,OLD" and restart (new
writes use NEW, everything stays readable), run `manage.py rotate_field_key` until it reports
nothing left, then set FIELD_ENCRYPTION_KEY="NEW" and restart. The command rewrites, in batches
of one transaction each, only the values not yet under the current key: interrupted, it starts
again where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

import pghistory
from django.db import transaction

from cases.identity import fernet, under_current_key
from cases.models import Child

# The encrypted fields: (model, field). A new one is added here.
ENCRYPTED_FIELDS: tuple[tuple[type[Child], str], ...] = ((Child, "national_id_encrypted"),)


@dataclass
class Rotation:
    rotated: int = 0
    already: int = 0
    left: int = 0


def field_key_rotate(*, batch_size: int = 1000, limit: int | None = None) -> Rotation:
    """Re-encrypt up to `limit` values (all when None) under the current key."""
    result = Rotation()
    keys = fernet()
    with pghistory.context(job="rotate_field_key"):
        for model, field in ENCRYPTED_FIELDS:
            last = 0
            while True:
                batch = list(
                    model.objects.filter(pk__gt=last)
                    .exclude(**{field: ""})
                    .order_by("pk")
                    .only("pk", field)[:batch_size]
                )
                if not batch:
                    break
                last = batch[-1].pk
                changed = []
                for row in batch:
                    token = getattr(row, field)
                    if under_current_key(token):
                        result.already += 1
                    elif limit is not None and result.rotated >= limit:
                        result.left += 1
                    else:
                        setattr(row, field, keys.rotate(token.encode()).decode())
                        changed.append(row)
                with transaction.atomic():
                    model.objects.bulk_update(changed, [field])
                result.rotated += len(changed)
    return result
