"""The WebSocket origin check: a browser page of another site may not open /graphql's sockets.

Browsers send `Origin` on every WebSocket handshake and, unlike fetch, never ask CORS first,
so the server decides. Allowed: a handshake without `Origin` (not a browser: apps, servers,
the test clients), a page of the server's own host (the dashboard, GraphiQL), and the origins
of CORS_ORIGINS and WS_ALLOWED_ORIGINS (`*` allows any). Any other is refused before the
socket opens (HTTP 403).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

log = structlog.get_logger(__name__)


def _normal(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def same_host(origin: str, host: str | None) -> bool:
    """True if `origin` names the host (and port) the handshake was sent to. The scheme is not
    compared: behind a TLS proxy an https page reaches the server as plain ws."""
    if not host:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    netloc = parts.netloc.lower()
    host = host.lower()
    default_port = {"http": ":80", "https": ":443"}[parts.scheme]
    return netloc == host or netloc + default_port == host or netloc == host.removesuffix(default_port)


class WebSocketOriginGuard:
    def __init__(self, app: ASGIApp, *, allowed: list[str]) -> None:
        self.app = app
        self.any_origin = "*" in allowed
        self.allowed = frozenset(_normal(o) for o in allowed if o != "*")

    def admits(self, origin: str | None, host: str | None) -> bool:
        if origin is None or self.any_origin:
            return True
        return _normal(origin) in self.allowed or same_host(origin, host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            headers = dict(scope.get("headers") or [])
            origin = headers.get(b"origin")
            host = headers.get(b"host")
            origin_text = origin.decode("latin-1") if origin is not None else None
            if not self.admits(origin_text, host.decode("latin-1") if host is not None else None):
                log.info("websocket_origin_refused", origin=origin_text[:200] if origin_text else None)
                # closing before accepting answers the handshake with 403
                await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)
