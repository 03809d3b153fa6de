"""GET /calendar/<feed token>.ics: a personal calendar feed (see services/calendar_feed.py)."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ediary_gql.context import AppServices
from ediary_gql.services import calendar_feed

FEED_ROUTE = "calendar_feed"
PATH = "/calendar/{token}.ics"


async def feed(request: Request) -> Response:
    services: AppServices = request.app.state.services
    token = str(request.path_params["token"])
    async with services.session_factory() as session:
        body = await calendar_feed.render_feed(session, token=token, now=dt.datetime.now(dt.UTC))
    if body is None:
        return PlainTextResponse("Лента календаря не найдена", status_code=404)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="ediary.ics"'},
    )
