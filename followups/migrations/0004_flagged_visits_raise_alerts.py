"""Flagged visits now hold a child's risk through an open "flagged visit" alert, no longer for a
fixed 90 days. A child whose risk came from a flagged visit of the last 90 days gets that alert
now, so that no risk drops the day this ships; a responsible person closes it with an outcome."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

HIGH = 3  # cases.RiskLevel.HIGH
FORMER_VISIT_RISK_DAYS = 90


def raise_alerts(apps, schema_editor):
    Visit = apps.get_model("followups", "Visit")
    Alert = apps.get_model("assessments", "Alert")
    since = timezone.localdate() - timedelta(days=FORMER_VISIT_RISK_DAYS)
    children = (
        Visit.objects.filter(flagged=True, visited_on__gte=since)
        .values_list("child_id", flat=True)
        .distinct()
    )
    open_already = set(
        Alert.objects.filter(
            reason="flagged_visit", acknowledged_at__isnull=True, child_id__in=children
        ).values_list("child_id", flat=True)
    )
    Alert.objects.bulk_create(
        Alert(child_id=child_id, reason="flagged_visit", risk_level=HIGH)
        for child_id in set(children) - open_already
    )


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0003_move_to_core"),
        ("assessments", "0008_alert_guardian_informed"),
    ]

    operations = [migrations.RunPython(raise_alerts, migrations.RunPython.noop)]
