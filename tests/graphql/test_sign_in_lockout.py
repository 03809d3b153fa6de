"""Sign-in throttling over real HTTP: five failures lock an account for a while
(the right password too), twenty lock a client address; all of it audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.users import SignInFailure
from tests.factories import make_sign_in_failure
from tests.registration_support import (
    EMAIL,
    PASSWORD,
    SIGN_IN,
    audit_entries,
    confirmed_user,
    move_failures_back,
)
from tests.support import GraphQLClient

LOCAL = "127.0.0.1"  # the address the test client signs in from


async def _sign_in(gql: GraphQLClient, password: str, login: str = EMAIL) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(SIGN_IN, {"i": {"login": login, "password": password}}))["signIn"]
    return payload


def _code(payload: dict[str, Any]) -> str | None:
    errors = payload["userErrors"]
    return errors[0]["code"] if errors else None


async def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    # given an account, and five wrong passwords within a few seconds
    user = await confirmed_user(session)
    for _ in range(5):
        assert _code(await _sign_in(gql, "не-тот-пароль")) == "INVALID_CREDENTIALS"

    # when the right password is given
    locked = await _sign_in(gql, PASSWORD)

    # then it is refused for about 15 minutes, and the answer says until when
    assert locked["accessToken"] is None
    assert 14 * 60 < locked["retryAfterSeconds"] <= 15 * 60
    (error,) = locked["userErrors"]
    assert error["code"] == "RATE_LIMITED"
    assert error["field"] == ["login"]
    assert re.search(r"Повторите попытку через 15 мин \(в \d\d:\d\d МСК\)$", error["message"]), error["message"]

    # and every failed attempt was audited, none with the password
    failed = await audit_entries(app_services, "signInFailed")
    assert [e.after for e in failed] == [{"reason": "INVALID_CREDENTIALS"}] * 5 + [{"reason": "ACCOUNT_LOCKED"}]
    assert all(e.entity_id == user.id and e.ip == LOCAL for e in failed)
    # and the owner was told their account is locked
    async with app_services.session_factory() as s:
        notices = (
            await s.scalars(select(Notification.title).where(Notification.kind == NotificationKind.SECURITY))
        ).all()
    assert notices == ["Вход в учётную запись временно заблокирован"]


async def test_the_lock_passes_and_a_success_resets_the_counter(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    await confirmed_user(session)
    for _ in range(5):
        await _sign_in(gql, "не-тот-пароль")
    assert _code(await _sign_in(gql, PASSWORD)) == "RATE_LIMITED"

    # when fifteen minutes have passed
    await move_failures_back(app_services, dt.timedelta(minutes=15, seconds=1))
    # then the right password signs in
    signed = await _sign_in(gql, PASSWORD)
    assert signed["userErrors"] == []
    assert signed["retryAfterSeconds"] is None

    # and the account's counter starts again: four more failures do not lock it
    for _ in range(4):
        assert _code(await _sign_in(gql, "не-тот-пароль")) == "INVALID_CREDENTIALS"
    assert _code(await _sign_in(gql, PASSWORD)) is None


async def test_a_success_before_the_fifth_failure_resets_the_counter(gql: GraphQLClient, session: AsyncSession) -> None:
    await confirmed_user(session)
    for _ in range(4):
        await _sign_in(gql, "не-тот-пароль")
    assert _code(await _sign_in(gql, PASSWORD)) is None
    for _ in range(4):
        assert _code(await _sign_in(gql, "не-тот-пароль")) == "INVALID_CREDENTIALS"
    assert _code(await _sign_in(gql, PASSWORD)) is None


async def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    await confirmed_user(session)
    for _ in range(4):
        await _sign_in(gql, "не-тот-пароль")
    await move_failures_back(app_services, dt.timedelta(minutes=16))
    assert _code(await _sign_in(gql, "не-тот-пароль")) == "INVALID_CREDENTIALS"
    assert _code(await _sign_in(gql, PASSWORD)) is None


async def test_twenty_failures_from_one_address_block_it(gql: GraphQLClient, session: AsyncSession) -> None:
    # given twenty failures from this address within 15 minutes, against other or unknown accounts
    await confirmed_user(session)
    for n in range(20):
        when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=13) + dt.timedelta(seconds=n)
        await make_sign_in_failure(session, user_id=None, ip=LOCAL, created_at=when)
    await session.commit()

    # when anyone signs in from it, even with the right password
    blocked = await _sign_in(gql, PASSWORD)

    # then it is refused until the oldest of them is fifteen minutes old
    assert _code(blocked) == "RATE_LIMITED"
    assert 100 < blocked["retryAfterSeconds"] <= 120
    assert blocked["userErrors"][0]["message"].startswith(
        "Слишком много неудачных попыток входа с этого адреса. Повторите попытку через 2 мин"
    )


async def test_failures_from_other_addresses_do_not_count(gql: GraphQLClient, session: AsyncSession) -> None:
    await confirmed_user(session)
    for _ in range(19):
        await make_sign_in_failure(session, user_id=None, ip=LOCAL)
    for _ in range(10):
        await make_sign_in_failure(session, user_id=None, ip="203.0.113.7")
    await session.commit()
    assert _code(await _sign_in(gql, PASSWORD)) is None


async def test_unknown_logins_count_for_the_address(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    await confirmed_user(session)
    for _ in range(19):
        await make_sign_in_failure(session, user_id=None, ip=LOCAL)
    await session.commit()
    assert _code(await _sign_in(gql, PASSWORD, login="nobody@example.ru")) == "INVALID_CREDENTIALS"
    assert _code(await _sign_in(gql, PASSWORD)) == "RATE_LIMITED"
    async with app_services.session_factory() as s:
        unknown = (await s.scalars(select(SignInFailure).where(SignInFailure.user_id.is_(None)))).all()
    assert len(unknown) == 20


async def test_a_success_keeps_the_failures_for_the_address(gql: GraphQLClient, session: AsyncSession) -> None:
    """Signing in to one's own account buys an attacker no more guesses from that address."""
    await confirmed_user(session)
    for _ in range(4):
        await _sign_in(gql, "не-тот-пароль")
    assert _code(await _sign_in(gql, PASSWORD)) is None
    for _ in range(16):
        await make_sign_in_failure(session, user_id=None, ip=LOCAL)
    await session.commit()
    assert _code(await _sign_in(gql, PASSWORD)) == "RATE_LIMITED"
