"""Drive the API over real HTTP and print a table of latency, throughput,
SQL statements per request and peak memory, per scenario.

    python bench/api.py [--requests N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import event

from ediary_gql.app import create_app
from ediary_gql.context import AppServices
from ediary_gql.db.migrate import upgrade
from ediary_gql.demo import DEMO_PASSWORD, seed_demo
from ediary_gql.settings import load_settings

console = Console()


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    seconds: float
    statements: int

    def row(self) -> list[str]:
        lat = sorted(self.latencies_ms)
        q = statistics.quantiles(lat, n=100) if len(lat) > 1 else lat * 99
        return [
            self.name,
            str(len(lat)),
            f"{q[49]:.1f}",
            f"{q[94]:.1f}",
            f"{q[98]:.1f}",
            f"{len(lat) / self.seconds:.0f}",
            f"{self.statements / len(lat):.1f}",
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _run(
    name: str, call: Callable[[], Awaitable[None]], *, requests: int, concurrency: int, counter: list[int]
) -> Result:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - started) * 1000)

    for _ in range(min(20, requests)):  # warm-up: caches, pools
        await call()
    counter[0] = 0
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, latencies, time.perf_counter() - started, counter[0])


async def main(requests: int, concurrency: int) -> None:
    # one user drives thousands of requests a second: no cost budget per viewer
    settings = load_settings(log_level="WARNING", query_cost_budget=0)
    await asyncio.to_thread(upgrade, settings.database_url)
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only this flag
        await asyncio.sleep(0.01)
    services: AppServices = app.state.services
    await seed_demo(services.session_factory)
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += 1

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        signed = await http.post(
            "/graphql",
            json={
                "query": "mutation($l: String!, $p: String!) { signIn(input: {login: $l, password: $p}) "
                "{ accessToken } }",
                "variables": {"l": "parent@demo.ediary.ru", "p": DEMO_PASSWORD},
            },
        )
        token = signed.json()["data"]["signIn"]["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}

        def query(text: str) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                response = await http.post("/graphql", json={"query": text}, headers=headers)
                body = response.json()
                assert "errors" not in body, body

            return call

        scenarios = {
            "me": query("{ me { id fullName email phone memberships { role } } }"),
            "notifications (20)": query(
                "{ notifications(first: 20) { totalCount edges { cursor node { id title body createdAt } } } }"
            ),
            "healthz": lambda: http.get("/healthz"),  # type: ignore[dict-item]
        }
        results = [
            await _run(name, call, requests=requests, concurrency=concurrency, counter=counter)
            for name, call in scenarios.items()
        ]

    server.should_exit = True
    await serving
    table = Table(
        title=f"ediary-gql API — {requests} requests × {len(results)} scenarios, concurrency {concurrency}, "
        f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'} + {settings.broadcast_url.split(':')[0]}"
    )
    for column in ("scenario", "requests", "p50 ms", "p95 ms", "p99 ms", "req/s", "SQL/req"):
        table.add_column(column, justify="right" if column != "scenario" else "left")
    for result in results:
        table.add_row(*result.row())
    console.print(table)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"peak memory of the process (server and client): {peak_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
