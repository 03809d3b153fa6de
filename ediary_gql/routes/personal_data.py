"""GET /data-requests/{id}/file: a ready export of one's data, to its requester alone.

`id` is the DataRequest's global ID. With `Authorization: Bearer …` of its requester the
ZIP is streamed; 410 Gone once it has expired; 404 for anyone else, exactly as for a
request that does not exist or is not ready; 401 without a valid token.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.personal_data import DataRequestStatus
from ediary_gql.routes import downloads
from ediary_gql.services.personal_data.export import EXPORT_FILE_PATH, EXPORT_FILE_ROUTE, export_for_download

__all__ = ["EXPORT_FILE_PATH", "EXPORT_FILE_ROUTE", "download"]


def _not_found() -> Response:
    return downloads.not_found("Выгрузка не найдена")


def _gone() -> Response:
    return downloads.gone("Срок хранения выгрузки истёк: запросите её ещё раз")


async def download(request: Request) -> Response:
    actor = await downloads.authenticate(request)
    if isinstance(actor, Response):
        return actor
    pk = downloads.path_pk(request.path_params["request_id"], "DataRequest", numbers=False)
    if pk is None:
        return _not_found()
    services = downloads.services_of(request)
    async with services.session_factory() as session:
        row = await export_for_download(session, actor=actor, request_id=pk)
        if row is None:
            return _not_found()
        expired = row.expires_at is not None and row.expires_at <= utcnow()
        if row.status is DataRequestStatus.EXPIRED or expired or not row.storage_key:
            return _gone()
        key, size = row.storage_key, row.byte_size
    name = f"my-data-{pk}.zip"
    return await downloads.file_response(
        services,
        key,
        media_type="application/zip",
        disposition=downloads.content_disposition(name, name),
        size=size,
        missing=_gone,
    )
