"""GraphQL over HTTP: the response media type and status codes, and the answer when the
database is down.

A client that accepts `application/graphql-response+json` (the GraphQL-over-HTTP spec's own)
is answered in it, and then a request that never ran (a document that does not parse or
validate, variables that do not coerce) is a 400 without a `data` entry. A client asking for
`application/json` (or anything else) gets today's answers: 200 with `data: null`.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.responses import Response

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

_UNREACHABLE = frozenset({errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT})

UNAVAILABLE_MESSAGE = "Сервис временно недоступен, повторите запрос позже"


def _quality(accept: str, media_types: tuple[str, ...]) -> float:
    """The best q-value the Accept header gives any of `media_types` (0 if none)."""
    best = 0.0
    for part in accept.split(","):
        media_type, *params = (p.strip() for p in part.split(";"))
        if media_type.lower() not in media_types:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def wants_graphql_response(accept: str | None) -> bool:
    """True if the client prefers application/graphql-response+json (at least as much as JSON)."""
    if not accept:
        return False
    preferred = _quality(accept, (GRAPHQL_RESPONSE,))
    return preferred > 0 and preferred >= _quality(accept, (JSON, "application/*", "*/*"))


class SubResponse(Response):
    """The view's sub-response, knowing the media type the answer is made in."""

    graphql_response: bool = False


def is_request_error(response_data: Any) -> bool:
    """A result of a request that never ran: errors, and no data (graphql-core gives request
    errors no path; a field error nulling the whole result has one)."""
    if not isinstance(response_data, dict):
        return False
    errors = response_data.get("errors") or []
    return response_data.get("data") is None and bool(errors) and all(not e.get("path") for e in errors)


def database_unavailable(exc: BaseException) -> bool:
    """True for the ways a database that is down or unreachable shows itself."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    # asyncpg's own connection failures, unwrapped by SQLAlchemy: refused, reset, timed
    # out, no route, a name that does not resolve (not any OSError: a full disk is no outage)
    if isinstance(exc, ConnectionError | asyncio.TimeoutError | socket.gaierror):
        return True
    # asyncio's "Multiple exceptions: [Errno 111] Connect call failed …" (several addresses) has no errno
    return isinstance(exc, OSError) and (exc.errno in _UNREACHABLE or "Connect call failed" in str(exc))


def unavailable_body() -> dict[str, Any]:
    return {"errors": [{"message": UNAVAILABLE_MESSAGE, "extensions": {"code": "SERVICE_UNAVAILABLE"}}]}
