"""Prometheus metrics (prometheus-client), served at /metrics (routes/metrics.py).

Counted where things happen: GraphQL requests by operation and outcome, with their latency
(app.GraphQLView), open WebSockets (WebSocketGauge), events published and delivered
(events/bus.py), unexpected errors (schema/errors.py). Read at each scrape: live
subscriptions, the database pool, and the depth and age of the notification outbox and the
report queue (routes/metrics.py).

Several uvicorn workers: set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by them
(emptied before each start) and /metrics sums the workers' counters (prometheus-client's
multiprocess mode). Without it each worker answers for itself.
"""

from __future__ import annotations

import os
import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client import registry as default_registry
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

GRAPHQL_REQUESTS = Counter(
    "ediary_graphql_requests",
    "GraphQL operations over HTTP by operation name and outcome "
    "(ok, error: errors beside data, request_error: did not parse, validate or coerce, refused: bad token)",
    ["operation", "outcome"],
)
GRAPHQL_SECONDS = Histogram(
    "ediary_graphql_request_duration_seconds",
    "Time to execute a GraphQL operation over HTTP, by operation name",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
UNEXPECTED_ERRORS = Counter("ediary_graphql_unexpected_errors", "Errors masked as internal (faults, not the client's)")
WEBSOCKETS_OPEN = Gauge("ediary_websockets_open", "WebSocket connections open now", multiprocess_mode="livesum")
SUBSCRIPTIONS_ACTIVE = Gauge(
    "ediary_subscriptions_active", "Subscriptions following the event log now", multiprocess_mode="livesum"
)
EVENTS_PUBLISHED = Counter("ediary_events_published", "Events handed to the event bus")
EVENTS_DELIVERED = Counter("ediary_events_delivered", "Events delivered to a local subscriber of the bus")
DB_POOL = Gauge(
    "ediary_db_pool_connections",
    "Database pool connections: checked_out (in use), idle, overflow, size",
    ["state"],
    multiprocess_mode="livesum",
)
OUTBOX_DEPTH = Gauge("ediary_outbox_pending", "Notification deliveries waiting to be sent", multiprocess_mode="max")
OUTBOX_AGE = Gauge(
    "ediary_outbox_oldest_due_seconds",
    "How long the longest-waiting due notification delivery has been due (0: none)",
    multiprocess_mode="max",
)
REPORTS_DEPTH = Gauge("ediary_report_queue_depth", "Reports queued, not yet taken by a worker", multiprocess_mode="max")
REPORTS_AGE = Gauge(
    "ediary_report_queue_oldest_seconds", "Age of the oldest queued report (0: none)", multiprocess_mode="max"
)

# operation names are the client's: a few hundred distinct ones at most, then "other"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_MAX_OPERATIONS = 300
_seen_operations: set[str] = set()


_FIRST_OPERATION = re.compile(r"\A(?:\s|,|#[^\n]*\n)*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def first_operation_name(query: str | None) -> str | None:
    """The name of a document's first operation, when the request names none (no parse)."""
    match = _FIRST_OPERATION.match(query or "")
    return match.group(1) if match else None


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _NAME.fullmatch(name):
        return "other"
    if name not in _seen_operations:
        if len(_seen_operations) >= _MAX_OPERATIONS:
            return "other"
        _seen_operations.add(name)
    return name


def registry() -> CollectorRegistry:
    """What /metrics renders: this process's metrics, or every worker's in multiprocess mode."""
    if MULTIPROCESS:
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
        return collected
    return default_registry.REGISTRY


class WebSocketGauge:
    """Counts the WebSockets open: from the accept to the end of the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        accepted = False

        async def counting_send(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                WEBSOCKETS_OPEN.inc()
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            if accepted:
                WEBSOCKETS_OPEN.dec()
