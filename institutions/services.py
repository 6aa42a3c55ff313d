"""Writes to organisations, memberships and role groups; each function is one transaction."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from core.access_log import access_record
from core.models import AccessEvent
from institutions.models import Agency, Institution, Membership, Region, User, normalize_region_code
from institutions.roles import ADMINISTRATOR_ROLES, ROLE_TABLE, Role, group_name, spec


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
    Every change of a role's permissions is in the access log (an administration step of the
    system's own). Returns the number of permissions per group.
    """
    counts: dict[str, int] = {}
    for role, role_spec in ROLE_TABLE.items():
        group, _created = Group.objects.get_or_create(name=group_name(role))
        wanted = resolve_permissions(role_spec.permissions)
        had = {_permission_name(p) for p in group.permissions.select_related("content_type")}
        group.permissions.set(wanted)
        now = {_permission_name(p) for p in wanted}
        if had != now:
            access_record(
                user=None,
                action=AccessEvent.Action.ADMIN,
                detail={
                    "event": "role_permissions_changed",
                    "role": role,
                    "added": sorted(now - had),
                    "removed": sorted(had - now),
                },
            )
        counts[group.name] = len(wanted)
    for user in User.objects.filter(memberships__isnull=False).distinct():
        user_roles_sync(user)
    return counts


def _permission_name(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


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
    return list(Permission.objects.filter(pk__in=found.values()).select_related("content_type"))


def user_roles_sync(user: User) -> None:
    """Put the user in exactly the role groups of their active, approved memberships."""
    roles = set(Membership.objects.in_force().filter(user=user).values_list("role", flat=True))
    role_groups = Group.objects.filter(name__startswith="role:")
    wanted = [g for g in role_groups if g.name in {group_name(r) for r in roles}]
    user.groups.remove(*[g for g in role_groups if g not in wanted])
    user.groups.add(*wanted)
    should_be_staff = any(spec(r).admin_site for r in roles)
    if user.is_staff != should_be_staff:
        user.is_staff = should_be_staff
        user.save(update_fields=["is_staff"])


@transaction.atomic
def region_holders_refresh() -> None:
    """Recompute who holds each role for each region code (`RegionHolder`, a materialized view
    of a few rows per membership): after every change of a membership, and before each full
    scheduler run. Inside the caller's transaction, so it sees the change being made."""
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW institutions_region_holder")


def region_holders_refresh_on_save(**_kwargs: object) -> None:
    """Signal receiver: a membership saved or deleted (the admin site, services, fixtures)."""
    region_holders_refresh()


def membership_grant(
    *,
    user: User,
    role: Role,
    agency: Agency | None = None,
    institution: Institution | None = None,
    jurisdiction: Iterable[str] = (),
) -> Membership:
    """Give a user a role in an organisation at once, approved: for seed_demo, management
    commands and tests only (run by someone with the server in hand). The admin site never
    calls this: there a membership is requested and waits for a security administrator."""
    codes = _known_codes(jurisdiction)
    if (agency is None) == (institution is None):
        raise ValidationError(_("A membership belongs to exactly one agency or institution."))
    membership, created = Membership.objects.get_or_create(
        user=user,
        agency=agency,
        institution=institution,
        role=role,
        is_active=True,
        defaults={"jurisdiction": codes, "approval_status": Membership.Approval.APPROVED},
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


def _known_codes(jurisdiction: Iterable[str]) -> list[str]:
    """The jurisdiction sorted and without repeats; every code must name an existing region."""
    codes = sorted(set(jurisdiction))
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationError(
            {"jurisdiction": _("Unknown region codes: %(codes)s") % {"codes": ", ".join(unknown)}}
        )
    return codes


# Separated administrators (三员分立): the system administrator asks for memberships, the
# security administrator approves or refuses them, and nobody decides about their own account.


def administrator_roles_check(
    *, user: User, role: Role | str, exclude_pk: int | None = None
) -> None:
    """The rule that the three administrators are three people who hold no other role: raise
    ValidationError when `user` would hold an administrator role beside any other role."""
    others = (
        Membership.objects.filter(user=user)
        .filter(Q(is_active=True) | Q(approval_status=Membership.Approval.PENDING))
        .exclude(role=role)
    )
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    other_roles = set(others.values_list("role", flat=True))
    if not other_roles:
        return
    if Role(role) in ADMINISTRATOR_ROLES:
        raise ValidationError(
            {
                "role": _(
                    "An administrator holds no other role: this person already holds or waits "
                    "for another role. End that membership first."
                )
            }
        )
    if other_roles & {r.value for r in ADMINISTRATOR_ROLES}:
        raise ValidationError(
            {
                "role": _(
                    "This person is an administrator; administrators hold no other role and "
                    "never reach children's files."
                )
            }
        )


def membership_request_check(*, by: User, user: User, role: Role | str) -> None:
    """The rule for asking for a membership: never for oneself, administrators kept apart."""
    if by.pk == user.pk:
        raise ValidationError(
            {"user": _("Nobody gives themselves a membership: another administrator must.")}
        )
    administrator_roles_check(user=user, role=role)


@transaction.atomic
def membership_request(
    *,
    by: User,
    user: User,
    role: Role | str,
    agency: Agency | None = None,
    institution: Institution | None = None,
    jurisdiction: Iterable[str] = (),
) -> Membership:
    """Ask for a membership (the system administrator); it gives nothing until approved."""
    membership_request_check(by=by, user=user, role=role)
    codes = _known_codes(jurisdiction)
    if (agency is None) == (institution is None):
        raise ValidationError(_("A membership belongs to exactly one agency or institution."))
    if Membership.objects.filter(
        user=user,
        agency=agency,
        institution=institution,
        role=role,
        approval_status=Membership.Approval.PENDING,
    ).exists():
        raise ValidationError(_("The same membership already waits for approval."))
    return Membership.objects.create(
        user=user,
        agency=agency,
        institution=institution,
        role=role,
        jurisdiction=codes,
        is_active=False,
        approval_status=Membership.Approval.PENDING,
        requested_by=by,
    )


def membership_decide_check(*, membership: Membership, by: User) -> None:
    """The rule for deciding about a membership: pending, and not one's own or one's request."""
    if membership.approval_status != Membership.Approval.PENDING:
        raise ValidationError(_("This membership is not waiting for approval."))
    if by.pk == membership.user_id:
        raise ValidationError(_("Nobody approves or refuses their own membership."))
    if by.pk == membership.requested_by_id:
        raise ValidationError(_("Nobody approves or refuses a membership they asked for."))


@transaction.atomic
def membership_approve(*, membership: Membership, by: User) -> Membership:
    """Put a requested membership in force (the security administrator). An active membership
    of the same person, organisation and role is the one this replaces: it ends."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    membership_decide_check(membership=locked, by=by)
    administrator_roles_check(user=locked.user, role=locked.role, exclude_pk=locked.pk)
    today = timezone.localdate()
    Membership.objects.filter(
        user_id=locked.user_id,
        agency=locked.agency,
        institution=locked.institution,
        role=locked.role,
        is_active=True,
    ).update(is_active=False, ended_on=today)
    locked.approval_status = Membership.Approval.APPROVED
    locked.is_active = True
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.save(update_fields=["approval_status", "is_active", "decided_by", "decided_at"])
    user_roles_sync(locked.user)
    return locked


@transaction.atomic
def membership_refuse(*, membership: Membership, by: User) -> Membership:
    """Refuse a requested membership (the security administrator); it never takes effect."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    membership_decide_check(membership=locked, by=by)
    locked.approval_status = Membership.Approval.REFUSED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.ended_on = timezone.localdate()
    locked.save(update_fields=["approval_status", "decided_by", "decided_at", "ended_on"])
    return locked


@dataclass(frozen=True)
class PasswordLink:
    """A one-time set-password link, shown once to whoever issued it."""

    url: str
    emailed: bool


def password_link_hours() -> int:
    """How long a set-password link works, in hours (PASSWORD_RESET_TIMEOUT)."""
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)


def password_link_check(*, user: User, by: User) -> None:
    """The rule for issuing a set-password link: an active account other than one's own."""
    if by.pk == user.pk:
        raise ValidationError(_("Nobody issues a set-password link for their own account."))
    if not user.is_active:
        raise ValidationError(_("This account is deactivated: reactivate it first."))


def password_link_url(*, user: User, base_url: str) -> str:
    """The one-time set-password address for `user` (valid PASSWORD_RESET_TIMEOUT, once)."""
    path = reverse(
        "password_set",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def password_link_issue(*, user: User, by: User, base_url: str) -> PasswordLink:
    """Make a one-time set-password link for `user` and e-mail it to them if they have an
    address. The link works once (setting the password changes what its token is made from) and
    for PASSWORD_RESET_TIMEOUT; nobody who issues one ever sets a password."""
    password_link_check(user=user, by=by)
    url = password_link_url(user=user, base_url=base_url)
    emailed = False
    if user.email:
        try:
            send_mail(
                subject=_("Set your password"),
                message=_(
                    "%(issuer)s issued you a link to set your password. It works once, within "
                    "%(hours)d hours:\n\n%(url)s\n\nIf you did not expect it, tell your "
                    "security administrator."
                )
                % {"issuer": by, "url": url, "hours": password_link_hours()},
                from_email=None,
                recipient_list=[user.email],
            )
            emailed = True
        except OSError:
            # No mail server: the issuer hands the link over instead.
            emailed = False
    return PasswordLink(url=url, emailed=emailed)
