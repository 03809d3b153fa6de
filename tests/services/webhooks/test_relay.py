"""The relay: each committed change of a school becomes one delivery per webhook of that
school that wants its type and was registered (and active) when it happened — once, with
any number of relays at once, its place kept in the database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import WebhookStatus
from ediary_gql.db.models.integrations import Webhook, WebhookDelivery
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.events import log as event_log
from ediary_gql.services.webhooks import relay
from tests.changes_support import create_lesson, grade
from tests.diary_writes_support import World, make_world
from tests.factories import make_school, make_webhook
from tests.support import GraphQLClient


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


@pytest.fixture
async def lesson(session: AsyncSession, world: World) -> Lesson:
    row = await world.lesson(session)
    await session.commit()
    return row


async def _deliveries(session: AsyncSession, webhook: Webhook | None = None) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if webhook is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook.id)
    return list((await session.scalars(query)).all())


async def test_each_change_is_relayed_once_per_webhook_by_relays_at_the_same_time(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    factory = app_services.session_factory
    await relay.relay_all(factory)  # what earlier tests left is behind us
    grades = await make_webhook(session, school_id=world.school.id, events=["GRADE"])
    everything = await make_webhook(session, school_id=world.school.id, events=["GRADE", "LESSON"])
    await session.commit()
    teacher = await world.token(gql, world.teacher)
    await grade(gql, teacher, world, lesson)
    for n in range(3):
        await create_lesson(gql, teacher, world, start=f"{10 + n}:00")
    # when four relays run at once
    made = await asyncio.gather(*(relay.relay_once(factory) for _ in range(4)))
    # then the grade went to both webhooks and the lessons to one, once each
    assert sum(made) == 5
    assert [d.event_type for d in await _deliveries(session, grades)] == ["grade.created"]
    assert [d.event_type for d in await _deliveries(session, everything)] == ["grade.created"] + ["lesson.created"] * 3
    # and the relay's place is the log's end: another round finds nothing
    assert await relay.place_of(factory) == await event_log.head(factory)
    assert await relay.relay_once(factory) == 0
    ids = [d.event_id for d in await _deliveries(session, everything)]
    assert ids == sorted(ids, key=int)


async def test_a_webhook_gets_only_what_happens_while_it_is_registered_and_active(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    factory = app_services.session_factory
    teacher = await world.token(gql, world.teacher)
    await create_lesson(gql, teacher, world, start="10:00")  # before the webhook
    hook = await make_webhook(session, school_id=world.school.id, events=["LESSON"])
    other_school = await make_webhook(session, school_id=(await make_school(session)).id, events=["LESSON"])
    await session.commit()
    assert await relay.relay_all(factory) == 0
    await create_lesson(gql, teacher, world, start="11:00")
    assert await relay.relay_all(factory) == 1
    # disabled: what happens meanwhile is not relayed to it, then or later
    await session.execute(update(Webhook).where(Webhook.id == hook.id).values(status=WebhookStatus.DISABLED))
    await session.commit()
    await create_lesson(gql, teacher, world, start="12:00")
    assert await relay.relay_all(factory) == 0
    await session.execute(update(Webhook).where(Webhook.id == hook.id).values(status=WebhookStatus.ACTIVE))
    await session.commit()
    assert await relay.relay_all(factory) == 0
    await create_lesson(gql, teacher, world, start="13:00")
    assert await relay.relay_all(factory) == 1
    assert len(await _deliveries(session, hook)) == 2
    assert await _deliveries(session, other_school) == []
    assert await session.scalar(select(func.count(WebhookDelivery.id))) == 2
