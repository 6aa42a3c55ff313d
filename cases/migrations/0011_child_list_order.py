"""The children list's order as an index carrying the scope's columns (issue 13), built
concurrently so that a province's table stays writable while it is made; and finer statistics
on the two region columns the scope filters on.

With the default statistics a village's prefix (`LIKE '980101001001%'`, 200 children) was
estimated at 9,000 rows at 1,000,000 children, so PostgreSQL walked the whole list index rather
than fetching the village's rows (180 ms against 0.6 ms). A statistics target of 5,000 keeps
every village of a province among the most common values, and the estimate exact.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0010_partition_history"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE cases_child ALTER COLUMN residence_region_id SET STATISTICS 5000, "
            "ALTER COLUMN household_region_id SET STATISTICS 5000",
            "ALTER TABLE cases_child ALTER COLUMN residence_region_id SET STATISTICS -1, "
            "ALTER COLUMN household_region_id SET STATISTICS -1",
        ),
        AddIndexConcurrently(
            model_name="child",
            index=models.Index(
                fields=["-risk_level", "name_pinyin", "id"],
                include=(
                    "residence_region",
                    "household_region",
                    "school",
                    "residential_institution",
                ),
                name="child_list_order",
            ),
        ),
    ]
