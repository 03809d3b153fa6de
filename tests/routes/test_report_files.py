"""GET /reports/{id}/file over real HTTP: the requester downloads their report with its
type and name; anyone else gets 404, as for a report that does not exist; 401 without a
token; 410 once the file has expired."""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import unquote

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import ReportFormat, ReportKind, ReportStatus
from ediary_gql.db.models.reports import Report
from ediary_gql.routes.reports import REPORT_FILE_ROUTE
from ediary_gql.services.reports.worker import ReportWorker
from ediary_gql.settings import Settings
from tests.conftest import LiveServer
from tests.diary_writes_support import World, make_world
from tests.services.reports.queue_support import ask, report
from tests.support import GraphQLClient

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


async def _made(services: AppServices, settings: Settings, world: World, **overrides: object) -> Report:
    """The parent's report of the child, made by a worker now."""
    asked = await ask(services, world.parent, world, **overrides)
    assert await ReportWorker.from_settings(settings, services.session_factory).drain() == 1
    made = await report(services, asked.id)
    assert made.status is ReportStatus.READY
    return made


def file_url(made: Report) -> str:
    """The report's file, by its global ID."""
    return f"/reports/{to_base64('Report', made.id)}/file"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_requester_downloads_their_report(
    gql: GraphQLClient, app_services: AppServices, settings: Settings, world: World
) -> None:
    made = await _made(app_services, settings, world, kind=ReportKind.ATTENDANCE, format=ReportFormat.CSV)
    token = await world.token(gql, world.parent)

    response = await gql.http.get(file_url(made), headers=_auth(token))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-length"] == str(made.byte_size)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-store"
    # a plain ASCII name, and the real one in UTF-8
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f"attachment; filename=\"report-{made.id}.csv\"; filename*=UTF-8''")
    name = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert name == f"Посещаемость {world.child.last_name} {world.child.first_name} 1 четверть.csv"
    # and the body is the CSV the worker stored, readable by the csv module (UTF-8 with BOM)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows
    assert len(response.content) == made.byte_size
    # the plain number works too
    by_number = await gql.http.get(f"/reports/{made.id}/file", headers=_auth(token))
    assert by_number.content == response.content


async def test_a_pdf_comes_as_a_pdf(
    gql: GraphQLClient, app_services: AppServices, settings: Settings, world: World
) -> None:
    made = await _made(app_services, settings, world, format=ReportFormat.PDF)
    response = await gql.http.get(file_url(made), headers=_auth(await world.token(gql, world.parent)))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert unquote(response.headers["content-disposition"]).endswith(" 1 четверть.pdf")


async def test_anyone_else_gets_404_as_for_no_report_at_all(
    gql: GraphQLClient, app_services: AppServices, settings: Settings, world: World
) -> None:
    made = await _made(app_services, settings, world, format=ReportFormat.CSV)
    queued = await ask(app_services, world.parent, world, format=ReportFormat.CSV)
    # the school's admin, the other family, the teacher and an operator: not theirs
    for user in (world.admin, world.other_parent, world.teacher, world.operator):
        response = await gql.http.get(file_url(made), headers=_auth(await world.token(gql, user)))
        assert response.status_code == 404, user.email
        assert response.json() == {"error": "NOT_FOUND", "message": "Отчёт не найден"}
    # and the requester's own: one not made yet, one that does not exist, an ID of another type
    token = await world.token(gql, world.parent)
    for path in (
        file_url(queued),
        f"/reports/{made.id + 1000}/file",
        f"/reports/{to_base64('Child', made.id)}/file",
        "/reports/not-an-id/file",
        f"/reports/{'9' * 30}/file",
    ):
        assert (await gql.http.get(path, headers=_auth(token))).status_code == 404, path


async def test_without_a_valid_token_it_is_401(
    gql: GraphQLClient, app_services: AppServices, settings: Settings, world: World
) -> None:
    made = await _made(app_services, settings, world, format=ReportFormat.CSV)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = await gql.http.get(file_url(made), headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
    # whatever the id
    assert (await gql.http.get("/reports/123456/file")).status_code == 401


async def test_an_expired_report_is_gone_to_its_requester_and_unknown_to_others(
    gql: GraphQLClient, app_services: AppServices, settings: Settings, world: World
) -> None:
    made = await _made(app_services, settings, world, format=ReportFormat.CSV)
    token = await world.token(gql, world.parent)
    assert made.expires_at is not None
    # past its time but not swept yet: gone already
    late = made.expires_at + dt.timedelta(seconds=1)
    async with app_services.session_factory() as s, s.begin():
        row = await s.get(Report, made.id)
        assert row is not None
        row.expires_at = NOW - dt.timedelta(seconds=1)
    response = await gql.http.get(file_url(made), headers=_auth(token))
    assert response.status_code == 410
    assert response.json()["error"] == "EXPIRED"
    # and once the sweep deleted the file
    worker = ReportWorker.from_settings(settings, app_services.session_factory)
    assert await worker.expire_once(now=late) == 1
    assert (await report(app_services, made.id)).status is ReportStatus.EXPIRED
    assert (await gql.http.get(file_url(made), headers=_auth(token))).status_code == 410
    other = await world.token(gql, world.other_parent)
    assert (await gql.http.get(file_url(made), headers=_auth(other))).status_code == 404


def test_the_route_is_found_by_its_name(live: LiveServer) -> None:
    # how the GraphQL `downloadUrl` makes it: request.url_for(REPORT_FILE_ROUTE, report_id=<global ID>)
    global_id = to_base64("Report", 12)
    assert live.app.url_path_for(REPORT_FILE_ROUTE, report_id=global_id) == f"/reports/{global_id}/file"
