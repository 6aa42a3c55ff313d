"""Writes to organisations, memberships and role groups; each function is one transaction."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.models import Agency, Institution, Membership, Region, User, normalize_region_code
from institutions.roles import ROLE_TABLE, Role, group_name, spec


@dataclass(frozen=True)
class RegionLoadResult:
    created: int
    updated: int


def parse_region_rows(rows: Iterable[list[str]]) -> list[tuple[str, str]]:
    """Validate (code, name) rows before anything is written; every bad row is reported."""
    parsed: dict[str, str] = {}
    errors: list[str] = []
    for line_number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            errors.append(_("line %(line)d: expected a code and a name") % {"line": line_number})
            continue
        raw_code, name = row[0].strip(), row[1].strip()
        if line_number == 1 and not raw_code.isdigit():
            continue  # a header row
        try:
            code = normalize_region_code(raw_code)
        except ValueError as exc:
            errors.append(
                _("line %(line)d: %(code)s: %(error)s")
                % {"line": line_number, "code": raw_code, "error": exc}
            )
            continue
        if not name:
            errors.append(_("line %(line)d: the name is empty") % {"line": line_number})
            continue
        parsed[code] = name
    for code in parsed:
        parent = Region.parent_code_for(code)
        if parent and parent not in parsed and not Region.objects.filter(code=parent).exists():
            errors.append(
                _("%(code)s: its parent region %(parent)s is neither in the file nor loaded")
                % {"code": code, "parent": parent}
            )
    if errors:
        raise ValidationError(errors)
    return sorted(parsed.items(), key=lambda item: (len(item[0]), item[0]))


@transaction.atomic
def region_load(*, rows: list[tuple[str, str]]) -> RegionLoadResult:
    """Create or rename regions from validated (code, name) rows, parents before children."""
    existing = dict(
        Region.objects.filter(code__in=[code for code, _name in rows]).values_list("code", "name")
    )
    to_create = [
        Region(
            code=code,
            name=name,
            level=Region.level_for(code),
            parent_id=Region.parent_code_for(code),
        )
        for code, name in rows
        if code not in existing
    ]
    to_update = [
        Region(code=code, name=name)
        for code, name in rows
        if code in existing and existing[code] != name
    ]
    Region.objects.bulk_create(to_create, batch_size=5000)
    Region.objects.bulk_update(to_update, ["name"], batch_size=5000)
    return RegionLoadResult(created=len(to_create), updated=len(to_update))


def region_load_csv(*, path: str) -> RegionLoadResult:
    """Load a CSV of `code,name` rows (12-digit published codes or short codes)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = parse_region_rows(csv.reader(handle))
    return region_load(rows=rows)


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Make one group per role hold exactly the permissions ROLE_TABLE gives it.

    Safe to run any number of times; an unknown permission in the table is an error, not a skip.
    Returns the number of permissions per group.
    """
    counts: dict[str, int] = {}
    for role, role_spec in ROLE_TABLE.items():
        group, _created = Group.objects.get_or_create(name=group_name(role))
        wanted = resolve_permissions(role_spec.permissions)
        group.permissions.set(wanted)
        counts[group.name] = len(wanted)
    for user in User.objects.filter(memberships__isnull=False).distinct():
        user_roles_sync(user)
    return counts


def resolve_permissions(names: Iterable[str]) -> list[Permission]:
    wanted = set(names)
    found = {
        f"{app}.{codename}": pk
        for pk, app, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
        if f"{app}.{codename}" in wanted
    }
    missing = wanted - found.keys()
    if missing:
        raise ValidationError(
            _("The role table names permissions that do not exist: %(names)s")
            % {"names": ", ".join(sorted(missing))}
        )
    return list(Permission.objects.filter(pk__in=found.values()))


def user_roles_sync(user: User) -> None:
    """Put the user in exactly the role groups of their active memberships."""
    roles = set(Membership.objects.filter(user=user, is_active=True).values_list("role", flat=True))
    role_groups = Group.objects.filter(name__startswith="role:")
    wanted = [g for g in role_groups if g.name in {group_name(r) for r in roles}]
    user.groups.remove(*[g for g in role_groups if g not in wanted])
    user.groups.add(*wanted)
    should_be_staff = any(spec(r).admin_site for r in roles)
    if user.is_staff != should_be_staff:
        user.is_staff = should_be_staff
        user.save(update_fields=["is_staff"])


@transaction.atomic
def membership_grant(
    *,
    user: User,
    role: Role,
    agency: Agency | None = None,
    institution: Institution | None = None,
    jurisdiction: Iterable[str] = (),
) -> Membership:
    """Give a user a role in an organisation; their groups follow at once."""
    codes = sorted(set(jurisdiction))
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationError(
            {"jurisdiction": _("Unknown region codes: %(codes)s") % {"codes": ", ".join(unknown)}}
        )
    if (agency is None) == (institution is None):
        raise ValidationError(_("A membership belongs to exactly one agency or institution."))
    membership, created = Membership.objects.get_or_create(
        user=user,
        agency=agency,
        institution=institution,
        role=role,
        is_active=True,
        defaults={"jurisdiction": codes},
    )
    if not created and membership.jurisdiction != codes:
        membership.jurisdiction = codes
        membership.save(update_fields=["jurisdiction"])
    user_roles_sync(user)
    return membership


@transaction.atomic
def membership_end(*, membership: Membership) -> None:
    """End a membership (kept for history); the user loses that role's groups and scope."""
    membership.is_active = False
    membership.ended_on = timezone.localdate()
    membership.save(update_fields=["is_active", "ended_on"])
    user_roles_sync(membership.user)
