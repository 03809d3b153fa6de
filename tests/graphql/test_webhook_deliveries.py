"""Webhook deliveries end to end, to a real HTTP receiver on a local port: a change of the
school is relayed to each webhook that wants it, POSTed signed (X-Ediary-Signature over the
raw body, with a timestamp), retried after the receiver fails once, logged per attempt,
sent again on request (redeliverWebhook) with the same event ID; a webhook that keeps
failing is disabled and the school's admins told; a running sender is woken at once."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.app import create_app
from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.notifications import Notification
from ediary_gql.events import channels
from ediary_gql.services.delivery.dispatcher import RetryPolicy
from ediary_gql.services.webhooks import signing
from ediary_gql.services.webhooks.sender import WebhookSender
from ediary_gql.settings import Settings
from tests.changes_support import (
    CREATE_WEBHOOK,
    LATER,
    REDELIVER,
    SCHOOL_WEBHOOKS,
    SECRET,
    UPDATE_WEBHOOK,
    changes,
    create_lesson,
    grade,
    receiver,
    school_gid,
    sender,
)
from tests.diary_writes_support import World
from tests.support import GraphQLClient, wait_on_bus


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(settings, "webhook_allow_private_urls", True)


async def _webhook(gql: GraphQLClient, token: str, world: World, url: str, events: list[str]) -> str:
    data = await gql.data(
        CREATE_WEBHOOK,
        {"i": {"schoolId": school_gid(world), "url": url, "events": events, "secret": SECRET}},
        token=token,
    )
    assert data["createWebhook"]["userErrors"] == [], data
    hook_id: str = data["createWebhook"]["webhook"]["id"]
    return hook_id


async def _log(gql: GraphQLClient, token: str, world: World) -> list[dict[str, object]]:
    data = await gql.data(SCHOOL_WEBHOOKS, {"id": school_gid(world)}, token=token)
    hooks: list[dict[str, object]] = data["node"]["webhooks"]
    return hooks


async def test_a_change_is_delivered_signed_and_retried_after_the_receiver_fails_once(
    gql: GraphQLClient, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    async with receiver(statuses=[503]) as got:
        # given a webhook of the school's grades, whose receiver fails once
        await _webhook(gql, admin, world, got.url, ["GRADE"])
        # when a teacher grades, and the sender runs
        grade_id = await grade(gql, await world.token(gql, world.teacher), world, lesson)
        feed = (await changes(gql, admin))["changes"][-1]
        s = sender(app_services)
        try:
            first = await s.send_once()
            assert (first.claimed, first.retrying) == (1, 1)
            # then the failed attempt is logged, to be tried again later
            (hook,) = await _log(gql, admin, world)
            (delivery,) = hook["deliveries"]["nodes"]  # type: ignore[index]
            assert (delivery["status"], delivery["attempts"], delivery["responseStatus"]) == ("PENDING", 1, 503)
            assert "503" in delivery["error"]
            assert await s.send_once() == type(first)()  # not due yet
            # and once its time comes, it is sent again, and accepted
            second = await s.send_once(now=utcnow() + LATER)
            assert second.sent == 1
        finally:
            await s.close()
        received = await got.wait_for(2)
    # each request: the event's ID and type, signed over the raw body with a fresh timestamp
    for request in received:
        assert request.path == "/hooks/ediary"
        assert request.headers["x-ediary-event-id"] == feed["eventId"]
        assert request.headers["x-ediary-event-type"] == "grade.created"
        assert request.headers["content-type"].startswith("application/json")
        header = request.headers["x-ediary-signature"]
        assert signing.verify(SECRET, header, request.body, now=time.time())
        assert not signing.verify("another secret of the same size!", header, request.body, now=time.time())
        assert not signing.verify(SECRET, header, request.body + b" ", now=time.time())
        assert not signing.verify(SECRET, header, request.body, now=time.time() + 3600)  # a replay, later
    body = json.loads(received[0].body)
    assert body == {
        "id": feed["eventId"],
        "type": "grade.created",
        "occurredAt": body["occurredAt"],
        "schoolId": school_gid(world),
        "data": {
            "recordType": "Grade",
            "recordId": grade_id,
            "type": "GRADE",
            "action": "CREATED",
            "cursor": feed["cursor"],
        },
    }
    assert received[0].body == received[1].body
    # the log shows it sent, on the second attempt
    (hook,) = await _log(gql, admin, world)
    (delivery,) = hook["deliveries"]["nodes"]  # type: ignore[index]
    assert (delivery["status"], delivery["attempts"], delivery["responseStatus"], delivery["error"]) == (
        "SENT",
        2,
        200,
        None,
    )
    assert delivery["sentAt"] is not None
    assert isinstance(delivery["durationMs"], int)
    assert hook["consecutiveFailures"] == 0


async def test_a_delivery_is_sent_again_on_request_with_the_same_event_id(
    gql: GraphQLClient, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    async with receiver() as got:
        await _webhook(gql, admin, world, got.url, ["GRADE"])
        await grade(gql, await world.token(gql, world.teacher), world, lesson)
        s = sender(app_services)
        try:
            assert (await s.send_once()).sent == 1
            (hook,) = await _log(gql, admin, world)
            (original,) = hook["deliveries"]["nodes"]  # type: ignore[index]
            data = await gql.data(REDELIVER, {"i": {"deliveryId": original["id"]}}, token=admin)
            again = data["redeliverWebhook"]["delivery"]
            assert (again["status"], again["eventId"], again["redeliveryOf"]) == (
                "PENDING",
                original["eventId"],
                {"id": original["id"]},
            )
            assert (await s.send_once()).sent == 1
        finally:
            await s.close()
        first, second = await got.wait_for(2)
    assert first.headers["x-ediary-event-id"] == second.headers["x-ediary-event-id"]
    assert first.headers["x-ediary-delivery"] != second.headers["x-ediary-delivery"]
    assert first.body == second.body
    # someone else may not redeliver it
    other = await world.token(gql, world.foreign_admin)
    data = await gql.data(REDELIVER, {"i": {"deliveryId": original["id"]}}, token=other)
    assert [e["code"] for e in data["redeliverWebhook"]["userErrors"]] == ["NOT_FOUND"]


async def test_only_the_webhooks_that_want_a_change_get_it(
    gql: GraphQLClient, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    async with receiver() as grades, receiver() as lessons:
        await _webhook(gql, admin, world, grades.url, ["GRADE"])
        await _webhook(gql, admin, world, lessons.url, ["LESSON"])
        teacher = await world.token(gql, world.teacher)
        await grade(gql, teacher, world, lesson)
        await create_lesson(gql, teacher, world)
        s = sender(app_services)
        try:
            assert (await s.drain()).sent == 2
        finally:
            await s.close()
        assert [r.headers["x-ediary-event-type"] for r in await grades.wait_for(1)] == ["grade.created"]
        assert [r.headers["x-ediary-event-type"] for r in await lessons.wait_for(1)] == ["lesson.created"]


async def test_a_webhook_that_keeps_failing_is_disabled_and_the_admins_told(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    teacher = await world.token(gql, world.teacher)
    async with receiver(statuses=[500] * 10) as got:
        hook_id = await _webhook(gql, admin, world, got.url, ["LESSON"])
        # given a sender that gives a delivery up after one attempt, and a webhook after two
        s = sender(app_services, retry=RetryPolicy(max_attempts=1), disable_after=2)
        try:
            await create_lesson(gql, teacher, world, start="10:00")
            assert (await s.send_once()).failed == 1
            (hook,) = await _log(gql, admin, world)
            assert (hook["status"], hook["consecutiveFailures"]) == ("ACTIVE", 1)
            await create_lesson(gql, teacher, world, start="11:00")
            assert (await s.send_once()).failed == 1
            (hook,) = await _log(gql, admin, world)
            assert (hook["status"], hook["consecutiveFailures"]) == ("DISABLED", 2)
            assert hook["disabledAt"] is not None
            # then nothing more is sent to it
            await create_lesson(gql, teacher, world, start="12:00")
            assert (await s.send_once()).claimed == 0
            assert len(got.received) == 2
        finally:
            await s.close()
    notices = (
        await session.scalars(
            select(Notification).where(
                Notification.user_id == world.admin.id, Notification.kind == NotificationKind.SYSTEM
            )
        )
    ).all()
    assert [n.title for n in notices] == ["Вебхук отключён"]
    assert got.url in notices[0].body
    assert notices[0].payload == {"webhookId": hook_id}
    # enabled again, it counts afresh
    data = await gql.data(UPDATE_WEBHOOK, {"i": {"webhookId": hook_id, "active": True}}, token=admin)
    assert (data["updateWebhook"]["webhook"]["status"], data["updateWebhook"]["webhook"]["consecutiveFailures"]) == (
        "ACTIVE",
        0,
    )


async def test_a_running_sender_delivers_as_soon_as_a_change_commits(
    gql: GraphQLClient, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    async with receiver() as got:
        await _webhook(gql, admin, world, got.url, ["GRADE"])
        # given a sender in the background that would poll only every minute
        s = sender(app_services, bus=app_services.bus, poll_seconds=60)
        s.start()
        try:
            await wait_on_bus(app_services, channels.changes_committed())
            await s.send_once()  # its first round is over: what follows, a wake-up brings
            # when a grade is entered, then it arrives within moments
            await grade(gql, await world.token(gql, world.teacher), world, lesson)
            (request,) = await got.wait_for(1, within=5)
            assert request.headers["x-ediary-event-type"] == "grade.created"
        finally:
            await s.stop()


async def test_the_server_runs_a_webhook_sender_for_its_lifetime(
    gql: GraphQLClient, settings: Settings, world: World, lesson: Lesson
) -> None:
    # given a server started with WEBHOOKS_SENDER_ENABLED (the test server runs without)
    admin = await world.token(gql, world.admin)
    async with receiver() as got:
        await _webhook(gql, admin, world, got.url, ["GRADE"])
        app = create_app(settings.model_copy(update={"webhooks_sender_enabled": True, "webhook_poll_seconds": 0.05}))
        async with app.router.lifespan_context(app):
            running: WebhookSender = app.state.webhook_sender
            assert running.running
            # when a grade is committed, then its delivery arrives, signed
            await grade(gql, await world.token(gql, world.teacher), world, lesson)
            (request,) = await got.wait_for(1, within=10)
            assert signing.verify(SECRET, request.headers["x-ediary-signature"], request.body, now=time.time())
        # and the sender ends with the server
        assert not running.running


support = pytest.importorskip("tests.integration_support")


async def test_an_integrations_webhook_receives_its_schools_changes(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    admin = await world.token(gql, world.admin)
    client_id, secret = await support.make_integration(
        session, gql, school_id=world.school.id, admin_token=admin, scopes=["events:read", "grades:write"]
    )
    token = await support.integration_token(gql.http, client_id, secret)
    async with receiver() as got:
        await _webhook(gql, token, world, got.url, ["GRADE"])
        grade_id = await grade(gql, token, world, lesson)  # entered by the integration itself
        s = sender(app_services)
        try:
            assert (await s.send_once()).sent == 1
        finally:
            await s.close()
        (request,) = await got.wait_for(1)
    assert json.loads(request.body)["data"]["recordId"] == grade_id
