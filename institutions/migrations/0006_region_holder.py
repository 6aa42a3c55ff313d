"""Who holds each role for each region code, one row per (code, role): a materialized view of
the active memberships' jurisdictions (issue 13).

The scheduler asks, for every child, who directs its village or supervises its township; asked
of the memberships (a GIN-indexed array), that is one index search per child, and the planner
often walks the memberships in id order instead: minutes at a million children. Asked of this
view, it is one B-tree look-up. The earliest membership holds a (code, role), as before.
Refreshed by `institutions.services.region_holders_refresh` (on every membership change, and
at the start of each full scheduler run).
"""

from django.db import migrations, models

CREATE = """
CREATE MATERIALIZED VIEW institutions_region_holder AS
SELECT DISTINCT ON (code, m.role) code, m.role, m.user_id, m.id AS membership_id
  FROM institutions_membership m, unnest(m.jurisdiction) AS code
 WHERE m.is_active
 ORDER BY code, m.role, m.id;
CREATE UNIQUE INDEX region_holder_code_role ON institutions_region_holder (code, role);
"""
DROP = "DROP MATERIALIZED VIEW IF EXISTS institutions_region_holder;"


class Migration(migrations.Migration):
    dependencies = [("institutions", "0005_dashboard_permission")]

    operations = [
        migrations.RunSQL(CREATE, DROP),
        migrations.CreateModel(
            name="RegionHolder",
            fields=[
                ("membership_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("code", models.CharField(max_length=12)),
                ("role", models.CharField(max_length=32)),
                ("user_id", models.BigIntegerField()),
            ],
            options={"db_table": "institutions_region_holder", "managed": False},
        ),
    ]
