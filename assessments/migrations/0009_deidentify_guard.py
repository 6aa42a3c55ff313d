"""Assessments stay immutable, except that the de-identification job (core.deidentify) may replace
a correction's free-text reason by a dash, and nothing else, while it has its setting on."""

from django.db import migrations

GUARDED = """
CREATE OR REPLACE FUNCTION assessments_assessment_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('xinqiao.deidentifying', true) = 'on'
       AND NEW.amendment_reason IN ('', '—')
       AND to_jsonb(NEW) - 'amendment_reason' = to_jsonb(OLD) - 'amendment_reason' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'an assessment is never changed or deleted; record an amendment (% refused)',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

STRICT = """
CREATE OR REPLACE FUNCTION assessments_assessment_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'an assessment is never changed or deleted; record an amendment (% refused)',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("assessments", "0008_alert_guardian_informed")]

    operations = [migrations.RunSQL(GUARDED, STRICT)]
