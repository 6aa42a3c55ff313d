"""Install the built-in instruments and a starting reassessment policy; results are immutable."""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION assessments_assessment_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'an assessment is never changed or deleted; record an amendment (% refused)',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER assessments_assessment_immutable
    BEFORE UPDATE OR DELETE ON assessments_assessment
    FOR EACH ROW EXECUTE FUNCTION assessments_assessment_immutable();
"""

REVERSE = """
DROP TRIGGER IF EXISTS assessments_assessment_immutable ON assessments_assessment;
DROP FUNCTION IF EXISTS assessments_assessment_immutable();
"""


def install(apps, schema_editor):
    from assessments.builtin import install as install_builtin

    install_builtin(
        apps.get_model("assessments", "Instrument"),
        apps.get_model("assessments", "ReassessmentPolicy"),
    )


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY, REVERSE),
    ]
