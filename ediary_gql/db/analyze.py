"""Planner statistics for the partitioned tables.

Autovacuum analyzes each partition as its rows change, but never a partitioned parent
(it holds no rows of its own), so the planner has no statistics for `attendances` as a
whole until somebody runs ANALYZE on it: a join from lessons into it is then planned as
if it were empty, and the class journal took seconds instead of milliseconds. So ANALYZE
runs on every partitioned parent at the end of a migration that copies rows into one and
nightly (`ediary-gql db analyze` from cron), and on every table after a bulk load (the
demo and scale seeds), before autovacuum gets to the plain ones.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# the catalog, not the models: whatever the migrations made partitioned is analyzed
_PARENTS = text(
    "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND NOT c.relispartition ORDER BY c.relname"
)


async def analyze_all(session_factory: async_sessionmaker[AsyncSession]) -> None:
    """ANALYZE every table, after a bulk load: autovacuum would analyze the plain tables a
    minute or so later, but the first requests would be planned without statistics (and
    the partitioned parents not at all). SQLite's ANALYZE feeds its planner too."""
    async with session_factory() as session, session.begin():
        await session.execute(text("ANALYZE"))


async def analyze_partitioned(session_factory: async_sessionmaker[AsyncSession]) -> list[str]:
    """ANALYZE each partitioned parent table (sampling its partitions); the tables done.
    On SQLite nothing is partitioned: none."""
    async with session_factory() as session, session.begin():
        if (await session.connection()).dialect.name != "postgresql":
            return []
        names = list((await session.scalars(_PARENTS)).all())
        for name in names:
            # a catalog name, quoted: not user input
            await session.execute(text(f'ANALYZE "{name}"'))
    return names
