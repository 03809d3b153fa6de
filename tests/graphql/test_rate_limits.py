"""register and requestPasswordReset are limited per client address (and the reset per
login) over real HTTP, by counters in the database that every server process shares.

Two servers with tight limits share the test database: one in this process, one a
process of its own, so nothing but the database can carry the count between them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.app import create_app
from ediary_gql.context import AppServices
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.users import User
from ediary_gql.settings import Settings
from tests.registration_support import EMAIL, PHONE, REGISTER, confirmed_user, move_rate_limits_back, registration
from tests.support import GraphQLClient, free_port, server_process, wait_healthy

LIMITS = {
    "register_limit_per_address": 2,
    "password_reset_limit_per_address": 3,
    "password_reset_limit_per_login": 2,
}
REQUEST_RESET = """
mutation($i: RequestPasswordResetInput!) {
  requestPasswordReset(input: $i) { accepted retryAfterSeconds userErrors { field code message } }
}"""
REGISTER_WITH_RETRY = REGISTER.replace("userErrors {", "retryAfterSeconds userErrors {")


@pytest_asyncio.fixture(scope="module")
async def here(settings: Settings, server: str) -> AsyncIterator[str]:
    """A server in this process with the tight limits."""
    port = free_port()
    app = create_app(settings.model_copy(update=LIMITS))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(srv.serve())
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(url)
        yield url
    finally:
        srv.should_exit = True
        await task


@pytest_asyncio.fixture(scope="module")
async def there(settings: Settings, server: str) -> AsyncIterator[str]:
    """A server process of its own, with the same limits, database and secret key."""
    extra = {
        "PASSWORD_HASH_TIME_COST": str(settings.password_hash_time_cost),
        "PASSWORD_HASH_MEMORY_KIB": str(settings.password_hash_memory_kib),
        **{name.upper(): str(value) for name, value in LIMITS.items()},
    }
    async with server_process(settings, **extra) as url:
        yield url


@pytest_asyncio.fixture
async def servers(here: str, there: str, gql: GraphQLClient) -> AsyncIterator[list[GraphQLClient]]:
    """Clients of the two throttled servers (`gql` keeps the tables emptied for each test)."""
    async with httpx.AsyncClient(base_url=here, timeout=10) as a, httpx.AsyncClient(base_url=there, timeout=10) as b:
        yield [GraphQLClient(a), GraphQLClient(b)]


async def _register(client: GraphQLClient, n: int, **overrides: Any) -> dict[str, Any]:
    data = registration(phone=f"+7 916 000-00-{n:02d}", email=f"person{n}@example.ru", **overrides)
    payload: dict[str, Any] = (await client.data(REGISTER_WITH_RETRY, {"i": data}))["register"]
    return payload


async def _reset(client: GraphQLClient, login: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.data(REQUEST_RESET, {"i": {"login": login}}))["requestPasswordReset"]
    return payload


async def _users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_registrations_from_one_address_are_limited_across_processes(
    servers: list[GraphQLClient], session: AsyncSession
) -> None:
    a, b = servers
    # a form with mistakes costs nothing: no account is made, nothing is sent
    refused = await _register(a, 1, consentToProcessing=False)
    assert [e["code"] for e in refused["userErrors"]] == ["REQUIRED"]
    # given two accounts registered from this address, one through each process
    assert (await _register(a, 1))["userErrors"] == []
    assert (await _register(b, 2))["userErrors"] == []
    # when a third is asked for, of either process
    for client in (a, b):
        over = await _register(client, 3)
        # then it is refused, saying when to try again, and nothing is made
        [error] = over["userErrors"]
        assert error["code"] == "RATE_LIMITED"
        assert error["message"].startswith("Слишком много регистраций с этого адреса. Повторите попытку через ")
        assert error["message"].endswith(" МСК)")
        assert 3500 < over["retryAfterSeconds"] <= 3600
        assert over["user"] is None
    assert await _users(session) == 2
    # and each refusal stands in the audit log, by bucket (the address is the entry's own)
    refusals = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "rateLimited"))).all()
    assert [(r.entity_type, r.after) for r in refusals] == [
        ("RateLimit", {"bucket": "register:address", "retryAfterSeconds": r.after["retryAfterSeconds"]})
        for r in refusals
    ]
    assert len(refusals) == 2
    assert all(r.ip for r in refusals)


async def test_password_reset_is_limited_per_login_and_per_address(
    servers: list[GraphQLClient], session: AsyncSession, app_services: AppServices
) -> None:
    a, b = servers
    await confirmed_user(session)
    # given two requests for one account, in two written forms of its phone, through both processes
    assert (await _reset(a, PHONE))["accepted"] is True
    # (within the minute, the other process says to wait: one request a minute per login)
    soon = await _reset(b, "8 (916) 123-45-67")
    assert (soon["accepted"], soon["userErrors"][0]["code"]) == (False, "RATE_LIMITED")
    assert 0 < soon["retryAfterSeconds"] <= 60
    await move_rate_limits_back(app_services, dt.timedelta(seconds=61))
    assert (await _reset(b, "8 (916) 123-45-67"))["accepted"] is True
    # when a third comes for that phone, it is refused naming the login
    over = await _reset(a, PHONE)
    assert over["accepted"] is False
    [error] = over["userErrors"]
    assert (error["field"], error["code"]) == (["login"], "RATE_LIMITED")
    assert "для этого телефона или адреса почты. Повторите попытку через " in error["message"]
    assert over["retryAfterSeconds"] > 3500
    # an unknown login is limited alike, so the refusal tells nothing about who is registered
    assert (await _reset(b, EMAIL))["accepted"] is True
    # and this address has made its three requests: a fourth, for any login, is refused by the address
    over = await _reset(b, "nobody@example.ru")
    [error] = over["userErrors"]
    assert (error["field"], error["code"]) == (None, "RATE_LIMITED")
    assert error["message"].startswith("Слишком много запросов на восстановление пароля с этого адреса.")


async def test_the_default_limits_let_a_family_register_and_reset(gql: GraphQLClient, session: AsyncSession) -> None:
    """The shared test server runs on the defaults: a few requests from one address pass."""
    for n in range(3):
        assert (await _register(gql, n))["userErrors"] == []
    for n in range(3):
        assert (await _reset(gql, f"person{n}@example.ru"))["userErrors"] == []
    assert await _users(session) == 3


async def test_requests_sent_at_once_to_both_processes_are_counted_one_by_one(
    servers: list[GraphQLClient], session: AsyncSession
) -> None:
    # when six people behind one address register at the same moment, three through each process
    results = await asyncio.gather(*(_register(servers[n % 2], n) for n in range(6)))
    # then exactly the limit's two get accounts, and the others are told when to retry
    assert sorted(tuple(e["code"] for e in r["userErrors"]) for r in results) == [()] * 2 + [("RATE_LIMITED",)] * 4
    assert await _users(session) == 2
