"""requestPasswordReset and resetPassword over real HTTP: the same answer for any
login, the code's rules, the new password's rules, every session ended."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import Channel, NotificationKind, UserStatus
from ediary_gql.db.models.notifications import Notification
from tests.factories import make_user
from tests.registration_support import (
    EMAIL,
    NEW_PASSWORD,
    PASSWORD,
    PHONE,
    SIGN_IN,
    audit_entries,
    codes_sent,
    confirmed_user,
    latest_code,
    move_codes_back,
    move_rate_limits_back,
    register,
    user_pk,
    user_row,
)
from tests.support import GraphQLClient

REQUEST = """
mutation($i: RequestPasswordResetInput!) {
  requestPasswordReset(input: $i) { accepted message retryAfterSeconds userErrors { field code message } }
}"""
RESET = """
mutation($i: ResetPasswordInput!) {
  resetPassword(input: $i) { passwordChanged userErrors { field code message } }
}"""
ME = "{ me { id } }"


async def _request(gql: GraphQLClient, login: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(REQUEST, {"i": {"login": login}}))["requestPasswordReset"]
    return payload


async def _reset(gql: GraphQLClient, login: str, code: str, new_password: str = NEW_PASSWORD) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await gql.data(RESET, {"i": {"login": login, "code": code, "newPassword": new_password}})
    )["resetPassword"]
    return payload


async def _notifications(services: AppServices) -> int:
    async with services.session_factory() as s:
        return int(await s.scalar(select(func.count()).select_from(Notification)) or 0)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_reset_by_email_changes_the_password_and_ends_every_session(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    # given an account signed in on two devices
    user = await confirmed_user(session)
    phone_token = await gql.sign_in(PHONE, PASSWORD)
    laptop_token = await gql.sign_in(EMAIL, PASSWORD)

    # when a reset is asked for by email and the code received is given with a new password
    asked = await _request(gql, "Anna.Petrova@example.ru")
    assert asked["accepted"] is True
    assert asked["userErrors"] == []
    assert await codes_sent(app_services, user.id) == [(Channel.EMAIL, EMAIL)]
    code = await latest_code(app_services, user.id, Channel.EMAIL)
    done = await _reset(gql, EMAIL, code)

    # then the password is changed
    assert done == {"passwordChanged": True, "userErrors": []}
    old = (await gql.data(SIGN_IN, {"i": {"login": EMAIL, "password": PASSWORD}}))["signIn"]
    assert old["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await gql.data(SIGN_IN, {"i": {"login": EMAIL, "password": NEW_PASSWORD}}))["signIn"]["userErrors"] == []
    # and both devices are signed out
    for token in (phone_token, laptop_token):
        assert (await gql.post(ME, token=token))["errors"][0]["extensions"]["code"] == "TOKEN_REVOKED"
    # and the code is spent
    assert (await _reset(gql, EMAIL, code))["userErrors"][0]["code"] == "CODE_EXPIRED"
    # and it was audited, with no password or code, and the owner told
    (entry,) = [e for e in await audit_entries(app_services, "resetPassword") if e.before]
    assert entry.after == {"status": "CONFIRMED", "channel": "EMAIL", "revokedSessions": 2}
    async with app_services.session_factory() as s:
        told = await s.scalar(select(Notification.title).where(Notification.kind == NotificationKind.SECURITY))
    assert told == "Пароль изменён"


async def test_reset_by_phone_sends_an_sms_and_confirms_the_phone(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    user = await make_user(session, phone=PHONE, email=EMAIL, status=UserStatus.TEMPORARY, phone_confirmed_at=None)
    await session.commit()
    await _request(gql, "8 916 123 45 67")
    assert await codes_sent(app_services, user.id) == [(Channel.SMS, PHONE)]
    code = await latest_code(app_services, user.id, Channel.SMS)
    assert (await _reset(gql, "+79161234567", code))["passwordChanged"] is True
    after = await user_row(app_services, user.id)
    assert after.phone_confirmed_at is not None
    assert after.status == UserStatus.TEMPORARY  # the email is still to be confirmed


async def test_unknown_login_gets_the_same_answer_and_nothing_is_sent(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    await confirmed_user(session)
    known = await _request(gql, EMAIL)
    before = await _notifications(app_services)
    unknown = await _request(gql, "nobody@example.ru")
    assert unknown == known
    assert await _notifications(app_services) == before
    # and the reset of an unknown login is refused like a missing code
    refused = await _reset(gql, "nobody@example.ru", "123456")
    assert refused["userErrors"][0]["code"] == "CODE_EXPIRED"


def _throttled(payload: dict[str, Any]) -> tuple[object, ...]:
    """What a throttled answer says, but the wait (which runs by the second)."""
    [error] = payload["userErrors"]
    assert 0 < payload["retryAfterSeconds"] <= 60, payload
    assert error["message"].endswith(" МСК)"), error
    return payload["accepted"], payload["message"], error["field"], error["code"], error["message"].split(" через ")[0]


async def test_a_second_request_within_a_minute_says_when_to_retry_for_any_login(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    user = await confirmed_user(session)
    # given a reset asked for an account and one for a login nobody has
    assert (await _request(gql, EMAIL))["accepted"] is True
    assert (await _request(gql, "nobody@example.ru"))["accepted"] is True
    # when each is asked for again within the minute
    known = await _request(gql, "Anna.Petrova@example.ru")
    unknown = await _request(gql, "nobody@example.ru")
    # then both are refused alike, saying when to ask again, and nothing more is sent
    assert (
        _throttled(known)
        == _throttled(unknown)
        == (
            False,
            None,
            ["login"],
            "RATE_LIMITED",
            "Код для этого телефона или адреса почты уже запрошен. Повторите попытку",
        )
    )
    assert await codes_sent(app_services, user.id) == [(Channel.EMAIL, EMAIL)]
    # and once the minute has passed a new code is sent
    await move_rate_limits_back(app_services, dt.timedelta(seconds=61))
    await move_codes_back(app_services, user.id, dt.timedelta(seconds=61))
    again = await _request(gql, EMAIL)
    assert (again["accepted"], again["retryAfterSeconds"], again["userErrors"]) == (True, None, [])
    assert await codes_sent(app_services, user.id) == [(Channel.EMAIL, EMAIL)] * 2


async def test_a_reset_asked_straight_after_registering_is_sent(gql: GraphQLClient, app_services: AppServices) -> None:
    # given a person who has just registered (codes went to the phone and the email)
    registered = await register(gql)
    user_id = user_pk(registered["user"]["id"])
    assert await codes_sent(app_services, user_id) == [(Channel.SMS, PHONE), (Channel.EMAIL, EMAIL)]
    # when they ask for a password reset by email within the minute
    asked = await _request(gql, EMAIL)
    # then it is accepted and a reset code is sent: the confirmation code does not hold it up
    assert (asked["accepted"], asked["retryAfterSeconds"], asked["userErrors"]) == (True, None, [])
    assert (await codes_sent(app_services, user_id))[2:] == [(Channel.EMAIL, EMAIL)]
    code = await latest_code(app_services, user_id, Channel.EMAIL)
    assert (await _reset(gql, EMAIL, code))["passwordChanged"] is True


async def test_wrong_code_is_counted_and_the_password_kept(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    user = await confirmed_user(session)
    token = await gql.sign_in(EMAIL, PASSWORD)
    await _request(gql, EMAIL)
    code = await latest_code(app_services, user.id, Channel.EMAIL)
    refused = await _reset(gql, EMAIL, _wrong(code))
    assert refused == {
        "passwordChanged": False,
        "userErrors": [{"field": ["code"], "code": "INVALID", "message": "Неверный код. Осталось попыток: 4"}],
    }
    # the password and the sessions are as they were
    assert (await gql.data(ME, token=token))["me"] is not None
    assert (await gql.data(SIGN_IN, {"i": {"login": EMAIL, "password": PASSWORD}}))["signIn"]["userErrors"] == []
    for _ in range(4):
        await _reset(gql, EMAIL, _wrong(code))
    # five wrong codes: the right one no longer works
    assert (await _reset(gql, EMAIL, code))["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_expired_code_is_refused(gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    user = await confirmed_user(session)
    await _request(gql, EMAIL)
    code = await latest_code(app_services, user.id, Channel.EMAIL)
    await move_codes_back(app_services, user.id, dt.timedelta(minutes=11))
    assert (await _reset(gql, EMAIL, code))["userErrors"][0]["code"] == "CODE_EXPIRED"


@pytest.mark.parametrize(
    ("new_password", "code"),
    [("short", "WEAK_PASSWORD"), ("1234567890", "WEAK_PASSWORD"), ("Петрова1990", "WEAK_PASSWORD")],
)
async def test_weak_new_password_is_refused_and_the_code_not_spent(
    new_password: str, code: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    user = await confirmed_user(session, birth_date=dt.date(1990, 5, 17), last_name="Петрова")
    await _request(gql, EMAIL)
    sent = await latest_code(app_services, user.id, Channel.EMAIL)
    refused = await _reset(gql, EMAIL, sent, new_password=new_password)
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [(["newPassword"], code)]
    # the code still works with a good password
    assert (await _reset(gql, EMAIL, sent))["passwordChanged"] is True


async def test_every_input_problem_at_once(gql: GraphQLClient, server: str) -> None:
    refused = await _reset(gql, "not a login", "12", new_password="short")
    assert {e["field"][0]: e["code"] for e in refused["userErrors"]} == {
        "login": "INVALID",
        "code": "INVALID",
        "newPassword": "WEAK_PASSWORD",
    }


async def test_request_needs_a_phone_or_email(gql: GraphQLClient, server: str) -> None:
    refused = await _request(gql, "   ")
    assert refused["accepted"] is False
    assert refused["userErrors"][0]["code"] == "REQUIRED"
