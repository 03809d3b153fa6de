"""Pooled PostgreSQL connections: kept through bursts the pool covers, pinged only after
sitting idle, and replaced when dead."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db import engine as engine_module
from ediary_gql.db.engine import create_engine, create_read_session_factory, create_session_factory
from ediary_gql.settings import Settings
from tests.support import StatementCounter

pytestmark = pytest.mark.postgres_only


async def _backend_pid(factory: engine_module.SessionFactory) -> int:
    async with factory() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_killed_while_idle_is_replaced(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)
    try:
        # given a pooled connection whose server process is terminated while it sits idle
        first = await _backend_pid(factory)
        killer = create_engine(settings.database_url)
        async with killer.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await killer.dispose()
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # "a while ago"

        # when the next session checks it out, then the ping finds it dead and a new one serves
        assert await _backend_pid(factory) != first
    finally:
        await engine.dispose()


async def test_a_connection_used_moments_ago_is_not_pinged(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    factory = create_session_factory(engine)
    try:
        first = await _backend_pid(factory)
        with StatementCounter(engine) as counter:
            second = await _backend_pid(factory)
        # the same connection, and nothing sent but the statement itself
        assert second == first
        assert counter.count == 1, counter.statements
    finally:
        await engine.dispose()


async def test_a_burst_the_pool_covers_reuses_its_connections(settings: Settings) -> None:
    engine = create_engine(settings.database_url, pool_size=4, max_overflow=4)
    factory = create_session_factory(engine)

    async def burst(n: int) -> set[int]:
        async def hold() -> int:
            async with factory() as session:
                pid = int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                await asyncio.sleep(0.05)  # all n in flight together
                return pid

        return set(await asyncio.gather(*(hold() for _ in range(n))))

    try:
        first = await burst(4)
        assert len(first) == 4
        # the same four backends serve the next burst: none was closed and opened again
        assert await burst(4) == first
        # a burst beyond the pool opens overflow connections, which do not stay
        wider = await burst(6)
        assert len(wider) == 6
        assert engine.pool.checkedin() == 4  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def _in_transaction(session: AsyncSession) -> bool:
    """What the server last reported: inside a transaction block or idle outside one."""
    await session.execute(text("SELECT 1"))
    raw = await (await session.connection()).get_raw_connection()
    return bool(raw.driver_connection.is_in_transaction())  # type: ignore[union-attr]


async def test_read_sessions_send_no_transaction_round_trips(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with create_read_session_factory(engine)() as session:
            assert await _in_transaction(session) is False
        async with create_session_factory(engine)() as session:
            assert await _in_transaction(session) is True
            # on the very connection the read session used (none other is idle in the pool)
            assert engine.pool.checkedin() == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
