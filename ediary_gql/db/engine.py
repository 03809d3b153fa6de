"""Engine and session factory for either backend."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from sqlalchemy import Connection, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

SessionFactory = async_sessionmaker[AsyncSession]


# Execution option a write transaction is opened with (see `unit_of_work`).
WRITE_TRANSACTION = "ediary_write"


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """A write transaction takes SQLite's write lock up front (BEGIN IMMEDIATE): two
    writers then queue on busy_timeout instead of one failing at its first write after
    both read (SQLITE_BUSY), and a check-then-insert cannot interleave with another.
    Other transactions keep the driver's default: reads see the latest commit, and the
    driver opens a transaction itself before the first write."""
    dbapi: Any = conn.connection.dbapi_connection
    if conn.get_execution_options().get(WRITE_TRANSACTION, False):
        dbapi.isolation_level = None  # we emit BEGIN ourselves
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        dbapi.isolation_level = ""  # the driver's own deferred BEGIN before writes


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 20,
    max_overflow: int = 10,
    pooler: Pooler = "none",
    connect: Callable[[], Awaitable[Any]] | None = None,
) -> AsyncEngine:
    """The engine of either backend. On PostgreSQL, `pool_size` connections stay open: a
    burst beyond them opens (and then closes) up to `max_overflow` more, each a new
    backend with its statements to prepare again, so the pool should cover the usual
    number of requests in flight. `pooler="pgbouncer"`: the URL names a pgbouncer in
    transaction mode (`driver_options`). `connect`: makes the engine's asyncpg
    connections itself (a replica's, which falls back to another server: db/replicas.py)."""
    # The statements' values stay out of error messages (and so out of the ERROR log): a
    # fault's text must not carry a child's name or SNILS. SQL_ECHO shows them, for debugging.
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, hide_parameters=not echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    options: dict[str, Any] = {}
    if connect is not None:
        # SQLAlchemy's `async_creator` would drop the adapter's options (the statement
        # names of `driver_options`): its `creator`, written out with them
        adapter_options = {k: v for k, v in driver_options(pooler).items() if k in ADAPTER_OPTIONS}

        def creator() -> Any:
            return engine.sync_engine.dialect.loaded_dbapi.connect(async_creator_fn=connect, **adapter_options)

        options["creator"] = creator
    else:
        options["connect_args"] = driver_options(pooler)
    engine = create_async_engine(
        url, echo=echo, hide_parameters=not echo, pool_size=pool_size, max_overflow=max_overflow, **options
    )
    event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


Pooler = Literal["none", "pgbouncer"]

# the options of SQLAlchemy's asyncpg adapter (the rest are asyncpg.connect's)
ADAPTER_OPTIONS = frozenset({"prepared_statement_cache_size", "prepared_statement_name_func"})


def _unnamed() -> str:
    return ""


def driver_options(pooler: Pooler) -> dict[str, Any]:
    """The driver's options behind `pooler`. pgbouncer in transaction mode (1.18, Debian
    12's, keeps no prepared statements of its own; 1.21+ can, with max_prepared_statements)
    hands each transaction, and each autocommit statement, any server connection of its
    pool: a named statement prepared on one is missing on, or already taken on, the next.
    So no statement is named or cached, neither asyncpg's (`statement_cache_size`) nor
    SQLAlchemy's: every statement is the unnamed one, parsed and run in one exchange
    (asyncpg's Parse/Describe ends in a Flush, not a Sync, so pgbouncer keeps the server
    for the Bind/Execute that follows). The cost: each statement is planned anew."""
    if pooler == "none":
        return {}
    return {"statement_cache_size": 0, "prepared_statement_cache_size": 0, "prepared_statement_name_func": _unnamed}


# SQLAlchemy's pool_pre_ping pings on every checkout: a round trip per session, as much as
# the statement itself for a short read. A connection in use moments ago is alive; one idle
# for a while (a restarted server, a dropped network) is pinged and replaced if dead.
PING_AFTER_IDLE_SECONDS = 5.0


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
    since = record.info.get("checked_in")
    if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:  # any failure means the connection is gone: the pool makes a new one
        raise DisconnectionError("the connection was lost while idle") from exc


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that only read. On PostgreSQL each of their statements runs on its own
    (autocommit): no BEGIN and ROLLBACK round trips around a read of a statement or two,
    which READ COMMITTED would show no more consistently anyway (each statement takes
    its own snapshot). On SQLite, the ordinary sessions."""
    if engine.dialect.name == "sqlite":
        return create_session_factory(engine)
    return create_session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))
