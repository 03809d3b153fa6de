"""The sign-in guard without GraphQL: the sliding windows, the lock's end,
the reset, and the table kept small."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.users import SignInFailure
from ediary_gql.services import sign_in_guard as guard
from tests.factories import make_sign_in_failure, make_user

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
IP = "198.51.100.20"


def _minutes(m: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=m)


async def test_five_failures_within_the_window_lock_until_fifteen_minutes_after_the_last(
    session: AsyncSession,
) -> None:
    user = await make_user(session)
    for m in (14, 10, 6, 3, 1):
        await make_sign_in_failure(session, user_id=user.id, ip=IP, created_at=_minutes(m))
    until = await guard.account_locked_until(session, user_id=user.id, now=NOW)
    assert until == _minutes(1) + guard.ACCOUNT_LOCK
    # and not a moment longer
    assert await guard.account_locked_until(session, user_id=user.id, now=until) is None


async def test_five_failures_spread_wider_than_the_window_do_not_lock(session: AsyncSession) -> None:
    user = await make_user(session)
    for m in (17, 10, 6, 3, 1):
        await make_sign_in_failure(session, user_id=user.id, created_at=_minutes(m))
    assert await guard.account_locked_until(session, user_id=user.id, now=NOW) is None


async def test_the_fifth_failure_reports_the_lock(session: AsyncSession) -> None:
    user = await make_user(session)
    results = [await guard.record_failure(session, user_id=user.id, ip=IP, now=NOW) for _ in range(5)]
    assert results == [False, False, False, False, True]


async def test_a_reset_detaches_the_failures_from_the_account_only(session: AsyncSession) -> None:
    user = await make_user(session)
    for _ in range(5):
        await guard.record_failure(session, user_id=user.id, ip=IP, now=NOW)
    await guard.reset_account(session, user_id=user.id)
    assert await guard.account_locked_until(session, user_id=user.id, now=NOW) is None
    assert await session.scalar(select(func.count()).where(SignInFailure.ip == IP)) == 5


async def test_the_address_is_blocked_until_its_twentieth_latest_failure_leaves_the_window(
    session: AsyncSession,
) -> None:
    for n in range(25):
        await make_sign_in_failure(session, user_id=None, ip=IP, created_at=_minutes(14) + dt.timedelta(seconds=n))
    until = await guard.address_blocked_until(session, ip=IP, now=NOW)
    # failures at 14:00, 13:59 … before now: 25 in the window; 19 remain once the 6th oldest leaves
    assert until == _minutes(14) + dt.timedelta(seconds=5) + guard.ADDRESS_WINDOW
    assert await guard.address_blocked_until(session, ip="203.0.113.1", now=NOW) is None
    assert await guard.address_blocked_until(session, ip=None, now=NOW) is None


async def test_nineteen_failures_do_not_block_the_address(session: AsyncSession) -> None:
    for _ in range(19):
        await make_sign_in_failure(session, user_id=None, ip=IP, created_at=_minutes(1))
    assert await guard.address_blocked_until(session, ip=IP, now=NOW) is None


async def test_stale_rows_of_the_address_and_account_are_pruned(session: AsyncSession) -> None:
    user = await make_user(session)
    await make_sign_in_failure(session, user_id=user.id, ip="192.0.2.9", created_at=_minutes(60))
    await make_sign_in_failure(session, user_id=None, ip=IP, created_at=_minutes(60))
    await make_sign_in_failure(session, user_id=None, ip="192.0.2.200", created_at=_minutes(60))  # not ours
    await guard.record_failure(session, user_id=user.id, ip=IP, now=NOW)
    remaining = (await session.scalars(select(SignInFailure.ip).order_by(SignInFailure.id))).all()
    assert remaining == ["192.0.2.200", IP]


def test_wait_text_in_minutes_or_seconds_with_moscow_time() -> None:
    assert guard.wait_text(NOW + dt.timedelta(minutes=15), NOW) == "через 15 мин (в 13:15 МСК)"
    assert guard.wait_text(NOW + dt.timedelta(seconds=42), NOW) == "через 42 с (в 13:00 МСК)"
    assert guard.seconds_until(NOW + dt.timedelta(seconds=0.2), NOW) == 1
