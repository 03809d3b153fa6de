"""Live events: subscription fan-out on one and on two server processes, and a resume.

    DATABASE_URL=postgresql+asyncpg://… BROADCAST_URL=redis://… python bench/streams.py

Scenarios, each on server processes of its own (`python -m uvicorn ediary_gql.app:create_app
--factory`, started fresh for every row so its memory is measured from a clean start):

* **one process** — N WebSocket subscribers (1,000, 5,000, 10,000 by default) of one class's
  `attendanceSummary(classId, date)` and, separately, of one child's `gradeEvents(childId)`,
  opened from client child processes (two for N ≥ 5,000) a ramp of handshakes at a time;
  then 5 changes (markAttendance with another status; enterGrade for the child), each
  measured from the mutation's POST to the moment each client has it: how many of N have
  it, p50/p99/max. Also the server's RSS per idle subscriber and the subscribe rate.
* **two processes** — the same on two server processes behind the same Redis (N total,
  2,000, 10,000, 20,000 by default), half the subscribers on each, the change sent to the first.
* **resume** — a client reads one grade event, notes its cursor and goes away; 1,000 grades
  are entered (service level, through the unit of work: the events land in the event log);
  it subscribes again `after` the cursor: the time until it has them all, and that it got
  exactly those 1,000, in order, none twice.

The scale school of bench/diary.py is reused (seeded if the database has none). The grades
go to a child other than the diary's and to a lesson of an earlier period, so the diary's
and the journal's reads stay as they were.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
import websockets
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import from_base64, to_base64

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.diary import MARK, Scene, _ensure_scale_school, _free_port, _raise_nofile, _scene
from ediary_gql.context import AppServices
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import upgrade
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.enums import LessonStatus, UserStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import User
from ediary_gql.demo import DEMO_PASSWORD
from ediary_gql.events import cursors
from ediary_gql.events.bus import EventBus
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import grades as grade_service
from ediary_gql.services import sessions as session_service
from ediary_gql.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
console = Console(width=170)
ENTER = """
mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { field code message } } }
"""
SIGN_IN = "mutation($l: String!, $p: String!) { signIn(input: {login: $l, password: $p}) { accessToken } }"
# the statuses a change alternates between: never what the marks are already (no change, no event)
STATUSES = ("EXCUSED", "SICK")
GRADE_VALUES = ("3", "4", "5")
SUMMARY = """subscription($c: ID!, $d: Date!) {
  attendanceSummary(classId: $c, date: $d) { cursor counts { present absent late excused sick unmarked } }
}"""
GRADES = "subscription($c: ID!) { gradeEvents(childId: $c) { cursor action grade { id value } } }"
GRADES_AFTER = """subscription($c: ID!, $after: String) {
  gradeEvents(childId: $c, after: $after) { cursor action grade { id value } }
}"""


@dataclass(frozen=True)
class Backends:
    """What this process needs of the server's services (bench/diary.py's helpers read the session factory)."""

    session_factory: async_sessionmaker[AsyncSession]
    bus: EventBus


@dataclass
class Stage:
    """The school's parts the scenarios act on."""

    scene: Scene
    teacher_id: int
    grade_child_id: int  # not the diary's child: its diary and the journal stay as they were
    grade_lesson_id: int  # a lesson of an earlier period: the journal reads the current one


@dataclass
class Change:
    """One change as the subscribers heard it."""

    number: int
    latencies_ms: list[float]  # from the mutation's POST, one per subscriber that has it
    commit_ms: float  # the mutation's own response time
    cpu_ms: float  # the servers' CPU time from the POST until every subscriber had it (or the wait ended)
    by_server: list[list[float]] = field(default_factory=list)

    def quantile(self, p: int, values: list[float] | None = None) -> float | None:
        lat = sorted(self.latencies_ms if values is None else values)
        if not lat:
            return None
        if p >= 100:
            return lat[-1]
        return statistics.quantiles(lat, n=100)[p - 1] if len(lat) > 1 else lat[0]


@dataclass
class Row:
    """One stream × N: the subscriptions' cost, then each change."""

    stream: str
    n: int
    subscribed: int
    subscribe_seconds: float | None
    kb_per_subscriber: float | None
    subscribe_cpu_ms: float | None  # the servers' CPU time per subscription while they opened
    changes: list[Change]
    note: str = ""

    def all_delivered(self) -> bool:
        return bool(self.changes) and all(len(c.latencies_ms) == self.n for c in self.changes)

    def worst_p99(self) -> float | None:
        values = [c.quantile(99) for c in self.changes]
        return max((v for v in values if v is not None), default=None)


def _ms(value: float | None) -> str:
    return f"{value:.0f}" if value is not None else "—"


# --- server processes -------------------------------------------------------------------------


class Server:
    """A uvicorn process of its own, as tests/support.server_process starts it."""

    def __init__(self, env: dict[str, str], name: str, profile: Path | None = None) -> None:
        self.env = env
        self.name = name
        self.profile = profile  # cProfile's output file, if the server runs under it
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process

    async def start(self) -> None:
        profiling = ["-m", "cProfile", "-o", str(self.profile)] if self.profile else []
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *profiling,
            "-m",
            "uvicorn",
            "ediary_gql.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--backlog",
            "8192",
            "--log-level",
            "warning",
            "--no-access-log",
            # as `ediary-gql serve` runs it by default (WS_COMPRESSION=false)
            "--ws-per-message-deflate",
            "false",
            env=self.env,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self.log,
        )
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(600):
                if self.proc.returncode is not None:
                    raise RuntimeError(f"{self.name} exited: {self.stderr_tail()}")
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start: {self.stderr_tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_kb(self) -> int:
        """VmRSS of the server process, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stderr_tail(self, size: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-size:]

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            # uvicorn re-raises the signal it stopped on: SIGINT is a KeyboardInterrupt, which
            # lets cProfile write its stats; SIGTERM would end the process before that
            self.proc.send_signal(signal.SIGINT if self.profile else signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.log.close()


async def _subscriber_count(http: httpx.AsyncClient, server: Server) -> int:
    """The server's live subscriptions (`subscribers` of /healthz)."""
    body = (await http.get(f"{server.url}/healthz")).json()
    count = body.get("subscribers")
    if not isinstance(count, int):
        raise RuntimeError(f"{server.name}'s /healthz gives no subscriber count: {body}")
    return count


def _server_env(settings: Settings, secret_key: str, namespace: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": settings.broadcast_url,
        "BROADCAST_NAMESPACE": namespace,
        "SECRET_KEY": secret_key,
        "LOG_LEVEL": "WARNING",
        "DISPATCHER_ENABLED": "false",
        "REMINDERS_ENABLED": "false",
        # thousands of sockets of one address and one user: no per-address cap, no cost budget
        "WS_INIT_TIMEOUT_SECONDS": "60",
        "WS_MAX_UNAUTHENTICATED_PER_ADDRESS": "0",
        "QUERY_COST_BUDGET": "0",
        "PYTHONPATH": str(ROOT),
    }


# --- the subscribers' client processes --------------------------------------------------------


class Workers:
    """Client child processes holding the subscribers, each for one server."""

    def __init__(self, specs: list[dict[str, Any]]) -> None:
        self.specs = specs
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        for spec in self.specs:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--subscribers-worker",
                json.dumps(spec),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=64 * 1024 * 1024,  # a change's report: one latency per subscriber
            )
            self.procs.append(proc)
        for proc in self.procs:
            if (await self._line(proc, 120)) != "HELLO":
                raise RuntimeError("a subscribers worker failed to start")

    @staticmethod
    async def _line(proc: asyncio.subprocess.Process, within: float) -> str:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), within)
        if not line:
            raise RuntimeError("a subscribers worker exited")
        return line.decode().strip()

    async def send(self, command: str, payload: dict[str, Any] | None = None) -> None:
        text = f"{command} {json.dumps(payload or {})}\n".encode()
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(text)
            await proc.stdin.drain()

    async def reports(self, within: float) -> list[dict[str, Any]]:
        """One line of each worker, within `within` seconds."""
        lines = await asyncio.gather(*(self._line(p, within) for p in self.procs))
        return [json.loads(line) for line in lines]

    async def close(self) -> list[dict[str, Any]]:
        reports: list[dict[str, Any]] = []
        try:
            await self.send("CLOSE")
            reports = await self.reports(120)
        except (RuntimeError, TimeoutError, BrokenPipeError, ConnectionResetError):
            pass
        for proc in self.procs:
            if proc.returncode is None:
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        return reports


@dataclass
class _Sub:
    conn: Any = None
    heard: list[tuple[float, Any]] = field(default_factory=list)  # (arrival, the root field's value)
    seen: int = 0  # heard[:seen] were matched to changes already
    ended: str | None = None


def _matches(value: Any, expect: dict[str, Any]) -> bool:
    if not isinstance(value, dict):
        return False
    if "status" in expect:
        counts = value.get("counts") or {}
        return bool(counts.get(expect["status"], 0) >= expect["at_least"])
    return bool((value.get("grade") or {}).get("id") == expect["gradeId"])


async def _subscribers_worker(spec: dict[str, Any]) -> None:
    """Child process: N subscriptions of one stream on one server; answers the parent's commands.

    OPEN: connect, init and subscribe a ramp at a time (an initial message, if the stream
    sends one, is awaited); reports how many are in. CHANGE {sent, expect, timeout}: waits
    until every subscriber has heard a message matching `expect`, reports the latencies
    from `sent`. CLOSE: closes every socket, reports what ended early, exits."""
    n: int = spec["n"]
    _raise_nofile(n + 512)
    subs = [_Sub() for _ in range(n)]
    errors: list[str] = []
    root = spec["field"]
    init = json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {spec['token']}"}})
    subscribe = json.dumps(
        {"id": "1", "type": "subscribe", "payload": {"query": spec["query"], "variables": spec["variables"]}}
    )
    pong = json.dumps({"type": "pong"})
    ramp = asyncio.Semaphore(spec["ramp"])
    opened = [0]

    async def listen(sub: _Sub) -> None:
        conn = sub.conn
        try:
            async for raw in conn:
                message = orjson.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message.get("payload") or {}
                    if payload.get("errors"):
                        sub.ended = f"error: {str(payload['errors'])[:300]}"
                        return
                    sub.heard.append((time.time(), (payload.get("data") or {}).get(root)))
                elif kind == "ping":
                    await conn.send(pong)
                elif kind in ("error", "complete"):
                    sub.ended = f"{kind}: {str(message.get('payload'))[:300]}"
                    return
        except websockets.ConnectionClosed as closed:
            sub.ended = f"closed: {closed.rcvd.code if closed.rcvd else 'no close frame'}"

    async def one(sub: _Sub) -> None:
        async with ramp:
            try:
                conn = await websockets.connect(
                    f"{spec['url']}/graphql",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    open_timeout=120,
                    ping_interval=None,  # as a browser: it answers pings, it sends none
                    max_queue=64,
                    compression="deflate" if spec["deflate"] else None,
                )
                sub.conn = conn
                await conn.send(init)
                while (message := orjson.loads(await conn.recv()))["type"] != "connection_ack":
                    if message["type"] != "ping":
                        raise RuntimeError(f"connection_init: {message}")
                await conn.send(subscribe)
                if spec["first"]:  # the state as it is now, before any change
                    while (message := orjson.loads(await conn.recv()))["type"] != "next":
                        if message["type"] != "ping":
                            raise RuntimeError(f"subscribe: {message}")
            except Exception as exc:
                sub.ended = f"subscribe failed: {type(exc).__name__}: {exc}"
                errors.append(sub.ended)
                return
        opened[0] += 1
        await listen(sub)

    loop = asyncio.get_running_loop()
    print("HELLO", flush=True)
    tasks: list[asyncio.Task[None]] = []
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line:
            break
        command, _, rest = line.partition(" ")
        payload = json.loads(rest or "{}")
        if command == "OPEN":
            started = time.perf_counter()
            tasks = [asyncio.create_task(one(sub)) for sub in subs]
            deadline = time.monotonic() + 60 + n / 10
            while opened[0] + len(errors) < n and time.monotonic() < deadline:  # noqa: ASYNC110 - counters
                await asyncio.sleep(0.02)
            report = {"opened": opened[0], "failed": len(errors), "seconds": time.perf_counter() - started}
            print(json.dumps({**report, "error": errors[0] if errors else None}), flush=True)
        elif command == "CHANGE":
            expect, sent = payload["expect"], payload["sent"]
            deadline = time.monotonic() + payload["timeout"]
            latencies: list[float] = []
            waiting = list(subs)
            while waiting:
                still: list[_Sub] = []
                for sub in waiting:
                    found = next(
                        (k for k in range(sub.seen, len(sub.heard)) if _matches(sub.heard[k][1], expect)), None
                    )
                    if found is None:
                        if sub.ended is None:
                            still.append(sub)
                        continue
                    latencies.append((sub.heard[found][0] - sent) * 1000)
                    sub.seen = found + 1
                waiting = still
                if not waiting or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.01)
            ended = [s.ended for s in subs if s.ended]
            print(json.dumps({"latencies": latencies, "ended": len(ended), "why": ended[:1]}), flush=True)
        elif command == "CLOSE":
            ended = [s.ended for s in subs if s.ended]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            closing = asyncio.Semaphore(500)
            await asyncio.gather(*(_close(s, closing) for s in subs if s.conn), return_exceptions=True)
            print(json.dumps({"ended": len(ended), "why": ended[:3]}), flush=True)
            break


async def _close(sub: _Sub, closing: asyncio.Semaphore) -> None:
    async with closing:
        await sub.conn.close()


# --- the scenarios ---------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, settings: Settings, services: Backends, stage: Stage) -> None:
        self.args = args
        self.settings = settings
        self.services = services
        self.stage = stage
        self.env = _server_env(settings, secrets.token_urlsafe(32), settings.broadcast_namespace)
        self.http = httpx.AsyncClient(timeout=120)
        self.changes_made = 0

    def profile(self, name: str) -> Path | None:
        """Where a server's profile goes (--profile DIR), if it runs under cProfile."""
        if self.args.profile is None:
            return None
        self.args.profile.mkdir(parents=True, exist_ok=True)
        return Path(self.args.profile) / f"{name}.prof"

    async def sign_in(self, server: Server) -> str:
        response = await self.http.post(
            f"{server.url}/graphql",
            json={"query": SIGN_IN, "variables": {"l": self.stage.scene.teacher_email, "p": DEMO_PASSWORD}},
        )
        return str(response.json()["data"]["signIn"]["accessToken"])

    def stream(self, name: str, *, after: str | None = None) -> tuple[str, dict[str, Any], str, bool]:
        """The subscription of a stream: its query, variables, root field, and whether it sends the state first."""
        scene = self.stage.scene
        if name == "attendanceSummary":
            variables = {"c": to_base64("SchoolClass", scene.class_id), "d": scene.lesson_date.isoformat()}
            return SUMMARY, variables, name, True
        variables = {"c": to_base64("Child", self.stage.grade_child_id)}
        if after is not None:
            variables["after"] = after
        return (GRADES if after is None else GRADES_AFTER), variables, name, False

    async def _attendance_now(self) -> str | None:
        """The one status all of the lesson's marks have, if they have one."""
        async with self.services.session_factory() as session:
            statuses = (
                await session.scalars(
                    select(Attendance.status).where(Attendance.lesson_id == self.stage.scene.lesson_id).distinct()
                )
            ).all()
        return statuses[0].value if len(statuses) == 1 else None

    async def change(self, server: Server, token: str, stream: str) -> tuple[float, float, dict[str, Any]]:
        """One change of the stream, sent to `server`: (POST sent, response arrived) as time.time(), what to expect."""
        scene = self.stage.scene
        headers = {"Authorization": f"Bearer {token}"}
        self.changes_made += 1
        if stream == "attendanceSummary":
            current = await self._attendance_now()
            status = STATUSES[self.changes_made % 2]
            if status == current:
                status = STATUSES[(self.changes_made + 1) % 2]
            marks = [{"childId": to_base64("Child", c), "status": status} for c in scene.children]
            body = {
                "query": MARK,
                "variables": {"i": {"lessonId": to_base64("Lesson", scene.lesson_id), "marks": marks}},
            }
            sent = time.time()
            response = await self.http.post(f"{server.url}/graphql", json=body, headers=headers)
            committed = time.time()
            answer = response.json()
            if answer.get("errors") or answer["data"]["markAttendance"]["userErrors"]:
                raise RuntimeError(f"markAttendance failed: {answer}")
            return sent, committed, {"status": status.lower(), "at_least": len(scene.children)}
        value = GRADE_VALUES[self.changes_made % len(GRADE_VALUES)]
        grade = {
            "childId": to_base64("Child", self.stage.grade_child_id),
            "lessonId": to_base64("Lesson", self.stage.grade_lesson_id),
            "value": value,
        }
        sent = time.time()
        response = await self.http.post(
            f"{server.url}/graphql", json={"query": ENTER, "variables": {"i": grade}}, headers=headers
        )
        committed = time.time()
        answer = response.json()
        if answer.get("errors") or answer["data"]["enterGrade"]["userErrors"]:
            raise RuntimeError(f"enterGrade failed: {answer}")
        return sent, committed, {"gradeId": answer["data"]["enterGrade"]["grade"]["id"]}

    async def warm_up(self, server: Server, token: str, stream: str) -> None:
        """One subscription opened and closed, one read: caches and pools as a running server has them."""
        query, variables, _, first = self.stream(stream)
        async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"]) as conn:  # type: ignore[list-item]
            await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            await _receive(conn, 10)
            await conn.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
            )
            if first:
                await _receive(conn, 10)
            for _ in range(200):
                if await _subscriber_count(self.http, server) >= 1:
                    break
                await asyncio.sleep(0.02)
        await self.http.post(
            f"{server.url}/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {token}"}
        )

    async def fan_out(self, stream: str, n: int, processes: int) -> Row:
        """N subscribers of `stream` over `processes` fresh servers; `args.changes` changes sent to the first."""
        servers = [Server(self.env, f"server {k + 1}", self.profile(f"{stream}-{n}-{k + 1}")) for k in range(processes)]
        workers: Workers | None = None
        try:
            await asyncio.gather(*(s.start() for s in servers))
            token = await self.sign_in(servers[0])
            for server in servers:
                await self.warm_up(server, token, stream)
            for _ in range(100):  # the warm-up's subscription gone
                if [await _subscriber_count(self.http, s) for s in servers] == [0] * len(servers):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            rss_before = [s.rss_kb() for s in servers]
            shares = [n // processes + (1 if k < n % processes else 0) for k in range(processes)]
            query, variables, root, first = self.stream(stream)
            specs: list[dict[str, Any]] = []
            for server, share in zip(servers, shares, strict=True):
                parts = 1 if processes > 1 or share < 5000 else 2
                per = [share // parts + (1 if k < share % parts else 0) for k in range(parts)]
                ramp = max(1, self.args.ramp // (parts * processes))
                for count in per:
                    specs.append(
                        {
                            "url": server.ws_url,
                            "token": token,
                            "n": count,
                            "query": query,
                            "variables": variables,
                            "field": root,
                            "first": first,
                            "ramp": ramp,
                            "deflate": self.args.deflate,
                            "server": servers.index(server),
                        }
                    )
            workers = Workers(specs)
            await workers.start()
            cpu = sum(s.cpu_seconds() for s in servers)
            opened_at = time.perf_counter()
            await workers.send("OPEN")
            opening = asyncio.create_task(workers.reports(60 + n / 5))
            # all in once each server counts its share (its /healthz); the workers report what failed
            settle: float | None = None
            while True:
                live = [await _subscriber_count(self.http, s) for s in servers]
                if all(c >= share for c, share in zip(live, shares, strict=True)):
                    break
                if opening.done():  # the workers are done: what is still on its way gets a moment
                    settle = settle or time.monotonic() + 10
                    if time.monotonic() > settle:
                        break
                await asyncio.sleep(0.1)
            in_at = time.perf_counter()
            subscribed = sum(live)
            opened = await opening
            note = next((r["error"] for r in opened if r["error"]), "") or ""
            cpu = sum(s.cpu_seconds() for s in servers) - cpu
            await asyncio.sleep(1.0)  # idle
            rss_after = [s.rss_kb() for s in servers]
            kb = sum(a - b for a, b in zip(rss_after, rss_before, strict=True)) / subscribed if subscribed else None
            changes: list[Change] = []
            for number in range(1, self.args.changes + 1):
                change_cpu = sum(s.cpu_seconds() for s in servers)
                sent, committed, expect = await self.change(servers[0], token, stream)
                await workers.send("CHANGE", {"sent": sent, "expect": expect, "timeout": self.args.deliver_timeout})
                reports = await workers.reports(self.args.deliver_timeout + 60)
                by_server: list[list[float]] = [[] for _ in servers]
                for spec, report in zip(specs, reports, strict=True):
                    by_server[spec["server"]] += report["latencies"]
                    if report["ended"] and not note:
                        note = f"{report['ended']} ended: {report['why'][0]}"
                change_cpu = sum(s.cpu_seconds() for s in servers) - change_cpu
                latencies = [v for values in by_server for v in values]
                changes.append(Change(number, latencies, (committed - sent) * 1000, change_cpu * 1000, by_server))
                await asyncio.sleep(0.3)
            return Row(
                stream,
                n,
                subscribed,
                in_at - opened_at,
                kb,
                cpu * 1000 / subscribed if subscribed else None,
                changes,
                note=note,
            )
        except Exception as exc:  # report and go on: the other rows are still worth having
            tails = " | ".join(s.stderr_tail(400) for s in servers if s.proc is not None)
            console.print(f"[yellow]{stream} × {n:,} on {processes}: {type(exc).__name__}: {exc} {tails}")
            return Row(stream, n, 0, None, None, None, [], note=f"{type(exc).__name__}: {exc}")
        finally:
            if workers is not None:
                await workers.close()
            for server in servers:
                tail = server.stderr_tail(1500).strip()
                if tail and self.args.verbose:
                    console.print(f"[dim]{server.name} said: {tail}")
                await server.stop()

    async def bulk_grades(self, count: int) -> list[int]:
        """`count` grades for the child through the unit of work (so their events are logged), in order."""
        stage = self.stage
        async with self.services.session_factory() as session:
            actor = await session_service.load_actor(
                session, user_id=stage.teacher_id, session_id=None, status=UserStatus.CONFIRMED, is_operator=False
            )
        ids: list[int] = []
        async with unit_of_work(self.services.session_factory, self.services.bus) as session:
            for k in range(count):
                data = grade_service.GradeData(
                    child_id=stage.grade_child_id,
                    value=GRADE_VALUES[k % len(GRADE_VALUES)],
                    lesson_id=stage.grade_lesson_id,
                )
                ids.append((await grade_service.enter_grade(session, actor=actor, data=data)).id)
        return ids

    async def resume(self, count: int) -> dict[str, Any]:
        """Read one event, note its cursor, go; `count` grades entered; back `after` the cursor."""
        server = Server(self.env, "server", self.profile("resume"))
        result: dict[str, Any] = {"events": count}
        try:
            await server.start()
            token = await self.sign_in(server)
            query, variables, _, _ = self.stream("gradeEvents")
            url = f"{server.ws_url}/graphql"
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as conn:  # type: ignore[list-item]
                await _start(conn, token, query, variables)
                for _ in range(100):
                    if await _subscriber_count(self.http, server) >= 1:
                        break
                    await asyncio.sleep(0.05)
                await self.change(server, token, "gradeEvents")
                message = await _receive(conn, 10)
                cursor = message["payload"]["data"]["gradeEvents"]["cursor"]
            started = time.perf_counter()
            ids = await self.bulk_grades(count)
            result["bulk_seconds"] = time.perf_counter() - started
            query, variables, _, _ = self.stream("gradeEvents", after=cursor)
            got: list[tuple[int, str]] = []
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as conn:  # type: ignore[list-item]
                started = time.perf_counter()
                await _start(conn, token, query, variables)
                try:
                    while len(got) < count:
                        message = await _receive(conn, 30)
                        if message["type"] != "next" or message["payload"].get("errors"):
                            result["note"] = str(message)[:300]
                            break
                        event = message["payload"]["data"]["gradeEvents"]
                        got.append((int(_db_id(event["grade"]["id"])), event["cursor"]))
                    result["seconds"] = time.perf_counter() - started
                    try:  # nothing more: exactly those
                        extra = await _receive(conn, 1.0)
                        result["extra"] = str(extra)[:200]
                    except TimeoutError:
                        pass
                except TimeoutError:
                    result["note"] = f"timed out after {len(got)}"
            positions = [cursors.decode(c) for _, c in got]
            result |= {
                "received": len(got),
                "in_order": [g for g, _ in got] == ids[: len(got)]
                and all(a < b for a, b in itertools.pairwise(positions)),
                "duplicates": len(got) - len({g for g, _ in got}),
            }
            return result
        except Exception as exc:
            console.print(f"[yellow]resume: {type(exc).__name__}: {exc} {server.stderr_tail(600)}")
            return {**result, "note": f"{type(exc).__name__}: {exc}"}
        finally:
            await server.stop()


def _db_id(global_id: str) -> str:
    return from_base64(global_id)[1]


async def _receive(conn: Any, within: float) -> dict[str, Any]:
    """The next message but pings (answered)."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(conn.recv(), within))
        if message["type"] == "ping":
            await conn.send(json.dumps({"type": "pong"}))
            continue
        return message


async def _start(conn: Any, token: str, query: str, variables: dict[str, Any]) -> None:
    await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    ack = await _receive(conn, 10)
    assert ack["type"] == "connection_ack", ack
    await conn.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))


async def _stage(services: Backends) -> Stage:
    scene = await _scene(cast("AppServices", services))
    async with services.session_factory() as session:
        teacher_id = await session.scalar(select(User.id).where(User.email == scene.teacher_email))
        lesson_id = await session.scalar(
            select(Lesson.id)
            .where(
                Lesson.class_id == scene.class_id,
                Lesson.subject_id == scene.subject_id,
                Lesson.teacher_id == teacher_id,
                Lesson.date < scene.period[0],
                Lesson.status == LessonStatus.SCHEDULED,
            )
            .order_by(Lesson.date.desc())
            .limit(1)
        )
    others = sorted(c for c in scene.children if c != scene.child_id)
    assert teacher_id is not None, "no teacher"
    assert lesson_id is not None, "no lesson of the class × subject before the current period"
    assert others, "no second child in the class"
    return Stage(scene, int(teacher_id), others[-1], int(lesson_id))


# --- the tables --------------------------------------------------------------------------------


def _fan_table(title: str, rows: list[Row], *, two: bool) -> Table:
    table = Table(title=title)
    columns = ["stream", "subscribers", "change", "delivered", "p50 ms", "p99 ms", "max ms", "commit ms", "CPU ms"]
    if two:
        columns.append("p99 ms 1 | 2")
    columns += ["KB/idle sub", "subscribed/s", "CPU ms/sub"]
    for column in columns:
        table.add_column(column, justify="left" if column == "stream" else "right")
    for row in rows:
        rate = f"{row.subscribed / row.subscribe_seconds:.0f}" if row.subscribe_seconds else "—"
        kb = f"{row.kb_per_subscriber:.1f}" if row.kb_per_subscriber is not None else "—"
        sub_cpu = f"{row.subscribe_cpu_ms:.1f}" if row.subscribe_cpu_ms is not None else "—"
        if not row.changes:
            cells = [row.stream, f"{row.n:,}", "—", f"{row.subscribed:,} in", "—", "—", "—", "—", "—"]
            table.add_row(*cells, *(["—"] if two else []), kb, rate, sub_cpu, end_section=True)
            continue
        for k, change in enumerate(row.changes):
            cells = [
                row.stream if k == 0 else "",
                f"{row.n:,}" if k == 0 else "",
                str(change.number),
                f"{len(change.latencies_ms):,}",
                _ms(change.quantile(50)),
                _ms(change.quantile(99)),
                _ms(change.quantile(100)),
                _ms(change.commit_ms),
                _ms(change.cpu_ms),
            ]
            if two:
                cells.append(" | ".join(_ms(change.quantile(99, values)) for values in change.by_server))
            cells += [kb if k == 0 else "", rate if k == 0 else "", sub_cpu if k == 0 else ""]
            table.add_row(*cells, end_section=k == len(row.changes) - 1)
    return table


def _verdict(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "NOT met")


def _targets(one: list[Row], two: list[Row]) -> list[str]:
    lines: list[str] = []
    for row in (r for r in one if r.n == 10_000):
        p99 = row.worst_p99()
        kb = row.kb_per_subscriber
        lines += [
            f"one process, {row.stream} × 10,000: every event delivered — {_verdict(row.all_delivered())}; "
            f"p99 < 500 ms (worst {_ms(p99)}) — {_verdict(p99 is not None and p99 < 500)}; "
            f"< 30 KB per idle subscriber ({kb:.1f}) — {_verdict(kb < 30)}"
            if kb is not None
            else f"one process, {row.stream} × 10,000: not measured ({row.note})"
        ]
    for row in (r for r in two if r.n == 20_000):
        p99 = row.worst_p99()
        lines.append(
            f"two processes, {row.stream} × 20,000: every event delivered — {_verdict(row.all_delivered())}; "
            f"p99 < 500 ms (worst {_ms(p99)}) — {_verdict(p99 is not None and p99 < 500)}"
        )
    return lines


async def main(args: argparse.Namespace) -> None:
    _raise_nofile(1 << 20)  # the servers inherit it: the hard limit
    settings = load_settings(
        log_level="WARNING",
        dispatcher_enabled=False,
        broadcast_namespace=f"bench-streams-{os.getpid()}:",  # no other process's events wake ours
    )
    if settings.is_sqlite or settings.broadcast_url.startswith("memory"):
        console.print("[yellow]Set DATABASE_URL (PostgreSQL) and BROADCAST_URL (Redis): two processes need both")
        if "two" in args.scenarios:
            args.scenarios = [s for s in args.scenarios if s != "two"]
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings.database_url, pool_size=5, max_overflow=5)
    bus = EventBus(settings.broadcast_url, namespace=settings.broadcast_namespace)
    await bus.connect()
    services = Backends(create_session_factory(engine), bus)
    try:
        await _ensure_scale_school(cast("AppServices", services))
        stage = await _stage(services)
        bench = Bench(args, settings, services, stage)
        one: list[Row] = []
        two: list[Row] = []
        resumed: dict[str, Any] | None = None
        for stream in args.streams:
            if "one" in args.scenarios:
                for n in args.subscribers:
                    console.print(f"[dim]one process: {stream} × {n:,}…")
                    one.append(await bench.fan_out(stream, n, 1))
        for stream in args.streams:
            if "two" in args.scenarios:
                for n in args.two_process_subscribers:
                    console.print(f"[dim]two processes: {stream} × {n:,}…")
                    two.append(await bench.fan_out(stream, n, 2))
        if "resume" in args.scenarios:
            console.print(f"[dim]resume after {args.resume_events:,} grades…")
            resumed = await bench.resume(args.resume_events)
        await bench.http.aclose()
    finally:
        await bus.disconnect()
        await engine.dispose()

    backend = f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'} + {settings.broadcast_url.split(':')[0]}"
    compression = "clients offer permessage-deflate" if args.deflate else "no compression"
    timing = "ms from the mutation's POST until the client has the event"
    if one:
        title = f"Live events on one process — {backend}, {compression}, {timing}"
        console.print(_fan_table(title, one, two=False))
    if two:
        title = f"Live events on two processes (half the subscribers on each, changes sent to 1) — {timing}"
        console.print(_fan_table(title, two, two=True))
    notes = [f"{r.stream} × {r.n:,} on {'two' if r in two else 'one'}: {r.note}" for r in one + two if r.note]
    for note in notes:
        console.print(f"[yellow]{note}")
    if resumed is not None:
        table = Table(title="Resume: gradeEvents(after: cursor) once N grades were entered while away")
        for column in ("events entered", "entry s", "received", "in order", "duplicates", "ms until all", "events/s"):
            table.add_column(column, justify="right")
        seconds = resumed.get("seconds")
        table.add_row(
            f"{resumed['events']:,}",
            f"{resumed['bulk_seconds']:.1f}" if "bulk_seconds" in resumed else "—",
            f"{resumed.get('received', 0):,}",
            {True: "yes", False: "NO"}.get(resumed.get("in_order"), "—"),  # type: ignore[arg-type]
            str(resumed.get("duplicates", "—")),
            _ms(seconds * 1000 if seconds else None),
            f"{resumed.get('received', 0) / seconds:.0f}" if seconds else "—",
        )
        console.print(table)
        for key in ("note", "extra"):
            if key in resumed:
                console.print(f"[yellow]resume {key}: {resumed[key]}")
    console.print("Targets: 10,000 subscribers on one process with every event delivered, p99 below 500 ms and")
    console.print("below 30 KB per idle subscriber; two processes hold 20,000 at the same latency.")
    for line in _targets(one, two):
        console.print(f"  {line}")


def _run(coro: Coroutine[Any, Any, None]) -> None:
    run: Callable[[Coroutine[Any, Any, None]], None]
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    run(coro)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--subscribers-worker":
        _run(_subscribers_worker(json.loads(sys.argv[2])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, nargs="*", default=[1000, 5000, 10000])
    parser.add_argument("--two-process-subscribers", type=int, nargs="*", default=[2000, 10000, 20000])
    parser.add_argument("--streams", nargs="*", default=["attendanceSummary", "gradeEvents"])
    parser.add_argument("--scenarios", nargs="*", default=["one", "two", "resume"], help="one two resume")
    parser.add_argument("--changes", type=int, default=5, help="changes per stream × N")
    parser.add_argument("--ramp", type=int, default=64, help="WebSocket handshakes in flight, over all workers")
    parser.add_argument("--resume-events", type=int, default=1000)
    parser.add_argument("--deliver-timeout", type=float, default=60.0, help="seconds to wait for each change")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false", help="offer no permessage-deflate")
    parser.add_argument("--verbose", action="store_true", help="print what the servers logged")
    parser.add_argument(
        "--profile", type=Path, default=None, metavar="DIR", help="run each server under cProfile, its stats in DIR"
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _run(main(parser.parse_args()))
