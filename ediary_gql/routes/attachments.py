"""HTTP around files: the download route and the guard in front of multipart uploads.

- `GET /files/{id}` (an Attachment's global ID, or its number) with
  `Authorization: Bearer …` streams the file to those the policy allows;
  anyone else gets 404, exactly as for a file that does not exist (401 when
  there is no valid token at all, whatever the id).
- Multipart requests need no CORS preflight, so a page on any site could make
  a browser post one (CSRF). They are accepted only with the header
  `Apollo-Require-Preflight` (any non-empty value, e.g. `true`): a browser
  sends a custom header cross-site only after a preflight the CORS policy
  answers. Their bodies are also capped as a whole (`UPLOAD_MAX_REQUEST_BYTES`).
- Every other request body (JSON to /graphql, forms) is capped at `REQUEST_MAX_BYTES`,
  by its Content-Length and, for a body streamed without one, as it arrives: 413.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.background import BackgroundTask
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ediary_gql.resolvers.attachments import DOWNLOAD_ROUTE
from ediary_gql.routes import downloads
from ediary_gql.services import attachments as service
from ediary_gql.settings import Settings
from ediary_gql.text import is_digits

__all__ = ["DOWNLOAD_ROUTE", "MultipartGuard", "close_uploads_after", "download"]

CSRF_HEADER = "Apollo-Require-Preflight"
CSRF_CODE = "CSRF_HEADER_REQUIRED"
TOO_LARGE_CODE = "REQUEST_TOO_LARGE"


# --- download -------------------------------------------------------------------


def _not_found() -> Response:
    return downloads.not_found("Файл не найден")


async def download(request: Request) -> Response:
    actor = await downloads.authenticate(request)
    if isinstance(actor, Response):
        return actor
    pk = downloads.path_pk(request.path_params["attachment_id"], "Attachment")
    if pk is None:
        return _not_found()
    services = downloads.services_of(request)
    async with services.session_factory() as session:
        attachment = await service.find_for_download(session, actor=actor, attachment_id=pk)
    if attachment is None:
        return _not_found()
    return await downloads.file_response(
        services,
        attachment.storage_key,
        media_type=attachment.content_type,
        disposition=downloads.content_disposition(attachment.file_name),
        size=attachment.size_bytes,
        missing=_not_found,
        headers={"ETag": f'"{attachment.sha256}"'},
    )


# --- the multipart guard ----------------------------------------------------------


def close_uploads_after(request: Request, response: Response) -> None:
    """Close the temporary copies of a multipart request's files once the response is sent."""
    if request.headers.get("content-type", "").lower().lstrip().startswith("multipart/"):
        response.background = BackgroundTask(request.close)


class _BodyTooLarge(Exception):
    pass


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    # the shape of a GraphQL error response, so GraphQL clients show the message
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


def _size_text(size: int) -> str:
    mib, kib = 1024 * 1024, 1024
    return f"{size // mib} МБ" if size >= mib else f"{max(1, size // kib)} КБ"


class MultipartGuard:
    """ASGI middleware: multipart requests need the CSRF header and a bounded body; every
    other body is bounded too (REQUEST_MAX_BYTES)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.upload_max_request_bytes
        self.max_other_bytes = settings.request_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not headers.get("content-type", "").lower().lstrip().startswith("multipart/"):
            await self._bounded(scope, receive, send, headers, self.max_other_bytes, self._too_large_body)
            return
        if not headers.get(CSRF_HEADER, "").strip():
            refusal = _refusal(
                400,
                CSRF_CODE,
                f"Запрос с файлами принимается только с заголовком {CSRF_HEADER}: true (защита от CSRF)",
            )
            await refusal(scope, receive, send)
            return
        await self._bounded(scope, receive, send, headers, self.max_bytes, self._too_large_upload)

    def _too_large_upload(self) -> Response:
        return _refusal(
            413, TOO_LARGE_CODE, f"Запрос больше {_size_text(self.max_bytes)}: отправьте файлы по отдельности"
        )

    def _too_large_body(self) -> Response:
        return _refusal(
            413,
            TOO_LARGE_CODE,
            f"Тело запроса больше {_size_text(self.max_other_bytes)}: запросите или отправьте меньше за раз",
        )

    async def _bounded(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: Headers,
        max_bytes: int,
        too_large: Callable[[], Response],
    ) -> None:
        """The request passed on with its body capped at `max_bytes`: refused (`too_large`)
        if its Content-Length says more, or once more than that has arrived."""
        length = headers.get("content-length", "")
        if is_digits(length):
            if int(length) > max_bytes:
                await too_large()(scope, receive, send)
                return
            if "transfer-encoding" not in headers:
                # the server reads exactly Content-Length bytes of the body: nothing to count
                await self.app(scope, receive, send)
                return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if started:
                raise
            await too_large()(scope, receive, send)
