"""Every active holder of a role for a region code in `institutions_region_holder`, not only the
earliest: escalation passes over the assignee to the next holder. The index on
(code, role, membership_id) gives the earliest holder, or the earliest other than someone, in
one short index range scan."""

from django.db import migrations

CREATE = """
DROP MATERIALIZED VIEW IF EXISTS institutions_region_holder;
CREATE MATERIALIZED VIEW institutions_region_holder AS
SELECT code, m.role, m.user_id, m.id AS membership_id
  FROM institutions_membership m, unnest(m.jurisdiction) AS code
 WHERE m.is_active;
CREATE UNIQUE INDEX region_holder_code_role ON institutions_region_holder (code, role, membership_id);
"""
# Back to the view of 0006: the earliest holder only.
REVERSE = """
DROP MATERIALIZED VIEW IF EXISTS institutions_region_holder;
CREATE MATERIALIZED VIEW institutions_region_holder AS
SELECT DISTINCT ON (code, m.role) code, m.role, m.user_id, m.id AS membership_id
  FROM institutions_membership m, unnest(m.jurisdiction) AS code
 WHERE m.is_active
 ORDER BY code, m.role, m.id;
CREATE UNIQUE INDEX region_holder_code_role ON institutions_region_holder (code, role);
"""


class Migration(migrations.Migration):
    dependencies = [("institutions", "0006_region_holder")]

    operations = [migrations.RunSQL(CREATE, REVERSE)]
