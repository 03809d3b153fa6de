"""Test clients: GraphQL over real HTTP, subscriptions over a real WebSocket."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

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
        while True:
            raw = await asyncio.wait_for(self.conn.recv(), within)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") in ("ping", "ka"):
                if message["type"] == "ping":
                    await self.send({"type": "pong"})
                continue
            return message

    async def init(self, token: str | None = None) -> dict[str, Any]:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._next_id += 1
        op_id = str(self._next_id)
        kind = "subscribe" if self.protocol == "graphql-transport-ws" else "start"
        await self.send({"id": op_id, "type": kind, "payload": {"query": query, "variables": variables or {}}})
        return op_id

    async def no_message(self, within: float = 0.3) -> bool:
        try:
            raw = await asyncio.wait_for(self.conn.recv(), within)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message: {raw!r}")


@asynccontextmanager
async def ws_connect(base_ws_url: str, protocol: str = "graphql-transport-ws") -> AsyncIterator[WsClient]:
    async with websockets.connect(f"{base_ws_url}/graphql", subprotocols=[protocol]) as conn:  # type: ignore[list-item]
        yield WsClient(conn, protocol)


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


async def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until `url`/healthz answers 200 (or the server process `proc` has exited)."""
    async with httpx.AsyncClient() as client:
        for _ in range(400):
            if proc is not None and proc.poll() is not None:
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
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once per fixture
        [sys.executable, "-m", "uvicorn", "ediary_gql.app:create_app", "--factory", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
