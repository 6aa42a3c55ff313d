"""The scheduler's engine: tasks made, moved, cancelled, reminded and escalated from the data,
set-based (DESIGN.md §6).

Each kind of task has a *generator*: one queryset that gives, for every child for whom the kind
is due, the due date, the person it falls to and the record it is about. The engine turns each
generator into three statements whatever the number of children (move the pending task whose
due date or assignee changed, cancel the pending tasks no longer due, insert the ones newly due
within the look-ahead), so a run costs the same number of queries for ten children or a million,
and running it twice, or after days down, creates nothing twice and everything missed with its
real due date. Apps above this one (referrals) register generators of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    DateField,
    ExpressionWrapper,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Left, TruncDate

from cases.models import CareTeamMember
from institutions.models import RegionHolder
from institutions.roles import Role

Generator = Callable[[date, "list[int] | None"], QuerySet[Any]]

PENDING = ["open", "overdue", "escalated"]


@dataclass(frozen=True)
class TaskKind:
    """One kind of task: its generator gives rows (t_child, t_due, t_assignee, t_source)."""

    kind: str
    generator: Generator


_KINDS: dict[str, TaskKind] = {}


def register_task_kind(kind: str, generator: Generator) -> None:
    _KINDS[kind] = TaskKind(kind, generator)


def task_kinds() -> tuple[TaskKind, ...]:
    return tuple(_KINDS.values())


# --- Expressions the generators share ----------------------------------------------------------


class IsIn(Func):
    """`value = ANY(array)` as a condition."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


class IsSet(Func):
    """`value IS NOT NULL` as a condition (of an outer query's column, in a subquery)."""

    template = "%(expressions)s IS NOT NULL"
    output_field = BooleanField()


def plus_days(day: Any, days: Any) -> ExpressionWrapper:
    """`day + days` as a date (PostgreSQL adds an integer number of days to a date)."""
    return ExpressionWrapper(day + days, output_field=DateField())


def created_on(field: str = "created_at") -> Cast:
    return Cast(TruncDate(field), DateField())


def team_member(role: str, child: str = "pk") -> Subquery:
    """The child's active care-team member in `role` (the longest serving)."""
    return Subquery(
        CareTeamMember.objects.filter(
            child_id=OuterRef(child), team_role=role, is_active=True, user__is_active=True
        )
        .order_by("id")
        .values("user_id")[:1],
        output_field=IntegerField(),
    )


def region_holder(role: str, region: str, digits: int | None = None) -> Subquery:
    """The active holder of `role` whose jurisdiction names the region (its first `digits`
    digits: 9 is the township of a village), the earliest membership: one B-tree look-up in
    `RegionHolder` (asked of the memberships' jurisdiction arrays, a million children took
    minutes)."""
    code = OuterRef(region) if digits is None else Left(OuterRef(region), digits)
    return Subquery(
        RegionHolder.objects.filter(code=code, role=role)
        .order_by("membership_id")
        .values("user_id")[:1],
        output_field=IntegerField(),
    )


def responsible_person(
    *team_roles: str, region: str = "residence_region_id", child: str = "pk"
) -> Coalesce:
    """Who a child's task falls to: the care team's member in the first of `team_roles` that
    has one, else the village's child director, else the township's, else (nobody serving the
    village) the township's child supervisor, who sees it as theirs to hand on."""
    return Coalesce(
        *[team_member(role, child) for role in team_roles],
        region_holder(Role.CHILD_DIRECTOR, region),
        region_holder(Role.CHILD_DIRECTOR, region, 9),
        region_holder(Role.CHILD_SUPERVISOR, region, 9),
        output_field=IntegerField(),
    )


def supervisor_of(region: str) -> Coalesce:
    """The township's child supervisor for a region, else the county's."""
    return Coalesce(
        region_holder(Role.CHILD_SUPERVISOR, region, 9),
        region_holder(Role.CHILD_SUPERVISOR, region, 6),
        output_field=IntegerField(),
    )


def rows(qs: QuerySet[Any], *, child: Any, due: Any, assignee: Any, source: Any) -> QuerySet[Any]:
    """A generator's result in the engine's shape."""
    return qs.annotate(
        t_child=child,
        t_due=ExpressionWrapper(due, output_field=DateField()),
        t_assignee=Cast(assignee, IntegerField())
        if assignee is not None
        else Cast(Value(None), IntegerField()),
        t_source=Cast(source, IntegerField())
        if source is not None
        else Cast(Value(None), IntegerField()),
    ).values_list("t_child", "t_due", "t_assignee", "t_source")


# --- The engine ---------------------------------------------------------------------------------


@dataclass
class KindResult:
    created: int = 0
    moved: int = 0
    cancelled: int = 0


# Compiling a generator's queryset costs more than running it for one child (7 ms for the
# reassessments' on the benchmark machine), and every record saved plans its child's tasks with
# each generator. So each generator's statement is compiled once a day per process, with a
# marker list of ids, and later runs put their ids where the marker was (the generators filter
# children with `core.access.any_of`: one array parameter, whatever its length).
_MARKER_IDS = [-7_349_213, -7_349_213]
_compiled: dict[tuple[Any, ...], tuple[str, list[Any], list[int]]] = {}


def _generator_sql(
    kind: TaskKind, today: date, child_ids: list[int] | None
) -> tuple[str, list[Any]]:
    key = (kind.kind, kind.generator, today, child_ids is not None)
    found = _compiled.get(key)
    if found is None:
        marker = None if child_ids is None else _MARKER_IDS
        sql, params = kind.generator(today, marker).query.sql_with_params()
        slots = [i for i, param in enumerate(params) if param == _MARKER_IDS]
        if child_ids is not None and not slots:  # not filtered with any_of: compiled each time
            sql, params = kind.generator(today, child_ids).query.sql_with_params()
            return sql, list(params)
        if any(other[2] != today for other in _compiled):
            _compiled.clear()  # a new day: yesterday's statements go
        found = _compiled[key] = (sql, list(params), slots)
    sql, template, slots = found
    values = list(template)
    for slot in slots:
        values[slot] = child_ids
    return sql, values


def _due_select(kind: TaskKind, today: date, child_ids: list[int] | None) -> tuple[str, list[Any]]:
    """One row per child (its soonest due) from the kind's generator."""
    sql, params = _generator_sql(kind, today, child_ids)
    # The generator's SQL is Django's compilation of a queryset; values stay parameters.
    select = f"SELECT DISTINCT ON (child_id) * FROM ({sql}) AS g"  # noqa: S608
    return (
        select + "(child_id, due_on, assignee_id, source_id) ORDER BY child_id, due_on",
        params,
    )


# The three writes, reading due rows from `source`: a kind's own (the temporary table of a full
# run, whose kind is a parameter) or every kind's (the common table expression of `plan_few`,
# with a `kind` and a `lookahead` column: `kind="due.kind"`). Each `_…_params` gives the
# parameters of its statement.
def _move_sql(source: str, kind: str = "%s") -> str:
    """Move: the pending task follows its due date and the person it now falls to."""
    return f"""UPDATE followups_task t SET due_on = due.due_on,
                assignee_id = due.assignee_id,
                source_id = due.source_id,
                status = CASE WHEN due.due_on >= %s THEN 'open'
                              WHEN t.status = 'open' THEN 'overdue' ELSE t.status END,
                escalated_at = CASE WHEN due.due_on >= %s THEN NULL ELSE t.escalated_at END,
                escalated_to_id = CASE WHEN due.due_on >= %s THEN NULL ELSE t.escalated_to_id END
            FROM {source} due
            WHERE t.kind = {kind} AND t.child_id = due.child_id AND t.status = ANY(%s)
              AND (t.due_on <> due.due_on
                   OR t.assignee_id IS DISTINCT FROM due.assignee_id
                   OR t.source_id IS DISTINCT FROM due.source_id)
              AND NOT EXISTS (SELECT 1 FROM followups_task x WHERE x.child_id = t.child_id
                              AND x.kind = t.kind AND x.due_on = due.due_on AND x.id <> t.id)"""  # noqa: S608


def _move_params(kind: TaskKind | None, today: date) -> list[Any]:
    """`kind` None: the kinds come from the due rows."""
    return [today, today, today, *([kind.kind] if kind else []), PENDING]


def _cancel_sql(source: str, only: str, kinds: str = "= %s", same_kind: str = "") -> str:
    """Cancel: pending tasks the data no longer asks for (child closed, plan ended)."""
    return f"""UPDATE followups_task t SET status = 'cancelled', closed_at = now(),
                closed_by_record = 'no longer due'
            WHERE t.kind {kinds} AND t.status = ANY(%s) {only}
              AND NOT EXISTS (SELECT 1 FROM {source} due WHERE due.child_id = t.child_id
                              {same_kind})"""  # noqa: S608


def _create_sql(source: str, kind: str = "%s", lookahead: str = "%s::integer") -> str:
    """Create: what falls due within the look-ahead, with its real (maybe past) due date. A
    task cancelled on that date comes back (a plan ended and made again the same day); a task
    done on that date stays done (a review that set no new date is not due twice)."""
    return f"""INSERT INTO followups_task (child_id, kind, due_on, assignee_id, source_id, status,
                created_at, closed_by_record)
            SELECT due.child_id, {kind}, due.due_on, due.assignee_id, due.source_id,
                CASE WHEN due.due_on < %s THEN 'overdue' ELSE 'open' END, now(), ''
            FROM {source} due
            WHERE due.due_on <= %s::date + {lookahead}
              AND NOT EXISTS (SELECT 1 FROM followups_task t WHERE t.child_id = due.child_id
                              AND t.kind = {kind} AND t.status = ANY(%s))
            ON CONFLICT ON CONSTRAINT task_once DO UPDATE SET status = EXCLUDED.status,
                assignee_id = EXCLUDED.assignee_id, source_id = EXCLUDED.source_id,
                created_at = now(), closed_at = NULL, closed_by_record = '',
                reminded_on = NULL, escalated_at = NULL, escalated_to_id = NULL
            WHERE followups_task.status = 'cancelled'"""  # noqa: S608


def _create_params(kind: TaskKind | None, today: date, lookahead: int | None) -> list[Any]:
    """`kind` None: the kinds and their look-aheads come from the due rows."""
    if kind is None:
        return [today, today, PENDING]
    return [kind.kind, today, today, lookahead, kind.kind, PENDING]


def plan_kind(kind: TaskKind, *, today: date, lookahead: int) -> KindResult:
    """Bring the tasks of one kind in line with the data for all children: move, cancel,
    create. The generator is computed once into a temporary table the three statements read
    (five statements: the generator's cost is paid once). Call it inside a transaction."""
    select, select_params = _due_select(kind, today, None)
    result = KindResult()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE due ON COMMIT DROP AS {select}", select_params)
        cursor.execute("ANALYZE due")
        cursor.execute(_move_sql("due"), _move_params(kind, today))
        result.moved = cursor.rowcount
        cursor.execute(_cancel_sql("due", ""), [kind.kind, PENDING])
        result.cancelled = cursor.rowcount
        cursor.execute(_create_sql("due"), _create_params(kind, today, lookahead))
        result.created = cursor.rowcount
        cursor.execute("DROP TABLE due")
    return result


def plan_few(
    kinds: Iterable[TaskKind], *, today: date, lookaheads: dict[str, int], child_ids: list[int]
) -> dict[str, KindResult]:
    """The same for the few children a write just touched, every kind in one statement: each
    kind's generator is a common table expression, their rows (with the kind and its
    look-ahead) are one more, and the three writes are data-modifying common table expressions
    reading it, one each for every kind (PostgreSQL plans a statement's writes one by one: three
    for six kinds cost a quarter of the planning of eighteen). They see one snapshot, which is
    what the three statements in turn would see: the moves touch the pending tasks of children
    still due, the cancellations those of children no longer due, and the creations children
    due with no pending task, so no row is written twice and none depends on another write of
    the statement."""
    kinds = list(kinds)
    if not kinds:
        return {}
    parts: list[str] = []
    params: list[Any] = []
    rows: list[str] = []
    row_params: list[Any] = []
    for i, kind in enumerate(kinds):
        select, select_params = _due_select(kind, today, child_ids)
        parts.append(f"due_{i} AS ({select})")
        params += select_params
        rows.append(f"SELECT %s, %s, d.* FROM due_{i} d")  # noqa: S608 (names made here)
        row_params += [kind.kind, lookaheads.get(kind.kind, 14)]
    columns = "kind, lookahead, child_id, due_on, assignee_id, source_id"
    cancel = _cancel_sql(
        "due", "AND t.child_id = ANY(%s)", kinds="= ANY(%s)", same_kind="AND due.kind = t.kind"
    )
    create = _create_sql("due", kind="due.kind", lookahead="due.lookahead")
    parts += [
        f"due ({columns}) AS ({' UNION ALL '.join(rows)})",
        f"moved AS ({_move_sql('due', kind='due.kind')} RETURNING t.kind)",
        f"cancelled AS ({cancel} RETURNING t.kind)",
        f"created AS ({create} RETURNING kind)",
    ]
    params += [
        *row_params,
        *_move_params(None, today),
        [kind.kind for kind in kinds],
        PENDING,
        child_ids,
        *_create_params(None, today, None),
    ]
    counts = " UNION ALL ".join(
        f"SELECT '{name}', kind, count(*) FROM {name} GROUP BY kind"  # noqa: S608 (names made here)
        for name in ("moved", "cancelled", "created")
    )
    results = {kind.kind: KindResult() for kind in kinds}
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} {counts}", params)
        for name, kind_name, count in cursor.fetchall():
            setattr(results[kind_name], name, count)
    return results


def plan_tasks(
    *, today: date, child_ids: Iterable[int] | None = None, lookaheads: dict[str, int]
) -> dict[str, KindResult]:
    """Every registered kind, for all children or only `child_ids`."""
    if child_ids is not None:
        ids = sorted(set(child_ids))
        return plan_few(task_kinds(), today=today, lookaheads=lookaheads, child_ids=ids)
    return {
        k.kind: plan_kind(k, today=today, lookahead=lookaheads.get(k.kind, 14))
        for k in task_kinds()
    }
