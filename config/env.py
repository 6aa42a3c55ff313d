"""Typed access to the environment: every setting is read through here; bad values fail early."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.dbcursor import BoundCursor

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def get_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"{name} is not set.")
    return value


def get_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false).")


def get_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    return value


def get_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def get_database(name: str = "DATABASE_URL") -> dict[str, Any]:
    """Parse a postgres:// URL into Django's DATABASES entry, refusing anything malformed."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        raise ImproperlyConfigured(
            f"{name} is not set (make run and make test set it to an embedded PostgreSQL)."
        )
    try:
        parts = urlsplit(raw)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise ValueError("the scheme must be postgres://")
        # Accessing .port validates it (raises ValueError for a non-numeric port).
        _ = parts.port
        if not parts.path.strip("/"):
            raise ValueError("it names no database")
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is malformed: {exc}.") from None
    config["ENGINE"] = "django.db.backends.postgresql"
    # No JIT compilation: the app's statements are short and indexed, and PostgreSQL's JIT
    # (on for any plan its cost model calls expensive) spent 390 ms compiling for a 25-row
    # list page at 1,000,000 children. Options given in the URL are kept after it.
    options = dict(config.get("OPTIONS") or {})
    # Values bound by the server, and the statements run again and again prepared once per
    # connection; each still planned for its own values (core/dbcursor.py says why).
    options.setdefault("server_side_binding", True)
    options.setdefault("cursor_factory", BoundCursor)
    options.setdefault("prepare_threshold", 2)
    server = ["-c jit=off", "-c plan_cache_mode=force_custom_plan"]
    options["options"] = " ".join(filter(None, [*server, options.get("options", "")]))
    config["OPTIONS"] = options
    return dict(config)


def get_redis_url(name: str = "REDIS_URL") -> str:
    raw = os.environ.get(name, "").strip()
    if not raw:
        raise ImproperlyConfigured(
            f"{name} is not set (make run and make test set it to an embedded Redis)."
        )
    try:
        parts = urlsplit(raw)
        if parts.scheme not in {"redis", "rediss"}:
            raise ValueError("the scheme must be redis:// or rediss://")
        _ = parts.port
        if not parts.hostname:
            raise ValueError("it names no host")
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is malformed: {exc}.") from None
    return raw
