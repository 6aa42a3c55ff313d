"""Memberships wait for a security administrator's approval (separated administrators).

Every membership that exists already was given before approval existed: it is approved (the
field is added with the default "approved", then the default becomes "pending" for new rows).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("institutions", "0002_training_trainingattendance_and_more"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="membership",
            options={
                "ordering": ["user_id", "id"],
                "permissions": [("approve_membership", "Can approve or refuse a membership")],
                "verbose_name": "membership",
                "verbose_name_plural": "memberships",
            },
        ),
        migrations.AlterModelOptions(
            name="user",
            options={
                "permissions": [("issue_password_link", "Can issue a one-time set-password link")],
                "verbose_name": "user",
                "verbose_name_plural": "users",
            },
        ),
        migrations.AddField(
            model_name="membership",
            name="approval_status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting for approval"),
                    ("approved", "Approved"),
                    ("refused", "Refused"),
                ],
                default="approved",
                max_length=16,
                verbose_name="approval",
            ),
        ),
        migrations.AlterField(
            model_name="membership",
            name="approval_status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting for approval"),
                    ("approved", "Approved"),
                    ("refused", "Refused"),
                ],
                default="pending",
                max_length=16,
                verbose_name="approval",
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="decided_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="approved or refused at"
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="approved or refused by",
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="requested by",
            ),
        ),
        migrations.AlterField(
            model_name="membership",
            name="is_active",
            field=models.BooleanField(default=False, verbose_name="active"),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.UniqueConstraint(
                condition=models.Q(("approval_status", "pending")),
                fields=("user", "agency", "institution", "role"),
                name="membership_unique_pending_role",
                nulls_distinct=False,
            ),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("is_active", False), ("approval_status", "approved"), _connector="OR"
                ),
                name="membership_in_force_is_approved",
            ),
        ),
    ]
