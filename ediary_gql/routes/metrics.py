"""GET /metrics: Prometheus's text format (ediary_gql/metrics.py says what is counted).

The gauges read from the database (the outbox, the report queue) are refreshed at each
scrape by two small aggregate queries; a database that does not answer leaves them as they
were, and the scrape still answers."""

from __future__ import annotations

import datetime as dt

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from ediary_gql import metrics
from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import DeliveryStatus, ReportStatus
from ediary_gql.db.models.notifications import NotificationDelivery
from ediary_gql.db.models.reports import Report

log = structlog.get_logger(__name__)

PATH = "/metrics"


def _pool(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool
    # SQLite's pools keep no counts; PostgreSQL's queue pool does
    for state, method in (("checked_out", "checkedout"), ("idle", "checkedin"), ("overflow", "overflow")):
        count = getattr(pool, method, None)
        if callable(count):
            metrics.DB_POOL.labels(state).set(max(0, int(count())))
    size = getattr(pool, "size", None)
    if callable(size):
        metrics.DB_POOL.labels("size").set(int(size()))


def _age(oldest: dt.datetime | None, now: dt.datetime) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite gives naive UTC
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, (now - oldest).total_seconds())


async def _queues(services: AppServices) -> None:
    now = dt.datetime.now(dt.UTC)
    pending = NotificationDelivery.status == DeliveryStatus.PENDING
    async with services.read_session_factory() as session:
        depth = await session.scalar(select(func.count()).where(pending))
        oldest_due = await session.scalar(
            select(func.min(NotificationDelivery.next_attempt_at)).where(
                pending, NotificationDelivery.next_attempt_at <= now
            )
        )
        queued = Report.status == ReportStatus.QUEUED
        reports = await session.scalar(select(func.count()).where(queued))
        oldest_report = await session.scalar(select(func.min(Report.created_at)).where(queued))
    metrics.OUTBOX_DEPTH.set(depth or 0)
    metrics.OUTBOX_AGE.set(_age(oldest_due, now))
    metrics.REPORTS_DEPTH.set(reports or 0)
    metrics.REPORTS_AGE.set(_age(oldest_report, now))


async def scrape(request: Request) -> Response:
    services: AppServices = request.app.state.services
    metrics.SUBSCRIPTIONS_ACTIVE.set(services.tail.subscribers)
    _pool(request.app.state.engine)
    try:
        await _queues(services)
    except Exception as exc:  # the scrape answers with what it has: the database may be down
        log.warning("metrics_queue_read_failed", error=type(exc).__name__)
    return Response(generate_latest(metrics.registry()), media_type=CONTENT_TYPE_LATEST)
