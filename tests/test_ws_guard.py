"""The WebSocket guards over real sockets: the connection_init deadline on the legacy
graphql-ws protocol as on graphql-transport-ws, the per-address cap of unauthenticated
sockets, and 4403 for a refused legacy connection_init.

A server in this process with a short deadline and a cap of 2 serves the first two; the
session's server (the default settings) the last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import WebSocketRoute

from ediary_gql.app import GraphQLView, create_app
from ediary_gql.settings import Settings
from ediary_gql.ws_guard import UnauthenticatedSockets
from tests.registration_support import EMAIL, PASSWORD, confirmed_user
from tests.support import GraphQLClient, free_port, wait_healthy, ws_connect

PROTOCOLS = ["graphql-ws", "graphql-transport-ws"]
DEADLINE = 1.0  # seconds: WS_INIT_TIMEOUT_SECONDS of the guarded server
CAP = 2  # its WS_MAX_UNAUTHENTICATED_PER_ADDRESS
ADDRESS = "127.0.0.1"  # where the test's sockets come from


@dataclass(frozen=True)
class Guarded:
    ws_url: str
    sockets: UnauthenticatedSockets


@pytest_asyncio.fixture(scope="module")
async def guarded(settings: Settings, server: str) -> AsyncIterator[Guarded]:
    """A server in this process with the short deadline and the small cap."""
    port = free_port()
    app = create_app(
        settings.model_copy(update={"ws_init_timeout_seconds": DEADLINE, "ws_max_unauthenticated_per_address": CAP})
    )
    (view,) = (r.endpoint for r in app.routes if isinstance(r, WebSocketRoute))
    assert isinstance(view, GraphQLView)
    config = uvicorn.Config(app, host=ADDRESS, port=port, log_level="warning", lifespan="on", ws="websockets-sansio")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    try:
        await wait_healthy(f"http://{ADDRESS}:{port}")
        yield Guarded(f"ws://{ADDRESS}:{port}", view.unauthenticated_sockets)
    finally:
        srv.should_exit = True
        await task


async def _counted(sockets: UnauthenticatedSockets, expected: int) -> None:
    """Until the server counts `expected` unauthenticated sockets of the test's address."""
    for _ in range(200):
        if sockets.count(ADDRESS) == expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{sockets.count(ADDRESS)} sockets counted, not {expected}")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_socket_without_connection_init_is_closed_at_the_deadline(protocol: str, guarded: Guarded) -> None:
    # given a socket that says nothing
    started = time.monotonic()
    async with ws_connect(guarded.ws_url, protocol) as ws:
        # then the server closes it at the deadline with 4408, on either protocol
        assert await ws.close_code(within=DEADLINE + 2) == 4408
    assert time.monotonic() - started >= DEADLINE * 0.9
    await _counted(guarded.sockets, 0)


async def test_a_legacy_socket_initialised_in_time_stays_open(guarded: Guarded) -> None:
    async with ws_connect(guarded.ws_url, "graphql-ws") as ws:
        assert (await ws.init())["type"] == "connection_ack"
        assert await ws.no_message(within=DEADLINE + 0.3)  # past the deadline, no close


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_socket_beyond_the_cap_of_unauthenticated_ones_is_closed_at_once(
    protocol: str, guarded: Guarded
) -> None:
    # given as many sockets from one address as the cap allows, not initialised, and an anonymous one
    async with ws_connect(guarded.ws_url, protocol), ws_connect(guarded.ws_url, protocol) as anonymous:
        assert (await anonymous.init())["type"] == "connection_ack"  # no token: still unauthenticated
        await _counted(guarded.sockets, CAP)
        # when one more opens
        started = time.monotonic()
        async with ws_connect(guarded.ws_url, protocol) as beyond:
            # then it is closed at once with 4429, long before any deadline
            assert await beyond.close_code(within=DEADLINE) == 4429
        assert time.monotonic() - started < DEADLINE
        await _counted(guarded.sockets, CAP)
    # and closed sockets leave the count
    await _counted(guarded.sockets, 0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_authenticated_socket_leaves_the_count(
    protocol: str, guarded: Guarded, gql: GraphQLClient, session: AsyncSession
) -> None:
    await confirmed_user(session)
    token = await gql.sign_in(EMAIL, PASSWORD)
    # given the cap full of sockets not initialised yet
    async with ws_connect(guarded.ws_url, protocol) as signing_in, ws_connect(guarded.ws_url, protocol):
        await _counted(guarded.sockets, CAP)
        # when one of them signs in
        assert (await signing_in.init(token))["type"] == "connection_ack"
        # then it no longer counts, and another socket is let in
        await _counted(guarded.sockets, CAP - 1)
        async with ws_connect(guarded.ws_url, protocol) as another:
            assert (await another.init(token))["type"] == "connection_ack"
    await _counted(guarded.sockets, 0)


async def test_a_refused_legacy_connection_init_closes_with_4403(ws_url: str, server: str) -> None:
    async with ws_connect(ws_url, "graphql-ws") as ws:
        await ws.send({"type": "connection_init", "payload": {"authorization": "Bearer garbage"}})
        message = await ws.receive()
        assert message["type"] == "connection_error"
        assert message["payload"]["code"] == "TOKEN_INVALID"
        # closed as graphql-transport-ws closes an unauthorised socket: 4403, not 1011 (internal error)
        assert await ws.close_code(within=2) == 4403
