"""The process-wide event bus: broadcaster underneath, our own fan-out on top.

Events are JSON strings on named channels, and they are at-most-once
"something changed" signals: the database stays the source of truth.

* One upstream subscription per channel per process.  A registry
  ``{channel: subscribers}`` subscribes upstream when the first local
  subscriber arrives and unsubscribes when the last one leaves, under a lock
  per channel (broadcaster's own ``Broadcast.subscribe`` lets two concurrent
  first subscribers overwrite each other's queue).
* Local fan-out into one bounded queue per subscriber.  Delivery never waits:
  a subscriber whose queue is full loses its backlog and is told with
  :class:`SubscriberOverflow`; the others carry on.
* ``memory://`` uses broadcaster's in-process backend; ``redis://`` (and
  ``rediss://``, ``unix://``) use :class:`RedisPubSubBackend`, whose
  supervised listener reconnects by itself.  Subscribers of a lost connection
  are told with :class:`BusDisconnected`; subscribing again waits for the
  reconnect.  ``redis-cluster://`` (and ``rediss-cluster://``) use
  :class:`RedisClusterPubSubBackend`: sharded pub/sub, where a lost shard
  disconnects only the subscribers of its own channels.

A subscription's iteration never just ends while the bus runs: it yields
messages, or raises :class:`BusDisconnected` / :class:`SubscriberOverflow`,
after which the caller should re-read state from the database (and usually
subscribe again).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final, Protocol
from urllib.parse import urlsplit

import structlog
from broadcaster import Broadcast, BroadcastBackend, Event

from ediary_gql import metrics
from ediary_gql.events.cluster_backend import CLUSTER_SCHEMES, RedisClusterPubSubBackend
from ediary_gql.events.redis_backend import ConnectionLost, PubSubUnavailable, RedisPubSubBackend

__all__ = ["BusDisconnected", "BusError", "EventBus", "SubscriberOverflow", "Subscription"]

log = structlog.get_logger(__name__)

_REDIS_SCHEMES: Final = frozenset({"redis", "rediss", "unix"})


class _Supervised(Protocol):
    """What the bus asks of a Redis backend beyond broadcaster's interface."""

    @property
    def generation(self) -> int: ...

    def is_ready(self, channel: str) -> bool: ...

    async def wait_ready(self, channel: str | None = None) -> None: ...

    async def ping(self) -> bool: ...


class BusError(Exception):
    """Base class of the event bus's errors."""


class BusDisconnected(BusError):
    """The upstream connection is lost (or the bus is not connected).

    Messages may have been missed: re-read state, then subscribe again.
    """


class SubscriberOverflow(BusError):
    """This subscriber fell ``queue_size`` messages behind; its backlog was dropped."""


class Subscription:
    """One local subscriber: an async iterator of the channel's messages (str)."""

    def __init__(self, channel: str, *, queue_size: int, generation: int) -> None:
        self._channel = channel
        self._queue: asyncio.Queue[str | BusError | None] = asyncio.Queue(queue_size)
        # The upstream connection this subscriber was registered on: a loss of
        # an older connection (reported late) does not concern it.
        self.generation = generation
        self._error: BusError | None = None
        self._error_raised = False
        self._closed = False

    @property
    def channel(self) -> str:
        return self._channel

    @property
    def pending(self) -> int:
        """Messages queued and not yet read."""
        return self._queue.qsize()

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        if self._error is not None and self._error_raised:
            raise type(self._error)(*self._error.args)
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, str):
            return item
        if item is None:  # the subscription's context was left
            raise StopAsyncIteration
        self._error_raised = True
        raise item

    def __repr__(self) -> str:
        state = "closed" if self._closed else type(self._error).__name__ if self._error else "open"
        return f"<Subscription {self._channel!r} {state} pending={self.pending}>"

    # -- called by the bus (never block) ----------------------------------------

    def _deliver(self, message: str) -> None:
        if self._error is not None or self._closed:
            return
        try:
            self._queue.put_nowait(message)
            metrics.EVENTS_DELIVERED.inc()
        except asyncio.QueueFull:
            log.warning("event_bus_subscriber_overflow", channel=self._channel, queue_size=self._queue.maxsize)
            self._fail(SubscriberOverflow(f"subscriber of {self._channel!r} fell behind; messages were dropped"))

    def _fail(self, error: BusError) -> None:
        """Tell the subscriber: after what it already has queued, or at once if full."""
        if self._error is not None or self._closed:
            return
        self._error = error
        self._push(error)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._push(None)

    def _push(self, item: BusError | None) -> None:
        if self._queue.full():  # no room for the notice: the backlog goes
            while not self._queue.empty():
                self._queue.get_nowait()
        self._queue.put_nowait(item)


class _Channel:
    """Registry entry: the local subscribers of one channel."""

    __slots__ = ("broadcast", "lock", "subscribers", "upstream", "users")

    def __init__(self, broadcast: _FanoutBroadcast) -> None:
        self.broadcast = broadcast
        self.lock = asyncio.Lock()
        self.subscribers: set[Subscription] = set()
        self.upstream = False  # subscribed on the backend
        self.users = 0  # tasks holding or entering this entry: it is dropped at 0


class _FanoutBroadcast(Broadcast):
    """``Broadcast`` whose listener hands every event to the bus's own fan-out.

    ``Broadcast.subscribe`` (racy, unbounded queues) is not used.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        backend: BroadcastBackend | None = None,
        on_event: Callable[[Event], None],
    ) -> None:
        super().__init__(url, backend=backend)
        self._on_event = on_event

    @property
    def backend(self) -> BroadcastBackend:
        return self._backend

    @property
    def listener_alive(self) -> bool:
        task: asyncio.Task[None] | None = getattr(self, "_listener_task", None)
        return task is not None and not task.done()

    async def _listener(self) -> None:
        while True:
            event = await self._backend.next_published()
            try:
                self._on_event(event)
            except Exception:
                log.exception("event_bus_dispatch_failed", channel=event.channel)

    async def disconnect(self) -> None:
        task: asyncio.Task[None] | None = getattr(self, "_listener_task", None)
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
            except Exception:
                log.exception("event_bus_listener_failed")
        await self._backend.disconnect()


class EventBus:
    """Publish JSON strings to channels; subscribe with local fan-out.

    ``url``: ``memory://`` (in-process) or ``redis://host:port/db``.
    ``queue_size``: how many unread messages one subscriber may hold.
    ``namespace``: prefixed to every channel, so deployments (or test runs) sharing
    one Redis never hear each other.
    """

    def __init__(self, url: str, *, queue_size: int = 256, namespace: str = "") -> None:
        scheme = urlsplit(url).scheme
        if scheme != "memory" and scheme not in _REDIS_SCHEMES and scheme not in CLUSTER_SCHEMES:
            raise ValueError(
                f"unsupported event bus URL scheme {scheme!r}: use memory://, redis:// or redis-cluster://"
            )
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._url = url
        self._namespace = namespace
        self._queue_size = queue_size
        self._broadcast: _FanoutBroadcast | None = None
        self._redis: _Supervised | None = None
        self._channels: dict[str, _Channel] = {}
        self._leaving: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return self._url

    @property
    def backend(self) -> BroadcastBackend | None:
        """The broadcaster backend while connected (for health checks and tests)."""
        return None if self._broadcast is None else self._broadcast.backend

    @property
    def upstream_channels(self) -> frozenset[str]:
        """Channels this process is subscribed to upstream (one subscription each)."""
        return frozenset(name for name, entry in self._channels.items() if entry.upstream)

    def subscriber_count(self, channel: str) -> int:
        """Local subscribers of ``channel``."""
        entry = self._channels.get(self._namespace + channel)
        return 0 if entry is None else len(entry.subscribers)

    # -- lifecycle -----------------------------------------------------------------

    async def connect(self) -> None:
        """Connect the backend and start the listener; BusDisconnected if unreachable."""
        if self._broadcast is not None:
            return
        redis: RedisPubSubBackend | RedisClusterPubSubBackend | None = None
        scheme = urlsplit(self._url).scheme
        if scheme == "memory":
            broadcast = _FanoutBroadcast(self._url, on_event=self._dispatch)
        else:
            redis = RedisClusterPubSubBackend(self._url) if scheme in CLUSTER_SCHEMES else RedisPubSubBackend(self._url)
            broadcast = _FanoutBroadcast(backend=redis, on_event=self._dispatch)
        try:
            await broadcast.connect()
        except PubSubUnavailable as exc:
            raise BusDisconnected(str(exc)) from exc
        self._channels = {}
        self._redis = redis
        self._broadcast = broadcast

    async def disconnect(self) -> None:
        """Stop the bus; current subscribers get BusDisconnected."""
        broadcast, self._broadcast = self._broadcast, None
        if broadcast is None:
            return
        channels, self._channels = self._channels, {}
        self._redis = None
        for entry in channels.values():
            entry.upstream = False
            for subscription in entry.subscribers:
                subscription._fail(BusDisconnected("the event bus was closed"))
        await broadcast.disconnect()

    async def ping(self) -> bool:
        """True if the backend is reachable and the listener alive."""
        broadcast = self._broadcast
        if broadcast is None or not broadcast.listener_alive:
            return False
        if self._redis is not None:
            return await self._redis.ping()
        return True

    # -- publish / subscribe ---------------------------------------------------------

    async def publish(self, channel: str, message: str) -> None:
        """Publish ``message`` (a JSON string) to every subscriber in every process.

        Raises BusDisconnected if it cannot be handed to the backend.
        """
        broadcast = self._require()
        try:
            await broadcast.publish(self._namespace + channel, message)
        except PubSubUnavailable as exc:
            raise BusDisconnected(str(exc)) from exc
        metrics.EVENTS_PUBLISHED.inc()

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """``async with bus.subscribe(channel) as subscription: async for message in subscription``.

        Entering returns once the subscription is live upstream: any message
        published after that is delivered.  Raises BusDisconnected if the bus
        is not connected or the upstream connection does not come back in time.
        """
        return self._subscription(self._namespace + channel)

    @asynccontextmanager
    async def _subscription(self, channel: str) -> AsyncIterator[Subscription]:
        entry, subscription = await self._join(channel)
        try:
            yield subscription
        finally:
            # Shielded: a cancelled subscriber still leaves the registry consistent.
            task = asyncio.create_task(self._leave(channel, entry, subscription))
            self._leaving.add(task)
            task.add_done_callback(self._leaving.discard)
            await asyncio.shield(task)

    # -- internals -------------------------------------------------------------------

    def _require(self) -> _FanoutBroadcast:
        if self._broadcast is None:
            raise BusDisconnected("the event bus is not connected")
        return self._broadcast

    async def _join(self, channel: str) -> tuple[_Channel, Subscription]:
        broadcast = self._require()
        redis = self._redis
        if redis is not None:  # wait for a reconnect outside the channel lock
            try:
                await redis.wait_ready(channel)
            except PubSubUnavailable as exc:
                raise BusDisconnected(str(exc)) from exc
        if self._broadcast is not broadcast:
            raise BusDisconnected("the event bus was closed")
        entry = self._channels.get(channel)
        if entry is None:
            entry = self._channels[channel] = _Channel(broadcast)
        entry.users += 1
        try:
            async with entry.lock:
                if self._broadcast is not broadcast:
                    raise BusDisconnected("the event bus was closed")
                generation = 0
                if redis is not None:
                    if not redis.is_ready(channel):
                        raise BusDisconnected("the Redis pub/sub connection is down")
                    generation = redis.generation
                if not entry.upstream:
                    try:
                        await broadcast.backend.subscribe(channel)
                    except PubSubUnavailable as exc:
                        raise BusDisconnected(str(exc)) from exc
                    entry.upstream = True
                if self._broadcast is not broadcast:  # closed while we waited for Redis
                    raise BusDisconnected("the event bus was closed")
                subscription = Subscription(channel, queue_size=self._queue_size, generation=generation)
                entry.subscribers.add(subscription)
        except BaseException:
            self._release(channel, entry)
            raise
        return entry, subscription

    async def _leave(self, channel: str, entry: _Channel, subscription: Subscription) -> None:
        subscription._close()
        try:
            async with entry.lock:
                entry.subscribers.discard(subscription)
                if entry.subscribers or not entry.upstream:
                    return
                entry.upstream = False
                if entry.broadcast is self._broadcast:
                    try:
                        await entry.broadcast.backend.unsubscribe(channel)
                    except Exception:
                        log.warning("event_bus_unsubscribe_failed", channel=channel, exc_info=True)
        finally:
            self._release(channel, entry)

    def _release(self, channel: str, entry: _Channel) -> None:
        entry.users -= 1
        if entry.users == 0 and self._channels.get(channel) is entry:
            del self._channels[channel]

    def _dispatch(self, event: Event) -> None:
        """Called by the listener for every upstream event; never blocks."""
        if isinstance(event, ConnectionLost):
            lost = self._channels.values() if event.channels is None else self._entries(event.channels)
            for entry in lost:
                for subscription in entry.subscribers:
                    if subscription.generation <= event.generation:
                        subscription._fail(BusDisconnected(f"the event bus lost its connection ({event.message})"))
            return
        channel = self._channels.get(event.channel)
        if channel is None:
            return
        for subscription in channel.subscribers:
            subscription._deliver(event.message)

    def _entries(self, channels: frozenset[str]) -> list[_Channel]:
        return [entry for name in channels if (entry := self._channels.get(name)) is not None]
