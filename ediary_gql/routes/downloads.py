"""What the file download routes share: the bearer token check (401), the id in the
path, the error answers and the streamed file response.

A file is streamed from storage with `attachment` disposition, `nosniff` and
`private, no-store`; its first chunk is read before the response starts, so a file
gone from storage (deleted a moment ago) is answered by the route, not cut off mid-way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry import relay

from ediary_gql.auth.actor import Actor
from ediary_gql.auth.tokens import bearer_token
from ediary_gql.context import AppServices
from ediary_gql.db.ids import parse_id
from ediary_gql.errors import DomainError, unauthenticated
from ediary_gql.schema.ids import pk_or_none
from ediary_gql.services import sessions
from ediary_gql.storage import StorageKeyError, storage_for
from ediary_gql.text import is_digits


def services_of(request: Request) -> AppServices:
    services: AppServices = request.app.state.services
    return services


async def bearer_actor(request: Request) -> Actor:
    """The actor of the request's `Authorization: Bearer …`; UNAUTHENTICATED (a DomainError) without one."""
    services = services_of(request)
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise unauthenticated()
    return await sessions.authenticate(services.reads, settings=services.settings, token=token)


async def authenticate(request: Request) -> Actor | Response:
    """The actor of the request's `Authorization: Bearer …`, or the 401 to answer with."""
    try:
        return await bearer_actor(request)
    except DomainError as exc:
        return JSONResponse(
            {"error": exc.code.value, "message": exc.errors[0].message},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )


def path_pk(raw: str, type_name: str, *, numbers: bool = True) -> int | None:
    """The primary key in a path segment: a global ID of `type_name`, or (with `numbers`)
    plain digits; None for anything else, a number beyond every id (db/ids.py) included."""
    if numbers and is_digits(raw):
        return parse_id(raw)
    try:
        global_id = relay.GlobalID.from_id(raw)
    except Exception:  # any malformed id is simply "no such thing"
        return None
    return pk_or_none(global_id, type_name)


def not_found(message: str) -> Response:
    return JSONResponse({"error": "NOT_FOUND", "message": message}, status_code=404)


def gone(message: str) -> Response:
    return JSONResponse({"error": "EXPIRED", "message": message}, status_code=410)


def content_disposition(file_name: str, ascii_name: str | None = None) -> str:
    """`attachment` with the real name in UTF-8 (RFC 5987) and, if given, a plain ASCII
    name before it for clients that do not read `filename*` (RFC 6266)."""
    utf8 = f"filename*=UTF-8''{quote(file_name, safe='')}"
    if ascii_name is None:
        return f"attachment; {utf8}"
    return f'attachment; filename="{ascii_name}"; {utf8}'


async def file_response(
    services: AppServices,
    storage_key: str,
    *,
    media_type: str,
    disposition: str,
    size: int | None,
    missing: Callable[[], Response],
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The stored file streamed as a download; `missing()` if storage no longer has it."""
    chunks = storage_for(services.settings.upload_dir).open(storage_key)
    try:
        first = await anext(chunks)
    except StorageKeyError:
        return missing()
    except StopAsyncIteration:
        first = b""

    async def body() -> AsyncIterator[bytes]:
        try:
            yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()  # close the file even if the client goes away mid-way

    all_headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        **(headers or {}),
    }
    if size is not None:
        all_headers["Content-Length"] = str(size)
    return StreamingResponse(body(), media_type=media_type, headers=all_headers)
