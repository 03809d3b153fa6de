"""Keeping the audit trail to its retention: `maintain` (the `ediary-gql audit maintain`
job) and `AuditKeeper`, the same run daily by every server process.

On PostgreSQL the trail is partitioned by month (db/partitioning.py): `maintain` makes
the months ahead and drops the months wholly older than AUDIT_RETENTION_MONTHS before
the current one, a `DROP TABLE` each rather than a `DELETE` of rows. Several processes
may run it at once (it takes a lock; the others then find nothing to do). On SQLite,
where the table is plain, it deletes the same rows.
"""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.concurrency.periodic import Periodic
from ediary_gql.db import partitioning
from ediary_gql.db.base import Base, utcnow
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.partitioning import MonthsKept

log = structlog.get_logger(__name__)
_TABLE = Base.metadata.tables[AuditEntry.__tablename__]


async def maintain(
    session_factory: async_sessionmaker[AsyncSession], *, retention_months: int, ahead: int
) -> MonthsKept:
    """Make the audit partitions ahead, drop the expired ones; what was made and dropped."""
    now = utcnow()
    async with session_factory() as session, session.begin():
        conn = await session.connection()
        return await conn.run_sync(
            lambda sync: partitioning.keep_months(sync, _TABLE, now=now, ahead=ahead, retention_months=retention_months)
        )


class AuditKeeper(Periodic):
    """`maintain` once at start (a server that was down over a month's turn catches up),
    then every `interval_seconds`, in this process."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        retention_months: int,
        ahead: int,
        interval_seconds: float,
    ) -> None:
        async def keep() -> None:
            kept = await maintain(session_factory, retention_months=retention_months, ahead=ahead)
            if kept.made or kept.dropped or kept.rows_deleted:
                log.info("audit_partitions_kept", made=kept.made, dropped=kept.dropped, rows=kept.rows_deleted)

        super().__init__(
            keep,
            name="audit-partition-keeper",
            interval_seconds=interval_seconds,
            failed_event="audit_maintenance_failed",
            at_start=True,
        )
