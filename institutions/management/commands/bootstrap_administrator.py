"""Create the first administrator of a role on a new deployment, from the server's console.

The admin site separates the administrators (a membership waits for a security administrator,
nobody sets a password), so the very first ones cannot come from it: whoever holds the server
runs this once per role. It refuses when the role already has an active administrator (from then
on, the admin site's process applies), creates the account without a password, and prints a
one-time set-password link. The step is written to the access log.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.access_log import access_record
from core.models import AccessEvent
from institutions.models import Agency, Membership, Region, User
from institutions.roles import Role
from institutions.services import membership_grant, password_link_url

ADMINISTRATOR_ROLES = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR)


class Command(BaseCommand):
    help = "Create the first system or security administrator or auditor of a new deployment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in ADMINISTRATOR_ROLES])
        parser.add_argument(
            "--region",
            required=True,
            help="code of the region whose civil-affairs agency the administrator belongs to "
            "(made if it does not exist yet)",
        )
        parser.add_argument("--email", default="")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        role = Role(options["role"])
        if Membership.objects.filter(role=role, is_active=True).exists():
            raise CommandError(
                f"There is already an active {role.label}: ask them, or the security "
                "administrator, to add another in the admin site."
            )
        region = Region.objects.filter(code=options["region"]).first()
        if region is None:
            raise CommandError(f"No region {options['region']}: load the regions first.")
        agency = Agency.objects.filter(
            region=region, kind=Agency.Kind.CIVIL_AFFAIRS, is_active=True
        ).first() or Agency.objects.create(
            region=region, kind=Agency.Kind.CIVIL_AFFAIRS, name=f"{region.name}民政部门"
        )
        if User.objects.filter(username=options["username"]).exists():
            raise CommandError(f"The username {options['username']} is taken.")
        user = User.objects.create_user(options["username"], email=options["email"])
        user.set_unusable_password()
        user.is_staff = role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)
        user.save()
        membership_grant(user=user, role=role, agency=agency)  # also syncs the role groups
        access_record(
            user=user,
            action=AccessEvent.Action.ADMIN,
            detail={"bootstrap_administrator": role.value, "agency": agency.pk},
        )
        url = password_link_url(user=user, base_url=settings.SITE_URL)
        self.stdout.write(f"{role.label} {user.username} created. Set the password once, here:")
        self.stdout.write(url)
