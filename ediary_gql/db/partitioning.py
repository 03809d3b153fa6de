"""Declarative partitioning on PostgreSQL; plain tables on SQLite.

A partitioned table names its key in `partitioned_by(...)` (its `__table_args__` kwargs).
On PostgreSQL that gives:

- `PARTITION BY HASH (key)`, with `MODULUS` fixed partitions `<table>_p<n>` made right
  after the table (by `create_all` here, by the migration otherwise);
- the primary key `(key, id)`: PostgreSQL wants the partition key in every unique
  index. The metadata (and so the ORM and SQLite) keeps `id` alone as the primary
  key: SQLite only auto-increments a one-column `INTEGER PRIMARY KEY`, and `id` alone
  stays the ORM identity on both backends, as it is unique by its sequence anyway.
  Alembic does not compare primary keys; tests/db/test_migrations.py checks these
  ones itself.

The partitions are not in the metadata: `include_name` leaves them out of Alembic's
comparison (env.py and the migration test), as they are made from the parent's key.

An index on `(key, id)` is what the primary key already is on PostgreSQL; SQLite, whose
key is `id` alone, still needs it (the inbox's order, the parent key of a composite
reference `(key, x_id)`): `sqlite_only(index)` makes it there only, and
`include_object(dialect)` leaves it out of the comparison elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, Table, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import DDLCompiler

from ediary_gql.db.base import Base

# Hash partitions per school-owned table. Fixed: changing it means re-partitioning
# (a new table and a copy), so it is chosen for the national size: 42,000 schools
# spread over 8 partitions, each small enough to vacuum and index quickly.
MODULUS = 8

_INFO_KEY = "partition_key"
_SQLITE_ONLY = "sqlite_only"
_PARTITION_NAME = re.compile(r"^(?P<parent>\w+)_p\d+$")


def partitioned_by(key: str) -> dict[str, Any]:
    """Table kwargs for a table hash-partitioned by `key` on PostgreSQL."""
    return {"postgresql_partition_by": f"HASH ({key})", "info": {_INFO_KEY: key}}


def partition_key(table: Table) -> str | None:
    key = table.info.get(_INFO_KEY)
    return key if isinstance(key, str) else None


def partition_names(table_name: str) -> list[str]:
    return [f"{table_name}_p{n}" for n in range(MODULUS)]


def partitions_ddl(table_name: str) -> list[str]:
    """CREATE TABLE … PARTITION OF for each hash partition of the table."""
    return [
        f"CREATE TABLE {name} PARTITION OF {table_name} FOR VALUES WITH (MODULUS {MODULUS}, REMAINDER {n})"
        for n, name in enumerate(partition_names(table_name))
    ]


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name`: a partition is not compared; its parent is."""
    return type_ != "table" or name is None or not _is_partition(name)


def _is_partition(name: str) -> bool:
    found = _PARTITION_NAME.match(name)
    if found is None:
        return False
    parent = Base.metadata.tables.get(found["parent"])
    return parent is not None and partition_key(parent) is not None and name in partition_names(parent.name)


def sqlite_only(index: Index) -> Index:
    """An index made on SQLite only: on PostgreSQL the partitioned primary key is it."""
    index.info[_SQLITE_ONLY] = True
    return index.ddl_if(dialect="sqlite")


def include_object(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's `include_object` for a database of `dialect`: a SQLite-only index of the
    models is not looked for in another backend's database; and the references PostgreSQL
    makes itself, from a reference into a partitioned table to each of its partitions
    (`…_fkey<n>`), are not compared: the reference to the parent is."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if reflected:
            return not (isinstance(obj, ForeignKeyConstraint) and _is_partition(obj.referred_table.name))
        return dialect == "sqlite" or not (isinstance(obj, Index) and obj.info.get(_SQLITE_ONLY))

    return include


@compiles(PrimaryKeyConstraint, "postgresql")
def _primary_key(constraint: PrimaryKeyConstraint, compiler: DDLCompiler, **kw: Any) -> str:
    table = constraint.table
    key = partition_key(table) if isinstance(table, Table) else None
    if key is None or key in constraint.columns:
        return compiler.visit_primary_key_constraint(constraint, **kw)
    columns = ", ".join(compiler.preparer.quote(c) for c in (key, *constraint.columns.keys()))
    name = compiler.preparer.format_constraint(constraint) if constraint.name is not None else None
    return (f"CONSTRAINT {name} " if name else "") + f"PRIMARY KEY ({columns})"


def _make_partitions(table: Table, connection: Connection, **kw: Any) -> None:
    if connection.dialect.name == "postgresql" and partition_key(table) is not None:
        for ddl in partitions_ddl(table.name):
            connection.exec_driver_sql(ddl)


def register(table: object) -> None:
    """`create_all` makes the partitions right after the partitioned table."""
    if not isinstance(table, Table):
        raise TypeError(f"a table is partitioned, not {table!r}")
    event.listen(table, "after_create", _make_partitions)
