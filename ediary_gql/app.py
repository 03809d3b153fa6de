"""The Starlette application: /graphql (HTTP and WebSocket), /healthz."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import structlog
from cross_web import AsyncHTTPRequestAdapter
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.unset import UNSET

from ediary_gql import metrics
from ediary_gql.auth import passwords
from ediary_gql.context import AppServices, Context
from ediary_gql.db import replicas
from ediary_gql.db.engine import create_engine, create_read_session_factory, create_session_factory
from ediary_gql.db.reads import create_reads
from ediary_gql.db.replicas import ReadRouter
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events.bus import EventBus
from ediary_gql.events.retention import Pruner
from ediary_gql.events.tail import LogTail
from ediary_gql.http_responses import (
    GRAPHQL_RESPONSE,
    SubResponse,
    database_unavailable,
    is_request_error,
    unavailable_body,
    wants_graphql_response,
)
from ediary_gql.log_config import configure_logging
from ediary_gql.metrics import WebSocketGauge
from ediary_gql.resolvers.authentication import authenticate
from ediary_gql.resolvers.loaders import Loaders
from ediary_gql.resolvers.shared_reads import SharedReads
from ediary_gql.routes import attachments as attachment_routes
from ediary_gql.routes import calendar_feed as calendar_feed_routes
from ediary_gql.routes import dashboard as dashboard_routes
from ediary_gql.routes import metrics as metrics_routes
from ediary_gql.routes import oauth as oauth_routes
from ediary_gql.routes import oidc as oidc_routes
from ediary_gql.routes import oneroster as oneroster_routes
from ediary_gql.routes import personal_data as personal_data_routes
from ediary_gql.routes import reports as report_routes
from ediary_gql.schema.mutations import mutations_without_actor
from ediary_gql.schema.root import build_schema
from ediary_gql.services.audit_retention import AuditKeeper
from ediary_gql.services.delivery import Dispatcher
from ediary_gql.services.personal_data.export import ExportWorker
from ediary_gql.services.reminders import ReminderScheduler
from ediary_gql.services.reports.worker import ReportWorker
from ediary_gql.services.webhooks.sender import WebhookSender
from ediary_gql.settings import Settings, get_settings
from ediary_gql.storage import storage_for
from ediary_gql.ws_guard import LegacyWSHandler, TransportWSHandler, UnauthenticatedSockets
from ediary_gql.ws_origins import WebSocketOriginGuard

log = structlog.get_logger(__name__)


GC_THRESHOLDS = (5000, 20, 100)  # the young generation, then how often the older ones follow


class GraphQLView(GraphQL[Context, None]):
    # both WebSocket protocols keep the connection_init deadline and the per-address cap of
    # unauthenticated sockets, with graphql-transport-ws's close codes (ws_guard.py)
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(
        self,
        schema: BaseSchema,
        *,
        unauthenticated_per_address: int = 0,
        without_actor: frozenset[str] = frozenset(),
        max_tokens: int | None = None,
        graphiql_cdn: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(schema, **options)
        # GraphiQL's page: its scripts from the package (routes/dashboard.py), or from the CDN
        self.graphiql_cdn = graphiql_cdn
        self.unauthenticated_sockets = UnauthenticatedSockets(unauthenticated_per_address)
        # the mutations a bad token does not stop (signIn, refreshToken, …): see `execute_operation`
        self.without_actor = without_actor
        self.max_tokens = max_tokens

    @property
    def graphql_ide_html(self) -> str:
        if self.graphiql_cdn or self.graphql_ide != "graphiql":
            return super().graphql_ide_html
        return dashboard_routes.graphiql_html()

    async def render_graphql_ide(self, request: Request) -> Response:
        return dashboard_routes.graphiql_response(request, self.graphql_ide_html, from_cdn=self.graphiql_cdn)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # its JSONDecodeError is the standard library's, as the view expects

    def encode_json(self, data: object) -> str:
        # orjson: several times faster than json on a diary's thousand fields, and UTF-8 as
        # it is, not \u-escaped; a str, because WebSocket messages must be text frames
        return orjson.dumps(data).decode()

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = SubResponse()
        sub_response.status_code = None  # type: ignore[assignment]  # as Strawberry's: unset
        del sub_response.headers["content-length"]
        sub_response.graphql_response = wants_graphql_response(request.headers.get("accept"))
        return sub_response

    async def run(self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except Exception as exc:
            # the database down (the token's check is its first statement): a GraphQL answer
            # the client can retry on, not a plain-text 500
            if isinstance(request, WebSocket) or not database_unavailable(exc):
                raise
            log.warning("database_unavailable", error=type(exc).__name__)
            wanted = wants_graphql_response(request.headers.get("accept"))
            media_type = GRAPHQL_RESPONSE if wanted else "application/json"
            return Response(orjson.dumps(unavailable_body()), status_code=503, media_type=media_type)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if wants_graphql_response(request.headers.get("accept")) and is_request_error(processed):
            # GraphQL over HTTP: a request that never ran has no `data` entry
            processed.pop("data", None)
        return processed

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        # as Strawberry's, but the body stays the bytes orjson made (no str in between)
        graphql_response = isinstance(sub_response, SubResponse) and sub_response.graphql_response
        media_type = GRAPHQL_RESPONSE if graphql_response else "application/json"
        response = Response(orjson.dumps(response_data), status_code=200, media_type=media_type)
        response.headers.raw.extend(sub_response.headers.raw)
        response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        elif graphql_response and isinstance(response_data, dict) and "data" not in response_data:
            # parse, validation and variable coercion failures (application/json keeps 200)
            response.status_code = 400
        return response

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services: AppServices = request.app.state.services
        context = Context(
            services=services,
            request=request,
            response=response,
            loaders=Loaders(services.read_session_factory),
            request_id=request.scope.get("request_id") or uuid.uuid4().hex,
        )
        if isinstance(request, Request):
            await authenticate(context, request.headers.get("authorization"))
            if isinstance(response, Response):
                attachment_routes.close_uploads_after(request, response)
        return context

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        # A bad, expired or revoked token refuses the whole request (401), not only the
        # fields that read the actor: a client must not mistake answers given to the
        # anonymous for its own. Only the credential mutations (made with actor="optional":
        # signIn, refreshToken, …) still run, so a client whose token expired can get a new one.
        # The token was checked in get_context (its one statement); a good one costs nothing more here.
        error = context.auth_error
        if error is not None:
            items = request_data if isinstance(request_data, list) else [request_data]
            if not all(self._runs_without_actor(item) for item in items):
                refused = _unauthorized(error, request.headers.get("authorization"), sub_response)
                answer = [refused] * len(request_data) if isinstance(request_data, list) else refused
                _count_operations(request_data, answer, 0.0)
                return answer
        started = time.perf_counter()
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        _count_operations(request_data, result, time.perf_counter() - started)
        return result

    def _runs_without_actor(self, data: GraphQLRequestData) -> bool:
        """True if the operation selects only mutations that take no actor."""
        try:
            document = parse(data.query or "", max_tokens=self.max_tokens)
        except GraphQLSyntaxError:
            return False  # nothing to run: the token's refusal is the answer
        names = _root_fields(document, data.operation_name)
        return names is not None and bool(names) and names <= self.without_actor

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params or {}
        value = params.get("authorization") or params.get("Authorization")
        if value is not None and not isinstance(value, str):
            raise ConnectionRejectionError({"message": "authorization must be a string", "code": "TOKEN_INVALID"})
        await authenticate(context, value)
        if context.auth_error is not None:
            error: DomainError = context.auth_error
            raise ConnectionRejectionError({"message": error.errors[0].message, "code": error.code.value})
        return None


def _count_operations(
    request_data: GraphQLRequestData | list[GraphQLRequestData],
    result: ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult,
    seconds: float,
) -> None:
    """The requests and latency metrics (metrics.py); streamed results are not counted."""
    items = request_data if isinstance(request_data, list) else [request_data]
    results = result if isinstance(result, list) else [result]
    for data, one in zip(items, results, strict=False):
        if not isinstance(one, ExecutionResult):
            continue
        operation = metrics.operation_label(data.operation_name or metrics.first_operation_name(data.query))
        if not one.errors:
            outcome = "ok"
        elif one.data is None and all(e.path is None for e in one.errors):
            refused = any((e.extensions or {}).get("code") in _TOKEN_CODES for e in one.errors)
            outcome = "refused" if refused else "request_error"
        else:
            outcome = "error"
        metrics.GRAPHQL_REQUESTS.labels(operation, outcome).inc()
        metrics.GRAPHQL_SECONDS.labels(operation).observe(seconds / len(items))


_TOKEN_CODES = frozenset({"TOKEN_EXPIRED", "TOKEN_INVALID", "TOKEN_REVOKED"})


# RFC 6750, 3: a refused bearer token is answered with WWW-Authenticate (its text in ASCII)
_TOKEN_DESCRIPTIONS = {
    ErrorCode.TOKEN_EXPIRED: "The access token expired",
    ErrorCode.TOKEN_REVOKED: "The access token was revoked",
}


def _unauthorized(error: DomainError, authorization: str | None, response: Response) -> ExecutionResult:
    """The answer to a request refused for its token: HTTP 401, the token's error code."""
    response.status_code = 401
    challenge = 'Bearer realm="ediary-gql"'
    scheme = (authorization or "").strip().partition(" ")[0]
    # a scheme other than Bearer is no bearer token at all: the challenge names no error (3.1)
    if scheme.lower() == "bearer":
        description = _TOKEN_DESCRIPTIONS.get(error.code, "The access token is invalid")
        challenge += f', error="invalid_token", error_description="{description}"'
    response.headers["WWW-Authenticate"] = challenge
    log.info("request_refused", error_code=error.code.value)
    return ExecutionResult(data=None, errors=[GraphQLError(error.errors[0].message, extensions=error.extensions)])


def _root_fields(document: DocumentNode, operation_name: str | None) -> set[str] | None:
    """The root field names of a mutation (fragments followed, `__typename` left out);
    None unless the document names one mutation to run."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation != OperationType.MUTATION:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names: set[str] = set()
    seen: set[str] = set()

    def collect(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value != "__typename":
                    names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                collect(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    collect(fragment.selection_set)

    collect(operations[0].selection_set)
    return names


class RequestLogMiddleware:
    """Gives each request an id (X-Request-ID) and logs it with status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        scope["request_id"] = request_id
        started = time.perf_counter()
        status: dict[str, Any] = {"code": None}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log.info(
                "request",
                type=scope["type"],
                method=scope.get("method"),
                path=scope.get("path"),
                status=status["code"],
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")


class ReadScopeMiddleware:
    """Each request and WebSocket connection reads in a scope of its own (db/replicas.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router: ReadRouter | None = getattr(scope["app"].state, "read_router", None)
        if scope["type"] not in ("http", "websocket") or router is None:
            await self.app(scope, receive, send)
            return
        with replicas.request_scope(router):
            await self.app(scope, receive, send)


async def healthz(request: Request) -> JSONResponse:
    services: AppServices = request.app.state.services
    router: ReadRouter | None = getattr(request.app.state, "read_router", None)
    # the replicas are asked beside the other checks, each for at most a second; a replica
    # down is reported, not a failure: its reads go to the others or to the primary
    replicas_health = asyncio.ensure_future(router.health()) if router is not None else None
    checks: dict[str, str] = {}
    try:
        async with services.session_factory() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this is the health probe
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        checks["eventBus"] = "ok" if await services.bus.ping() else "error: unreachable"
    except Exception as exc:
        checks["eventBus"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "error", **checks, "subscribers": services.tail.subscribers}
    if replicas_health is not None:
        body["replicas"] = [{"name": r.name, "up": r.up, "lagBytes": r.lag_bytes} for r in await replicas_health]
    return JSONResponse(body, status_code=200 if healthy else 503)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    passwords.configure(time_cost=settings.password_hash_time_cost, memory_kib=settings.password_hash_memory_kib)
    schema = build_schema(settings)
    graphql = GraphQLView(
        schema,
        graphql_ide="graphiql",
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=settings.ws_max_subscriptions,
        unauthenticated_per_address=settings.ws_max_unauthenticated_per_address,
        without_actor=mutations_without_actor(schema),
        max_tokens=settings.query_max_tokens,
        graphiql_cdn=settings.graphiql_cdn,
        # uploads: guarded against CSRF and oversized bodies by MultipartGuard below
        multipart_uploads_enabled=True,
        # Strawberry checks WebSocket origins itself too: the same list as WebSocketOriginGuard's
        allowed_origins=[*settings.cors_origins, *settings.ws_allowed_origins],
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url,
            echo=settings.sql_echo,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pooler=settings.database_pooler,
        )
        bus = EventBus(
            settings.broadcast_url,
            queue_size=settings.subscriber_queue_size,
            namespace=settings.broadcast_namespace,
        )
        await bus.connect()
        app.state.engine = engine
        session_factory, read_session_factory = create_session_factory(engine), create_read_session_factory(engine)
        reads, event_reads = create_reads(engine, read_session_factory), read_session_factory
        router = None
        if settings.database_replica_urls:
            # read-only work on the replicas, the caller's own writes read on the primary (db/replicas.py)
            router = ReadRouter.build(
                engine,
                settings.database_replica_urls,
                pooler=settings.database_pooler,
                pool_size=settings.database_pool_size,
                max_overflow=settings.database_max_overflow,
                echo=settings.sql_echo,
            )
            read_session_factory, reads, event_reads = router.sessions, router.reads, router.primary.sessions
        app.state.read_router = router
        app.state.services = AppServices(
            settings=settings,
            session_factory=session_factory,
            read_session_factory=read_session_factory,
            reads=reads,
            bus=bus,
            tail=LogTail(
                session_factory,
                bus,
                backlog=settings.event_backlog,
                poll_seconds=settings.event_poll_seconds,
            ),
            # the checks of subscribers after others' commits: on the primary
            shared_reads=SharedReads(event_reads),
        )
        log.info("started", database=engine.url.render_as_string(hide_password=True), bus=_without_password(bus.url))
        # What is alive now (modules, the schema, the models, SQLAlchemy's caches) lives as long
        # as the process: out of the collector's sight, full collections stop walking it again
        # and again (a journal response allocates enough to set several off).
        gc.collect()
        gc.freeze()
        # A request allocates thousands of objects that die with it; at the default of a young
        # collection per 700 the collector ran every few requests, walking the objects of the
        # requests still in flight (8% of a diary request's CPU; a third of that at 5,000).
        # Older generations are collected less often too: with thousands of subscriptions open,
        # each full collection walks millions of objects.
        gc.set_threshold(*GC_THRESHOLDS)
        # the delivery dispatcher: sends queued notifications (email, SMS, push) in the background
        dispatcher = None
        if settings.dispatcher_enabled:
            dispatcher = Dispatcher.from_settings(settings, app.state.services.session_factory, bus=bus)
            dispatcher.start()
        app.state.dispatcher = dispatcher
        # the report worker: makes queued reports, and deletes the files of expired ones
        report_worker = None
        if settings.reports_worker_enabled:
            report_worker = ReportWorker.from_settings(settings, app.state.services.session_factory, bus=bus)
            report_worker.start()
        app.state.report_worker = report_worker
        # exports of people's own data (requestMyData), made like reports, with their switch
        export_worker = None
        if settings.reports_worker_enabled:
            export_worker = ExportWorker(
                session_factory=app.state.services.session_factory,
                storage=storage_for(settings.upload_dir),
                publisher=bus,
                poll_seconds=settings.report_poll_seconds,
            )
            export_worker.start()
        app.state.export_worker = export_worker
        # the webhook sender: relays committed changes into deliveries and sends them (any number of processes)
        webhook_sender = None
        if settings.webhooks_sender_enabled:
            webhook_sender = WebhookSender.from_settings(settings, app.state.services.session_factory, bus=bus)
            webhook_sender.start()
        app.state.webhook_sender = webhook_sender
        # the reminder scheduler: every process may run one, each reminder is sent once
        reminders = None
        if settings.reminders_enabled:
            reminders = ReminderScheduler(app.state.services.session_factory, bus, settings)
            reminders.start()
        # the event log kept to its retention, its days ahead made (ediary-gql events prune does the same)
        pruner = Pruner(
            app.state.services.session_factory,
            retention_days=settings.event_retention_days,
            interval_seconds=settings.event_prune_interval_seconds,
        )
        pruner.start()
        # the audit trail's months made ahead and the expired ones dropped (ediary-gql audit maintain)
        audit_keeper = AuditKeeper(
            app.state.services.session_factory,
            retention_months=settings.audit_retention_months,
            ahead=settings.audit_partitions_ahead,
            interval_seconds=settings.audit_maintenance_interval_seconds,
        )
        audit_keeper.start()
        try:
            yield
        finally:
            await audit_keeper.stop()
            await pruner.stop()
            if reminders is not None:
                await reminders.stop()
            if report_worker is not None:
                await report_worker.stop()
            if export_worker is not None:
                await export_worker.stop()
            if webhook_sender is not None:
                await webhook_sender.stop()
            if dispatcher is not None:
                await dispatcher.stop()
            await app.state.services.tail.stop()
            await bus.disconnect()
            if router is not None:
                await router.dispose()
            await engine.dispose()
            log.info("stopped")

    middleware = [
        Middleware(RequestLogMiddleware),
        *([Middleware(ReadScopeMiddleware)] if settings.database_replica_urls else []),
        Middleware(WebSocketGauge),
        # a page of another site may not open a WebSocket (ws_origins.py)
        Middleware(WebSocketOriginGuard, allowed=[*settings.cors_origins, *settings.ws_allowed_origins]),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "x-request-id", "apollo-require-preflight"],
            )
        )
    # inside CORS, so its refusals still carry CORS headers a browser can read
    middleware.append(Middleware(attachment_routes.MultipartGuard, settings=settings))
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            # Prometheus's scrape (metrics.py, routes/metrics.py)
            *([Route(metrics_routes.PATH, metrics_routes.scrape, methods=["GET"])] if settings.metrics_enabled else []),
            # the school's live attendance page and the files it and GraphiQL load (routes/dashboard.py)
            *dashboard_routes.routes(),
            # the OAuth2 client-credentials grant of integrations (routes/oauth.py)
            Route(oauth_routes.PATH, oauth_routes.token, methods=["POST"], name=oauth_routes.TOKEN_ROUTE),
            # sign-in with the portal, the browser flow (routes/oidc.py)
            Route(oidc_routes.LOGIN_PATH, oidc_routes.login, methods=["GET"], name=oidc_routes.LOGIN_ROUTE),
            Route(oidc_routes.CALLBACK_PATH, oidc_routes.callback, methods=["GET"], name=oidc_routes.CALLBACK_ROUTE),
            # OneRoster 1.2 rostering, read by integrations with roster:read (routes/oneroster)
            oneroster_routes.mount(),
            Route(
                "/files/{attachment_id}",
                attachment_routes.download,
                methods=["GET"],
                name=attachment_routes.DOWNLOAD_ROUTE,
            ),
            Route(
                report_routes.REPORT_FILE_PATH,
                report_routes.download,
                methods=["GET"],
                name=report_routes.REPORT_FILE_ROUTE,
            ),
            Route(
                personal_data_routes.EXPORT_FILE_PATH,
                personal_data_routes.download,
                methods=["GET"],
                name=personal_data_routes.EXPORT_FILE_ROUTE,
            ),
            Route(
                calendar_feed_routes.PATH,
                calendar_feed_routes.feed,
                methods=["GET"],
                name=calendar_feed_routes.FEED_ROUTE,
            ),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
