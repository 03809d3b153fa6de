"""register over real HTTP: a new person, every field checked at once, duplicates,
the codes sent to both contacts, and the whole way to a TOTP sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import Channel
from tests.registration_support import (
    CONFIRM_CONTACT,
    EMAIL,
    PASSWORD,
    PHONE,
    REGISTER,
    SIGN_IN,
    audit_entries,
    codes_sent,
    confirmed_user,
    latest_code,
    register,
    registration,
    user_pk,
    user_row,
)
from tests.support import GraphQLClient

ENABLE_2FA = """
mutation($i: EnableTwoFactorInput!) {
  enableTwoFactor(input: $i) { secret otpauthUri userErrors { field code message } }
}"""
CONFIRM_2FA = """
mutation($i: ConfirmTwoFactorInput!) {
  confirmTwoFactor(input: $i) { twoFactorEnabled userErrors { field code message } }
}"""


def _years_ago(years: int, days: int = 0) -> str:
    today = dt.datetime.now(dt.UTC).date()
    return (today.replace(year=today.year - years) + dt.timedelta(days=days)).isoformat()


async def _register_raw(gql: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.data(REGISTER, {"i": registration(**overrides)}))["register"]
    return payload


def _codes(payload: dict[str, Any]) -> dict[str, str]:
    return {e["field"][0]: e["code"] for e in payload["userErrors"]}


async def test_new_person_registers_confirms_and_signs_in_with_totp(
    gql: GraphQLClient, app_services: AppServices
) -> None:
    # given a new person who registers with a phone in its written form
    registered = await register(gql)
    assert registered["user"]["status"] == "TEMPORARY"
    assert registered["user"]["phone"] == PHONE
    assert registered["user"]["email"] == EMAIL
    assert registered["codesSentTo"] == ["SMS", "EMAIL"]
    user_id = user_pk(registered["user"]["id"])
    token = registered["accessToken"]
    # then one code went by SMS to the phone and one by email to the address
    assert await codes_sent(app_services, user_id) == [(Channel.SMS, PHONE), (Channel.EMAIL, EMAIL)]

    # when they confirm both contacts with the codes they received
    sms_code = await latest_code(app_services, user_id, Channel.SMS)
    email_code = await latest_code(app_services, user_id, Channel.EMAIL)
    phone_done = await gql.data(CONFIRM_CONTACT, {"i": {"channel": "SMS", "code": sms_code}}, token=token)
    assert phone_done["confirmContact"] == {"user": {"status": "TEMPORARY"}, "userErrors": []}
    email_done = await gql.data(CONFIRM_CONTACT, {"i": {"channel": "EMAIL", "code": email_code}}, token=token)
    # then the account is confirmed
    assert email_done["confirmContact"] == {"user": {"status": "CONFIRMED"}, "userErrors": []}

    # when they sign in and connect an authenticator app
    signed = (await gql.data(SIGN_IN, {"i": {"login": "+7 916 1234567", "password": PASSWORD}}))["signIn"]
    assert signed["userErrors"] == []
    assert signed["user"]["status"] == "CONFIRMED"
    setup = (await gql.data(ENABLE_2FA, {"i": {"password": PASSWORD}}, token=signed["accessToken"]))["enableTwoFactor"]
    assert setup["userErrors"] == []
    assert setup["otpauthUri"].startswith("otpauth://totp/")
    assert "issuer=%D0%AD%D0%BB%D0%B5%D0%BA%D1%82%D1%80%D0%BE%D0%BD%D0%BD%D1%8B%D0%B9" in setup["otpauthUri"]
    totp = pyotp.TOTP(setup["secret"])
    on = await gql.data(CONFIRM_2FA, {"i": {"code": totp.now()}}, token=signed["accessToken"])
    assert on["confirmTwoFactor"] == {"twoFactorEnabled": True, "userErrors": []}

    # then the password alone no longer signs them in
    without = (await gql.data(SIGN_IN, {"i": {"login": EMAIL, "password": PASSWORD}}))["signIn"]
    assert without["accessToken"] is None
    assert [(e["field"], e["code"]) for e in without["userErrors"]] == [(["totpCode"], "TWO_FACTOR_REQUIRED")]
    # and the password with a fresh code does
    next_code = totp.at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    with_code = await gql.data(SIGN_IN, {"i": {"login": EMAIL, "password": PASSWORD, "totpCode": next_code}})
    assert with_code["signIn"]["userErrors"] == []
    me = await gql.data("{ me { fullName status } }", token=with_code["signIn"]["accessToken"])
    assert me["me"] == {"fullName": "Петрова Анна Сергеевна", "status": "CONFIRMED"}


async def test_registration_signs_in_and_is_audited_without_secrets(
    gql: GraphQLClient, app_services: AppServices
) -> None:
    registered = await register(gql)
    me = await gql.data("{ me { status email } }", token=registered["accessToken"])
    assert me["me"] == {"status": "TEMPORARY", "email": EMAIL}

    user = await user_row(app_services, user_pk(registered["user"]["id"]))
    assert user.consent_at is not None
    assert user.password_hash != PASSWORD
    assert user.password_hash.startswith("$argon2id$")
    (entry,) = await audit_entries(app_services, "register")
    assert entry.entity_id == user.id
    assert entry.after == {"phone": PHONE, "email": EMAIL, "status": "TEMPORARY", "consent": True}
    assert PASSWORD not in str(entry.after)


async def test_codes_are_not_shown_in_the_inbox(gql: GraphQLClient, app_services: AppServices) -> None:
    """A code proves the phone only if it was read on the phone: the API never shows it."""
    registered = await register(gql)
    inbox = await gql.data(
        "{ notifications { totalCount edges { node { id body } } } }", token=registered["accessToken"]
    )
    assert inbox["notifications"] == {"totalCount": 0, "edges": []}


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("phone", "12345", "INVALID"),
        ("phone", "  ", "REQUIRED"),
        ("email", "anna@", "INVALID"),
        ("email", "", "REQUIRED"),
        ("password", "Кот-1", "WEAK_PASSWORD"),
        ("password", "qwerty123", "WEAK_PASSWORD"),
        ("password", "пароль123", "WEAK_PASSWORD"),  # "gfhjkm123" on the Latin layout
        ("password", "Петрова1990", "WEAK_PASSWORD"),
        ("password", "x" * 129, "TOO_LONG"),
        ("lastName", "Petrova", "INVALID"),
        ("lastName", "", "REQUIRED"),
        ("lastName", "П" * 101, "TOO_LONG"),
        ("firstName", "Анна2", "INVALID"),
        ("firstName", "Анна--Мария", "INVALID"),
        ("middleName", "Sergeevna", "INVALID"),
        ("birthDate", _years_ago(0, days=1), "INVALID"),
        ("birthDate", _years_ago(14, days=1), "INVALID"),
        ("birthDate", "1890-01-01", "INVALID"),
        ("consentToProcessing", False, "REQUIRED"),
    ],
)
async def test_each_bad_field_is_refused(
    field: str, value: object, code: str, gql: GraphQLClient, app_services: AppServices
) -> None:
    payload = await _register_raw(gql, **{field: value})
    assert payload["user"] is None
    assert payload["accessToken"] is None
    assert _codes(payload) == {field: code}
    assert payload["userErrors"][0]["message"]  # a human explanation, in Russian
    assert await audit_entries(app_services, "register") == []


async def test_every_problem_is_reported_at_once(gql: GraphQLClient) -> None:
    payload = await _register_raw(
        gql,
        phone="123",
        email="nope",
        password="12345678",
        lastName="Smith",
        firstName="",
        birthDate=_years_ago(10),
        consentToProcessing=False,
    )
    assert _codes(payload) == {
        "phone": "INVALID",
        "email": "INVALID",
        "password": "WEAK_PASSWORD",
        "lastName": "INVALID",
        "firstName": "REQUIRED",
        "birthDate": "INVALID",
        "consentToProcessing": "REQUIRED",
    }


async def test_weak_password_says_why(gql: GraphQLClient) -> None:
    payload = await _register_raw(gql, password="qwerty123")
    assert payload["userErrors"] == [
        {
            "field": ["password"],
            "code": "WEAK_PASSWORD",
            "message": "Слишком простой пароль: он входит в список самых распространённых паролей. "
            "Добавьте ещё слово или несколько необычных символов",
        }
    ]


@pytest.mark.parametrize("email", ["anna@school.test", "anna@mail.example.invalid", "anna@school.local"])
async def test_an_email_domain_that_takes_no_mail_says_why(email: str, gql: GraphQLClient) -> None:
    payload = await _register_raw(gql, email=email)
    domain = email.partition("@")[2]
    zone = domain.rpartition(".")[2]
    assert payload["userErrors"] == [
        {
            "field": ["email"],
            "code": "INVALID",
            "message": f"Домен «{domain}» не принимает почту: имена в зоне «.{zone}» зарезервированы для служебных "
            "целей. Укажите настоящий адрес электронной почты",
        }
    ]


async def test_a_malformed_email_keeps_the_plain_message(gql: GraphQLClient) -> None:
    payload = await _register_raw(gql, email="anna@@example.ru")
    assert payload["userErrors"][0]["message"] == "Некорректный адрес электронной почты"


async def test_fourteen_today_may_register(gql: GraphQLClient) -> None:
    payload = await _register_raw(gql, birthDate=_years_ago(14))
    assert payload["userErrors"] == []


@pytest.mark.parametrize("last_name", ["Салтыков-Щедрин", "Д'Артаньян", "Ван  Гог", "Ёлкина"])
async def test_names_with_hyphen_space_apostrophe(last_name: str, gql: GraphQLClient) -> None:
    payload = await _register_raw(gql, lastName=last_name, middleName=None)
    assert payload["userErrors"] == []
    assert payload["user"]["lastName"] == " ".join(last_name.split())
    assert payload["user"]["middleName"] is None


async def test_duplicate_phone_and_email_in_other_written_forms(gql: GraphQLClient, session: AsyncSession) -> None:
    # given an account with this phone and email
    await confirmed_user(session)
    # when someone registers with them, written differently
    payload = await _register_raw(gql, phone="+7 (916) 123 45 67", email="ANNA.PETROVA@example.ru")
    # then both are refused as duplicates, and nothing else is
    assert _codes(payload) == {"phone": "DUPLICATE", "email": "DUPLICATE"}


async def test_duplicate_email_only(gql: GraphQLClient, session: AsyncSession) -> None:
    await confirmed_user(session, phone="+79031112233")
    payload = await _register_raw(gql)
    assert _codes(payload) == {"email": "DUPLICATE"}
    assert payload["userErrors"][0]["message"] == "Этот адрес электронной почты уже зарегистрирован"
