"""reportEvents over a real WebSocket: the requester hears their report go QUEUED → RUNNING
→ READY, each event with its cursor, and can resume after one; the ready notice arrives in
the inbox and on notificationEvents; nobody else hears of it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.events import channels
from ediary_gql.services.reports.worker import ReportWorker
from ediary_gql.settings import Settings
from tests.diary_writes_support import World, gid, make_world
from tests.support import GraphQLClient, data_of, refusal_code, wait_subscribed, ws_connect

REPORT_EVENTS = (
    "subscription($a: String) { reportEvents(after: $a) { status cursor report { id status downloadUrl } } }"
)
NOTIFICATION_EVENTS = "subscription { notificationEvents { notification { kind title payload } cursor } }"
REQUEST = """
mutation($i: RequestReportInput!) { requestReport(input: $i) { report { id status } userErrors { field code } } }"""


async def _ask(gql: GraphQLClient, world: World, token: str) -> str:
    data = await gql.data(
        REQUEST,
        {
            "i": {
                "kind": "PROGRESS",
                "scope": "CHILD",
                "targetId": gid("Child", world.child.id),
                "periodId": gid("Period", world.period.id),
                "format": "CSV",
            }
        },
        token=token,
    )
    assert data["requestReport"]["userErrors"] == []
    report_id: str = data["requestReport"]["report"]["id"]
    return report_id


async def test_the_requester_hears_queued_running_ready_and_the_notice(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, settings: Settings, ws_url: str
) -> None:
    world = await make_world(session)
    token = await world.token(gql, world.parent)
    other = await world.token(gql, world.other_parent)
    async with ws_connect(ws_url) as ws, ws_connect(ws_url) as notices, ws_connect(ws_url) as stranger:
        await ws.start(REPORT_EVENTS, token=token)
        await notices.start(NOTIFICATION_EVENTS, token=token)
        await stranger.start(REPORT_EVENTS, token=other)
        await wait_subscribed(app_services, channels.user_reports(world.parent.id))
        await wait_subscribed(app_services, channels.user_reports(world.other_parent.id))
        await wait_subscribed(app_services, channels.user_notifications(world.parent.id))

        report_id = await _ask(gql, world, token)
        queued = data_of(await ws.receive())
        assert (queued["status"], queued["report"]["id"]) == ("QUEUED", report_id)
        assert queued["report"]["downloadUrl"] is None

        worker = ReportWorker.from_settings(settings, app_services.session_factory, bus=app_services.bus)
        assert await worker.drain() == 1
        running = data_of(await ws.receive())
        ready = data_of(await ws.receive())
        assert [running["status"], ready["status"]] == ["RUNNING", "READY"]
        assert ready["report"]["status"] == "READY"
        assert ready["report"]["downloadUrl"].endswith(f"/reports/{report_id}/file")
        assert len({queued["cursor"], running["cursor"], ready["cursor"]}) == 3

        notice = data_of(await notices.receive())["notification"]
        assert notice["kind"] == "REPORT"
        assert notice["payload"]["reportId"] == report_id

        # another family hears nothing of it
        assert await stranger.no_message(within=0.3)

    # resuming after the first event sends the two after it
    async with ws_connect(ws_url) as again:
        await again.start(REPORT_EVENTS, {"a": queued["cursor"]}, token=token)
        assert [data_of(await again.receive())["status"] for _ in range(2)] == ["RUNNING", "READY"]

    inbox = await gql.data("{ notifications { edges { node { kind } } } }", token=token)
    assert [e["node"]["kind"] for e in inbox["notifications"]["edges"]] == ["REPORT"]


async def test_without_a_token_the_subscription_is_refused(ws_url: str) -> None:
    async with ws_connect(ws_url) as ws:
        assert (await ws.init())["type"] == "connection_ack"
        await ws.subscribe(REPORT_EVENTS)
        assert refusal_code(await ws.receive()) == "UNAUTHENTICATED"
