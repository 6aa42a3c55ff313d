"""The database cursor: parameters bound by PostgreSQL, and the statements a process runs
again and again prepared once per connection.

Django's default psycopg cursor writes every value into the statement's text (client-side
binding), so PostgreSQL parses a new text for each request. With the values sent apart
(server-side binding) the text of a page's statements is the same at every request, and psycopg
prepares those it has seen `prepare_threshold` times: PostgreSQL parses and analyses them once
per connection. Over the benchmark's mix of pages replayed in-process, PostgreSQL's CPU a
request went from about 6.4 ms to 4.8-5.6 ms (README, "Performance").

Plans are not kept: the connection runs with `plan_cache_mode=force_custom_plan` (config.env),
so every execution is planned for its own values as before. A generic plan, which PostgreSQL
may otherwise choose after five runs, cannot use the region indexes for `LIKE $1` (the prefix
is unknown when planning), and would scan a province's children for a village's list.

One thing server-side binding refuses is several statements with parameters in one call.
django-pghistory and django-pgtrigger put `SELECT set_config(...)` in front of the statements
they track (the history context, the triggers to ignore), in the same call: such a call is run
here as its statements in turn, inside one transaction (their `set_config(..., true)` lasts
until the end of the transaction, and the tracked statement must see it). pghistory puts its
context in front of every write, but only the tables it tracks have a trigger that reads it:
in front of a write to any other table (the access log a page writes, say) it is left out,
and the write is one statement again, without a transaction of its own.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.apps import apps
from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]  # psycopg 3 only
    ServerBindingCursor,
)

# How many prepared statements a connection keeps (psycopg's default, 100, is about what one
# process's pages use: it would prepare, drop and prepare again).
PREPARED_MAX = 400
_SET_CONFIG = "SELECT set_config("
_SEPARATOR = "; "
_HISTORY_CONTEXT = "SELECT set_config('pghistory."
# The table a plain INSERT, UPDATE or DELETE of Django's writes to.
_TARGET = re.compile(r'(?:INSERT INTO|UPDATE|DELETE FROM) "([^"]+)"')


@cache
def history_tables() -> frozenset[str]:
    """The tables whose changes pghistory records (its triggers read the context)."""
    from pghistory.models import Event

    tracked = (
        getattr(model, "pgh_tracked_model", None)
        for model in apps.get_models()
        if issubclass(model, Event)
    )
    return frozenset(model._meta.db_table for model in tracked if model is not None)


def split_settings(query: str, params: Any) -> list[tuple[str, Any]]:
    """The statements of one call, each with its parameters: the `set_config` statements in
    front, then the statement they are for. The history context is left out in front of a
    write to a table pghistory does not track."""
    statements = []
    while query.startswith(_SET_CONFIG) and _SEPARATOR in query:
        head, query = query.split(_SEPARATOR, 1)
        if isinstance(params, dict):
            statements.append((head, params))
        else:
            taken = head.count("%s")
            statements.append((head, params[:taken]))
            params = params[taken:]
    target = _TARGET.match(query)
    if target is not None and target.group(1) not in history_tables():
        statements = [
            (text, values) for text, values in statements if not text.startswith(_HISTORY_CONTEXT)
        ]
    statements.append((query, params))
    return statements


class BoundCursor(ServerBindingCursor):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if not (params and isinstance(query, str) and query.startswith(_SET_CONFIG)):
            return super().execute(query, params, **kwargs)
        statements = split_settings(query, params)
        if len(statements) == 1:
            return super().execute(*statements[0], **kwargs)
        if not self.connection.autocommit:
            return self._run(statements, kwargs)
        with self.connection.transaction():
            return self._run(statements, kwargs)

    def _run(self, statements: list[tuple[str, Any]], kwargs: dict[str, Any]) -> Any:
        *settings, (last, last_params) = statements
        for text, values in settings:
            super().execute(text, values or None)
        return super().execute(last, last_params or None, **kwargs)


def keep_more_prepared(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver (CoreConfig.ready)."""
    raw = getattr(connection, "connection", None)
    if raw is not None and hasattr(raw, "prepared_max"):
        raw.prepared_max = PREPARED_MAX
