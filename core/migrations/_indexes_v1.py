"""Dropping the single-column index Django made for a foreign key when another index begins
with the same column (a frozen copy for migrations, as _partitioning_v1).

Every lookup by the column is served by the longer index; the one of its own only costs a
write on every insert. Django's own AlterField(db_index=False) would also drop and add the
foreign key again, checking every row of the table under lock (millions of visits or log rows
in a province), so the migrations change the model state alone and drop the index by name.
"""

from __future__ import annotations

from django.db import migrations


def drop_indexes(indexes: dict[str, tuple[str, str]]) -> list[migrations.RunSQL]:
    """`indexes`: index name → (table, column). Reversed, each index is made again."""
    return [
        migrations.RunSQL(
            f'DROP INDEX IF EXISTS "{name}"',
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
        )
        for name, (table, column) in indexes.items()
    ]


def without_index(
    state_operations: list[migrations.operations.base.Operation],
    indexes: dict[str, tuple[str, str]],
) -> migrations.SeparateDatabaseAndState:
    """The fields' new state (db_index=False), and in the database only their indexes dropped."""
    return migrations.SeparateDatabaseAndState(
        state_operations=state_operations, database_operations=drop_indexes(indexes)
    )
