"""audit_entries range-partitioned by created_at on PostgreSQL, a partition a month

Revision ID: b5f8d1e6a274
Revises: 8b3d6e2f4a10
Create Date: 2026-12-07 15:30:00.000000

On PostgreSQL the table is rebuilt as `PARTITION BY RANGE (created_at)`: a new
partitioned table is made like the old one, with a partition for each month that has
rows, the current month and the next three (audit_entries_yYYYYmMM, UTC months) and
audit_entries_default; the rows are copied in, the old table dropped and the new one
renamed; its sequence keeps counting. The primary key becomes (id, created_at). The
views page by (created_at, id), so the indexes end in created_at (and id) on both
backends; on SQLite that is all that changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from alembic import op

revision: str = 'b5f8d1e6a274'
down_revision: str | None = '8b3d6e2f4a10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db/partitioning.py had it when this ran: a migration keeps its own copy.
MONTHS_AHEAD = 3
COLUMNS = 'id, actor_user_id, school_id, action, entity_type, entity_id, before, after, ip, request_id, created_at'
OLD_INDEXES = [
    ('ix_audit_entries_actor_user_id', ['actor_user_id', 'id']),
    ('ix_audit_entries_entity', ['entity_type', 'entity_id']),
    ('ix_audit_entries_school_id', ['school_id', 'id']),
]
NEW_INDEXES = [
    ('ix_audit_entries_actor_user_id', ['actor_user_id', 'created_at', 'id']),
    ('ix_audit_entries_created_at', ['created_at', 'id']),
    ('ix_audit_entries_entity', ['entity_type', 'entity_id', 'created_at']),
    ('ix_audit_entries_school_id', ['school_id', 'created_at', 'id']),
]


def _next(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_ddl(parent: str, month: dt.date) -> str:
    return (
        f'CREATE TABLE audit_entries_y{month.year:04d}m{month.month:02d} PARTITION OF {parent}'
        f" FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') TO ('{_next(month).isoformat()} 00:00:00+00')"
    )


def _keys_pg(*, partitioned: bool) -> list[str]:
    """The keys, indexes and references of audit_entries, as the models make them."""
    pk = '(id, created_at)' if partitioned else '(id)'
    indexes = NEW_INDEXES if partitioned else OLD_INDEXES
    return [
        f'ALTER TABLE audit_entries ADD CONSTRAINT pk_audit_entries PRIMARY KEY {pk}',
        *(f'CREATE INDEX {name} ON audit_entries ({", ".join(columns)})' for name, columns in indexes),
        'ALTER TABLE audit_entries ADD CONSTRAINT fk_audit_entries_actor_user_id_users'
        ' FOREIGN KEY (actor_user_id) REFERENCES users (id) ON DELETE SET NULL',
        'ALTER TABLE audit_entries ADD CONSTRAINT fk_audit_entries_school_id_schools'
        ' FOREIGN KEY (school_id) REFERENCES schools (id) ON DELETE SET NULL',
    ]


def _months_pg() -> list[dt.date]:
    """The months that have rows, the current one and the next ones (UTC)."""
    found = op.get_bind().exec_driver_sql(
        "SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date FROM audit_entries"
    )
    months = {row[0] for row in found}
    now = dt.datetime.now(dt.UTC)
    month = dt.date(now.year, now.month, 1)
    for _ in range(MONTHS_AHEAD + 1):
        months.add(month)
        month = _next(month)
    return sorted(months)


def _rebuild_pg(*, partitioned: bool) -> None:
    """Make audit_entries anew (partitioned or plain) with its rows, keys and sequence."""
    by = ' PARTITION BY RANGE (created_at)' if partitioned else ''
    # LIKE copies the columns (NOT NULL, the id's sequence default, created_at's default)
    # and the CHECKs; not the keys, indexes or references, made below under the models' names.
    op.execute(f'CREATE TABLE audit_entries_new (LIKE audit_entries INCLUDING DEFAULTS INCLUDING CONSTRAINTS){by}')
    if partitioned:
        for month in _months_pg():
            op.execute(_month_ddl('audit_entries_new', month))
        op.execute('CREATE TABLE audit_entries_default PARTITION OF audit_entries_new DEFAULT')
    op.execute(f'INSERT INTO audit_entries_new ({COLUMNS}) SELECT {COLUMNS} FROM audit_entries')  # noqa: S608 - fixed names
    # The sequence belongs to the old table's id: dropping the table would drop it too.
    op.execute('ALTER SEQUENCE audit_entries_id_seq OWNED BY NONE')
    op.execute('DROP TABLE audit_entries')  # and, going down, its partitions
    op.execute('ALTER TABLE audit_entries_new RENAME TO audit_entries')
    op.execute('ALTER SEQUENCE audit_entries_id_seq OWNED BY audit_entries.id')
    for ddl in _keys_pg(partitioned=partitioned):
        op.execute(ddl)
    op.execute('ANALYZE audit_entries')


def _indexes_sqlite(drop: list[tuple[str, list[str]]], make: list[tuple[str, list[str]]]) -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        for name, _ in drop:
            batch_op.drop_index(name)
        for name, columns in make:
            batch_op.create_index(name, columns, unique=False)
    op.execute('ANALYZE audit_entries')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _rebuild_pg(partitioned=True)
    else:
        _indexes_sqlite(OLD_INDEXES, NEW_INDEXES)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _rebuild_pg(partitioned=False)
    else:
        _indexes_sqlite(NEW_INDEXES, OLD_INDEXES)
