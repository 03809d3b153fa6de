"""GET /dashboard: the school's live attendance page, and /static: the files it and GraphiQL load.

The page is plain files shipped in the package (static/dashboard): it signs in with the API's
own signIn, reads what the user may see, and follows attendanceSummary and attendanceEvents
over graphql-transport-ws. Nothing is loaded from elsewhere, so it also works on a school
network that blocks CDNs; GraphiQL's scripts are served from static/graphiql the same way
(GRAPHIQL_CDN=true loads them from the CDN instead).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
DASHBOARD_PATH = "/dashboard"
STATIC_PATH = "/static"
DASHBOARD_ROUTE = "dashboard"
STATIC_ROUTE = "static"

# A Host header is put into the policy only when it is a plain host[:port]: anything else
# could smuggle directives into it.
_PLAIN_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")

# Headers of every file and page this module serves.
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def content_security_policy(host: str | None, *, inline_styles: bool = False) -> str:
    """The dashboard's policy: its own scripts, styles and images only, no inline code, the API
    over HTTP and WebSocket of the same host, never inside a frame. (Styles set from scripts
    through the DOM, as React does, are not inline code.)"""
    connect = "'self'"
    if host is not None and _PLAIN_HOST.match(host):
        # 'self' covers ws: of the same host only in newer browsers: name it
        connect += f" ws://{host} wss://{host}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'" if inline_styles else "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def page_headers(request: Request, *, inline_styles: bool = False) -> dict[str, str]:
    return {
        **COMMON_HEADERS,
        "Content-Security-Policy": content_security_policy(request.headers.get("host"), inline_styles=inline_styles),
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-cache",
    }


async def dashboard(request: Request) -> Response:
    return FileResponse(
        STATIC_DIR / "dashboard" / "index.html",
        media_type="text/html; charset=utf-8",
        headers=page_headers(request),
    )


class _StaticFiles(StaticFiles):
    """Starlette's static files, with the common security headers on every answer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                for name, value in COMMON_HEADERS.items():
                    headers.append((name.lower().encode(), value.encode()))
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def routes() -> list[Route | Mount]:
    return [
        Route(DASHBOARD_PATH, dashboard, methods=["GET"], name=DASHBOARD_ROUTE),
        Mount(STATIC_PATH, app=_StaticFiles(directory=STATIC_DIR), name=STATIC_ROUTE),
    ]


@cache
def graphiql_html() -> str:
    """GraphiQL's page loading everything from /static/graphiql (see static/graphiql/VERSIONS.md)."""
    return (STATIC_DIR / "graphiql" / "index.html").read_text(encoding="utf-8")


def graphiql_response(request: Request, html: str, *, from_cdn: bool) -> HTMLResponse:
    # GraphiQL's dialogs (Radix, react-remove-scroll) add <style> elements: its page allows
    # inline styles, never inline scripts. The CDN page keeps Strawberry's inline script and
    # CDN links, so it gets no policy.
    headers = dict(COMMON_HEADERS) if from_cdn else page_headers(request, inline_styles=True)
    return HTMLResponse(html, headers=headers)
