"""A supervised Redis pub/sub backend for ``broadcaster.Broadcast``.

broadcaster 0.3.1's own ``RedisBackend`` starts listening before SUBSCRIBE has
reached the server, relies on ``PubSub.listen()`` (which returns at once when
nothing is subscribed on redis-py 8) and never reconnects.  This backend
replaces it:

* it owns one dedicated pub/sub connection, read by a single supervised task
  that keeps reading whether or not any channel is subscribed;
* ``subscribe()`` returns only after Redis has confirmed the SUBSCRIBE, so a
  message published after it returns is delivered;
* when the connection is lost, the supervisor puts a :class:`ConnectionLost`
  marker in the event stream (in order, after every message read before the
  loss), reconnects with capped exponential backoff, re-subscribes every
  channel and waits for the confirmations before accepting new work.

Events are at-most-once "something changed" signals: anything published while
the connection is down is lost, and subscribers are told through the marker.

The backend talks RESP2 on a bare ``redis.asyncio`` connection rather than
through ``redis.asyncio.client.PubSub``, whose hidden auto-reconnect,
health-check and ``listen()`` behaviour differ between redis-py 5, 6, 7 and 8.
Publishing goes through an ordinary ``redis.asyncio.Redis`` client.

With ``sharded=True`` it is one link of a Redis Cluster backend
(``events/cluster_backend.py``): ``SSUBSCRIBE`` on one node, no reconnect of its
own (the cluster backend re-places the channels on their current owner), and a
:class:`ChannelMoved` marker when the node drops a channel whose slot moved away.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter, deque
from collections.abc import Awaitable
from typing import Any, Final, cast

import structlog
from broadcaster import BroadcastBackend, Event
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, Connection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

__all__ = ["ChannelMoved", "ConnectionLost", "PubSubUnavailable", "RedisPubSubBackend"]

log = structlog.get_logger(__name__)

_CLIENT_NAME: Final = "ediary-gql-bus"


class PubSubUnavailable(Exception):
    """The Redis pub/sub connection is down (or the backend is closed)."""


class ConnectionLost(Event):
    """Marker in the event stream: pub/sub connection ``generation`` was lost.

    Every message read on that connection comes before it; anything published
    between the loss and the next successful (re-)subscription is lost.
    ``channels``: the channels concerned, or None for all of them.
    """

    def __init__(self, generation: int, reason: str, channels: frozenset[str] | None = None) -> None:
        super().__init__(channel="", message=reason)
        self.generation = generation
        self.channels = channels

    def __repr__(self) -> str:
        return f"ConnectionLost(generation={self.generation}, reason={self.message!r}, channels={self.channels!r})"


class ChannelMoved(Event):
    """Marker from a sharded link: the node dropped ``channel`` (its slot moved away)."""

    def __init__(self, channel: str) -> None:
        super().__init__(channel=channel, message="slot moved")

    def __repr__(self) -> str:
        return f"ChannelMoved({self.channel!r})"


class _Waiter:
    """Someone waiting for the reply with sequence number ``target``."""

    __slots__ = ("future", "target")

    def __init__(self, target: int, future: asyncio.Future[None] | None) -> None:
        self.target = target
        self.future = future


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


class RedisPubSubBackend(BroadcastBackend):
    """broadcaster backend over Redis pub/sub with a supervised listener.

    ``connect()`` makes one attempt and raises :class:`PubSubUnavailable` if
    Redis cannot be reached; after that the supervisor keeps the connection
    alive on its own.  ``subscribe()``/``unsubscribe()`` are meant to be called
    once per channel transition (the event bus keeps one upstream subscription
    per channel); they are not reference-counted here.
    """

    def __init__(
        self,
        url: str,
        *,
        reconnect_min: float = 0.1,
        reconnect_max: float = 5.0,
        ping_interval: float = 10.0,
        timeout: float = 5.0,
        event_queue_size: int = 10_000,
        sharded: bool = False,
    ) -> None:
        # BroadcastBackend.__init__ only raises NotImplementedError: not called.
        if reconnect_min <= 0 or reconnect_max < reconnect_min:
            raise ValueError("need 0 < reconnect_min <= reconnect_max")
        if ping_interval <= 0 or timeout <= 0 or event_queue_size <= 0:
            raise ValueError("ping_interval, timeout and event_queue_size must be positive")
        self._url = url
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._ping_interval = ping_interval
        self._timeout = timeout
        self._event_queue_size = event_queue_size
        self._sharded = sharded
        self._subscribe_verb, self._unsubscribe_verb, self._message_kind = (
            ("SSUBSCRIBE", "SUNSUBSCRIBE", "smessage") if sharded else ("SUBSCRIBE", "UNSUBSCRIBE", "message")
        )
        # SUNSUBSCRIBEs sent and not yet answered, per channel: any other sunsubscribe
        # push is the node dropping a channel whose slot moved away
        self._unsubscribing: Counter[str] = Counter()

        kwargs: dict[str, Any] = dict(parse_url(url))  # validates the URL now
        self._connection_class: type[AbstractConnection] = kwargs.pop("connection_class", Connection)
        kwargs.setdefault("client_name", _CLIENT_NAME)
        kwargs.update(
            protocol=2,  # pub/sub messages as plain RESP2 arrays, never RESP3 pushes
            health_check_interval=0,  # redis-py's health check would steal our replies
            socket_timeout=None,  # reads are timed by the supervisor itself
            socket_connect_timeout=kwargs.get("socket_connect_timeout") or timeout,
            retry=Retry(NoBackoff(), 0),  # reconnecting is the supervisor's job
        )
        kwargs.pop("retry_on_timeout", None)
        self._connection_kwargs = kwargs

        self._channels: set[str] = set()
        self._events: asyncio.Queue[Event] = asyncio.Queue(event_queue_size)
        self._client: Redis | None = None
        self._conn: AbstractConnection | None = None
        self._ready = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._waiters: deque[_Waiter] = deque()
        self._sent = 0
        self._received = 0
        self._generation = 0
        self._connection_id: int | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closed = True
        self._last_error = "not connected"

    # -- introspection ---------------------------------------------------------

    @property
    def url(self) -> str:
        return self._url

    @property
    def ready(self) -> bool:
        """The pub/sub connection is up and every wanted channel is subscribed."""
        return self._ready.is_set() and not self._closed

    def is_ready(self, channel: str) -> bool:
        """As ``ready``: one connection carries every channel."""
        return self.ready

    @property
    def generation(self) -> int:
        """Number of the current (or last) pub/sub connection, counting from 1."""
        return self._generation

    @property
    def connection_id(self) -> int | None:
        """Redis ``CLIENT ID`` of the current pub/sub connection (for ops/tests)."""
        return self._connection_id if self.ready else None

    @property
    def channels(self) -> frozenset[str]:
        """Channels this backend keeps subscribed upstream."""
        return frozenset(self._channels)

    @property
    def supervisor_alive(self) -> bool:
        return self._supervisor is not None and not self._supervisor.done()

    # -- BroadcastBackend --------------------------------------------------------

    async def connect(self) -> None:
        if not self._closed:
            return
        self._closed = False
        self._events = asyncio.Queue(self._event_queue_size)
        self._client = Redis.from_url(
            self._url,
            socket_connect_timeout=self._timeout,
            socket_timeout=self._timeout,
            retry=Retry(NoBackoff(), 1),  # one retry covers a stale pooled connection
            client_name=_CLIENT_NAME,
        )
        conn = self._new_connection()
        try:
            await self._open(conn, set())
        except BaseException as exc:
            self._closed = True
            await self._close_connection(conn)
            await self._close_client()
            if isinstance(exc, (RedisError, OSError, asyncio.TimeoutError)):
                raise PubSubUnavailable(f"cannot reach Redis at {self._safe_url()}: {exc}") from exc
            raise
        self._attach(conn)
        self._supervisor = asyncio.create_task(self._supervise(conn), name="ediary-gql: redis pub/sub supervisor")

    async def disconnect(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._ready.clear()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            try:
                await supervisor
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we ourselves are being cancelled
            except Exception:
                log.exception("event_bus_redis_supervisor_failed")
        conn, self._conn = self._conn, None
        self._fail_waiters("event bus backend closed")
        if conn is not None:
            await self._close_connection(conn)
        await self._close_client()
        self._channels.clear()

    async def subscribe(self, channel: str) -> None:
        """Subscribe upstream; returns once Redis has confirmed the SUBSCRIBE."""
        self._channels.add(channel)
        try:
            await self.wait_ready()
            future = await self._request(self._subscribe_verb, channel)
            try:
                async with asyncio.timeout(self._timeout):
                    await future
            except TimeoutError as exc:
                raise PubSubUnavailable(f"no {self._subscribe_verb} confirmation for {channel!r}") from exc
        except ResponseError:  # refused (MOVED on a cluster node): nothing to undo
            self._channels.discard(channel)
            raise
        except BaseException:
            self._channels.discard(channel)
            if self.ready:
                # best effort: a later reconnect drops it anyway
                with contextlib.suppress(PubSubUnavailable):
                    await self._send(self._unsubscribe_verb, channel)
            raise

    async def unsubscribe(self, channel: str) -> None:
        """Drop the upstream subscription (does not wait for the confirmation)."""
        self._channels.discard(channel)
        if self.ready:
            # if the connection is gone, so is the subscription
            with contextlib.suppress(PubSubUnavailable):
                await self._send(self._unsubscribe_verb, channel)

    async def publish(self, channel: str, message: Any) -> None:
        client = self._client
        if client is None or self._closed:
            raise PubSubUnavailable("event bus backend is not connected")
        try:
            await client.publish(channel, message)
        except (RedisError, OSError) as exc:
            raise PubSubUnavailable(f"cannot publish to Redis: {exc}") from exc

    async def next_published(self) -> Event:
        return await self._events.get()

    # -- extras used by the event bus --------------------------------------------

    async def wait_ready(self, channel: str | None = None) -> None:
        """Wait until the pub/sub connection is up; PubSubUnavailable otherwise."""
        if self.ready:
            return
        if self._closed or not self.supervisor_alive:
            raise PubSubUnavailable("event bus backend is not connected")
        try:
            async with asyncio.timeout(self._timeout):
                await self._ready.wait()
        except TimeoutError as exc:
            raise PubSubUnavailable(f"Redis pub/sub connection is down (last error: {self._last_error})") from exc
        if self._closed:
            raise PubSubUnavailable("event bus backend is not connected")

    async def ping(self) -> bool:
        """Redis answers PING and the pub/sub listener is connected and alive."""
        client = self._client
        if client is None or not self.ready or not self.supervisor_alive:
            return False
        try:
            async with asyncio.timeout(self._timeout):
                return bool(await cast(Awaitable[bool], client.ping()))
        except (RedisError, OSError, TimeoutError):
            return False

    # -- internals -----------------------------------------------------------------

    def _safe_url(self) -> str:
        kwargs = self._connection_kwargs
        if "path" in kwargs:
            return f"unix://{kwargs['path']}"
        return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"

    def _new_connection(self) -> AbstractConnection:
        return self._connection_class(**self._connection_kwargs)

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception:
                log.debug("event_bus_redis_client_close_failed", exc_info=True)

    async def _close_connection(self, conn: AbstractConnection) -> None:
        # Under the write lock: a send still in flight on this connection is over
        # before the socket goes (and cannot silently reconnect it afterwards).
        try:
            async with self._write_lock:
                await conn.disconnect(nowait=True)
        except Exception:
            log.debug("event_bus_redis_pubsub_close_failed", exc_info=True)

    async def _open(self, conn: AbstractConnection, channels: set[str]) -> None:
        """Connect, learn the client id and (re-)subscribe ``channels``.

        Reads the confirmations inline (before anyone else may send on this
        connection); messages that arrive meanwhile go to the event stream.
        """
        async with asyncio.timeout(self._timeout):
            await cast(Any, conn).connect()
            self._connection_id = None
            try:
                await conn.send_command("CLIENT", "ID", check_health=False)
                self._connection_id = int(await conn.read_response())
            except ResponseError:
                pass  # CLIENT ID needs Redis >= 5; only used for introspection
            if channels:
                await conn.send_command("SUBSCRIBE", *sorted(channels), check_health=False)
                pending = len(channels)
                while pending:
                    response = await conn.read_response()
                    if await self._handle_push(response):
                        continue
                    pending -= 1

    def _attach(self, conn: AbstractConnection) -> None:
        self._conn = conn
        self._generation += 1
        self._sent = 0
        self._received = 0
        self._unsubscribing.clear()
        self._ready.set()

    async def _supervise(self, conn: AbstractConnection) -> None:
        loop = asyncio.get_running_loop()
        delay = self._reconnect_min
        while True:
            connected_at = loop.time()
            reason = "connection closed"
            try:
                await self._read_loop(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
            self._last_error = reason
            self._ready.clear()
            self._conn = None
            self._fail_waiters(f"Redis pub/sub connection lost ({reason})")
            await self._close_connection(conn)
            log.warning("event_bus_redis_connection_lost", generation=self._generation, reason=reason)
            await self._events.put(ConnectionLost(self._generation, reason))
            if self._sharded:
                return  # the cluster backend re-places the channels on their owners
            if loop.time() - connected_at >= self._reconnect_max:
                delay = self._reconnect_min  # it was healthy for a while: start over
            while True:
                # jitter, so that many processes do not reconnect in lockstep (not crypto)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))  # noqa: S311
                delay = min(delay * 2, self._reconnect_max)
                conn = self._new_connection()
                wanted = set(self._channels)
                try:
                    await self._open(conn, wanted)
                except asyncio.CancelledError:
                    await self._close_connection(conn)
                    raise
                except Exception as exc:
                    self._last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("event_bus_redis_reconnect_failed", error=self._last_error, retry_in=delay)
                    await self._close_connection(conn)
                    continue
                break
            self._attach(conn)
            log.info("event_bus_redis_reconnected", generation=self._generation, channels=len(wanted))
            stale = wanted - self._channels  # unsubscribed while we were reconnecting
            if stale:
                with contextlib.suppress(PubSubUnavailable):
                    await self._send("UNSUBSCRIBE", *sorted(stale))

    async def _read_loop(self, conn: AbstractConnection) -> None:
        ping_outstanding = False
        while True:
            try:
                response = await conn.read_response(timeout=self._ping_interval)
            except ResponseError as exc:
                self._on_reply(exc)
                continue
            if response is None:  # nothing for ping_interval seconds
                if ping_outstanding:
                    raise ConnectionError(f"no reply to PING within {self._ping_interval:g}s")
                await self._send("PING")
                ping_outstanding = True
                continue
            ping_outstanding = False
            if not await self._handle_push(response):
                self._on_reply(None)

    async def _handle_push(self, response: object) -> bool:
        """Queue a published message; False if ``response`` is a command reply."""
        if not isinstance(response, list) or len(response) != 3:
            return False
        kind = _text(response[0]).lower()
        if kind == self._message_kind:
            await self._events.put(Event(channel=_text(response[1]), message=_text(response[2])))
            return True
        if self._sharded and kind == "sunsubscribe":
            channel = _text(response[1])
            if self._unsubscribing[channel] > 0:  # the reply to our own SUNSUBSCRIBE
                self._unsubscribing[channel] -= 1
                if not self._unsubscribing[channel]:
                    del self._unsubscribing[channel]
                return False
            self._channels.discard(channel)
            await self._events.put(ChannelMoved(channel))
            return True
        return False

    def _on_reply(self, error: Exception | None) -> None:
        """Replies come back in the order commands were sent: wake their waiters."""
        self._received += 1
        while self._waiters and self._waiters[0].target <= self._received:
            waiter = self._waiters.popleft()
            future = waiter.future
            if future is None or future.done():
                continue
            if error is not None and waiter.target == self._received:
                future.set_exception(error)
            else:
                future.set_result(None)

    def _fail_waiters(self, reason: str) -> None:
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if waiter.future is not None and not waiter.future.done():
                waiter.future.set_exception(PubSubUnavailable(reason))

    async def _request(self, *args: str) -> asyncio.Future[None]:
        """Send a command; the future resolves when its (last) reply arrives."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._send(*args, future=future)
        return future

    async def _send(self, *args: str, future: asyncio.Future[None] | None = None) -> None:
        """Send a command that gets one reply per argument after the first."""
        async with self._write_lock:
            conn = self._conn
            if conn is None or not self.ready or not conn.is_connected:
                raise PubSubUnavailable("Redis pub/sub connection is down")
            self._sent += max(1, len(args) - 1)
            self._waiters.append(_Waiter(self._sent, future))
            if args[0] == "SUNSUBSCRIBE":
                self._unsubscribing.update(args[1:])
            try:
                async with asyncio.timeout(self._timeout):
                    await conn.send_command(*args, check_health=False)
            except (RedisError, OSError, TimeoutError) as exc:
                # The reader notices the broken connection and reconnects.
                raise PubSubUnavailable(f"cannot send {args[0]} to Redis: {exc}") from exc
