"""The starting home-visit policy, follow-up schedules and task policy."""

from django.db import migrations


def install(apps, schema_editor):
    from followups.policy_defaults import install as install_defaults

    install_defaults(
        apps.get_model("followups", "VisitPolicy"),
        apps.get_model("followups", "FollowupSchedule"),
        apps.get_model("followups", "TaskPolicy"),
    )


class Migration(migrations.Migration):
    dependencies = [("followups", "0005_plans_tasks_policies")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
