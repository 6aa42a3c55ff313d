"""Who the signed-in user is to every request: their scope, their permissions and whether they
hold a confirmed two-factor device, read from the database once and kept in the cache between
requests.

Every page needs all three before it does anything of its own (the two-factor step, the menu,
the one scoped fetch), and reading them costs four queries, about a tenth of a list page's
time. An entry is used only while three things are as when it was read: the user's row (read
on every request anyway), the user's version, which any change of their memberships, groups,
permissions or devices replaces, and the generation, which any change of a role's permissions
or of an organisation replaces. Both are replaced at once and again when the change commits,
and only what was read outside a transaction is kept. An entry lives `PRINCIPAL_CACHE_SECONDS`
at most, which bounds what a change made while Redis was down can cost; without Redis every
request reads the database as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save
from django_otp import devices_for_user
from django_otp.models import Device

from core.cache import keep_read_ahead, now_and_at_commit, user_keys
from core.compiled import RowById
from institutions.models import Agency, Institution, Membership, User
from institutions.roles import Role
from institutions.scopes import EMPTY_SCOPE, Scope, read_scope

GENERATION_KEY = "principal:generation"
# A user's version outlives their entries by far; when it goes, a new one is made.
VERSION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class HeldRole:
    """One of the user's approved, active memberships as the work list names it: the role, the
    organisation's name and the jurisdiction's region codes."""

    role: str
    organisation: str
    jurisdiction: tuple[str, ...]

    def get_role_display(self) -> str:
        try:
            return str(Role(self.role).label)
        except ValueError:  # a role no longer offered, in an entry cached before
            return self.role


@dataclass(frozen=True)
class Principal:
    scope: Scope
    permissions: frozenset[str]
    # The persistent ids of the user's confirmed two-factor devices (never their secrets).
    device_ids: frozenset[str]
    # In the order they were given (the work list's "My roles").
    roles: tuple[HeldRole, ...] = ()

    @property
    def has_device(self) -> bool:
        return bool(self.device_ids)


def _key(user_id: int) -> str:
    # v2: the entry holds the roles too (an entry of the earlier shape is never read).
    return f"principal:v2:{user_id}"


def _version_key(user_id: int) -> str:
    return f"principal:{user_id}:version"


def _identity(user: User) -> tuple[Any, ...]:
    """What of the user's own row the entry depends on: a recreated database (a new user with
    an old id) or a changed flag never meets an entry made before."""
    return (user.date_joined.isoformat(), user.is_active, user.is_superuser)


def _read(user: User) -> Principal:
    return Principal(
        scope=read_scope(user),
        permissions=frozenset(ModelBackend().get_all_permissions(user)),
        device_ids=frozenset(d.persistent_id for d in devices_for_user(user, confirmed=True)),
        roles=_held_roles(user),
    )


def _held_roles(user: User) -> tuple[HeldRole, ...]:
    # An organisation renamed renews every principal (`connect` below), a membership changed
    # its user's.
    rows = (
        Membership.objects.in_force()
        .filter(user_id=user.pk)
        .order_by("id")
        .values_list("role", "agency__name", "institution__name", "jurisdiction")
    )
    return tuple(
        HeldRole(role, agency or institution or "", tuple(jurisdiction or ()))
        for role, agency, institution, jurisdiction in rows
    )


def _current(key: str, found: dict[str, Any], timeout: int | None) -> str | None:
    """The version stored at `key`, or a new one when there is none (None when another process
    stored one meanwhile: nothing is kept this time)."""
    value = found.get(key)
    if value is None:
        value = uuid.uuid4().hex
        if not cache.add(key, value, timeout=timeout):
            return None
    return str(value)


def principal_for(user: User | AnonymousUser) -> Principal | None:
    """The user's principal: from the request's user object, the cache, or the database (then
    cached). None for an anonymous or inactive user."""
    if not isinstance(user, User) or not user.is_active:
        return None
    kept: Principal | None = getattr(user, "_xq_principal", None)
    if kept is not None:
        return kept
    key, version_key = _key(user.pk), _version_key(user.pk)
    # With the keys other reads of every page name for this user (one round trip for all).
    ahead = user_keys(user.pk)
    found = cache.get_many([key, version_key, GENERATION_KEY, *ahead])
    keep_read_ahead(user, found, ahead)
    # The versions are read before the rows: a change committed meanwhile gives new versions,
    # so what is read now is kept under versions already out of date, and never used.
    generation = _current(GENERATION_KEY, found, None)
    version = _current(version_key, found, VERSION_SECONDS)
    tag = (generation, version, _identity(user))
    entry = found.get(key)
    if None not in tag and entry is not None and entry[0] == tag:
        principal: Principal = entry[1]
    else:
        principal = _read(user)
        # Read inside a transaction, it may hold the transaction's own uncommitted change (of
        # a membership, say), which may yet roll back: kept only when read outside one.
        if None not in tag and not connection.in_atomic_block:
            cache.set(key, (tag, principal), settings.PRINCIPAL_CACHE_SECONDS)
    user._xq_principal = principal  # type: ignore[attr-defined]
    user._xq_principal_tag = None if None in tag else repr(tag)  # type: ignore[attr-defined]
    return principal


def principal_tag(user: User | AnonymousUser) -> str | None:
    """A name for the user's principal as it stands now: another name whenever their scope,
    permissions or devices may have changed (the same versions that renew the principal). What
    is computed from the principal alone, such as a list's filter form, may be kept under it.
    None when nothing may be kept: anonymous, inactive, the cache failing, or inside a
    transaction (what is read in one may yet roll back, as for the principal itself)."""
    if principal_for(user) is None or connection.in_atomic_block:
        return None
    return getattr(user, "_xq_principal_tag", None)


def forget_users(user_ids: Iterable[int]) -> None:
    """These users' scope, permissions or devices changed: their entries are out of date now
    and again when the change commits."""
    pks = {pk for pk in user_ids if pk is not None}
    if not pks:
        return

    now_and_at_commit(
        lambda: cache.set_many({_version_key(pk): uuid.uuid4().hex for pk in pks}, VERSION_SECONDS)
    )


def forget_everyone() -> None:
    """A change that may touch anyone (a role's permissions, an organisation's kind, data loaded
    in bulk): every entry is out of date."""

    now_and_at_commit(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None))


_USER_BY_ID: RowById[User] = RowById(User)


class PrincipalBackend(ModelBackend):
    """Django's model backend, answering a user's permissions from their principal, and
    reading the signed-in user (every request) with SQL compiled once (core.compiled)."""

    def get_user(self, user_id: Any) -> User | None:
        user = _USER_BY_ID.get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if obj is not None:
            return set()
        principal = principal_for(user_obj)
        if principal is None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(principal.permissions)
        return user_obj._perm_cache


def scope_of(user: User | AnonymousUser) -> Scope:
    principal = principal_for(user)
    return principal.scope if principal is not None else EMPTY_SCOPE


# --- what makes an entry out of date ----------------------------------------------------------


def _membership_changed(sender: Any, instance: Membership, **_: Any) -> None:
    forget_users([instance.user_id])


def _device_changed(sender: Any, instance: Device, **_: Any) -> None:
    forget_users([instance.user_id])


def _user_groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **_: Any
) -> None:
    if not action.startswith("post_"):
        return
    if isinstance(instance, User):
        forget_users([instance.pk])
    elif action == "post_clear":  # a group's members all removed: who they were is gone
        forget_everyone()
    else:
        forget_users(pk_set or ())


def _everyone_changed(sender: Any, **kwargs: Any) -> None:
    action = kwargs.get("action")
    if action is None or action.startswith("post_"):
        forget_everyone()


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(_membership_changed, sender=Membership, dispatch_uid="principal.membership")
        for device_model in (m for m in apps.get_models() if issubclass(m, Device)):
            signal.connect(
                _device_changed,
                sender=device_model,
                dispatch_uid=f"principal.{device_model._meta.label}",
            )
        for model in (Group, Permission, Agency, Institution):
            signal.connect(
                _everyone_changed, sender=model, dispatch_uid=f"principal.{model.__name__}"
            )
    m2m_changed.connect(
        _user_groups_changed, sender=User.groups.through, dispatch_uid="principal.groups"
    )
    m2m_changed.connect(
        _user_groups_changed,
        sender=User.user_permissions.through,
        dispatch_uid="principal.user_permissions",
    )
    m2m_changed.connect(
        _everyone_changed, sender=Group.permissions.through, dispatch_uid="principal.group_perms"
    )
