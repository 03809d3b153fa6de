"""The event bus on a Redis Cluster (sharded pub/sub) beside one Redis: publishes a
second through one bus, and messages a second delivered to a second bus (another
process's connection) with their latency.

    .venv/bin/python -m bench.cluster_bus [--messages 20000] [--channels 300] [--concurrency 32]
    BENCH_REDIS_URL=redis://127.0.0.1:6379/0 …   # the single Redis to compare with (skipped if away)

It starts a 3-master, 3-replica cluster of its own on free ports (redis-server >= 7).
Numbers compare set-ups on one machine; every node here shares the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import time
import uuid
from contextlib import AsyncExitStack

from rich.console import Console
from rich.table import Table

from ediary_gql.events.bus import EventBus, Subscription
from tests.cluster_support import OwnRedisCluster, cluster_unsupported, own_redis_cluster


async def _drain(
    subscription: Subscription, sent_at: dict[str, float], latencies: list[float], total: int, done: asyncio.Event
) -> None:
    async for message in subscription:
        latencies.append(time.perf_counter() - sent_at[message])
        if len(latencies) >= total:
            done.set()


async def _run(url: str, *, messages: int, channels: int, concurrency: int) -> dict[str, float]:
    names = [f"bench.cluster.{uuid.uuid4().hex}.{n}" for n in range(channels)]
    publisher, subscriber = EventBus(url, queue_size=messages), EventBus(url, queue_size=messages)
    await publisher.connect()
    await subscriber.connect()
    try:
        async with AsyncExitStack() as stack:
            started = time.perf_counter()
            subscriptions = [await stack.enter_async_context(subscriber.subscribe(name)) for name in names]
            subscribe_s = time.perf_counter() - started
            sent_at: dict[str, float] = {}
            latencies: list[float] = []
            per_channel = messages // channels
            done = asyncio.Event()
            drains = [
                asyncio.create_task(_drain(s, sent_at, latencies, per_channel * channels, done)) for s in subscriptions
            ]
            queue = [(names[n % channels], f"{n}") for n in range(per_channel * channels)]

            async def worker(items: list[tuple[str, str]]) -> None:
                for channel, body in items:
                    sent_at[body] = time.perf_counter()
                    await publisher.publish(channel, body)

            started = time.perf_counter()
            await asyncio.gather(*(worker(queue[i::concurrency]) for i in range(concurrency)))
            publish_s = time.perf_counter() - started
            async with asyncio.timeout(60):
                await done.wait()
            delivered_s = time.perf_counter() - started
            for task in drains:
                task.cancel()
            latencies.sort()
            return {
                "subscribe/s": channels / subscribe_s,
                "publish/s": len(queue) / publish_s,
                "delivered/s": len(queue) / delivered_s,
                "p50 ms": statistics.median(latencies) * 1000,
                "p99 ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            }
    finally:
        await publisher.disconnect()
        await subscriber.disconnect()


async def _node_spublish_rate(cluster: OwnRedisCluster) -> str:
    """SPUBLISH/s one master takes from redis-benchmark, a shard subscriber listening."""
    benchmark = shutil.which("redis-benchmark")
    if benchmark is None:
        return ""
    channel = f"bench.cluster.node.{uuid.uuid4().hex}"
    owner = await cluster.owner(channel)
    listener = EventBus(cluster.url, queue_size=1)  # it overflows at once: only the server's work counts
    await listener.connect()
    try:
        async with listener.subscribe(channel):
            done = await asyncio.create_subprocess_exec(
                benchmark, "-p", str(owner), "-n", "200000", "-c", "50", "-P", "16", "-q", "SPUBLISH", channel, "x",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            output, _ = await done.communicate()
    finally:
        await listener.disconnect()
    found = re.search(rb"([\d.]+) requests per second", output)
    return f"{float(found.group(1)):,.0f}/s" if found else output.decode(errors="replace").strip()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    why = cluster_unsupported()
    if why:
        raise SystemExit(why)
    options = {"messages": args.messages, "channels": args.channels, "concurrency": args.concurrency}
    rows: list[tuple[str, dict[str, float]]] = []
    single = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        rows.append(("one Redis (PUBLISH/SUBSCRIBE)", await _run(single, **options)))
    except Exception as exc:
        Console().print(f"[yellow]single Redis skipped: {exc}[/]")
    node_rate = ""
    async with own_redis_cluster() as cluster:
        rows.append(("Redis Cluster, 3 masters (SPUBLISH/SSUBSCRIBE)", await _run(cluster.url, **options)))
        node_rate = await _node_spublish_rate(cluster)
    table = Table(
        title=f"event bus: {args.messages} messages over {args.channels} channels, {args.concurrency} publishers"
    )
    table.add_column("backend")
    for column in rows[0][1]:
        table.add_column(column, justify="right")
    for name, row in rows:
        table.add_row(name, *(f"{value:,.1f}" for value in row.values()))
    Console().print(table)
    if node_rate:
        Console().print(f"one master's own capacity (redis-benchmark SPUBLISH, 50 clients, pipeline 16): {node_rate}")


if __name__ == "__main__":
    asyncio.run(main())
