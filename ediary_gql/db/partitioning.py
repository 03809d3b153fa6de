"""Declarative partitioning on PostgreSQL; plain tables on SQLite.

A partitioned table names its key in its `__table_args__` kwargs, one of two kinds:

- `partitioned_by(key)`: `PARTITION BY HASH (key)`, with `MODULUS` fixed partitions
  `<table>_p<n>`, and the primary key `(key, id)`;
- `partitioned_by_month(key)` / `partitioned_by_day(key)`: `PARTITION BY RANGE (key)`
  over a timestamp, a partition a period (a `Period`: a month `<table>_yYYYYmMM`, a day
  `<table>_yYYYYmMMdDD`, each `[its first instant, the next period's)` in UTC) plus
  `<table>_default` for whatever no period holds, and the primary key `(id, key)`. The
  periods are made ahead by `make_ahead` and the old ones dropped (`keep_months` for a
  month table; the event log's prune for its days), so a retention is a `DROP TABLE` of
  whole periods rather than a `DELETE` of rows.

Either is made right after the table by `create_all` (an `after_create` event; a range
table gets its default, the current period and `MONTHS_AHEAD` or `DAYS_AHEAD` more), by
the migration otherwise. PostgreSQL wants the partition key in every unique index,
hence the primary keys above. The metadata (and so the ORM and SQLite) keeps `id` alone as the primary
key: SQLite only auto-increments a one-column `INTEGER PRIMARY KEY`, and `id` alone
stays the ORM identity on both backends, as it is unique by its sequence anyway.
Alembic does not compare primary keys; tests/db/test_migrations.py checks these ones
itself.

The partitions are not in the metadata: `include_name` leaves them out of Alembic's
comparison (env.py and the migration test), as they are made from the parent's key.

An index on `(key, id)` is what the primary key already is on PostgreSQL; SQLite, whose
key is `id` alone, still needs it (the inbox's order, the parent key of a composite
reference `(key, x_id)`): `sqlite_only(index)` makes it there only. The other way round,
PostgreSQL needs an index on `id` alone for a look-up by id (`by_id`). `include_object(dialect)`
leaves such an index out of the comparison on the other backend.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, Table, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import DDLCompiler

from ediary_gql.db.base import Base

# Hash partitions per school-owned table. Fixed: changing it means re-partitioning
# (a new table and a copy), so it is chosen for the national size: 42,000 schools
# spread over 8 partitions, each small enough to vacuum and index quickly.
MODULUS = 8
# Months made ahead of the current one: the daily job runs well before a month starts,
# and a missed run or two still finds its month there (rows never land in the default).
MONTHS_AHEAD = 3
# Days made ahead of the current one, for the same reason (the event log's prune makes them).
DAYS_AHEAD = 3

# How long make_ahead, and the event log's drop of old days, wait for the parent's lock
# before they give up (see there).
LOCK_TIMEOUT = "3s"

Period = Literal["month", "day"]
Kind = Literal["hash", "month", "day"]

_INFO_KEY = "partition_key"
_INFO_KIND = "partition_kind"
_HASH_NAME = re.compile(r"^(?P<parent>\w+)_p\d+$")
_RANGE_NAME = re.compile(r"^(?P<parent>\w+)_(y(?P<year>\d{4})m(?P<month>\d{2})(d(?P<day>\d{2}))?|default)$")
_AHEAD: dict[Period, int] = {"month": MONTHS_AHEAD, "day": DAYS_AHEAD}


def partitioned_by(key: str) -> dict[str, Any]:
    """Table kwargs for a table hash-partitioned by `key` on PostgreSQL."""
    return {"postgresql_partition_by": f"HASH ({key})", "info": {_INFO_KEY: key, _INFO_KIND: "hash"}}


def partitioned_by_range(key: str, period: Period) -> dict[str, Any]:
    """Table kwargs for a table range-partitioned by the timestamp `key`, a period a partition."""
    return {"postgresql_partition_by": f"RANGE ({key})", "info": {_INFO_KEY: key, _INFO_KIND: period}}


def partitioned_by_month(key: str) -> dict[str, Any]:
    return partitioned_by_range(key, "month")


def partitioned_by_day(key: str) -> dict[str, Any]:
    return partitioned_by_range(key, "day")


def partition_key(table: Table) -> str | None:
    key = table.info.get(_INFO_KEY)
    return key if isinstance(key, str) else None


def partition_kind(table: Table) -> Kind | None:
    kind = table.info.get(_INFO_KIND)
    return "hash" if kind == "hash" else "month" if kind == "month" else "day" if kind == "day" else None


# --- hash ---------------------------------------------------------------------


def partition_names(table_name: str) -> list[str]:
    return [f"{table_name}_p{n}" for n in range(MODULUS)]


def partitions_ddl(table_name: str) -> list[str]:
    """CREATE TABLE … PARTITION OF for each hash partition of the table."""
    return [
        f"CREATE TABLE {name} PARTITION OF {table_name} FOR VALUES WITH (MODULUS {MODULUS}, REMAINDER {n})"
        for n, name in enumerate(partition_names(table_name))
    ]


# --- a range partition a month or a day ---------------------------------------


def _day(moment: dt.datetime | dt.date) -> dt.date:
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    return dt.date(moment.year, moment.month, moment.day)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def period_of(period: Period, moment: dt.datetime | dt.date) -> dt.date:
    """The first day of the (UTC) month or the (UTC) day of `moment`."""
    day = _day(moment)
    return day if period == "day" else day.replace(day=1)


def add_periods(period: Period, start: dt.date, n: int) -> dt.date:
    return start + dt.timedelta(days=n) if period == "day" else add_months(start, n)


def range_name(table_name: str, period: Period, start: dt.date) -> str:
    day = f"d{start.day:02d}" if period == "day" else ""
    return f"{table_name}_y{start.year:04d}m{start.month:02d}{day}"


def range_ddl(table_name: str, period: Period, start: dt.date) -> str:
    """CREATE TABLE … PARTITION OF for the month or day starting `start`."""
    return (
        f"CREATE TABLE IF NOT EXISTS {range_name(table_name, period, start)} PARTITION OF {table_name}"
        f" FOR VALUES FROM ({_bound(start)}) TO ({_bound(add_periods(period, start, 1))})"
    )


def default_name(table_name: str) -> str:
    return f"{table_name}_default"


def _bound(start: dt.date) -> str:
    return f"'{start.isoformat()} 00:00:00+00'"


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def default_ddl(table_name: str) -> str:
    return f"CREATE TABLE IF NOT EXISTS {default_name(table_name)} PARTITION OF {table_name} DEFAULT"


def _range_period(table: Table) -> tuple[str, Period]:
    key, kind = partition_key(table), partition_kind(table)
    if key is None or kind not in ("month", "day"):
        raise ValueError(f"{table.name} is not partitioned by range")
    return key, "day" if kind == "day" else "month"


def range_partitions(connection: Connection, table: Table) -> dict[dt.date, str]:
    """The month or day partitions the table has now, by their first day."""
    _range_period(table)  # a range table, or ValueError
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = CAST(:t AS regclass)"
        ),
        {"t": table.name},
    ).scalars()
    found: dict[dt.date, str] = {}
    for name in rows:
        match = _RANGE_NAME.match(name)
        if match is not None and match["year"] and is_partition_of(name, table):
            found[dt.date(int(match["year"]), int(match["month"]), int(match["day"] or 1))] = name
    return found


def _make_range(connection: Connection, table: Table, start: dt.date) -> None:
    """The partition starting `start`; rows of it already in the default move into it on
    the way (PostgreSQL refuses a partition whose rows the default holds)."""
    key, period = _range_period(table)
    lo, hi = _bound(start), _bound(add_periods(period, start, 1))
    default = default_name(table.name)
    stray = connection.exec_driver_sql(
        f"SELECT 1 FROM {default} WHERE {key} >= {lo} AND {key} < {hi} LIMIT 1"  # noqa: S608 - fixed names
    ).first()
    if stray is None:
        connection.exec_driver_sql(range_ddl(table.name, period, start))
        return
    name = range_name(table.name, period, start)
    connection.exec_driver_sql(f"CREATE TABLE {name} (LIKE {table.name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    connection.exec_driver_sql(
        f"WITH moved AS (DELETE FROM {default} WHERE {key} >= {lo} AND {key} < {hi}"  # noqa: S608
        f" RETURNING *) INSERT INTO {name} SELECT * FROM moved"
    )
    connection.exec_driver_sql(f"ALTER TABLE {table.name} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})")


def make_ahead(connection: Connection, table: Table, *, now: dt.datetime, ahead: int) -> list[str]:
    """Make the default, the current period's partition and `ahead` more (PostgreSQL);
    the names of those made. Leaves `lock_timeout` set for the rest of the transaction."""
    _, period = _range_period(table)
    # several processes at once: one makes (and drops), the others then find it done
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"partitions:{table.name}"})
    # Making or dropping a partition locks the parent against every write: behind a long
    # transaction it would hold up the writes queued after it, so it gives up instead
    # (the periods are made ahead: the next run has time to try again).
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    connection.exec_driver_sql(default_ddl(table.name))
    have = range_partitions(connection, table)
    made: list[str] = []
    current = period_of(period, now)
    for n in range(ahead + 1):
        start = add_periods(period, current, n)
        if start not in have:
            _make_range(connection, table, start)
            made.append(range_name(table.name, period, start))
    return made


def expired_partitions(connection: Connection, table: Table, *, before: dt.datetime) -> list[str]:
    """The month or day partitions wholly older than `before`, oldest first."""
    _, period = _range_period(table)
    return [
        name
        for start, name in sorted(range_partitions(connection, table).items())
        if midnight(add_periods(period, start, 1)) <= before
    ]


@dataclass(slots=True)
class MonthsKept:
    made: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    rows_deleted: int = 0


def keep_months(
    connection: Connection, table: Table, *, now: dt.datetime, ahead: int, retention_months: int
) -> MonthsKept:
    """Make the current month's partition and `ahead` more; drop the months wholly older
    than the `retention_months` before the current one (and such rows from the default).
    On SQLite, where the table is plain, it deletes those rows instead."""
    key, period = _range_period(table)
    if period != "month":
        raise ValueError(f"{table.name} is not partitioned by month")
    cutoff = midnight(add_months(period_of("month", now), -retention_months))
    kept = MonthsKept()
    if connection.dialect.name != "postgresql":
        deleted = connection.execute(table.delete().where(table.c[key] < cutoff))
        kept.rows_deleted = int(deleted.rowcount or 0)
        return kept
    kept.made = make_ahead(connection, table, now=now, ahead=ahead)
    for name in expired_partitions(connection, table, before=cutoff):
        connection.exec_driver_sql(f"DROP TABLE {name}")
        kept.dropped.append(name)
    deleted = connection.execute(
        text(f"DELETE FROM {default_name(table.name)} WHERE {key} < :cutoff"),  # noqa: S608 - fixed names
        {"cutoff": cutoff},
    )
    kept.rows_deleted = int(deleted.rowcount or 0)
    return kept


# --- both ---------------------------------------------------------------------


def is_partition_of(name: str, parent: Table) -> bool:
    kind = partition_kind(parent)
    if kind == "hash":
        return name in partition_names(parent.name)
    found = _RANGE_NAME.match(name)
    if kind not in ("month", "day") or found is None or found["parent"] != parent.name:
        return False
    return found["year"] is None or (found["day"] is not None) == (kind == "day")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name`: a partition is not compared; its parent is."""
    return type_ != "table" or name is None or not _is_partition(name)


def _is_partition(name: str) -> bool:
    for pattern in (_HASH_NAME, _RANGE_NAME):
        found = pattern.match(name)
        parent = Base.metadata.tables.get(found["parent"]) if found is not None else None
        if parent is not None and is_partition_of(name, parent):
            return True
    return False


def sqlite_only(index: Index) -> Index:
    """An index made on SQLite only: on PostgreSQL the partitioned primary key is it."""
    return index.ddl_if(dialect="sqlite")


def referable_key(table_name: str, key: str) -> Index:
    """The unique index `(key, id)` that references into the table, `(key, <x>_id)`,
    point at, on SQLite only: on PostgreSQL the primary key is already `(key, id)`."""
    return sqlite_only(Index(f"uq_{table_name}_{key}_id", key, "id", unique=True))


def by_id(table_name: str) -> Index:
    """The index a hash-partitioned table needs for a look-up by `id` alone (`node(id:)`,
    a loader by id), made on PostgreSQL only: there the primary key leads with the
    partition key, which such a look-up does not know, so without it each partition's key
    index is read whole. On SQLite `id` is the key itself."""
    return Index(f"ix_{table_name}_id", "id").ddl_if(dialect="postgresql")


def include_object(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's `include_object` for a database of `dialect`: an object of the models made
    on one backend only (`ddl_if(dialect=…)`: `sqlite_only`, `by_id`, a reference that
    differs by backend) is not looked for in the other's database; and the references
    PostgreSQL makes itself, from a reference into a partitioned table to each of its
    partitions (`…_fkey<n>`), are not compared: the reference to the parent is."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if reflected:
            return not (isinstance(obj, ForeignKeyConstraint) and _is_partition(obj.referred_table.name))
        only_on = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return only_on is None or only_on == dialect

    return include


@compiles(PrimaryKeyConstraint, "postgresql")
def _primary_key(constraint: PrimaryKeyConstraint, compiler: DDLCompiler, **kw: Any) -> str:
    """With the partition key: hash tables lead with it (a school's rows together), range
    tables end with it (an id is looked up alone)."""
    table = constraint.table
    key = partition_key(table) if isinstance(table, Table) else None
    if key is None or key in constraint.columns:
        return compiler.visit_primary_key_constraint(constraint, **kw)
    ids = list(constraint.columns.keys())
    ordered = [*ids, key] if isinstance(table, Table) and partition_kind(table) in ("month", "day") else [key, *ids]
    columns = ", ".join(compiler.preparer.quote(c) for c in ordered)
    name = compiler.preparer.format_constraint(constraint) if constraint.name is not None else None
    return (f"CONSTRAINT {name} " if name else "") + f"PRIMARY KEY ({columns})"


def _make_partitions(table: Table, connection: Connection, **kw: Any) -> None:
    if connection.dialect.name != "postgresql" or partition_key(table) is None:
        return
    kind = partition_kind(table)
    if kind == "month" or kind == "day":
        current = period_of(kind, dt.datetime.now(dt.UTC))
        ddl = [
            default_ddl(table.name),
            *(range_ddl(table.name, kind, add_periods(kind, current, n)) for n in range(_AHEAD[kind] + 1)),
        ]
    else:
        ddl = partitions_ddl(table.name)
    for statement in ddl:
        connection.exec_driver_sql(statement)


def register(table: object) -> None:
    """`create_all` makes the partitions right after the partitioned table."""
    if not isinstance(table, Table):
        raise TypeError(f"a table is partitioned, not {table!r}")
    event.listen(table, "after_create", _make_partitions)
