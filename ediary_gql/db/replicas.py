"""Read-only work on PostgreSQL streaming replicas; the caller's own writes read on the primary.

`ReadRouter.sessions` (the read session factory: loaders, the diary's and the journal's
sessions, statistics, reports' reads) and `ReadRouter.reads` (the driver fast path of
db/reads.py: the diary document) pick a server for each session or
statement: a replica, in turn, or the primary. Writes never come here: the session
factory of `unit_of_work` is the primary's.

Read-your-writes, by position in the WAL. A request (or a WebSocket connection) runs in a
`ReadScope`, set by the app's middleware, which learns its caller from the access token
(`reading_as`) before the token is checked. When a write transaction of the request has
committed, `note_commit` keeps the primary's WAL position (`pg_current_wal_lsn()`, one
statement per write): for a person's session, on the session's row
(`UPDATE auth_sessions SET wrote_lsn = GREATEST(wrote_lsn, …) … RETURNING`), which every
token check already reads on the primary (`session_wrote_at`), so the promise holds in
every API process; for a caller without a row of its own (an integration, whose one
session row all its parallel clients share: a hot row), in this process's memory, by user.
Until a replica has replayed past it (`pg_last_wal_replay_lsn()`, asked in the background
at most every `REFRESH_SECONDS`, and only while such a reader waits), that caller's reads
go to the primary; replicas that have replayed it serve them again. The write position,
which a commit has moved past its commit record (with synchronous_commit on, the
default: keep it on where this promise matters); not the insert position, which on a
page boundary points past a page header that a quiet replica reaches only with the next
record.

A position rather than a time window after each write: a window is either long, and the
primary serves every writer's reads for all of it, or short, and a replica lagging more
than it (a vacuum's replay, a busy disk) serves the writer a past its own write has just
changed. The position is exact, and a healthy replica catches up within milliseconds, so
the writer is back on the replicas at once. Per session, as "the session that wrote":
the user's other devices read what the replicas have.

`health` (for /healthz): each replica up or down and the bytes it has still to replay,
asked on connections of its own within `HEALTH_SECONDS`.

Subscriptions read what others have just committed, the moment they hear of it: they read
on the primary (`read_from_primary`); so does every token check (services/sessions.py,
`on_primary`): a replica that lags would keep a revoked session, a blocked account or an
ended role in force.

A lost replica: one refusing connections is left alone for `DOWN_SECONDS`, and its traffic
goes to the other replicas, or to the primary. The connection attempt that finds it gone
connects to the next server instead, so the read in hand still succeeds; a pooled
connection its server has closed is replaced at checkout; a driver-path read that loses
its connection midway runs again on the primary.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import asyncpg
import structlog
from sqlalchemy import BigInteger, Integer, bindparam, event, func, literal_column, select, update
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql.elements import ColumnClause

from ediary_gql.db.engine import (
    ADAPTER_OPTIONS,
    Pooler,
    SessionFactory,
    create_engine,
    create_read_session_factory,
    driver_options,
)
from ediary_gql.db.models.users import AuthSession
from ediary_gql.db.reads import Reads, ReadStatement, Rows, create_reads

log = structlog.get_logger(__name__)

DOWN_SECONDS = 5.0  # a replica that refused a connection is tried again after this
REFRESH_SECONDS = 0.02  # the replicas' replay positions are asked at most this often
CONNECT_TIMEOUT_SECONDS = 3.0  # a replica that does not answer is as good as lost
HEALTH_SECONDS = 1.0  # /healthz waits no longer than this for a replica's answer
MAX_WRITERS = 100_000  # callers whose last write is remembered, the oldest forgotten first

# WAL positions as byte offsets (bigint): asyncpg has no codec for pg_lsn
_POSITION: ColumnClause[int] = literal_column("(pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint", BigInteger)
_WRITTEN = ReadStatement(select(_POSITION))
_REPLAYED = ReadStatement(select(literal_column("(pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")))
_sessions = AuthSession.__table__.c
# the position kept on the session's row, in the one statement that reads it: autocommit on
# the driver path, after the write has committed (GREATEST: a slower, earlier commit of the
# same session does not move it back)
_WRITTEN_BY_SESSION = ReadStatement(
    update(AuthSession)
    .where(_sessions.id == bindparam("session", type_=Integer))
    .values(wrote_lsn=func.greatest(_sessions.wrote_lsn, _POSITION))
    .returning(_sessions.wrote_lsn)
)

_SERVER = "ediary_server"  # a pooled connection's info: the name of the server it is connected to


@dataclass(slots=True)
class ReadScope:
    """What a request (or a WebSocket connection) reads as."""

    router: ReadRouter
    session: int | None = None  # the caller's session, whose row keeps its last write position
    reader: int | None = None  # a caller without one (an integration): its user id, kept in memory
    wrote_at: int = 0  # the primary's WAL position after the scope's (or its session's) last commit
    primary: bool = False  # every read on the primary


_scope: ContextVar[ReadScope | None] = ContextVar("ediary_read_scope", default=None)


@contextmanager
def request_scope(router: ReadRouter) -> Iterator[ReadScope]:
    """A request's scope: its tasks (Strawberry's resolvers) share the one object."""
    scope = ReadScope(router)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def reading_as(user_id: int, *, session_id: int | None) -> None:
    """The caller, from its access token: its session (whose row keeps its last write
    position), or, with `session_id` None, its user id (kept in this process's memory)."""
    scope = _scope.get()
    if scope is not None:
        if session_id is not None:
            scope.session = session_id
        else:
            scope.reader = user_id


def session_wrote_at(position: int) -> None:
    """The position the caller's session row keeps (read by its token check, on the primary):
    its reads wait for a replica that has replayed it, whichever process served the write."""
    scope = _scope.get()
    if scope is not None and position > scope.wrote_at:
        scope.wrote_at = position


def on_replica() -> bool:
    """Whether reads of the current task may go to a replica."""
    scope = _scope.get()
    return scope is not None and not scope.primary


def read_from_primary() -> None:
    """The rest of the current task (a subscription's) reads on the primary."""
    scope = _scope.get()
    if scope is not None and not scope.primary:
        _scope.set(replace(scope, primary=True))


@contextmanager
def on_primary() -> Iterator[None]:
    scope = _scope.get()
    if scope is None or scope.primary:
        yield
        return
    token = _scope.set(replace(scope, primary=True))
    try:
        yield
    finally:
        _scope.reset(token)


async def note_commit() -> None:
    """After a write transaction has committed: the scope's reads see it (see the module).
    If the primary's position cannot be read, the rest of the scope reads on the primary:
    the commit stands, and the caller is answered."""
    scope = _scope.get()
    if scope is None:
        return
    try:
        await scope.router.note_commit(scope)
    except (DBAPIError, OSError, asyncpg.PostgresError) as exc:
        scope.primary = True
        log.warning("replicas_commit_position_unread", error=type(exc).__name__)


@dataclass(frozen=True, slots=True)
class ReplicaHealth:
    name: str
    up: bool
    lag_bytes: int | None  # WAL the replica has still to replay; None when unknown


@dataclass(eq=False)
class Server:
    name: str
    engine: AsyncEngine
    sessions: SessionFactory
    reads: Reads
    connect_args: dict[str, Any]
    replayed: int = 0  # a replica's last known replay position
    down_until: float = 0.0

    @property
    def up(self) -> bool:
        return self.down_until <= time.monotonic()


def _asyncpg_args(engine: AsyncEngine, pooler: Pooler) -> dict[str, Any]:
    """asyncpg.connect's arguments for the engine's URL, as SQLAlchemy would give them."""
    _, args = engine.sync_engine.dialect.create_connect_args(engine.url)
    options = {k: v for k, v in {**args, **driver_options(pooler)}.items() if k not in ADAPTER_OPTIONS}
    return {"timeout": CONNECT_TIMEOUT_SECONDS, **options}


def lost_connection(exc: BaseException) -> bool:
    """Whether `exc` says the server is gone (rather than the statement being wrong)."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        if exc.orig is not None:  # the adapter's error, raised from asyncpg's
            exc = exc.orig.__cause__ or exc.orig
    return isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.ConnectionDoesNotExistError
        | asyncpg.CannotConnectNowError
        | asyncpg.AdminShutdownError
        | asyncpg.CrashShutdownError,
    )


class RoutedSessions(async_sessionmaker[AsyncSession]):
    """The read session factory: each session on the server the router picks as it is made."""

    def __init__(self, router: ReadRouter) -> None:
        super().__init__(router.primary.engine, expire_on_commit=False, autoflush=False)
        self._router = router

    def __call__(self, **local_kw: Any) -> AsyncSession:
        return self._router.server().sessions(**local_kw)


class RoutedReads:
    """The driver fast path, each statement on the server the router picks."""

    def __init__(self, router: ReadRouter) -> None:
        self._router = router

    async def rows(self, read: ReadStatement, params: Mapping[str, Any]) -> Rows:
        server = self._router.server()
        if server is self._router.primary:
            return await server.reads.rows(read, params)
        try:
            return await server.reads.rows(read, params)
        except Exception as exc:
            if not lost_connection(exc):
                raise
            self._router.mark_down(server, exc)
            return await self._router.primary.reads.rows(read, params)


@dataclass(eq=False)
class ReadRouter:
    primary: Server
    replicas: list[Server] = field(default_factory=list)
    _writers: OrderedDict[int, int] = field(default_factory=OrderedDict)  # user id → WAL position
    _turn: Iterator[int] = field(default_factory=itertools.count)
    _refreshing: asyncio.Task[None] | None = None
    _refreshed_at: float = 0.0
    # each asyncpg connection a replica's pool made → the server it actually reached
    _reached: weakref.WeakKeyDictionary[Any, str] = field(default_factory=weakref.WeakKeyDictionary)

    @classmethod
    def build(
        cls,
        primary: AsyncEngine,
        replica_urls: Sequence[str],
        *,
        pooler: Pooler = "none",
        pool_size: int = 20,
        max_overflow: int = 10,
        echo: bool = False,
    ) -> ReadRouter:
        primary_sessions = create_read_session_factory(primary)
        router = cls(
            Server(
                "primary",
                primary,
                primary_sessions,
                create_reads(primary, primary_sessions),
                _asyncpg_args(primary, pooler),
            )
        )
        for number, url in enumerate(replica_urls, 1):
            router.replicas.append(
                router._replica(
                    f"replica{number}", url, pooler=pooler, pool_size=pool_size, max_overflow=max_overflow, echo=echo
                )
            )
        return router

    @cached_property
    def sessions(self) -> RoutedSessions:
        return RoutedSessions(self)

    @cached_property
    def reads(self) -> RoutedReads:
        return RoutedReads(self)

    def _replica(self, name: str, url: str, *, pooler: Pooler, pool_size: int, max_overflow: int, echo: bool) -> Server:
        own: list[Server] = []

        async def connect() -> Any:
            return await self._connect(own[0])

        engine = create_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=max_overflow, pooler=pooler, connect=connect
        )
        sessions = create_read_session_factory(engine)
        server = Server(name, engine, sessions, create_reads(engine, sessions), _asyncpg_args(engine, pooler))
        own.append(server)

        def note_reached(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
            record.info[_SERVER] = self._reached.get(dbapi_connection.driver_connection)

        def check_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
            if dbapi_connection.driver_connection.is_closed():
                raise DisconnectionError("the server closed the connection")
            if record.info.get(_SERVER) != name and server.up:
                raise DisconnectionError("the replica is back: connect to it again")

        event.listen(engine.sync_engine.pool, "connect", note_reached)
        event.listen(engine.sync_engine.pool, "checkout", check_out)
        return server

    async def _connect(self, own: Server) -> Any:
        """A connection for `own`'s pool: to it, or, if it is gone, to another replica or the primary."""
        for server in [own, *(r for r in self.replicas if r is not own and r.up), self.primary]:
            try:
                connection = await asyncpg.connect(**server.connect_args)
            except Exception as exc:
                if server is self.primary or not lost_connection(exc):
                    raise
                self.mark_down(server, exc)
                continue
            self._reached[connection] = server.name
            return connection
        raise AssertionError("unreachable: the primary is always tried")  # pragma: no cover

    def mark_down(self, server: Server, exc: BaseException) -> None:
        if server.up:
            log.warning("replica_lost", replica=server.name, error=type(exc).__name__)
        server.down_until = time.monotonic() + DOWN_SECONDS

    def server(self) -> Server:
        """Where the current task's next read goes."""
        scope = _scope.get()
        live = [r for r in self.replicas if r.up]
        if scope is not None:
            if scope.primary:
                return self.primary
            needed = scope.wrote_at
            if scope.reader is not None:
                needed = max(needed, self._writers.get(scope.reader, 0))
            if needed:
                caught_up = [r for r in live if r.replayed >= needed]
                if live and len(caught_up) == len(live) and scope.reader is not None:
                    self._writers.pop(scope.reader, None)  # every replica has it now
                if not caught_up:
                    self._refresh_soon()
                live = caught_up
        if not live:
            return self.primary
        return live[next(self._turn) % len(live)]

    async def note_commit(self, scope: ReadScope) -> None:
        if scope.session is not None:
            rows = await self.primary.reads.rows(_WRITTEN_BY_SESSION, {"session": scope.session})
            if not rows:  # the session row is gone (its account deleted): nowhere to keep it
                scope.primary = True
                return
            scope.wrote_at = max(scope.wrote_at, int(rows[0][0]))
            return
        rows = await self.primary.reads.rows(_WRITTEN, {})
        position = int(rows[0][0])
        scope.wrote_at = max(scope.wrote_at, position)
        if scope.reader is not None:
            self._writers[scope.reader] = max(self._writers.pop(scope.reader, 0), position)
            while len(self._writers) > MAX_WRITERS:
                self._writers.popitem(last=False)

    def _refresh_soon(self) -> None:
        if self._refreshing is not None and not self._refreshing.done():
            return
        if time.monotonic() - self._refreshed_at < REFRESH_SECONDS:
            return
        self._refreshed_at = time.monotonic()
        self._refreshing = asyncio.get_running_loop().create_task(self.refresh())

    async def refresh(self) -> None:
        """Each live replica's replay position, asked of it."""
        for replica in [r for r in self.replicas if r.up]:
            try:
                rows = await replica.reads.rows(_REPLAYED, {})
            except Exception as exc:
                if not lost_connection(exc):
                    log.exception("replica_position_failed", replica=replica.name)
                    continue
                self.mark_down(replica, exc)
                continue
            # asked of another server (the replica was found gone meanwhile): not its position
            if replica.up and rows and rows[0][0] is not None:
                replica.replayed = max(replica.replayed, int(rows[0][0]))

    async def health(self) -> list[ReplicaHealth]:
        """Each replica: up (answering), and how many bytes of WAL it has still to replay
        (None when unknown: the primary's position or the replica's unread). Asked all at
        once, each on a connection of its own (not the pool's, which would fall back to
        another server), within `HEALTH_SECONDS`."""
        primary, replayed = await asyncio.gather(
            self._written_now(), asyncio.gather(*(self._replayed_now(r) for r in self.replicas))
        )
        return [
            ReplicaHealth(
                replica.name,
                up=up,
                lag_bytes=max(0, primary - position) if primary is not None and position is not None else None,
            )
            for replica, (up, position) in zip(self.replicas, replayed, strict=True)
        ]

    async def _written_now(self) -> int | None:
        try:
            async with asyncio.timeout(HEALTH_SECONDS):
                rows = await self.primary.reads.rows(_WRITTEN, {})
        except Exception:  # the primary's own check reports it
            return None
        return int(rows[0][0])

    async def _replayed_now(self, replica: Server) -> tuple[bool, int | None]:
        """Whether the replica answers, and its replay position (None if it has none)."""
        sql, _, _, _ = _REPLAYED.asyncpg
        try:
            async with asyncio.timeout(HEALTH_SECONDS):
                connection = await asyncpg.connect(**{**replica.connect_args, "timeout": HEALTH_SECONDS})
                try:
                    position = await connection.fetchval(sql)
                finally:
                    await connection.close()
        except Exception as exc:
            if lost_connection(exc):
                self.mark_down(replica, exc)
            else:
                log.warning("replica_health_failed", replica=replica.name, error=type(exc).__name__)
            return False, None
        if position is None:
            return True, None
        replica.replayed = max(replica.replayed, int(position))
        return True, int(position)

    async def dispose(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
        for replica in self.replicas:
            await replica.engine.dispose()
