"""What the queue and worker tests share: actors of the diary-writes world's people,
asking for a report as the mutation does (one unit of work, events after commit), and
reading the queue back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import ReportFormat, ReportKind, ReportScope
from ediary_gql.db.models.event_log import EventRecord
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.reports import Report
from ediary_gql.db.models.users import User
from ediary_gql.events.publish import unit_of_work
from ediary_gql.reports.document import Column, ReportDocument, Section
from ediary_gql.services.reports.requests import request_report
from ediary_gql.services.sessions import load_actors
from tests.diary_writes_support import World


async def actor_of(services: AppServices, user: User) -> Actor:
    async with services.session_factory() as session:
        return (await load_actors(session, [user.id]))[user.id]


async def ask(services: AppServices, user: User, world: World, **overrides: Any) -> Report:
    """`user` asks for a report: by default the world's child's progress over the first
    quarter, as a PDF. Overrides are request_report's keywords."""
    fields: dict[str, Any] = {
        "kind": ReportKind.PROGRESS,
        "scope": ReportScope.CHILD,
        "target_id": world.child.id,
        "period_id": world.period.id,
        "date_from": None,
        "date_to": None,
        "format": ReportFormat.PDF,
        "template_id": None,
    }
    fields.update(overrides)
    actor = await actor_of(services, user)
    async with unit_of_work(services.session_factory, services.bus) as session:
        return await request_report(session, actor=actor, **fields)


async def reports(services: AppServices) -> list[Report]:
    async with services.session_factory() as session:
        return list((await session.scalars(select(Report).order_by(Report.id))).all())


async def report(services: AppServices, report_id: int) -> Report:
    async with services.session_factory() as session:
        found = await session.get(Report, report_id)
        assert found is not None
        return found


async def events_of(services: AppServices, kind: str) -> list[EventRecord]:
    async with services.session_factory() as session:
        rows = await session.scalars(select(EventRecord).where(EventRecord.kind == kind).order_by(EventRecord.id))
        return list(rows.all())


async def notices(services: AppServices, user: User) -> list[Notification]:
    async with services.session_factory() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
        return list(rows.all())


NOW = dt.datetime(2026, 10, 30, 9, 0, tzinfo=dt.UTC)


def tiny_document(title: str = "Успеваемость") -> ReportDocument:
    """A document of one row: for a builder that stands in where the content is not the point."""
    return ReportDocument(
        title=title,
        school_name="Школа № 1",
        period_label="1 четверть",
        made_at=NOW,
        sections=(Section(title="Итоги", columns=(Column("subject", "Предмет"),), rows=(("Математика",),)),),
    )
