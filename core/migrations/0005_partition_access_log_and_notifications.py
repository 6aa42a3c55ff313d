"""The access log and notifications partitioned by month (issue 13; see core.partitions).

Each table is rebuilt as a partitioned one with every row moved into its month's partition (and
the months ahead made), keeping its indexes, foreign keys, triggers (the access log's append-only
trigger of cases 0002) and identity sequence; its primary key becomes (id, time) in the database
while the models keep `id`. The reverse rebuilds plain tables with every row.

Deliveries lose their database foreign key to notifications first: none can point at a
partitioned table's id alone. A trigger now refuses DELETE on notifications, so that no delivery
can point at a missing one (rows of tests are still emptied with TRUNCATE).
"""

from django.db import migrations, models
import django.db.models.deletion

from core.migrations._partitioning_v1 import partition_sql, unpartition_sql
from core.partitions import ensure_monthly_partitions

NO_DELETE = """
CREATE OR REPLACE FUNCTION followups_notification_no_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'notifications are never deleted (deliveries point at them)'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER followups_notification_no_delete
    BEFORE DELETE ON followups_notification
    FOR EACH ROW EXECUTE FUNCTION followups_notification_no_delete();
"""

ALLOW_DELETE = """
DROP TRIGGER IF EXISTS followups_notification_no_delete ON followups_notification;
DROP FUNCTION IF EXISTS followups_notification_no_delete();
"""


def make_partitions(apps, schema_editor):
    ensure_monthly_partitions(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_exportjob"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="notification",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="core.notification",
                verbose_name="notification",
            ),
        ),
        migrations.RunSQL(
            partition_sql("cases_accessevent", "at"), unpartition_sql("cases_accessevent", "at")
        ),
        migrations.RunSQL(
            partition_sql("followups_notification", "created_at"),
            unpartition_sql("followups_notification", "created_at"),
        ),
        migrations.RunSQL(NO_DELETE, ALLOW_DELETE),
        migrations.RunPython(make_partitions, migrations.RunPython.noop),
    ]
