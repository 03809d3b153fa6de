"""The TOTP second factor over real HTTP: only for confirmed accounts, switched
on with a first code, required at sign-in, each code good once, switched off."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from tests.registration_support import (
    EMAIL,
    PASSWORD,
    SIGN_IN,
    audit_entries,
    confirmed_user,
    register,
    user_row,
)
from tests.support import GraphQLClient

ENABLE = """
mutation($i: EnableTwoFactorInput!) {
  enableTwoFactor(input: $i) { secret otpauthUri retryAfterSeconds userErrors { field code message } }
}"""
CONFIRM = """
mutation($i: ConfirmTwoFactorInput!) {
  confirmTwoFactor(input: $i) { twoFactorEnabled userErrors { field code message } }
}"""
DISABLE = """
mutation($i: DisableTwoFactorInput!) {
  disableTwoFactor(input: $i) { twoFactorEnabled retryAfterSeconds userErrors { field code message } }
}"""


async def _signed_in(gql: GraphQLClient, session: AsyncSession) -> tuple[int, str]:
    user = await confirmed_user(session)
    return user.id, await gql.sign_in(EMAIL, PASSWORD)


async def _call(gql: GraphQLClient, query: str, name: str, token: str, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(query, {"i": input}, token=token))[name]
    return payload


async def _enabled(gql: GraphQLClient, token: str) -> tuple[pyotp.TOTP, str]:
    """Switch the second factor on; the app's TOTP and the code used to confirm it."""
    setup = await _call(gql, ENABLE, "enableTwoFactor", token, password=PASSWORD)
    totp = pyotp.TOTP(setup["secret"])
    first_code = totp.now()
    done = await _call(gql, CONFIRM, "confirmTwoFactor", token, code=first_code)
    assert done == {"twoFactorEnabled": True, "userErrors": []}
    return totp, first_code


def _next(totp: pyotp.TOTP) -> str:
    """The code of the next time step: within the accepted window, and not used yet."""
    return totp.at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))


async def _sign_in(gql: GraphQLClient, **extra: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(SIGN_IN, {"i": {"login": EMAIL, "password": PASSWORD, **extra}}))[
        "signIn"
    ]
    return payload


async def test_temporary_account_may_not_enable_it(gql: GraphQLClient, app_services: AppServices) -> None:
    # given a registered account whose contacts are not confirmed yet
    registered = await register(gql)
    # when it asks for a second factor
    refused = await _call(gql, ENABLE, "enableTwoFactor", registered["accessToken"], password=PASSWORD)
    # then it is told, as a userError, to confirm the account first
    assert refused["secret"] is None
    assert refused["userErrors"] == [
        {
            "field": None,
            "code": "ACCOUNT_NOT_CONFIRMED",
            "message": "Учётная запись не подтверждена: подтвердите телефон и электронную почту",
        }
    ]


@pytest.mark.parametrize(
    ("query", "input"),
    [
        (ENABLE, {"password": PASSWORD}),
        (CONFIRM, {"code": "123456"}),
        (DISABLE, {"password": PASSWORD}),
    ],
)
async def test_anonymous_is_refused(query: str, input: dict[str, Any], gql: GraphQLClient, server: str) -> None:
    body = await gql.post(query, {"i": input})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_enable_asks_for_the_password_and_counts_a_wrong_one(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    user_id, token = await _signed_in(gql, session)
    for _ in range(5):
        wrong = await _call(gql, ENABLE, "enableTwoFactor", token, password="не-тот-пароль")
        assert wrong["userErrors"] == [
            {"field": ["password"], "code": "INVALID_CREDENTIALS", "message": "Неверный пароль"}
        ]
    # the wrong passwords count like failed sign-ins: the account is now locked
    locked = await _call(gql, ENABLE, "enableTwoFactor", token, password=PASSWORD)
    assert locked["userErrors"][0]["code"] == "RATE_LIMITED"
    assert locked["retryAfterSeconds"] > 14 * 60
    assert (await _sign_in(gql))["userErrors"][0]["code"] == "RATE_LIMITED"
    assert (await user_row(app_services, user_id)).totp_secret is None


async def test_sign_in_with_the_second_factor(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    user_id, token = await _signed_in(gql, session)
    totp, first_code = await _enabled(gql, token)
    assert (await user_row(app_services, user_id)).totp_enabled is True

    # the code that turned it on is no good again, even within its time window, and the
    # message says so: the person waits for the app's next code
    reused = await _sign_in(gql, totpCode=first_code)
    assert reused["userErrors"] == [
        {
            "field": ["totpCode"],
            "code": "INVALID_CREDENTIALS",
            "message": "Этот код из приложения-аутентификатора уже использован: каждый код годится один раз. "
            "Дождитесь следующего кода (он сменится в течение 30 секунд) и введите его",
        }
    ]
    # a code that is simply wrong says that
    wrong = await _sign_in(gql, totpCode=f"{(int(first_code) + 1) % 1_000_000:06d}")
    assert wrong["userErrors"] == [
        {"field": ["totpCode"], "code": "INVALID_CREDENTIALS", "message": "Неверный код из приложения-аутентификатора"}
    ]
    # a fresh one signs in
    assert (await _sign_in(gql, totpCode=_next(totp)))["userErrors"] == []

    # the secret never reached the audit trail
    entries = await audit_entries(app_services, "enableTwoFactor") + await audit_entries(
        app_services, "confirmTwoFactor"
    )
    assert [e.after for e in entries] == [
        {"twoFactorEnabled": False, "pending": True},
        {"twoFactorEnabled": True, "pending": False},
    ]


async def test_wrong_codes_count_as_failed_sign_ins(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    _, token = await _signed_in(gql, session)
    totp, _ = await _enabled(gql, token)
    for _ in range(5):
        assert (await _sign_in(gql, totpCode="000000"))["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    locked = await _sign_in(gql, totpCode=_next(totp))
    assert locked["userErrors"][0]["code"] == "RATE_LIMITED"
    reasons = [e.after["reason"] for e in await audit_entries(app_services, "signInFailed") if e.after]
    assert reasons == ["WRONG_TOTP_CODE"] * 5 + ["ACCOUNT_LOCKED"]


async def test_confirm_needs_a_right_code_and_a_pending_secret(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await _signed_in(gql, session)
    early = await _call(gql, CONFIRM, "confirmTwoFactor", token, code="123456")
    assert early["userErrors"][0]["code"] == "INVALID_STATE"

    await _call(gql, ENABLE, "enableTwoFactor", token, password=PASSWORD)
    wrong = await _call(gql, CONFIRM, "confirmTwoFactor", token, code="000000")
    assert wrong["twoFactorEnabled"] is None
    assert wrong["userErrors"][0]["code"] == "INVALID"
    assert wrong["userErrors"][0]["field"] == ["code"]
    # still off: the password alone signs in
    assert (await _sign_in(gql))["userErrors"] == []


async def test_enable_again_while_on_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await _signed_in(gql, session)
    await _enabled(gql, token)
    again = await _call(gql, ENABLE, "enableTwoFactor", token, password=PASSWORD)
    assert again["userErrors"][0]["code"] == "INVALID_STATE"


async def test_disable_with_the_password(gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    user_id, token = await _signed_in(gql, session)
    await _enabled(gql, token)
    wrong = await _call(gql, DISABLE, "disableTwoFactor", token, password="не-тот-пароль")
    assert wrong["userErrors"] == [{"field": ["password"], "code": "INVALID_CREDENTIALS", "message": "Неверный пароль"}]
    off = await _call(gql, DISABLE, "disableTwoFactor", token, password=PASSWORD)
    assert off == {"twoFactorEnabled": False, "retryAfterSeconds": None, "userErrors": []}
    user = await user_row(app_services, user_id)
    assert user.totp_enabled is False
    assert user.totp_secret is None
    # the password alone signs in again
    assert (await _sign_in(gql))["userErrors"] == []


async def test_disable_with_a_code(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await _signed_in(gql, session)
    totp, first_code = await _enabled(gql, token)
    nothing = await _call(gql, DISABLE, "disableTwoFactor", token)
    assert nothing["userErrors"][0]["code"] == "REQUIRED"
    reused = await _call(gql, DISABLE, "disableTwoFactor", token, code=first_code)
    assert reused["userErrors"][0]["message"].startswith("Этот код из приложения-аутентификатора уже использован")
    off = await _call(gql, DISABLE, "disableTwoFactor", token, code=_next(totp))
    assert off["twoFactorEnabled"] is False


async def test_disable_when_off_is_refused(gql: GraphQLClient, session: AsyncSession) -> None:
    _, token = await _signed_in(gql, session)
    refused = await _call(gql, DISABLE, "disableTwoFactor", token, password=PASSWORD)
    assert refused["userErrors"][0]["code"] == "INVALID_STATE"
