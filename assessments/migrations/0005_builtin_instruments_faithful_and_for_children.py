"""Bring the built-in instruments up to assessments/builtin.py (issue 10).

PHQ-9: item 7 names the newspaper again, and the unscored closing question on difficulty is
added; K6: item 4 reads "so depressed" (the K10's "so sad" was used); K10: "moderate distress"
(16-21) is moderate risk like the K6's, and "high distress" (22-29) is high risk and alerts;
the PSC-17 (guardian or teacher, ages 4-16) and the CES-DC (self-report, ages 6-17) are added;
every built-in says who answers it.

A built-in version without results is changed in place; one that has results gets the change
as its next version (as the builder does), so that each result keeps the version it was scored
with. See `assessments.builtin.sync`.
"""

from django.db import migrations


def sync(apps, schema_editor):
    from assessments.builtin import sync as sync_builtin

    sync_builtin(apps.get_model("assessments", "Instrument"))


class Migration(migrations.Migration):
    dependencies = [("assessments", "0004_instrument_respondent")]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
