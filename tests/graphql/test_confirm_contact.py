"""confirmContact and resendConfirmationCode over real HTTP: expiry, attempts,
the resend throttle, and who may call them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import Channel
from ediary_gql.db.models.users import VerificationCode
from tests.registration_support import (
    CONFIRM_CONTACT,
    RESEND,
    audit_entries,
    codes_sent,
    latest_code,
    move_codes_back,
    register,
    user_pk,
    user_row,
)
from tests.support import GraphQLClient


async def _new_account(gql: GraphQLClient) -> tuple[int, str]:
    registered = await register(gql)
    return user_pk(registered["user"]["id"]), registered["accessToken"]


async def _confirm(gql: GraphQLClient, token: str, channel: str, code: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(CONFIRM_CONTACT, {"i": {"channel": channel, "code": code}}, token=token))[
        "confirmContact"
    ]
    return payload


async def _resend(gql: GraphQLClient, token: str, channel: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(RESEND, {"i": {"channel": channel}}, token=token))[
        "resendConfirmationCode"
    ]
    return payload


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_code_typed_with_spaces_confirms_the_phone(gql: GraphQLClient, app_services: AppServices) -> None:
    user_id, token = await _new_account(gql)
    code = await latest_code(app_services, user_id, Channel.SMS)
    done = await _confirm(gql, token, "SMS", f"{code[:3]} {code[3:]}")
    assert done == {"user": {"status": "TEMPORARY"}, "userErrors": []}
    user = await user_row(app_services, user_id)
    assert user.phone_confirmed_at is not None
    assert user.email_confirmed_at is None
    (entry,) = await audit_entries(app_services, "confirmContact")
    assert entry.before == {"phoneConfirmed": False, "emailConfirmed": False, "status": "TEMPORARY"}
    assert entry.after == {"phoneConfirmed": True, "emailConfirmed": False, "status": "TEMPORARY"}


async def test_codes_are_stored_only_as_hashes(gql: GraphQLClient, app_services: AppServices) -> None:
    user_id, _ = await _new_account(gql)
    code = await latest_code(app_services, user_id, Channel.SMS)
    async with app_services.session_factory() as s:
        rows = (await s.scalars(select(VerificationCode).where(VerificationCode.user_id == user_id))).all()
    assert len(rows) == 2
    assert all(code not in row.code_hash and len(row.code_hash) == 64 for row in rows)


async def test_a_code_of_one_contact_does_not_confirm_the_other(gql: GraphQLClient, app_services: AppServices) -> None:
    user_id, token = await _new_account(gql)
    sms_code = await latest_code(app_services, user_id, Channel.SMS)
    refused = await _confirm(gql, token, "EMAIL", sms_code)
    assert refused["user"] is None
    assert refused["userErrors"][0]["code"] == "INVALID"


async def test_wrong_code_is_counted_and_the_fifth_kills_it(gql: GraphQLClient, app_services: AppServices) -> None:
    # given a fresh code
    user_id, token = await _new_account(gql)
    code = await latest_code(app_services, user_id, Channel.SMS)
    # when a wrong code is entered four times, each says how many attempts are left
    for left in (4, 3, 2, 1):
        refused = await _confirm(gql, token, "SMS", _wrong(code))
        assert refused["userErrors"] == [
            {"field": ["code"], "code": "INVALID", "message": f"Неверный код. Осталось попыток: {left}"}
        ]
    # and the fifth wrong one kills the code
    fifth = await _confirm(gql, token, "SMS", _wrong(code))
    assert fifth["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    # then even the right code is refused, and a new one must be requested
    right = await _confirm(gql, token, "SMS", code)
    assert right["userErrors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    assert (await user_row(app_services, user_id)).phone_confirmed_at is None
    # each refusal was audited without the codes
    refusals = await audit_entries(app_services, "confirmContact")
    assert [e.after["refused"] for e in refusals if e.after] == ["INVALID"] * 4 + ["TOO_MANY_ATTEMPTS"]
    assert code not in str([(e.before, e.after) for e in refusals])


async def test_expired_code_is_refused(gql: GraphQLClient, app_services: AppServices) -> None:
    user_id, token = await _new_account(gql)
    code = await latest_code(app_services, user_id, Channel.EMAIL)
    # given ten minutes have passed
    await move_codes_back(app_services, user_id, dt.timedelta(minutes=10, seconds=1))
    refused = await _confirm(gql, token, "EMAIL", code)
    assert refused["userErrors"] == [
        {
            "field": ["code"],
            "code": "CODE_EXPIRED",
            "message": "Код устарел или не запрашивался: запросите новый код",
        }
    ]


async def test_resend_is_throttled_then_sends_a_new_code_that_replaces_the_old(
    gql: GraphQLClient, app_services: AppServices
) -> None:
    user_id, token = await _new_account(gql)
    old = await latest_code(app_services, user_id, Channel.SMS)
    # when a new code is asked for at once
    too_soon = await _resend(gql, token, "SMS")
    # then it is refused, saying when to ask again
    assert too_soon["sent"] is False
    assert 55 <= too_soon["retryAfterSeconds"] <= 60
    (error,) = too_soon["userErrors"]
    assert error["code"] == "RATE_LIMITED"
    assert error["message"].startswith("Код уже отправлен. Новый можно запросить через ")
    assert "МСК" in error["message"]

    # when a minute has passed
    await move_codes_back(app_services, user_id, dt.timedelta(seconds=61))
    again = await _resend(gql, token, "SMS")
    assert again["sent"] is True
    assert again["userErrors"] == []
    assert again["retryAfterSeconds"] is None
    new = await latest_code(app_services, user_id, Channel.SMS)
    assert [c for c, _ in await codes_sent(app_services, user_id)].count(Channel.SMS) == 2
    # then only the new code is good
    if new != old:
        assert (await _confirm(gql, token, "SMS", old))["userErrors"][0]["code"] == "INVALID"
    assert (await _confirm(gql, token, "SMS", new))["userErrors"] == []


async def test_at_most_five_codes_an_hour_per_contact(gql: GraphQLClient, app_services: AppServices) -> None:
    user_id, token = await _new_account(gql)
    # given five codes went to the email within the hour, a minute or more apart
    for _ in range(4):
        await move_codes_back(app_services, user_id, dt.timedelta(minutes=2))
        assert (await _resend(gql, token, "EMAIL"))["sent"] is True
    await move_codes_back(app_services, user_id, dt.timedelta(minutes=2))
    # when a sixth is asked for
    sixth = await _resend(gql, token, "EMAIL")
    # then it is refused until the first of them is an hour old
    assert sixth["sent"] is False
    assert sixth["userErrors"][0]["code"] == "RATE_LIMITED"
    assert 60 * 49 < sixth["retryAfterSeconds"] <= 60 * 50
    # while the phone, another contact, may still get one
    assert (await _resend(gql, token, "SMS"))["sent"] is True


async def test_confirmed_contact_needs_no_code(gql: GraphQLClient, app_services: AppServices) -> None:
    user_id, token = await _new_account(gql)
    await _confirm(gql, token, "SMS", await latest_code(app_services, user_id, Channel.SMS))
    again = await _confirm(gql, token, "SMS", "123456")
    assert again["userErrors"] == [
        {"field": ["channel"], "code": "INVALID_STATE", "message": "Телефон уже подтверждён"}
    ]
    resend = await _resend(gql, token, "SMS")
    assert resend["userErrors"][0]["code"] == "INVALID_STATE"


async def test_code_must_be_six_digits(gql: GraphQLClient) -> None:
    _, token = await _new_account(gql)
    refused = await _confirm(gql, token, "SMS", "12ab56")
    assert refused["userErrors"] == [{"field": ["code"], "code": "INVALID", "message": "Код состоит из 6 цифр"}]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CONFIRM_CONTACT, {"i": {"channel": "SMS", "code": "123456"}}),
        (RESEND, {"i": {"channel": "EMAIL"}}),
    ],
)
async def test_anonymous_is_refused(query: str, variables: dict[str, Any], gql: GraphQLClient, server: str) -> None:
    body = await gql.post(query, variables)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
