"""The event bus on a Redis Cluster of the test's own (3 masters, 3 replicas): events
go by sharded pub/sub (SPUBLISH to the channel's shard, SSUBSCRIBE on its master),
cross server processes, and survive the crash of the master that owns a channel:
the subscription moves to the promoted replica, and what was committed during the gap
arrives from the event log."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.lessons import Lesson
from ediary_gql.events import channels
from ediary_gql.events.bus import BusDisconnected, EventBus, Subscription
from ediary_gql.events.cluster_backend import RedisClusterPubSubBackend, parse_cluster_url
from ediary_gql.settings import Settings
from tests.cluster_support import OwnRedisCluster, cluster_unsupported, own_redis_cluster
from tests.diary_writes_support import World, gid, make_world
from tests.support import GraphQLClient, WsClient, data_of, server_process, ws_connect

UNSUPPORTED = cluster_unsupported()
# CI sets REQUIRE_REDIS_CLUSTER=1: there a missing cluster fails the tests instead of skipping them
needs_cluster = pytest.mark.skipif(
    UNSUPPORTED is not None and not os.environ.get("REQUIRE_REDIS_CLUSTER"), reason=UNSUPPORTED or ""
)

SUBSCRIPTION = """
subscription($child: ID!, $after: String) {
  gradeEvents(childId: $child, after: $after) { cursor action grade { id value } }
}"""
ENTER = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { code } } }"


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[OwnRedisCluster]:
    async with own_redis_cluster() as own:
        yield own


def new_channel(tag: str) -> str:
    return f"test.cluster.{tag}.{uuid.uuid4().hex}"


async def take(subscription: Subscription, count: int, *, within: float = 5.0) -> list[str]:
    async with asyncio.timeout(within):
        return [await anext(aiter(subscription)) for _ in range(count)]


@asynccontextmanager
async def bus_on(cluster: OwnRedisCluster) -> AsyncIterator[EventBus]:
    bus = EventBus(cluster.url)
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.disconnect()


def test_cluster_urls_are_parsed() -> None:
    address = parse_cluster_url("redis-cluster://user:p%40ss@h1:7000,h2,[::1]:7002")
    assert address.nodes == (("h1", 7000), ("h2", 6379), ("::1", 7002))
    assert (address.username, address.password, address.tls) == ("user", "p@ss", False)
    assert parse_cluster_url("rediss-cluster://:secret@h1:7000/").tls
    for bad in ("redis-cluster://", "redis-cluster://h1:7000/3", "redis-cluster://h1:x", "redis://h1"):
        with pytest.raises(ValueError, match=r"."):
            parse_cluster_url(bad)
    with pytest.raises(ValueError, match="database 0"):
        Settings(broadcast_url="redis-cluster://h1:7000/2")
    assert Settings(broadcast_url="redis-cluster://h1:7000,h2:7001").broadcast_url.startswith("redis-cluster://")


@needs_cluster
async def test_a_publish_reaches_another_connection_through_its_shard(cluster: OwnRedisCluster) -> None:
    # given two buses (as two server processes have) on the cluster, one subscribed
    channel = new_channel("spublish")
    async with bus_on(cluster) as subscriber, bus_on(cluster) as publisher:
        async with subscriber.subscribe(channel) as subscription:
            # then the channel is a shard channel of the master owning its slot, and of no other node
            owner = await cluster.owner(channel)
            assert channel in await cluster.shard_channels(owner)
            for port in cluster.ports:
                if port != owner:
                    assert channel not in await cluster.shard_channels(port)
            backend = subscriber.backend
            assert isinstance(backend, RedisClusterPubSubBackend)
            assert backend.owner(channel) == ("127.0.0.1", owner)

            # and a plain SUBSCRIBE-r of the same name on every node (what PUBLISH would reach)
            plain = [Redis(host="127.0.0.1", port=port).pubsub() for port in cluster.ports]
            for pubsub in plain:
                await pubsub.subscribe(channel)
                assert (await pubsub.get_message(timeout=1.0) or {}).get("type") == "subscribe"
            try:
                # when the other bus publishes
                await publisher.publish(channel, '{"n": 1}')
                await publisher.publish(channel, '{"n": 2}')

                # then the subscriber gets both, in order, and no plain subscriber anything: it was SPUBLISH
                assert await take(subscription, 2) == ['{"n": 1}', '{"n": 2}']
                for pubsub in plain:
                    assert await pubsub.get_message(timeout=0.05) is None
            finally:
                for pubsub in plain:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
        # and leaving unsubscribes on the shard
        for _ in range(100):
            if channel not in await cluster.shard_channels(owner):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the shard channel outlived its last subscriber")


@needs_cluster
async def test_channels_spread_over_the_shards(cluster: OwnRedisCluster) -> None:
    # many channels of one bus: each on its own slot's master, one link per master
    async with bus_on(cluster) as subscriber, bus_on(cluster) as publisher:
        names = [new_channel(f"spread{n}") for n in range(12)]
        async with AsyncExitStack() as stack:
            subscriptions = [await stack.enter_async_context(subscriber.subscribe(name)) for name in names]
            owners = {await cluster.owner(name) for name in names}
            assert len(owners) > 1, "12 random channels all on one shard"
            for name in names:
                await publisher.publish(name, name)
            for name, subscription in zip(names, subscriptions, strict=True):
                assert await take(subscription, 1) == [name]


@needs_cluster
async def test_a_planned_failover_moves_the_subscription(cluster: OwnRedisCluster) -> None:
    # given a subscriber of a channel on its master
    channel = new_channel("handover")
    async with bus_on(cluster) as subscriber, bus_on(cluster) as publisher:
        async with subscriber.subscribe(channel) as before:
            # when its replica takes over (the old master drops its shard channels)
            promoted = await cluster.hand_over(channel)

            # then the subscriber is told, and may re-read the log
            with pytest.raises(BusDisconnected):
                await take(before, 1)
        # and subscribing again lands on the new master, where publishing reaches it
        async with subscriber.subscribe(channel) as after:
            assert channel in await cluster.shard_channels(promoted)
            await publisher.publish(channel, "moved")
            assert await take(after, 1) == ["moved"]


@needs_cluster
async def test_a_master_crash_moves_only_its_channels() -> None:
    # given subscribers of two channels on different shards, on a cluster of the test's own
    async with own_redis_cluster() as cluster, bus_on(cluster) as subscriber, bus_on(cluster) as publisher:
        first = new_channel("crash")
        other = new_channel("calm")
        while await cluster.owner(other) == await cluster.owner(first):
            other = new_channel("calm")
        owner = await cluster.owner(first)
        async with subscriber.subscribe(first) as lost, subscriber.subscribe(other) as calm:
            # when the master owning the first channel crashes
            await cluster.kill(owner)

            # then its subscriber is told (and may re-read the log), the other one is not
            with pytest.raises(BusDisconnected):
                await take(lost, 1)
            await publisher.publish(other, "still here")
            assert await take(calm, 1) == ["still here"]

            # and once a replica is promoted, subscribing again works there
            promoted = await cluster.wait_promoted(first, old=owner)
            async with subscriber.subscribe(first) as again:
                assert first in await cluster.shard_channels(promoted)
                await publisher.publish(first, "back")
                assert await take(again, 1) == ["back"]


# -- the app on the cluster ----------------------------------------------------------------


class Server:
    """A server process on the cluster, and what a client needs of it."""

    def __init__(self, url: str, http: httpx.AsyncClient, world: World, lesson: Lesson) -> None:
        self.ws_url = url.replace("http://", "ws://")
        self.gql = GraphQLClient(http)
        self.http = http
        self.world = world
        self.lesson = lesson

    async def enter(self, value: str) -> str:
        world = self.world
        data = await self.gql.data(
            ENTER,
            {"i": {"childId": gid("Child", world.child.id), "lessonId": gid("Lesson", self.lesson.id), "value": value}},
            token=await world.token(self.gql, world.teacher),
        )
        assert data["enterGrade"]["userErrors"] == [], data
        grade_id: str = data["enterGrade"]["grade"]["id"]
        return grade_id

    async def subscribe(self, ws: WsClient) -> None:
        token = await self.world.token(self.gql, self.world.parent)
        before = await self.subscribers()
        await ws.start(SUBSCRIPTION, {"child": gid("Child", self.world.child.id)}, token=token)
        for _ in range(300):
            if await self.subscribers() > before:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the subscription did not start")

    async def subscribers(self) -> int:
        count: int = (await self.http.get("/healthz")).json()["subscribers"]
        return count


@asynccontextmanager
async def app_on(
    settings: Settings, cluster: OwnRedisCluster, world: World, lesson: Lesson, **env: str
) -> AsyncIterator[Server]:
    async with (
        server_process(settings, BROADCAST_URL=cluster.url, **env) as url,
        httpx.AsyncClient(base_url=url, timeout=15) as http,
    ):
        assert (await http.get("/healthz")).json()["eventBus"] == "ok"
        yield Server(url, http, world, lesson)


async def world_and_lesson(session: AsyncSession) -> tuple[World, Lesson]:
    world = await make_world(session)
    lesson = await world.lesson(session)
    await session.commit()
    return world, lesson


def grade_ids(messages: list[dict[str, Any]]) -> list[str]:
    return [data_of(message, "gradeEvents")["grade"]["id"] for message in messages]


async def wait_shard_channel(cluster: OwnRedisCluster, channel: str, *, within: float = 10.0) -> int:
    """Until the master owning `channel` has a SSUBSCRIBE-r of it; that master's port."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        owner = await cluster.owner(channel)
        if channel in await cluster.shard_channels(owner):
            return owner
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"nobody SSUBSCRIBEs {channel!r} on its master {owner}")
        await asyncio.sleep(0.05)


@needs_cluster
async def test_a_grade_entered_on_one_process_reaches_a_subscriber_on_another(
    settings: Settings, session: AsyncSession, cluster: OwnRedisCluster
) -> None:
    # given two server processes on the cluster (the safety poll out of reach: only the bus
    # can wake them), and a parent following the child's grades on the first
    world, lesson = await world_and_lesson(session)
    async with AsyncExitStack() as stack:
        # both started at once: a server process takes seconds to start
        reader, writer = await asyncio.gather(
            *(
                stack.enter_async_context(app_on(settings, cluster, world, lesson, EVENT_POLL_SECONDS="60"))
                for _ in "ab"
            )
        )
        ws = await stack.enter_async_context(ws_connect(reader.ws_url))
        await reader.subscribe(ws)
        channel = settings.broadcast_namespace + channels.child_grades(world.child.id)
        await wait_shard_channel(cluster, channel)

        # when the teacher enters a grade through the second
        grade_id = await writer.enter("5")

        # then it reaches the parent on the first, over WebSocket
        assert grade_ids([await ws.receive(within=5.0)]) == [grade_id]


@needs_cluster
async def test_a_crash_of_the_channels_master_is_survived(settings: Settings, session: AsyncSession) -> None:
    # given a server process on a cluster of the test's own (no safety poll within the
    # test), and a parent following the child's grades there, subscribed on the channel's master
    world, lesson = await world_and_lesson(session)
    async with (
        own_redis_cluster() as cluster,
        app_on(settings, cluster, world, lesson, EVENT_POLL_SECONDS="60") as server,
        ws_connect(server.ws_url) as ws,
    ):
        await server.subscribe(ws)
        channel = settings.broadcast_namespace + channels.child_grades(world.child.id)
        owner = await wait_shard_channel(cluster, channel)
        first = await server.enter("5")
        assert grade_ids([await ws.receive(within=5.0)]) == [first]

        # when that master crashes, grades are committed before its replica takes over,
        # and more once it has
        await cluster.kill(owner)
        during = [await server.enter(value) for value in "43"]
        promoted = await cluster.wait_promoted(channel, old=owner)
        assert await wait_shard_channel(cluster, channel) == promoted  # the server moved its SSUBSCRIBE
        after = [await server.enter(value) for value in "21"]

        # then the subscription left open brings every one of them, in order, once
        got = [await ws.receive(within=10.0) for _ in during + after]
        assert grade_ids(got) == during + after
        assert await ws.no_message(within=0.5)
