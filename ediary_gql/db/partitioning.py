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

A reference into a partitioned table names the key too: `(key, <x>_id) → <table> (key,
id)`, PostgreSQL's primary key there. It is the same reference on SQLite, where the
primary key is `id` alone: SQLite wants a unique index on the referenced columns, so
`referable_key` gives the table one on SQLite only (on PostgreSQL it would repeat the
primary key). `include_object` leaves such one-backend objects out of the comparison on
the other backend.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Index, PrimaryKeyConstraint, Table, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import DDLCompiler

from ediary_gql.db.base import Base

# Hash partitions per school-owned table. Fixed: changing it means re-partitioning
# (a new table and a copy), so it is chosen for the national size: 42,000 schools
# spread over 8 partitions, each small enough to vacuum and index quickly.
MODULUS = 8

_INFO_KEY = "partition_key"
_PARTITION_NAME = re.compile(r"^(?P<parent>\w+)_p\d+$")


def partitioned_by(key: str) -> dict[str, Any]:
    """Table kwargs for a table hash-partitioned by `key` on PostgreSQL."""
    return {"postgresql_partition_by": f"HASH ({key})", "info": {_INFO_KEY: key}}


def referable_key(table_name: str, key: str) -> Index:
    """The unique index `(key, id)` references into the table point at, on SQLite only:
    on PostgreSQL the primary key is already `(key, id)`."""
    return Index(f"uq_{table_name}_{key}_id", key, "id", unique=True).ddl_if(dialect="sqlite")


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
    if type_ != "table" or name is None:
        return True

    found = _PARTITION_NAME.match(name)
    if found is None:
        return True
    parent = Base.metadata.tables.get(found["parent"])
    return parent is None or partition_key(parent) is None or name not in partition_names(parent.name)


def _is_partition(name: str) -> bool:
    return not include_name(name, "table", {})


def include_object(dialect_name: str) -> Any:
    """Alembic's `include_object` on `dialect_name`: a model object made on another
    backend only (`ddl_if(dialect=…)`, as `referable_key`) is not compared there; nor
    are the references PostgreSQL itself makes to each partition under a reference to a
    partitioned table (`<table>_<columns>_fkey<n>`), which are part of that one."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if reflected:
            referred = getattr(obj, "referred_table", None) if type_ == "foreign_key_constraint" else None
            return referred is None or not _is_partition(referred.name)
        only_on = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return only_on is None or only_on == dialect_name

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
