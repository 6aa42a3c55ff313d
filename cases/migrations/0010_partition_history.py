"""The history (event) tables of django-pghistory partitioned by month on pgh_created_at (issue
13; see core.partitions).

Each table is rebuilt as a partitioned one with every row moved into its month's partition (and
the months ahead made), keeping its indexes, pgtrigger's append-only trigger (with the comment
pgtrigger reads its version from) and identity sequence; its primary key becomes
(pgh_id, pgh_created_at) in the database while the event models keep `pgh_id`. No foreign key
points at these tables. The reverse rebuilds plain tables with every row.
"""

from django.db import migrations

from core.migrations._partitioning_v1 import partition_sql, unpartition_sql
from core.partitions import ensure_monthly_partitions

TABLES = [
    "cases_childevent",
    "cases_guardianevent",
    "cases_careteammemberevent",
    "cases_careplanevent",
]


def make_partitions(apps, schema_editor):
    ensure_monthly_partitions(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_child_search_indexes"),
        ("core", "0005_partition_access_log_and_notifications"),
    ]

    operations = [
        *[
            migrations.RunSQL(
                partition_sql(table, "pgh_created_at", "pgh_id"),
                unpartition_sql(table, "pgh_created_at", "pgh_id"),
            )
            for table in TABLES
        ],
        migrations.RunPython(make_partitions, migrations.RunPython.noop),
    ]
