"""The access log is append-only: the database itself refuses UPDATE and DELETE on it.

TRUNCATE is left to the database owner (test teardown uses it); in production the application's
database role is granted INSERT and SELECT only on this table (README, "Security controls").
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION cases_accessevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cases_accessevent_no_update_delete
    BEFORE UPDATE OR DELETE ON cases_accessevent
    FOR EACH ROW EXECUTE FUNCTION cases_accessevent_append_only();
"""

ALLOW = """
DROP TRIGGER IF EXISTS cases_accessevent_no_update_delete ON cases_accessevent;
DROP FUNCTION IF EXISTS cases_accessevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
