"""The event log: the truth about what happened, in commit order.

Every event a transaction queues is appended to `event_log` inside that transaction
(`append`, called by the unit of work just before commit), so an event exists if and
only if its change committed. Redis pub/sub (or the in-process bus) only wakes readers.

Why positions are given by a relay, not by the insert. A sequence is not commit order:
transactions A and B take ids 7 and 8, B commits first; a reader that has seen 8 and
resumes "after 8" would never see 7. So rows are appended without a position, and
`place` gives positions afterwards: it locks the one `event_log_head` row (so one relay
places at a time, in any process), takes the committed rows that have none, in id order,
and numbers them on from the head. A row not yet committed is invisible to it and gets
a higher position when it is. So a reader that has seen position N never later finds a
committed event below N: positions are commit-ordered. On SQLite the placing transaction
takes the database's write lock at its BEGIN (`_placing`), which serializes the relay the
same way: with SQLite's default deferred BEGIN it would read the head and the waiting rows
before holding the lock, and two relays (the tail and the webhook relay, or two
processes) could each number from the same head, setting it back below a position given.

Readers (`read_after`) place first, then read; `prune` drops what is older than the
retention (a job: `ediary-gql events prune`).

On PostgreSQL the log is partitioned by day of `created_at` (db/partitioning.py): `prune`
drops whole days there. Reads by position carry no `created_at` bound: `created_at` is
the append time, not the commit time, so a bound could skip an event placed late; they
probe each day's position index instead (about eight days are kept).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Table, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.db import partitioning
from ediary_gql.db.base import Base, utcnow
from ediary_gql.db.engine import WRITE_TRANSACTION
from ediary_gql.db.models.event_log import EventLogHead, EventRecord
from ediary_gql.events.types import Event

HEAD_ID = 1
PLACE_BATCH = 5000
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout run out

log = structlog.get_logger(__name__)
_TABLE: Table = Base.metadata.tables[EventRecord.__tablename__]


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    position: int
    channel: str
    kind: str
    payload: dict[str, Any]
    created_at: dt.datetime


async def append(session: AsyncSession, events: Sequence[Event]) -> None:
    """Add the transaction's events to the log (one statement for all of them)."""
    if not events:
        return
    rows = [{"channel": e.channel, "kind": e.kind, "payload": e.payload(), "created_at": utcnow()} for e in events]
    await session.execute(insert(EventRecord), rows)


@asynccontextmanager
async def _placing(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A transaction that may place: SQLite's write lock from its BEGIN (the module's doc);
    on PostgreSQL the head row's lock (`_locked_head`) does it."""
    async with session_factory() as session, session.begin():
        await session.connection(execution_options={WRITE_TRANSACTION: True})
        yield session


async def place(session_factory: async_sessionmaker[AsyncSession]) -> int:
    """Give positions to the committed events that have none; returns how many."""
    async with _placing(session_factory) as session:
        return await place_in(session)


async def place_in(session: AsyncSession) -> int:
    """`place` inside the caller's transaction (it commits the positions with its own)."""
    head = await _locked_head(session)
    waiting = list(
        (
            await session.scalars(
                select(EventRecord.id).where(EventRecord.position.is_(None)).order_by(EventRecord.id).limit(PLACE_BATCH)
            )
        ).all()
    )
    if not waiting:
        return 0
    # Positions head+1, head+2, … in id order among the rows found (all committed).
    await session.execute(
        update(EventRecord),
        [{"id": row_id, "position": head + n} for n, row_id in enumerate(waiting, start=1)],
    )
    await session.execute(
        update(EventLogHead).where(EventLogHead.id == HEAD_ID).values(last_position=head + len(waiting))
    )
    return len(waiting)


async def _locked_head(session: AsyncSession) -> int:
    """The last position given, with its row locked for this transaction. The migration
    makes the row; if it is gone (a wiped database), it is made again, above every kept
    position, by whichever relay gets there first."""
    locked = select(EventLogHead.last_position).where(EventLogHead.id == HEAD_ID).with_for_update()
    head = await session.scalar(locked)
    if head is None:
        dialect = (await session.connection()).dialect.name
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        highest = select(func.coalesce(func.max(EventRecord.position), 0)).scalar_subquery()
        await session.execute(
            upsert(EventLogHead).values(id=HEAD_ID, last_position=highest).on_conflict_do_nothing(index_elements=["id"])
        )
        head = await session.scalar(locked)
    return int(head or 0)


async def read_after(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    after: int,
    limit: int,
    channels: Sequence[str] | None = None,
    up_to: int | None = None,
    place_first: bool = True,
) -> list[LoggedEvent]:
    """The placed events above `after` (and at most `up_to`), in position order; those
    waiting for a position are placed first unless `place_first` is False."""
    if place_first:
        await place(session_factory)
    stmt = select(EventRecord).where(EventRecord.position > after)
    if up_to is not None:
        stmt = stmt.where(EventRecord.position <= up_to)
    if channels is not None:
        stmt = stmt.where(EventRecord.channel.in_(list(channels)))
    async with session_factory() as session:
        rows = (await session.scalars(stmt.order_by(EventRecord.position).limit(limit))).all()
    return [LoggedEvent(r.position or 0, r.channel, r.kind, r.payload, r.created_at) for r in rows]


async def head(session_factory: async_sessionmaker[AsyncSession]) -> int:
    """The last position given, after placing what waits: the log's end now."""
    async with _placing(session_factory) as session:
        await place_in(session)
        return await _locked_head(session)


async def covers(session_factory: async_sessionmaker[AsyncSession], after: int, *, end: int) -> bool:
    """Whether the log still holds every event after position `after` up to `end` (its end
    as the reader knows it): not for a cursor pruned past, nor for one beyond the end
    (another database's)."""
    if after > end:
        return False
    oldest = await oldest_position(session_factory)
    return after >= end if oldest is None else after + 1 >= oldest


async def oldest_position(session_factory: async_sessionmaker[AsyncSession]) -> int | None:
    """The lowest position still kept (a cursor below it has been pruned away)."""
    async with session_factory() as session:
        return await session.scalar(select(func.min(EventRecord.position)))


async def prune(session_factory: async_sessionmaker[AsyncSession], *, older_than: dt.datetime) -> int:
    """Drop the placed events created before `older_than`, as a prefix of positions (up
    to the last such event), so what is kept never has a hole a cursor could fall into;
    returns how many.

    On PostgreSQL `older_than` is taken back to its (UTC) midnight, so that whole days go:
    the days wholly before it are dropped (`DROP TABLE`), and only the prefix's few rows
    in later days (events placed after a later one, or in the default) are deleted. If
    the log's lock is not got within LOCK_TIMEOUT, those days' rows are deleted instead."""
    await place(session_factory)
    async with session_factory() as session, session.begin():
        conn = await session.connection()
        partitioned = conn.dialect.name == "postgresql"
        if partitioned:
            older_than = partitioning.midnight(partitioning.period_of("day", older_than))
        last_old = await session.scalar(
            select(func.max(EventRecord.position)).where(EventRecord.created_at < older_than)
        )
        if last_old is None:
            return 0
        dropped = 0
        if partitioned:
            dropped = await conn.run_sync(lambda sync: _drop_old_days(sync, older_than=older_than, last_old=last_old))
        # One transaction with the drops: no reader sees the days gone and the rest of the prefix kept.
        result = await session.execute(
            delete(EventRecord).where(EventRecord.position <= last_old).execution_options(synchronize_session=False)
        )
    return dropped + int(result.rowcount or 0)  # type: ignore[attr-defined]


def _drop_old_days(connection: Connection, *, older_than: dt.datetime, last_old: int) -> int:
    """Drop the day partitions wholly older than `older_than` whose rows are all in the
    prefix (at most `last_old`; they are by construction, bar one committed but not placed
    yet, which keeps its day); how many rows they held. 0 if the lock is not got in time."""
    old = partitioning.expired_partitions(connection, _TABLE, before=older_than)
    if not old:
        return 0
    held = {name: int(connection.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one()) for name in old}  # noqa: S608 - our names
    savepoint = connection.begin_nested()
    try:
        # A DROP locks the log against readers and writers alike: behind a long transaction
        # it would hold up everything queued after it, so it waits briefly, then gives up.
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{partitioning.LOCK_TIMEOUT}'")
        connection.exec_driver_sql(f"LOCK TABLE {_TABLE.name} IN ACCESS EXCLUSIVE MODE")
        connection.exec_driver_sql("SET LOCAL lock_timeout = DEFAULT")
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        savepoint.rollback()
        log.warning("event_log_days_not_dropped", reason="lock timeout", days=old)
        return 0
    dropped = 0
    # another prune may have dropped some while this one waited for the lock
    still = set(partitioning.expired_partitions(connection, _TABLE, before=older_than))
    for name in (n for n in old if n in still):
        outside = connection.execute(
            text(f"SELECT 1 FROM {name} WHERE position IS NULL OR position > :last LIMIT 1"),  # noqa: S608 - our names
            {"last": last_old},
        ).first()
        if outside is None:
            connection.exec_driver_sql(f"DROP TABLE {name}")
            dropped += held[name]
    savepoint.commit()
    return dropped


def make_days_ahead(connection: Connection, *, now: dt.datetime) -> list[str]:
    """The log's day partitions for today and DAYS_AHEAD more (PostgreSQL); those made."""
    if connection.dialect.name != "postgresql":
        return []
    return partitioning.make_ahead(connection, _TABLE, now=now, ahead=partitioning.DAYS_AHEAD)
