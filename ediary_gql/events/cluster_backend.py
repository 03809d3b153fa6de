"""A broadcaster backend on a Redis Cluster, with sharded pub/sub (Redis >= 7).

``BROADCAST_URL=redis-cluster://[user:password@]host1:port1,host2:port2`` (or
``rediss-cluster://`` for TLS) names some nodes of the cluster; the rest are found.

* Publishing is ``SPUBLISH`` through ``redis.asyncio.cluster.RedisCluster``, which
  routes it by the channel's slot and follows MOVED itself.
* redis-py's async cluster client has no pub/sub, so subscribing is ours: one
  :class:`RedisPubSubBackend` link (``sharded=True``, ``SSUBSCRIBE``) per master that
  owns a wanted channel, placed by the slot map read with ``CLUSTER SHARDS``.  A
  channel lives on one shard: nothing crosses the cluster bus to other shards.
* When a link is lost (its master died) or a node drops a channel (its slot moved:
  a failover, a resharding), the channels concerned get a :class:`ConnectionLost`
  marker naming them, and placement tasks re-read the slot map (with backoff, until
  a replica has been promoted) and subscribe them again on the new owner.  Other
  shards' channels carry on undisturbed.

Anything published while a channel is being re-placed is lost: subscribers are told
by the marker and re-read the event log, which is the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable
from typing import Any, Final, NamedTuple, cast
from urllib.parse import quote, unquote, urlsplit

import structlog
from broadcaster import BroadcastBackend, Event
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import Connection, SSLConnection
from redis.crc import key_slot
from redis.exceptions import MovedError, RedisClusterException, RedisError, ResponseError

from ediary_gql.events.redis_backend import ChannelMoved, ConnectionLost, PubSubUnavailable, RedisPubSubBackend

__all__ = ["CLUSTER_SCHEMES", "ClusterAddress", "RedisClusterPubSubBackend", "parse_cluster_url"]

log = structlog.get_logger(__name__)

CLUSTER_SCHEMES: Final = frozenset({"redis-cluster", "rediss-cluster"})
_SLOTS: Final = 16384


class ClusterAddress(NamedTuple):
    """What ``redis-cluster://`` says: seed nodes, credentials, TLS."""

    nodes: tuple[tuple[str, int], ...]
    username: str | None
    password: str | None
    tls: bool


def parse_cluster_url(url: str) -> ClusterAddress:
    """``redis-cluster://[user:password@]host[:port][,host[:port]…][/]``; ValueError if not."""
    parts = urlsplit(url)
    if parts.scheme not in CLUSTER_SCHEMES:
        raise ValueError(f"not a Redis Cluster URL: {parts.scheme}://")
    if parts.path not in ("", "/", "/0") or parts.query:
        raise ValueError("a Redis Cluster has only database 0 and takes no options")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, password = None, None
    if userinfo:
        name, has_password, secret = userinfo.partition(":")
        username = unquote(name) or None
        password = unquote(secret) if has_password else None
    nodes: list[tuple[str, int]] = []
    for item in hosts.split(","):
        if not item:
            continue
        if item.startswith("["):  # [IPv6]:port
            host, _, rest = item[1:].partition("]")
            port_text = rest.removeprefix(":")
        else:
            host, _, port_text = item.partition(":")
        if not host or (port_text and not port_text.isdigit()):
            raise ValueError(f"bad Redis Cluster node {item!r}: use host:port")
        nodes.append((host, int(port_text or 6379)))
    if not nodes:
        raise ValueError("a Redis Cluster URL names at least one node: redis-cluster://host:port,…")
    return ClusterAddress(tuple(nodes), username, password, parts.scheme == "rediss-cluster")


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(value: object) -> dict[str, object]:
    """A CLUSTER SHARDS map: a flat [key, value, …] list in RESP2 (a dict if parsed)."""
    if isinstance(value, dict):
        return {_text(k): v for k, v in value.items()}
    items = cast(list[object], value)
    return {_text(items[i]): items[i + 1] for i in range(0, len(items) - 1, 2)}


def _parse_shards(reply: object, *, tls: bool) -> list[tuple[int, int, tuple[str, int]]]:
    """(first slot, last slot, master address) ranges from a CLUSTER SHARDS reply."""
    ranges: list[tuple[int, int, tuple[str, int]]] = []
    for shard in cast(list[object], reply):
        fields = _fields(shard)
        masters = [_fields(node) for node in cast(list[object], fields.get("nodes") or [])]
        masters = [node for node in masters if _text(node.get("role")) == "master"]
        slots = [int(cast(Any, slot)) for slot in cast(list[object], fields.get("slots") or [])]
        if not masters or not slots:
            continue  # a shard that owns no slots (or lost its master for good)
        master = masters[0]
        endpoint = _text(master.get("endpoint") or "")
        host = endpoint if endpoint and endpoint != "?" else _text(master.get("ip"))
        port = master.get("tls-port") if tls and master.get("tls-port") else master.get("port")
        for i in range(0, len(slots) - 1, 2):
            ranges.append((slots[i], slots[i + 1], (host, int(cast(Any, port)))))
    return ranges


class _Link:
    """The sharded pub/sub connection to one master, and the task that drains it."""

    __slots__ = ("address", "backend", "pump")

    def __init__(self, address: tuple[str, int], backend: RedisPubSubBackend) -> None:
        self.address = address
        self.backend = backend
        self.pump: asyncio.Task[None] | None = None


class RedisClusterPubSubBackend(BroadcastBackend):
    """broadcaster backend over a Redis Cluster's sharded pub/sub.

    Offers what the event bus needs of a supervised backend: ``generation``,
    ``is_ready(channel)``, ``wait_ready(channel)``, ``ping()``; ``subscribe()`` returns
    once the channel's owner has confirmed the ``SSUBSCRIBE``.
    """

    def __init__(
        self,
        url: str,
        *,
        retry_min: float = 0.1,
        retry_max: float = 2.0,
        ping_interval: float = 5.0,
        timeout: float = 5.0,
        event_queue_size: int = 10_000,
    ) -> None:
        # BroadcastBackend.__init__ only raises NotImplementedError: not called.
        if retry_min <= 0 or retry_max < retry_min or ping_interval <= 0 or timeout <= 0:
            raise ValueError("need 0 < retry_min <= retry_max, and positive ping_interval and timeout")
        self._url = url
        self._address = parse_cluster_url(url)
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._ping_interval = ping_interval
        self._timeout = timeout
        self._event_queue_size = event_queue_size
        self._events: asyncio.Queue[Event] = asyncio.Queue(event_queue_size)
        self._client: RedisCluster | None = None
        self._ranges: list[tuple[int, int, tuple[str, int]]] = []
        self._links: dict[tuple[str, int], _Link] = {}
        self._dying: set[_Link] = set()  # replaced links whose pumps have not seen the loss yet
        self._connecting: dict[tuple[str, int], asyncio.Task[_Link]] = {}
        self._wanted: set[str] = set()
        self._placed: dict[str, _Link] = {}
        self._placing: dict[str, asyncio.Task[None]] = {}
        self._refreshing: dict[tuple[str, int] | None, asyncio.Task[tuple[str, int]]] = {}
        self._generation = 1
        self._closed = True

    # -- introspection -------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._url

    @property
    def generation(self) -> int:
        """Grows with every loss: a subscriber registered before a loss is told of it."""
        return self._generation

    @property
    def channels(self) -> frozenset[str]:
        """Channels this backend keeps subscribed (placed or being placed)."""
        return frozenset(self._wanted)

    def owner(self, channel: str) -> tuple[str, int] | None:
        """The master ``channel`` is subscribed on now (None while it is being placed)."""
        link = self._placed.get(channel)
        return None if link is None else link.address

    def is_ready(self, channel: str) -> bool:
        """Open, and ``channel`` is not waiting to be placed again after a loss."""
        return not self._closed and (channel not in self._wanted or channel in self._placed)

    # -- BroadcastBackend ------------------------------------------------------------

    async def connect(self) -> None:
        if not self._closed:
            return
        self._closed = False
        self._events = asyncio.Queue(self._event_queue_size)
        address = self._address
        self._client = RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in address.nodes],
            username=address.username,
            password=address.password,
            ssl=address.tls,
            socket_connect_timeout=self._timeout,
            socket_timeout=self._timeout,
            client_name="ediary-gql-bus",
        )
        try:
            async with asyncio.timeout(self._timeout * 2):
                await self._client.initialize()
                await self._read_slot_map()
        except BaseException as exc:
            await self.disconnect()
            if isinstance(exc, (RedisError, RedisClusterException, OSError, TimeoutError, PubSubUnavailable)):
                raise PubSubUnavailable(f"cannot reach the Redis Cluster at {self._safe_nodes()}: {exc}") from exc
            raise

    async def disconnect(self) -> None:
        if self._closed:
            return
        self._closed = True
        tasks: list[asyncio.Task[Any]] = [*self._placing.values(), *self._connecting.values()]
        tasks.extend(self._refreshing.values())
        links, self._links = [*self._links.values(), *self._dying], {}
        self._dying = set()
        tasks.extend(link.pump for link in links if link.pump is not None)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for link in links:
            await link.backend.disconnect()
        self._placing.clear()
        self._connecting.clear()
        self._placed.clear()
        self._wanted.clear()
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def subscribe(self, channel: str) -> None:
        """Subscribe on the channel's owner; returns once it has confirmed."""
        self._wanted.add(channel)
        try:
            await self.wait_ready(channel)
        except BaseException:
            self._wanted.discard(channel)
            raise

    async def unsubscribe(self, channel: str) -> None:
        self._wanted.discard(channel)
        link = self._placed.pop(channel, None)
        if link is not None:
            await link.backend.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        client = self._client
        if client is None or self._closed:
            raise PubSubUnavailable("event bus backend is not connected")
        try:
            # the async cluster client has no spublish(); the command routes by the channel
            await client.execute_command("SPUBLISH", channel, message)
        except (RedisError, RedisClusterException, OSError) as exc:
            raise PubSubUnavailable(f"cannot publish to the Redis Cluster: {exc}") from exc

    async def next_published(self) -> Event:
        return await self._events.get()

    # -- extras used by the event bus ---------------------------------------------------

    async def wait_ready(self, channel: str | None = None) -> None:
        """Wait until ``channel`` is placed on its owner; PubSubUnavailable past the timeout."""
        if self._closed:
            raise PubSubUnavailable("event bus backend is not connected")
        if channel is None or self.is_ready(channel):
            return
        task = self._placing.get(channel) or self._start_placing(channel)
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.shield(task)
        except TimeoutError as exc:
            raise PubSubUnavailable(f"no Redis Cluster node took the subscription to {channel!r} in time") from exc
        if not self.is_ready(channel):
            raise PubSubUnavailable("event bus backend is not connected")

    async def ping(self) -> bool:
        """Some node of the cluster answers PING (a link in use first)."""
        if self._closed:
            return False
        for link in list(self._links.values()):
            if await link.backend.ping():
                return True
        client = self._client
        if client is None:
            return False
        for node in client.get_primaries():
            try:
                async with asyncio.timeout(self._timeout):
                    await cast(Awaitable[Any], client.execute_command("PING", target_nodes=node))
                return True
            except (RedisError, OSError, TimeoutError):
                continue
        return False

    # -- the slot map --------------------------------------------------------------------

    def _safe_nodes(self) -> str:
        return ",".join(f"{host}:{port}" for host, port in self._address.nodes)

    def _owner_of(self, channel: str) -> tuple[str, int] | None:
        slot = key_slot(channel.encode())
        for first, last, address in self._ranges:
            if first <= slot <= last:
                return address
        return None

    async def _read_slot_map(self, first: tuple[str, int] | None = None) -> tuple[str, int]:
        """CLUSTER SHARDS from the first node that answers: ``first``, then known masters
        and the seeds; the node it was read from."""
        candidates = list(dict.fromkeys([*(address for _, _, address in self._ranges), *self._address.nodes]))
        random.shuffle(candidates)  # spread the reads; a dead node is skipped anyway
        if first is not None:
            candidates = [first, *(address for address in candidates if address != first)]
        errors: list[str] = []
        for host, port in candidates:
            conn = self._connection(host, port)
            try:
                async with asyncio.timeout(self._timeout):
                    await cast(Any, conn).connect()
                    await conn.send_command("CLUSTER", "SHARDS")
                    reply = await conn.read_response()
            except ResponseError as exc:
                raise PubSubUnavailable(f"{host}:{port} has no sharded pub/sub (Redis Cluster >= 7): {exc}") from exc
            except (RedisError, OSError, TimeoutError) as exc:
                errors.append(f"{host}:{port}: {type(exc).__name__} {exc}")
                continue
            finally:
                with contextlib.suppress(Exception):
                    await conn.disconnect(nowait=True)
            ranges = _parse_shards(reply, tls=self._address.tls)
            if ranges:
                self._ranges = ranges
                return host, port
            errors.append(f"{host}:{port}: no slots assigned")
        raise PubSubUnavailable("no Redis Cluster node answered CLUSTER SHARDS: " + "; ".join(errors))

    async def _refresh_slot_map(self, first: tuple[str, int] | None) -> tuple[str, int]:
        """One read of the slot map at a time (per first node asked): its callers share it."""
        task = self._refreshing.get(first)
        if task is None:
            task = self._refreshing[first] = asyncio.create_task(self._read_slot_map(first))
            task.add_done_callback(lambda _: self._refreshing.pop(first, None))
        return await asyncio.shield(task)

    async def _resolve(self, channel: str, *, fresh: bool) -> tuple[str, int]:
        """The master of ``channel``'s slot: from the cached map, or (``fresh``) as the map
        read from the supposed owner says. A node knows its own role before gossip tells
        the others: a former master answers at once that its replica took over."""
        owner = self._owner_of(channel)
        if owner is not None and not fresh:
            return owner
        for _ in range(3):
            asked = await self._refresh_slot_map(owner)
            owner = self._owner_of(channel)
            if owner is None or owner == asked:
                break
        if owner is None:
            raise PubSubUnavailable(f"no master owns the slot of {channel!r}")
        return owner

    def _connection(self, host: str, port: int) -> Connection:
        address = self._address
        kwargs: dict[str, Any] = {
            "host": host,
            "port": port,
            "username": address.username,
            "password": address.password,
            "protocol": 2,
            "socket_connect_timeout": self._timeout,
            "socket_timeout": self._timeout,
        }
        return SSLConnection(**kwargs) if address.tls else Connection(**kwargs)

    # -- links and placement ----------------------------------------------------------

    def _link_url(self, host: str, port: int) -> str:
        address = self._address
        auth = ""
        if address.username or address.password:
            auth = f"{quote(address.username or '', safe='')}:{quote(address.password or '', safe='')}@"
        host_part = f"[{host}]" if ":" in host else host
        return f"{'rediss' if address.tls else 'redis'}://{auth}{host_part}:{port}/0"

    async def _link(self, address: tuple[str, int]) -> _Link:
        """The live link to ``address``, connecting one (once, for all who ask) if need be."""
        link = self._links.get(address)
        if link is not None and link.backend.ready:
            return link
        task = self._connecting.get(address)
        if task is None:
            task = self._connecting[address] = asyncio.create_task(self._open_link(address))
            task.add_done_callback(lambda _: self._connecting.pop(address, None))
        return await asyncio.shield(task)

    async def _open_link(self, address: tuple[str, int]) -> _Link:
        backend = RedisPubSubBackend(
            self._link_url(*address), sharded=True, timeout=self._timeout, ping_interval=self._ping_interval
        )
        await backend.connect()
        link = _Link(address, backend)
        # a dead link to the same node stays until its pump has re-placed what it held
        old = self._links.get(address)
        if old is not None:
            self._dying.add(old)
        self._links[address] = link
        link.pump = asyncio.create_task(self._pump(link), name=f"ediary-gql: cluster link {address[0]}:{address[1]}")
        return link

    def _start_placing(self, channel: str, *, stale: bool = False) -> asyncio.Task[None]:
        task = self._placing[channel] = asyncio.create_task(
            self._place(channel, stale=stale), name=f"ediary-gql: place {channel}"
        )

        def forget(done: asyncio.Task[None]) -> None:
            if self._placing.get(channel) is done:
                del self._placing[channel]

        task.add_done_callback(forget)
        return task

    async def _place(self, channel: str, *, stale: bool) -> None:
        """Subscribe ``channel`` on its owner, re-reading the slot map until that works."""
        delay = self._retry_min
        while channel in self._wanted and not self._closed:
            try:
                owner = await self._resolve(channel, fresh=stale)
                link = await self._link(owner)
                await link.backend.subscribe(channel)
            except (PubSubUnavailable, RedisError, OSError, TimeoutError) as exc:
                if isinstance(exc, MovedError) and not stale:  # the cached map was out of date
                    stale = True
                    continue
                stale = True
                log.info("event_bus_cluster_place_retry", channel=channel, error=str(exc), retry_in=delay)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not crypto
                delay = min(delay * 2, self._retry_max)
                continue
            if channel not in self._wanted or self._closed:  # unsubscribed meanwhile
                await link.backend.unsubscribe(channel)
                return
            if self._links.get(owner) is not link or not link.backend.ready:
                stale = True  # lost while we subscribed: its pump re-places only what was placed
                continue
            self._placed[channel] = link
            return

    async def _pump(self, link: _Link) -> None:
        """Forward the link's messages; on a loss or a moved channel, re-place what it held."""
        while True:
            event = await link.backend.next_published()
            if isinstance(event, ChannelMoved):
                if self._placed.get(event.channel) is link:
                    await self._lost(frozenset({event.channel}), "the channel's slot moved to another node")
                continue
            if isinstance(event, ConnectionLost):
                if self._links.get(link.address) is link:
                    del self._links[link.address]
                self._dying.discard(link)
                held = frozenset(channel for channel, placed in self._placed.items() if placed is link)
                log.warning(
                    "event_bus_cluster_link_lost", node=f"{link.address[0]}:{link.address[1]}", channels=len(held)
                )
                await self._lost(held, f"{link.address[0]}:{link.address[1]}: {event.message}")
                with contextlib.suppress(Exception):
                    await link.backend.disconnect()
                return
            await self._events.put(event)

    async def _lost(self, channels: frozenset[str], reason: str) -> None:
        """Mark ``channels`` unplaced, tell their subscribers (in order), place them again."""
        for channel in channels:
            self._placed.pop(channel, None)
        generation = self._generation
        self._generation += 1  # subscribers joining from here on hear of the next loss only
        if not channels:
            return
        # the marker goes first: whatever the new owner sends comes after it
        await self._events.put(ConnectionLost(generation, reason, channels))
        for channel in channels:
            if channel in self._wanted and channel not in self._placed and channel not in self._placing:
                self._start_placing(channel, stale=True)
