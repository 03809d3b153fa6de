"""Test clients: GraphQL over real HTTP, subscriptions over a real WebSocket (and reading
what they say), waiting for subscribers, counting statements, server processes."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import redis.asyncio as aioredis
import uvicorn
import websockets
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from ediary_gql.context import AppServices
from ediary_gql.settings import Settings


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.headers["content-type"].startswith("application/json"), response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The `data` of a response that must have no errors."""
        body = await self.post(query, variables, token=token)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def sign_in(self, login: str, password: str) -> str:
        data = await self.data(
            "mutation($i: SignInInput!) { signIn(input: $i) { accessToken userErrors { code message } } }",
            {"i": {"login": login, "password": password}},
        )
        assert data["signIn"]["userErrors"] == [], data
        token: str = data["signIn"]["accessToken"]
        return token

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        *,
        token: str | None = None,
        csrf_header: bool = True,
    ) -> httpx.Response:
        """A GraphQL multipart request (the upload spec): `files` maps a variable path
        such as "i.document" to (file name, bytes, the content type the client claims)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if csrf_header:
            headers["Apollo-Require-Preflight"] = "true"
        operations = {"query": query, "variables": variables}
        file_map = {str(n): [f"variables.{path}"] for n, path in enumerate(files)}
        parts = {str(n): spec for n, spec in enumerate(files.values())}
        form = {"operations": json.dumps(operations), "map": json.dumps(file_map)}
        return await self.http.post("/graphql", data=form, files=parts, headers=headers)


class WsClient:
    """A GraphQL WebSocket client speaking graphql-transport-ws or legacy graphql-ws."""

    def __init__(self, conn: websockets.ClientConnection, protocol: str) -> None:
        self.conn = conn
        self.protocol = protocol
        self._next_id = 0

    async def send(self, message: dict[str, Any]) -> None:
        await self.conn.send(json.dumps(message))

    async def receive(self, within: float = 5.0) -> dict[str, Any]:
        """The next message but keep-alives (a ping is answered), waiting at most `within`
        seconds for each; ConnectionClosed once the server has closed the socket."""
        while True:
            raw = await asyncio.wait_for(self.conn.recv(), within)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") in ("ping", "ka"):
                if message["type"] == "ping":
                    await self.send({"type": "pong"})
                continue
            return message

    async def init(self, token: str | None = None) -> dict[str, Any]:
        """connection_init (signed in with `token`, if any); the server's answer."""
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """Start an operation on the connection; its id."""
        self._next_id += 1
        op_id = str(self._next_id)
        kind = "subscribe" if self.protocol == "graphql-transport-ws" else "start"
        await self.send({"id": op_id, "type": kind, "payload": {"query": query, "variables": variables or {}}})
        return op_id

    async def start(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None) -> str:
        """connection_init, which must be acknowledged, then one subscription; its id."""
        ack = await self.init(token)
        assert ack["type"] == "connection_ack", ack
        return await self.subscribe(query, variables)

    async def no_message(self, within: float = 0.3) -> bool:
        try:
            raw = await asyncio.wait_for(self.conn.recv(), within)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message: {raw!r}")

    async def close_code(self, within: float = 5.0) -> int:
        """The code the server closes the socket with, waiting at most `within` seconds;
        no message but keep-alives may come first."""
        try:
            message = await self.receive(within)
        except websockets.ConnectionClosed as closed:
            if closed.rcvd is None:
                raise AssertionError("closed without a close frame") from closed
            return closed.rcvd.code
        raise AssertionError(f"a message instead of the close: {message!r}")


@asynccontextmanager
async def ws_connect(base_ws_url: str, protocol: str = "graphql-transport-ws") -> AsyncIterator[WsClient]:
    async with websockets.connect(f"{base_ws_url}/graphql", subprotocols=[protocol]) as conn:  # type: ignore[list-item]
        yield WsClient(conn, protocol)


def data_of(message: dict[str, Any], field: str | None = None) -> dict[str, Any]:
    """What a subscription result (`next`, or `data` on the legacy protocol) that must carry
    no errors says under its root field: `field`, or the only one when not named."""
    assert message["type"] in ("next", "data"), message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"]
    if field is None:
        (field,) = data  # a subscription selects one root field
    value: dict[str, Any] = data[field]
    return value


def errors_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The GraphQL errors of a message: an `error` message (a list on graphql-transport-ws,
    one error on the legacy protocol), or a result carrying errors."""
    if message["type"] == "error":
        payload = message["payload"]
        return payload if isinstance(payload, list) else [payload]
    assert message["type"] in ("next", "data"), message
    errors: list[dict[str, Any]] = message["payload"].get("errors") or []
    assert errors, message
    return errors


def error_code(message: dict[str, Any]) -> str:
    """The code of the first GraphQL error of a message (see `errors_of`)."""
    code: str = errors_of(message)[0]["extensions"]["code"]
    return code


def refusal_code(message: dict[str, Any]) -> str:
    """The code of a subscription refused before it started (no actor, no right, a bad
    argument): the protocol's `error` message on either protocol, never a result."""
    assert message["type"] == "error", message
    return error_code(message)


async def wait_subscribed(services: AppServices, channel: str, count: int = 1) -> None:
    """Until `count` subscriptions of this process follow `channel` in its log tail."""
    for _ in range(300):
        if services.tail.subscriber_count(channel) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{services.tail.subscriber_count(channel)} subscribers reached {channel}, not {count}")


async def wait_on_bus(services: AppServices, channel: str) -> None:
    """Until something of this process (a dispatcher, the log tail's wake-up) listens on
    `channel` of its event bus."""
    for _ in range(300):
        if services.bus.subscriber_count(channel) >= 1:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nothing listens on {channel}")


async def wait_subscribed_on_redis(settings: Settings, *names: str) -> None:
    """Until each channel in `names` (as the bus names it, without the namespace) has a Redis
    subscriber: a subscription of another server process listens."""
    wanted = [settings.broadcast_namespace + name for name in names]
    redis = aioredis.from_url(settings.broadcast_url)
    try:
        for _ in range(300):
            counts = dict(await redis.pubsub_numsub(*wanted))
            if all(counts.get(channel.encode(), 0) > 0 for channel in wanted):
                return
            await asyncio.sleep(0.01)
    finally:
        await redis.aclose()
    raise AssertionError(f"no other process subscribed to {wanted}")


_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})


class StatementCounter:
    """Counts SQL statements the engine runs; machine-independent, unlike timings."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self.statements: list[str] = []
        self._engine = engine.sync_engine

    def _on_execute(self, *args: Any) -> None:
        statement = str(args[2])
        if statement.split(None, 1)[0].upper() in _TRANSACTION_CONTROL:
            return  # SQLite's explicit BEGIN: not work done for the request
        self.count += 1
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        self.count = 0
        self.statements = []
        event.listen(self._engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._on_execute)


def stored_files(settings: Settings) -> list[Path]:
    """Every file in the upload folder."""
    return [p for p in settings.upload_dir.rglob("*") if p.is_file()] if settings.upload_dir.exists() else []


def free_port() -> int:
    """A local TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def served(app: Any, **options: Any) -> AsyncIterator[str]:
    """`app` served by uvicorn in this event loop on a free port, for as long as the block
    runs; its base URL. `options` go to uvicorn.Config (e.g. ws=…)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="on", **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await task


# A server process imports the whole app before it answers: on a loaded machine (CI's two
# cores shared with PostgreSQL and other server processes) that can take tens of seconds.
SERVER_START_SECONDS = 90.0


async def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None = None, output: IO[bytes] | None = None) -> None:
    """Until `url`/healthz answers 200 (or the server process `proc` has exited: then
    what it wrote, from `output` or its stderr pipe, is the error)."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                if output is not None:
                    output.seek(0)
                    raise AssertionError(output.read().decode(errors="replace") or "server exited")
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server exited")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not start")


@asynccontextmanager
async def server_process(settings: Settings, **env: str) -> AsyncIterator[str]:
    """A server process of its own sharing the database, the event bus and the secret key
    of `settings` (plus `env`); its base URL while it runs."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": settings.broadcast_url,
        "BROADCAST_NAMESPACE": settings.broadcast_namespace,
        "SECRET_KEY": settings.secret_key,
        "UPLOAD_DIR": str(settings.upload_dir),
        "LOG_LEVEL": "WARNING",
        "DISPATCHER_ENABLED": "false",
        **env,
    }
    # its log goes to a file, not a pipe: nobody reads a pipe while the test runs, and a
    # server logging a backend's faults would fill it and then block on its next line
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once per fixture
        [sys.executable, "-m", "uvicorn", "ediary_gql.app:create_app", "--factory", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=output,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(url, proc, output)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        output.close()
