"""WebSocket guards, alike on both subscription protocols (graphql-transport-ws and the
legacy graphql-ws of subscriptions-transport-ws):

- a socket must send `connection_init` within WS_INIT_TIMEOUT_SECONDS (Strawberry keeps
  that deadline on graphql-transport-ws only; the legacy handler below keeps it too);
- one client address holds at most WS_MAX_UNAUTHENTICATED_PER_ADDRESS sockets open
  unauthenticated, counted per process: a socket counts from its accept until its
  `connection_init` is accepted with a valid token, or until it closes (an anonymous
  `connection_init` leaves it counted); one beyond the cap is closed at once;
- a refused `connection_init` closes the legacy socket as graphql-transport-ws does.

Close codes (graphql-transport-ws's own, on the legacy protocol as well):
  4403 <code>, e.g. TOKEN_EXPIRED              `connection_init` refused (a bad or revoked token):
                                               the reason is the error code, as HTTP's extensions.code
  4408 Connection initialisation timeout       no `connection_init` in time
  4429 Too many unauthenticated connections    over the per-address cap
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Protocol, runtime_checkable

import structlog
from starlette.websockets import WebSocketDisconnect
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage as TransportConnectionInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionInitMessage
from strawberry.types.unset import UnsetType

from ediary_gql.context import Context

log = structlog.get_logger(__name__)

CLOSE_FORBIDDEN = 4403
CLOSE_INIT_TIMEOUT = 4408
CLOSE_TOO_MANY_UNAUTHENTICATED = 4429


def rejection_reason(error: ConnectionRejectionError) -> str:
    """The 4403 close reason: the refusal's code (TOKEN_EXPIRED, TOKEN_REVOKED, …), so a client
    can tell an expired token (refresh it) from a revoked one (sign in again)."""
    payload = error.payload if isinstance(error.payload, dict) else {}
    code = payload.get("code")
    return code if isinstance(code, str) and code.isascii() and len(code) <= 100 else "Forbidden"


class UnauthenticatedSockets:
    """The sockets each client address holds open unauthenticated, in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: no limit
        self._open: dict[str, int] = {}

    def count(self, address: str) -> int:
        return self._open.get(address, 0)

    def admit(self, address: str) -> bool:
        """Count one more socket of `address`, unless it holds `limit` already."""
        held = self._open.get(address, 0)
        if self.limit and held >= self.limit:
            return False
        self._open[address] = held + 1
        return True

    def release(self, address: str) -> None:
        held = self._open.get(address, 0) - 1
        if held > 0:
            self._open[address] = held
        else:
            self._open.pop(address, None)


@runtime_checkable
class GuardedView(Protocol):
    """A GraphQL view keeping the count of its unauthenticated sockets (app.GraphQLView)."""

    unauthenticated_sockets: UnauthenticatedSockets


class _Slot:
    """One socket's place in the count: taken on accept, given back once."""

    def __init__(self, sockets: UnauthenticatedSockets, address: str) -> None:
        self._sockets = sockets
        self._address = address
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._sockets.release(self._address)

    def release_if_authenticated(self, context: Context) -> None:
        if context.auth_error is None and context.actor is not None:
            self.release()


async def _admit(handler: TransportWSHandler | LegacyWSHandler) -> _Slot | None:
    """The socket's slot; None (the socket closed) if its address is over the cap."""
    view = handler.view
    if not isinstance(view, GuardedView):
        return _Slot(UnauthenticatedSockets(0), "")
    sockets = view.unauthenticated_sockets
    address = handler.context.client_ip or ""
    if sockets.admit(address):
        return _Slot(sockets, address)
    log.info("websocket_refused", reason="too_many_unauthenticated", limit=sockets.limit)
    await handler.websocket.close(code=CLOSE_TOO_MANY_UNAUTHENTICATED, reason="Too many unauthenticated connections")
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, with the per-address cap (Strawberry keeps its deadline)."""

    _slot: _Slot | None = None

    async def handle(self) -> None:
        self._slot = await _admit(self)
        if self._slot is None:
            return
        try:
            await super().handle()
        finally:
            self._slot.release()

    async def handle_connection_init(self, message: TransportConnectionInitMessage) -> None:
        # as Strawberry's, but a refusal's close reason is its code (rejection_reason)
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload", {})
        if not isinstance(payload, dict):
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.connection_init_received = True
        self.context.connection_params = payload
        try:
            connection_ack_payload = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as e:
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason=rejection_reason(e))
            return
        if isinstance(connection_ack_payload, UnsetType):
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": connection_ack_payload})
        self.connection_acknowledged = True
        if self._slot is not None:
            self._slot.release_if_authenticated(self.context)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """Legacy graphql-ws, with the view's connection_init deadline, the per-address cap,
    and 4403 (not 1011, "internal error") for a refused connection_init."""

    _slot: _Slot | None = None
    _init_received = False
    _timed_out = False

    async def handle(self) -> None:
        self._slot = await _admit(self)
        if self._slot is None:
            return
        deadline = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            deadline.cancel()
            with suppress(asyncio.CancelledError):
                await deadline
            self._slot.release()

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if self._init_received:
            return
        self._timed_out = True
        # the client may be gone meanwhile: then there is nothing left to close
        with suppress(RuntimeError, OSError, WebSocketDisconnect):
            await self.websocket.close(code=CLOSE_INIT_TIMEOUT, reason="Connection initialisation timeout")

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        # as Strawberry's, but after the deadline nothing is accepted, and a refusal is 4403
        if self._timed_out:
            return
        self._init_received = True
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self.send_message({"type": "connection_error"})
            await self.websocket.close(code=1000, reason="")
            return
        self.context.connection_params = payload
        try:
            connection_ack_payload = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as e:
            await self.send_message({"type": "connection_error", "payload": e.payload})
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason=rejection_reason(e))
            return
        if isinstance(connection_ack_payload, UnsetType) or connection_ack_payload is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": connection_ack_payload})
        self.connection_acknowledged = True
        if self._slot is not None:
            self._slot.release_if_authenticated(self.context)
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())
