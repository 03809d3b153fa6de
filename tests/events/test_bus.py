"""The event bus on memory:// and on Redis: delivery right after subscribe,
many concurrent first subscribers, one upstream subscription per channel,
bounded queues, several processes, and recovery from a dropped connection.

Redis is shared with other test runs: every test uses channels of its own and
kills only its own pub/sub connection.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from ediary_gql.events.bus import BusDisconnected, EventBus, SubscriberOverflow, Subscription
from ediary_gql.events.redis_backend import RedisPubSubBackend

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _redis_url() -> str:
    configured = os.environ.get("BROADCAST_URL", "")
    if configured.startswith(("redis://", "rediss://")):
        return configured
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


REDIS_URL = _redis_url()


@cache
def _redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def _need_redis() -> None:
    if not _redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")


BACKENDS = [pytest.param("memory://", id="memory"), pytest.param(REDIS_URL, id="redis")]


def new_channel(tag: str) -> str:
    return f"test.events.{tag}.{uuid.uuid4().hex}"


async def take(subscription: Subscription, count: int, *, within: float = 5.0) -> list[str]:
    async with asyncio.timeout(within):
        return [await anext(aiter(subscription)) for _ in range(count)]


async def numsub(admin: Redis, channel: str) -> int:
    [(_, count)] = await admin.pubsub_numsub(channel)
    return int(count)


class FlakyLink:
    """A TCP proxy to Redis for one bus: adds latency, drops links, simulates an outage.

    It lets a test break *its own* connections without touching the shared server.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.down = False
        self.attempts = 0
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        db = urlsplit(REDIS_URL).path or "/0"
        return f"redis://127.0.0.1:{port}{db}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def drop_all(self) -> None:
        for client, upstream in self._links:
            client.close()
            upstream.close()
        self._links.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        if self.down:
            writer.close()
            return
        parts = urlsplit(REDIS_URL)
        up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port or 6379)
        link = (writer, up_writer)
        self._links.add(link)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(source, sink, link))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        link: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:  # in order, each chunk `delay` after it was read
            while True:
                due, data = await chunks.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:
                    break
                sink.write(data)
                await sink.drain()

        sender = asyncio.create_task(deliver())
        try:
            while data := await source.read(65536):
                chunks.put_nowait((loop.time() + self.delay, data))
            chunks.put_nowait((loop.time() + self.delay, b""))
            await sender
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            for writer in link:
                writer.close()
            self._links.discard(link)


@pytest_asyncio.fixture
async def flaky_link() -> AsyncIterator[FlakyLink]:
    _need_redis()
    link = FlakyLink()
    yield link
    await link.stop()


@pytest.fixture(params=BACKENDS)
def bus_url(request: pytest.FixtureRequest) -> str:
    url: str = request.param
    if url != "memory://":
        _need_redis()
    return url


@pytest_asyncio.fixture
async def bus(bus_url: str) -> AsyncIterator[EventBus]:
    event_bus = EventBus(bus_url)
    await event_bus.connect()
    yield event_bus
    await event_bus.disconnect()


@pytest_asyncio.fixture
async def redis_bus() -> AsyncIterator[EventBus]:
    _need_redis()
    event_bus = EventBus(REDIS_URL)
    await event_bus.connect()
    yield event_bus
    await event_bus.disconnect()


@pytest_asyncio.fixture
async def admin() -> AsyncIterator[Redis]:
    """A plain Redis client, for looking at (and breaking) the bus from outside."""
    _need_redis()
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.mark.asyncio
async def test_messages_published_right_after_subscribe_arrive_in_order(bus: EventBus) -> None:
    for _ in range(10):  # every round is a fresh channel: a fresh upstream SUBSCRIBE
        channel = new_channel("order")
        async with bus.subscribe(channel) as subscription:
            for n in range(5):
                await bus.publish(channel, json.dumps({"n": n}))

            received = await take(subscription, 5)

        assert [json.loads(message)["n"] for message in received] == [0, 1, 2, 3, 4]


@pytest.mark.asyncio
async def test_concurrent_first_subscribers_all_receive_every_message(bus: EventBus) -> None:
    channel = new_channel("crowd")
    crowd = 200
    entered = 0
    all_in = asyncio.Event()

    async def subscriber() -> list[str]:
        nonlocal entered
        async with bus.subscribe(channel) as subscription:
            entered += 1
            if entered == crowd:
                all_in.set()
            return await take(subscription, 5)

    everyone = asyncio.gather(*(subscriber() for _ in range(crowd)))
    async with asyncio.timeout(5):
        await all_in.wait()
    assert bus.subscriber_count(channel) == crowd
    assert channel in bus.upstream_channels
    if isinstance(bus.backend, RedisPubSubBackend):
        assert bus.backend.channels & {channel} == {channel}

    messages = [json.dumps({"n": n}) for n in range(5)]
    for message in messages:
        await bus.publish(channel, message)
    results = await everyone

    assert len(results) == crowd
    assert all(received == messages for received in results)
    assert bus.subscriber_count(channel) == 0


@pytest.mark.asyncio
async def test_redis_keeps_one_upstream_subscription_per_channel(redis_bus: EventBus, admin: Redis) -> None:
    channel = new_channel("one-upstream")
    async with redis_bus.subscribe(channel), redis_bus.subscribe(channel), redis_bus.subscribe(channel):
        assert redis_bus.subscriber_count(channel) == 3
        assert await numsub(admin, channel) == 1


@pytest.mark.asyncio
async def test_last_unsubscribe_removes_the_upstream_subscription(bus: EventBus, bus_url: str) -> None:
    channel = new_channel("last-out")

    async with bus.subscribe(channel) as first:
        async with bus.subscribe(channel):
            assert bus.subscriber_count(channel) == 2
        assert bus.subscriber_count(channel) == 1
        assert channel in bus.upstream_channels
        await bus.publish(channel, '"still here"')
        assert await take(first, 1) == ['"still here"']

    assert bus.subscriber_count(channel) == 0
    assert channel not in bus.upstream_channels
    if isinstance(bus.backend, RedisPubSubBackend):
        assert channel not in bus.backend.channels
        async with Redis.from_url(bus_url) as admin:  # UNSUBSCRIBE is not waited for: poll
            for _ in range(200):
                if not await numsub(admin, channel):
                    break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the upstream subscription outlived its last subscriber")

    # Coming back subscribes upstream again.
    async with bus.subscribe(channel) as again:
        assert channel in bus.upstream_channels
        await bus.publish(channel, '"back"')
        assert await take(again, 1) == ['"back"']


@pytest.mark.asyncio
async def test_a_subscriber_that_never_reads_overflows_while_others_keep_receiving(bus_url: str) -> None:
    small = EventBus(bus_url, queue_size=4)
    await small.connect()
    try:
        channel = new_channel("overflow")
        async with small.subscribe(channel) as stalled, small.subscribe(channel) as reader:
            for n in range(10):
                await small.publish(channel, json.dumps(n))
                assert await take(reader, 1) == [json.dumps(n)]

            with pytest.raises(SubscriberOverflow):
                await take(stalled, 1)  # told at once: the stale backlog was dropped
            with pytest.raises(SubscriberOverflow):
                await take(stalled, 1)  # and it stays told

            await small.publish(channel, '"more"')
            assert await take(reader, 1) == ['"more"']
            assert stalled.pending == 0  # no memory kept for the stalled one
    finally:
        await small.disconnect()


@pytest.mark.asyncio
async def test_lifecycle(bus_url: str) -> None:
    event_bus = EventBus(bus_url)
    assert event_bus.url == bus_url
    assert not await event_bus.ping()
    with pytest.raises(BusDisconnected):
        await event_bus.publish(new_channel("closed"), "{}")
    with pytest.raises(BusDisconnected):
        async with event_bus.subscribe(new_channel("closed")):
            pass

    await event_bus.connect()
    assert await event_bus.ping()
    channel = new_channel("shutdown")
    async with event_bus.subscribe(channel) as subscription:
        await event_bus.disconnect()
        with pytest.raises(BusDisconnected):
            await take(subscription, 1)
    assert not await event_bus.ping()


@pytest.mark.asyncio
async def test_connect_to_an_unreachable_redis_fails_fast() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    event_bus = EventBus(f"redis://127.0.0.1:{port}/0")
    async with asyncio.timeout(5):
        with pytest.raises(BusDisconnected):
            await event_bus.connect()
    assert not await event_bus.ping()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="scheme"):
        EventBus("kafka://localhost")
    with pytest.raises(ValueError, match="queue_size"):
        EventBus("memory://", queue_size=0)


@pytest.mark.asyncio
async def test_two_buses_on_redis_hear_each_other_once(redis_bus: EventBus, admin: Redis) -> None:
    other = EventBus(REDIS_URL)  # as a second server process would have
    await other.connect()
    try:
        channel = new_channel("two-buses")
        async with (
            other.subscribe(channel) as there_1,
            other.subscribe(channel) as there_2,
            redis_bus.subscribe(channel) as here,
        ):
            assert await numsub(admin, channel) == 2  # one upstream subscription per process
            sent = [json.dumps({"n": n}) for n in range(3)]
            for message in sent:
                await redis_bus.publish(channel, message)
            await redis_bus.publish(channel, '"end"')

            # Exactly once each: the publisher's own subscriber does not get a local copy too.
            for subscription in (there_1, there_2, here):
                assert await take(subscription, 4) == [*sent, '"end"']
    finally:
        await other.disconnect()


@pytest.mark.asyncio
async def test_a_second_os_process_publishes_to_our_subscriber(redis_bus: EventBus) -> None:
    channel = new_channel("other-process")
    publisher = textwrap.dedent(
        """
        import asyncio, json, os, sys
        from ediary_gql.events.bus import EventBus

        async def main() -> None:
            bus = EventBus(sys.argv[1])
            await bus.connect()
            try:
                for n in range(3):
                    await bus.publish(sys.argv[2], json.dumps({"n": n, "pid": os.getpid()}))
            finally:
                await bus.disconnect()

        asyncio.run(main())
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    async with redis_bus.subscribe(channel) as subscription:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            publisher,
            REDIS_URL,
            channel,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            received = [json.loads(message) for message in await take(subscription, 3, within=10)]
        finally:
            _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()

    assert [message["n"] for message in received] == [0, 1, 2]
    assert {message["pid"] for message in received} == {process.pid} != {os.getpid()}


@pytest.mark.asyncio
async def test_redis_reconnects_and_tells_subscribers_when_the_connection_drops(
    redis_bus: EventBus, admin: Redis
) -> None:
    backend = redis_bus.backend
    assert isinstance(backend, RedisPubSubBackend)
    reading_channel, idle_channel = new_channel("drop-reading"), new_channel("drop-idle")

    async with redis_bus.subscribe(reading_channel) as reading, redis_bus.subscribe(idle_channel) as idle:
        await redis_bus.publish(reading_channel, '"before"')
        assert await take(reading, 1) == ['"before"']
        generation, connection_id = backend.generation, backend.connection_id
        assert connection_id is not None

        # Kill this bus's pub/sub connection only (the Redis server is shared).
        assert await admin.client_kill_filter(_id=str(connection_id)) == 1

        with pytest.raises(BusDisconnected):
            await take(reading, 1)
        with pytest.raises(BusDisconnected):
            await take(idle, 1)

        # A new subscription waits for the automatic reconnect, then hears again.
        async with redis_bus.subscribe(reading_channel) as again:
            assert backend.generation == generation + 1
            assert backend.connection_id not in (None, connection_id)
            await redis_bus.publish(reading_channel, '"after"')
            assert await take(again, 1) == ['"after"']

        # `idle` still holds its channel, so the reconnect re-subscribed it upstream:
        # a newcomer joins that upstream subscription and hears on it.
        async with redis_bus.subscribe(idle_channel) as newcomer:
            assert await numsub(admin, idle_channel) == 1
            await redis_bus.publish(idle_channel, '"resubscribed"')
            assert await take(newcomer, 1) == ['"resubscribed"']

    assert await redis_bus.ping()
    assert redis_bus.upstream_channels.isdisjoint({reading_channel, idle_channel})


@pytest.mark.asyncio
async def test_redis_subscribe_returns_only_once_redis_has_confirmed_it(flaky_link: FlakyLink, admin: Redis) -> None:
    # The bus reaches Redis over a slow link; the publisher does not. Unless
    # subscribe() waited for Redis's confirmation, these messages would be gone.
    flaky_link.delay = 0.05
    slow_bus = EventBus(await flaky_link.start())
    await slow_bus.connect()
    try:
        for _ in range(3):
            channel = new_channel("confirmed")
            async with slow_bus.subscribe(channel) as subscription:
                for n in range(5):
                    await admin.publish(channel, json.dumps(n))
                assert await take(subscription, 5) == [json.dumps(n) for n in range(5)]
    finally:
        await slow_bus.disconnect()


@pytest.mark.asyncio
async def test_redis_outage_backs_off_then_recovers(flaky_link: FlakyLink) -> None:
    flaky_bus = EventBus(await flaky_link.start())
    await flaky_bus.connect()
    try:
        channel = new_channel("outage")
        async with flaky_bus.subscribe(channel) as before:
            flaky_link.down = True
            flaky_link.drop_all()
            with pytest.raises(BusDisconnected):
                await take(before, 1)
            assert not await flaky_bus.ping()
            with pytest.raises(BusDisconnected):  # publishing needs Redis too
                await flaky_bus.publish(channel, '"lost"')
            flaky_link.attempts = 0  # from here on, only the bus's reconnects knock

        # Subscribing while Redis is away waits for the reconnect.
        async def subscribe_and_read() -> list[str]:
            async with flaky_bus.subscribe(channel) as subscription:
                entered.set()
                return await take(subscription, 1)

        entered = asyncio.Event()
        waiting = asyncio.create_task(subscribe_and_read())
        await asyncio.sleep(0.8)
        assert not entered.is_set()
        # Backoff 0.1, 0.2, 0.4 s (±20 %): two or three attempts so far, not a tight loop.
        assert 2 <= flaky_link.attempts <= 4

        flaky_link.down = False
        async with asyncio.timeout(5):
            await entered.wait()
        await flaky_bus.publish(channel, '"back"')
        assert await waiting == ['"back"']
        assert await flaky_bus.ping()
    finally:
        await flaky_bus.disconnect()
