from django.db import migrations, models


class Migration(migrations.Migration):
    """One open alert per child and cause; a closed alert has an outcome (the data were made
    to fit in 0006)."""

    dependencies = [("assessments", "0006_alert_life_cycle")]

    operations = [
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("acknowledged_at__isnull", True),
                    models.Q(("outcome", ""), _negated=True),
                    _connector="OR",
                ),
                name="alert_close_needs_outcome",
            ),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.UniqueConstraint(
                condition=models.Q(("acknowledged_at__isnull", True)),
                fields=("child", "reason"),
                name="alert_one_open_per_cause",
            ),
        ),
    ]
