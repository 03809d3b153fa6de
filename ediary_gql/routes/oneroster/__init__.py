"""OneRoster 1.2 rostering (read) over REST: /ims/oneroster/rostering/v1p2/…

    GET /ims/oneroster/rostering/v1p2/{collection}?limit=&offset=&sort=&orderBy=&filter=&fields=
    GET /ims/oneroster/rostering/v1p2/{collection}/{sourcedId}
    Authorization: Bearer <an integration's token with roster:read>

`collection`: orgs, schools, academicSessions, classes, courses, users, students,
teachers, enrollments. A list answers `{"<collection>": [...]}` with X-Total-Count and
Link (first, prev, next, last); one record `{"<type>": {...}}`. Refusals and bad
parameters are the spec's imsx_StatusInfo payload: 400 (invalid_filter_field,
invalid_sort_field, invalid_selection_field, invaliddata), 401 (unauthorisedrequest:
no token, or an expired or revoked one), 403 (forbidden: a person's token, or no
roster:read), 404 (unknownobject: no such sourcedId at the integration's school).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.routes.downloads import bearer_actor
from ediary_gql.routes.oneroster import params, serializers
from ediary_gql.services.oneroster import reads
from ediary_gql.services.oneroster.sources import Collection

PREFIX = "/ims/oneroster/rostering/v1p2"
Endpoint = Callable[[Request], Awaitable[Response]]


def status_info(status: int, minor: str, description: str, headers: dict[str, str] | None = None) -> Response:
    """The spec's imsx_StatusInfo payload of a failed request."""
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}]
        },
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _refused(error: DomainError) -> Response:
    if error.code is ErrorCode.FORBIDDEN:
        return status_info(403, "forbidden", "This token may not read the roster (roster:read of an integration)")
    return status_info(
        401,
        "unauthorisedrequest",
        "A valid bearer token of an integration is required",
        headers={"WWW-Authenticate": 'Bearer realm="ediary-gql", error="invalid_token"'},
    )


def _links(request: Request, query: reads.ListQuery, total: int) -> str:
    """RFC 8288 Link header for the pages around this one."""
    limit = query.limit
    last = max(total - 1, 0) // limit * limit
    pages = {"first": 0, "last": last}
    if query.offset > 0:
        pages["prev"] = max(query.offset - limit, 0)
    if query.offset + limit < total:
        pages["next"] = query.offset + limit
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
    base = str(request.url.replace(query=""))
    return ", ".join(
        f'<{base}?{urlencode([*kept, ("limit", limit), ("offset", offset)])}>; rel="{rel}"'
        for rel, offset in pages.items()
    )


def _refs(request: Request, actor: Actor) -> serializers.Refs:
    return serializers.Refs(str(request.base_url).rstrip("/") + PREFIX, reads.reader_school(actor))


def list_endpoint(collection: Collection) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        services: AppServices = request.app.state.services
        try:
            actor = await bearer_actor(request)
            query = params.list_query(request.query_params)
            fields = params.selected_fields(request.query_params, serializers.FIELDS[collection])
            async with services.read_session_factory() as session:
                records, total = await reads.list_records(session, actor=actor, collection=collection, query=query)
        except DomainError as error:
            return _refused(error)
        except reads.QueryError as error:
            return status_info(400, error.minor.value, error.description)
        refs = _refs(request, actor)
        serialize = serializers.SERIALIZERS[collection]
        items = [serializers.selected(serialize(record, refs), fields) for record in records]
        body: dict[str, Any] = {serializers.LIST_KEYS[collection]: items}
        headers = {"X-Total-Count": str(total), "Link": _links(request, query, total)}
        return JSONResponse(body, headers=headers)

    return endpoint


def one_endpoint(collection: Collection) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        services: AppServices = request.app.state.services
        sid = request.path_params["sourced_id"]
        try:
            actor = await bearer_actor(request)
            fields = params.selected_fields(request.query_params, serializers.FIELDS[collection])
            async with services.read_session_factory() as session:
                record = await reads.get_record(session, actor=actor, collection=collection, sourced_id=sid)
        except DomainError as error:
            return _refused(error)
        except reads.QueryError as error:
            return status_info(400, error.minor.value, error.description)
        if record is None:
            return status_info(404, "unknownobject", f"No {serializers.ONE_KEYS[collection]} with sourcedId {sid}")
        item = serializers.SERIALIZERS[collection](record, _refs(request, actor))
        return JSONResponse({serializers.ONE_KEYS[collection]: serializers.selected(item, fields)})

    return endpoint


def mount() -> BaseRoute:
    """The rostering endpoints, a list and one record per collection, under PREFIX."""
    routes: list[BaseRoute] = []
    for collection in Collection:
        routes.append(Route(f"/{collection.value}", list_endpoint(collection), methods=["GET"]))
        # a sourcedId may hold a "/" (our global IDs are base64)
        routes.append(Route(f"/{collection.value}/{{sourced_id:path}}", one_endpoint(collection), methods=["GET"]))
    return Mount(PREFIX, routes=routes, name="oneroster")
