"""GET /reports/{id}/file: a ready report's file, to the person who asked for it.

`id` is the Report's global ID, or its number. With `Authorization: Bearer …` of its
requester the file is streamed with its type and a name («Успеваемость 7А 1 четверть.pdf»,
with an ASCII `filename` beside the UTF-8 `filename*`); 410 Gone once the file has expired;
404 for anyone else, exactly as for a report that does not exist, or is not ready; 401
without a valid token, whatever the id.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import ReportStatus
from ediary_gql.reports.render import ReportFormat as RenderFormat
from ediary_gql.routes import downloads
from ediary_gql.services.reports import names
from ediary_gql.services.reports.requests import REPORT_FILE_PATH, REPORT_FILE_ROUTE, report_for_download

__all__ = ["REPORT_FILE_PATH", "REPORT_FILE_ROUTE", "download"]


def _not_found() -> Response:
    return downloads.not_found("Отчёт не найден")


def _gone() -> Response:
    return downloads.gone("Срок хранения файла отчёта истёк: запросите отчёт ещё раз")


async def download(request: Request) -> Response:
    actor = await downloads.authenticate(request)
    if isinstance(actor, Response):
        return actor
    pk = downloads.path_pk(request.path_params["report_id"], "Report")
    if pk is None:
        return _not_found()
    services = downloads.services_of(request)
    async with services.session_factory() as session:
        report = await report_for_download(session, actor=actor, report_id=pk)
        if report is None:
            return _not_found()
        expired = report.expires_at is not None and report.expires_at <= utcnow()
        if report.status is ReportStatus.EXPIRED or expired or not report.storage_key:
            return _gone()
        file_name = names.file_name(report, await names.names_of(session, report))
    return await downloads.file_response(
        services,
        report.storage_key,
        media_type=RenderFormat[report.format.value].media_type,
        disposition=downloads.content_disposition(file_name, names.ascii_file_name(report)),
        size=report.byte_size,
        missing=_gone,  # deleted by the expiry sweep a moment ago
        # an HTML report opened in the browser runs nothing and reaches nothing
        headers={"Content-Security-Policy": "sandbox"},
    )
