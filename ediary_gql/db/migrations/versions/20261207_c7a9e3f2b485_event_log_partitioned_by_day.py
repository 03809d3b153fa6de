"""event_log range-partitioned by created_at on PostgreSQL, a partition a day

Revision ID: c7a9e3f2b485
Revises: 9c4e7a1b2d30
Create Date: 2026-12-07 16:00:00.000000

On PostgreSQL the table is rebuilt as `PARTITION BY RANGE (created_at)`: a new
partitioned table is made like the old one, with a partition for each (UTC) day that
has rows, today and the next three (event_log_yYYYYmMMdDD) and event_log_default; the
rows are copied in with their ids and positions, the old table dropped and the new one
renamed; its sequence keeps counting. The primary key becomes (id, created_at), and
position is unique with created_at (PostgreSQL wants the partition key in a unique
index; the relay keeps positions unique alone). On SQLite only that unique constraint
changes. event_log_head is not touched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from alembic import op

revision: str = 'c7a9e3f2b485'
down_revision: str | None = '9c4e7a1b2d30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db/partitioning.py had it when this ran: a migration keeps its own copy.
DAYS_AHEAD = 3
COLUMNS = 'id, position, channel, kind, payload, created_at'
OLD_UNIQUE = ('uq_event_log_position', ['position'])
NEW_UNIQUE = ('uq_event_log_position_created_at', ['position', 'created_at'])


def _day_ddl(parent: str, day: dt.date) -> str:
    following = day + dt.timedelta(days=1)
    return (
        f'CREATE TABLE event_log_y{day.year:04d}m{day.month:02d}d{day.day:02d} PARTITION OF {parent}'
        f" FOR VALUES FROM ('{day.isoformat()} 00:00:00+00') TO ('{following.isoformat()} 00:00:00+00')"
    )


def _keys_pg(*, partitioned: bool) -> list[str]:
    """The keys and indexes of event_log, as the models make them."""
    pk = '(id, created_at)' if partitioned else '(id)'
    unique_name, unique_columns = NEW_UNIQUE if partitioned else OLD_UNIQUE
    return [
        f'ALTER TABLE event_log ADD CONSTRAINT pk_event_log PRIMARY KEY {pk}',
        f'ALTER TABLE event_log ADD CONSTRAINT {unique_name} UNIQUE ({", ".join(unique_columns)})',
        'CREATE INDEX ix_event_log_channel_position ON event_log (channel, position)',
        'CREATE INDEX ix_event_log_unplaced ON event_log (id) WHERE position IS NULL',
    ]


def _days_pg() -> list[dt.date]:
    """The days that have rows, today and the next ones (UTC)."""
    found = op.get_bind().exec_driver_sql(
        "SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM event_log"
    )
    days = {row[0] for row in found}
    today = dt.datetime.now(dt.UTC).date()
    days.update(today + dt.timedelta(days=n) for n in range(DAYS_AHEAD + 1))
    return sorted(days)


def _rebuild_pg(*, partitioned: bool) -> None:
    """Make event_log anew (partitioned or plain) with its rows, keys and sequence."""
    by = ' PARTITION BY RANGE (created_at)' if partitioned else ''
    # LIKE copies the columns (NOT NULL, the id's sequence default, created_at's default)
    # and the CHECKs; not the keys or indexes, made below under the models' names.
    op.execute(f'CREATE TABLE event_log_new (LIKE event_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS){by}')
    if partitioned:
        for day in _days_pg():
            op.execute(_day_ddl('event_log_new', day))
        op.execute('CREATE TABLE event_log_default PARTITION OF event_log_new DEFAULT')
    op.execute(f'INSERT INTO event_log_new ({COLUMNS}) SELECT {COLUMNS} FROM event_log')  # noqa: S608 - fixed names
    # The sequence belongs to the old table's id: dropping the table would drop it too.
    op.execute('ALTER SEQUENCE event_log_id_seq OWNED BY NONE')
    op.execute('DROP TABLE event_log')  # and, going down, its partitions
    op.execute('ALTER TABLE event_log_new RENAME TO event_log')
    op.execute('ALTER SEQUENCE event_log_id_seq OWNED BY event_log.id')
    for ddl in _keys_pg(partitioned=partitioned):
        op.execute(ddl)
    op.execute('ANALYZE event_log')


def _unique_sqlite(drop: tuple[str, list[str]], make: tuple[str, list[str]]) -> None:
    with op.batch_alter_table('event_log', schema=None) as batch_op:
        batch_op.drop_constraint(drop[0], type_='unique')
        batch_op.create_unique_constraint(make[0], make[1])
    op.execute('ANALYZE event_log')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _rebuild_pg(partitioned=True)
    else:
        _unique_sqlite(OLD_UNIQUE, NEW_UNIQUE)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _rebuild_pg(partitioned=False)
    else:
        _unique_sqlite(NEW_UNIQUE, OLD_UNIQUE)
