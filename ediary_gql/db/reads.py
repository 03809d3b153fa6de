"""Single-statement reads on the hottest paths, straight through the driver on PostgreSQL.

Every request authenticates, and the diary is the page read most. For a statement
like theirs, SQLAlchemy's session and execution layers cost more CPU than the
driver's round trip itself. A `ReadStatement` is such a statement, compiled once
for asyncpg; `DriverReads` checks a connection out of the engine's own pool and
runs it with asyncpg, outside any transaction. `SessionReads` runs the same
statement through an ordinary session (SQLite).

What the driver path leaves out, and so what these statements may not need:
SQLAlchemy's type processing. Parameters go as given (integers, strings, dates)
and values come back as the driver decodes them, so they select plain columns
(and JSON as text or bytes). Every statement still passes the engine's
`before_cursor_execute` event, so statement counts see it, and SQL_ECHO logs it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import CompoundSelect, Select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.util import greenlet_spawn

_ECHO = logging.getLogger("sqlalchemy.engine.Engine")
_ASYNCPG = PGDialect_asyncpg()  # type: ignore[no-untyped-call]

Rows = Sequence[Sequence[Any]]


class ReadStatement:
    """A read-only Core statement (named bound parameters), kept with its asyncpg form.
    Or an UPDATE … RETURNING of the driver path alone, which runs it outside any
    transaction, so that it commits by itself (db/replicas.py's write position)."""

    def __init__(self, statement: Select[Any] | CompoundSelect[Any] | ReturningUpdate[Any]) -> None:
        self.statement = statement

    @cached_property
    def asyncpg(self) -> tuple[str, tuple[str, ...], dict[str, Any], frozenset[str]]:
        """The SQL with $n placeholders, the parameter name of each, the values of those
        fixed in the statement itself (its literals), and the names a read must give."""
        compiled = self.statement.compile(dialect=_ASYNCPG)
        required = frozenset(name for name, bind in compiled.binds.items() if bind.required)
        return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params), required


class Reads(Protocol):
    async def rows(self, read: ReadStatement, params: Mapping[str, Any]) -> Rows:
        """Every row of `read` with `params`."""
        ...


class SessionReads:
    """Through a short session from `factory` (sessions for reads only)."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory

    async def rows(self, read: ReadStatement, params: Mapping[str, Any]) -> Rows:
        async with self._factory() as session:
            rows: Rows = (await session.execute(read.statement, dict(params))).all()
            return rows


class DriverReads:
    """Through asyncpg itself, on a connection of `engine`'s pool, outside any transaction.

    The connection is checked out of the pool as a bare pool connection, not an engine
    `Connection`: the pool's own checkout and checkin (its events: the idle ping, the
    replicas' checks) run as ever, in one greenlet each, without the `Connection` object
    and its third greenlet (a fifth of a signed-in `{ __typename }`'s statement CPU)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def rows(self, read: ReadStatement, params: Mapping[str, Any]) -> Rows:
        sql, names, fixed, required = read.asyncpg
        if missing := required - params.keys():
            raise KeyError(f"parameters not given: {', '.join(sorted(missing))}")
        values = {**fixed, **params}
        args = [values[name] for name in names]
        sync_engine = self._engine.sync_engine
        pooled = await greenlet_spawn(sync_engine.raw_connection)
        try:
            sync_engine.dispatch.before_cursor_execute(None, None, sql, args, None, False)
            if self._engine.echo:  # SQL_ECHO: logged where SQLAlchemy logs its own statements
                _ECHO.info("%s\n[driver] %r", sql, args)
            driver = pooled.driver_connection
            try:
                rows: Rows = await driver.fetch(sql, *args)  # type: ignore[union-attr]
            except Exception:
                # a connection the server dropped would go back to the pool and fail the
                # next read too, so it is thrown away instead
                if driver.is_closed():  # type: ignore[union-attr]
                    await greenlet_spawn(pooled.invalidate)
                raise
            return rows
        finally:
            await greenlet_spawn(pooled.close)  # back to the pool (a no-op once invalidated)


def create_reads(engine: AsyncEngine, read_session_factory: async_sessionmaker[AsyncSession]) -> Reads:
    if engine.dialect.name == "postgresql":
        return DriverReads(engine)
    return SessionReads(read_session_factory)
