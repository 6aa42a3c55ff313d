"""The cache on Redis, degrading when Redis fails: a read misses, a write is dropped, and the
process leaves Redis alone for a few seconds (`core.breaker`) instead of waiting on it again.

What the cache holds can be lost: sessions are written to the database too (`cached_db`),
throttle counters start again, computed pages are computed. Short socket timeouts
(`REDIS_TIMEOUT_MS`, settings) bound what a hung Redis costs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction
from redis.exceptions import RedisError

from core.breaker import Breaker

# One per process: every cache object of the process (one per thread) shares it.
REDIS_BREAKER = Breaker("the Redis cache")


def _degrading(name: str, fallback: Any) -> Any:
    """The RedisCache method `name`, answering `fallback(*args, **kwargs)` while Redis fails."""
    original = getattr(RedisCache, name)

    def method(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        if REDIS_BREAKER.is_open:
            return fallback(*args, **kwargs)
        try:
            return original(self, *args, **kwargs)
        except RedisError as error:  # down, hung past the timeout, or refusing writes (OOM)
            REDIS_BREAKER.trip(error)
            return fallback(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = original.__doc__
    return method


def _default(key: Any, default: Any = None, version: Any = None) -> Any:
    return default


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


def _none(*args: Any, **kwargs: Any) -> None:
    return None


def _empty(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {}


def _keys_not_set(data: dict[str, Any], *args: Any, **kwargs: Any) -> list[Any]:
    return list(data)


def _incr_missing(key: Any, delta: int = 1, version: Any = None) -> int:
    raise ValueError(f"Key '{key}' not found (the cache is unavailable).")


class KeptClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one `redis.Redis` per connection pool: Django's
    makes a new one for every operation, copying its table of reply parsers each time (a
    third of a millisecond a page on the benchmark machine, for nothing)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # kept by Django
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class DegradingRedisCache(RedisCache):
    """Django's Redis cache whose every operation survives Redis failing."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient

    get = _degrading("get", _default)
    get_many = _degrading("get_many", _empty)
    has_key = _degrading("has_key", _false)
    add = _degrading("add", _false)
    set = _degrading("set", _none)
    set_many = _degrading("set_many", _keys_not_set)
    touch = _degrading("touch", _false)
    delete = _degrading("delete", _false)
    delete_many = _degrading("delete_many", _none)
    incr = _degrading("incr", _incr_missing)
    clear = _degrading("clear", _false)


def now_and_at_commit(forget: Callable[[], object]) -> None:
    """Run `forget` (the invalidation of something kept in the cache) now and again when the
    current transaction commits: a reader that read the old rows before the commit and kept
    them meanwhile is overruled by the second run."""
    forget()
    transaction.on_commit(forget)


# --- read ahead with the signed-in user's principal ---------------------------------------------

# Keys every page of a user reads (the bell's count, say), or a function naming one from the
# user's id: `institutions.principal` asks for them in the same round trip as its own keys.
_USER_KEYS: list[str | Callable[[int], str]] = []
_READ_AHEAD = "_xq_read_ahead"


def read_with_principal(key: str | Callable[[int], str]) -> None:
    """Register a key to be read with each principal (from an AppConfig.ready())."""
    if key not in _USER_KEYS:
        _USER_KEYS.append(key)


def user_keys(user_id: int) -> list[str]:
    return [key if isinstance(key, str) else key(user_id) for key in _USER_KEYS]


def keep_read_ahead(user: Any, found: dict[str, Any], keys: list[str]) -> None:
    """Remember on the request's user object what `keys` held when the principal was read."""
    setattr(user, _READ_AHEAD, {key: found.get(key) for key in keys})


def read_ahead(user: Any, key: str) -> Any:
    """What `key` holds: as read with the principal in this request (once: a second read asks
    the cache), else from the cache. None when it holds nothing."""
    kept: dict[str, Any] | None = getattr(user, _READ_AHEAD, None)
    if kept is not None and key in kept:
        return kept.pop(key)
    return cache.get(key)


def forget_read_ahead(user: Any, keys: list[str]) -> None:
    """The user changed what `keys` hold in this request: later reads ask the cache."""
    kept: dict[str, Any] | None = getattr(user, _READ_AHEAD, None)
    if kept is not None:
        for key in keys:
            kept.pop(key, None)
