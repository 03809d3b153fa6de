"""The hot single-statement reads: through the driver on PostgreSQL, a session on SQLite,
the same rows either way, and every statement still counted."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import Date, Integer, bindparam, func, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.engine import create_engine
from ediary_gql.db.models.users import User
from ediary_gql.db.reads import DriverReads, ReadStatement, SessionReads
from ediary_gql.settings import Settings
from tests.factories import make_user
from tests.support import StatementCounter

_users = User.__table__
# bound parameters (one used twice), literals fixed in the statement, a NULL, a date
_READ = ReadStatement(
    union_all(
        select(literal("first"), _users.c.id, _users.c.last_name, bindparam("day", type_=Date)).where(
            _users.c.id == bindparam("user", type_=Integer)
        ),
        select(literal("second"), _users.c.id, literal(None), bindparam("day", type_=Date)).where(
            _users.c.id == bindparam("user", type_=Integer)
        ),
    )
)


async def test_the_hot_path_reads_what_a_session_reads(
    app_services: AppServices, session: AsyncSession, sql_counter: StatementCounter
) -> None:
    user = await make_user(session, last_name="Петрова")
    await session.commit()
    day = dt.date(2026, 11, 28)

    with sql_counter:
        rows = await app_services.reads.rows(_READ, {"user": user.id, "day": day})
    by_session = await SessionReads(app_services.read_session_factory).rows(_READ, {"user": user.id, "day": day})

    assert sorted(map(tuple, rows)) == sorted(map(tuple, by_session))
    assert sorted(map(tuple, rows)) == [("first", user.id, "Петрова", day), ("second", user.id, None, day)]
    assert sql_counter.count == 1


async def test_a_parameter_left_out_is_an_error(app_services: AppServices, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("the driver path is PostgreSQL's")
    assert isinstance(app_services.reads, DriverReads)
    with pytest.raises(KeyError, match="day"):
        await app_services.reads.rows(_READ, {"user": 1})


async def test_a_connection_the_server_dropped_is_not_used_again(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("the driver path is PostgreSQL's")
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    reads = DriverReads(engine)
    backend = ReadStatement(select(func.pg_backend_pid()))
    try:
        [(first,)] = await reads.rows(backend, {})
        killer = create_engine(settings.database_url)
        async with killer.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await killer.dispose()
        # the read on the dropped connection fails (it was in use moments ago: no ping) …
        with pytest.raises(Exception):  # noqa: B017, PT011 - whichever error the driver raises
            await reads.rows(backend, {})
        # … and the pool's only slot then gets a new connection
        [(second,)] = await reads.rows(backend, {})
        assert second != first
    finally:
        await engine.dispose()


async def test_sql_echo_shows_the_driver_path_too(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    if settings.is_sqlite:
        pytest.skip("the driver path is PostgreSQL's")
    engine = create_engine(settings.database_url, echo=True)
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine.Engine"):
            await DriverReads(engine).rows(ReadStatement(select(literal(41) + bindparam("n", type_=Integer))), {"n": 1})
        assert any("[driver]" in record.getMessage() for record in caplog.records)
    finally:
        await engine.dispose()
