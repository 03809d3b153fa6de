"""A school day's traffic shape on a local multi-process set-up, at a base rate, then 2× and 4×.

    .venv/bin/python -m bench.simulate [--phase-seconds 40] [--multipliers 1 2 4] [--subscribers 200]

It starts, all of its own and on free ports: a PostgreSQL primary and one streaming
replica (tests/scaling/servers.py: initdb, pg_basebackup -R, as the postgres user when
run as root), a 3-master Redis Cluster (tests/cluster_support.py), and two API server
processes (`python -m uvicorn ediary_gql.app:create_app --factory`) with DATABASE_URL =
the primary, DATABASE_REPLICA_URLS = the replica, BROADCAST_URL = redis-cluster://….
The primary gets the app's schema and a `seed --scale` school (bench/diary.py's, with
bench/diary_world.py's additions) before the replica is copied from it.

Then, open-loop (requests are sent at their scheduled times whatever the answers do; a
latency counts from the scheduled time, so queueing shows), half to each server:

- parents' week diaries (`diary c` of bench/diary_reads.py), one of `--parents` parents each;
- a teacher's class journal (with attendance);
- markAttendance of a whole class (ABSENT, then PRESENT, … per lesson; one lesson per date);
- enterGrade for the class's children;

while `--subscribers` WebSocket subscribers per server (gradeEvents of the class's
children, and a share on attendanceSummary of the marked dates) listen. Each phase prints
offered and achieved req/s, p50/p95/p99 and errors per kind, the delivery latency from
a write's POST until a subscriber has its event, the servers' CPU, the primary's and the
replica's transactions, the event log's appends and the cluster's SPUBLISHes a second,
and whether the latency holds: p95 of each kind within `--hold-factor` × its base phase's
(and at least `--hold-floor-ms`), achieved ≥ 95 % of offered, no errors.

Everything it started is stopped at the end, also on an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from strawberry.relay import to_base64

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.diary import WEEK, _ensure_scale_school, _grade, _marks, _raise_nofile, _scene, _writes
from bench.diary_reads import READS
from bench.diary_world import furnish
from bench.streams import GRADES, SIGN_IN, SUMMARY, Backends, Server
from ediary_gql.context import AppServices
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import upgrade
from ediary_gql.db.models.children import Guardianship
from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import User
from ediary_gql.demo import DEMO_PASSWORD
from ediary_gql.events.bus import EventBus
from tests.cluster_support import OwnRedisCluster, cluster_unsupported, own_redis_cluster
from tests.scaling import servers as pg
from tests.scaling.servers import Cluster

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "ediary"
KINDS = ("diary", "journal", "markAttendance", "enterGrade")
console = Console(width=170)


# --- the client processes ----------------------------------------------------------------------


def _request(body: dict[str, Any], token: str) -> bytes:
    data = orjson.dumps(body)
    head = (
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _load_worker(spec: dict[str, Any]) -> None:
    """Child process: open-loop HTTP/1.1 keep-alive requests, one answer per connection at a time.

    PHASE {seconds, rates}: each kind's requests at exponential gaps of mean 1/rate, each to the
    next server in turn, on an idle connection of it (a new one if none is idle); prints the
    latencies (from the scheduled time), errors, and what the writes sent (for the events)."""
    _raise_nofile(8192)
    ports: list[int] = spec["ports"]
    idle: dict[int, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {p: [] for p in ports}
    requests: dict[str, list[bytes]] = {k: [_request(b, t) for b, t in v] for k, v in spec["requests"].items()}
    # markAttendance: lesson i alternates its two requests (ABSENT, PRESENT)
    marks: list[list[bytes]] = [[_request(b, t) for b, t in pair] for pair in spec["marks"]]
    mark_turn = [0] * len(marks)

    async def exchange(port: int, request: bytes) -> dict[str, Any]:
        reused = bool(idle[port])
        conn = idle[port].pop() if reused else await asyncio.open_connection("127.0.0.1", port)
        reader, writer = conn
        writer.write(request)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            if not reused:
                raise
            # the server closed it while idle (uvicorn's keep-alive timeout): once more on a new one
            conn = reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        answer: dict[str, Any] = orjson.loads(await reader.readexactly(length))
        idle[port].append(conn)
        refused = [v for v in (answer.get("data") or {}).values() if isinstance(v, dict) and v.get("userErrors")]
        if status != b"200" or "errors" in answer or refused:
            raise RuntimeError(f"{status.decode()}: {str(answer)[:300]}")
        return answer

    async def phase(seconds: float, rates: dict[str, float]) -> dict[str, Any]:
        latencies: dict[str, list[float]] = {k: [] for k in rates}
        errors: dict[str, int] = dict.fromkeys(rates, 0)
        offered: dict[str, int] = dict.fromkeys(rates, 0)
        first_error: dict[str, str] = {}
        grades: list[tuple[str, float, int]] = []  # (grade id, POST sent, body) for the events
        marked: list[tuple[int, str, float]] = []  # (lesson index, status, POST sent)
        inflight: set[asyncio.Task[None]] = set()
        turn = itertools.count()

        async def one(kind: str, scheduled: float, request: bytes, tag: tuple[int, str]) -> None:
            port = ports[next(turn) % len(ports)]
            sent = time.time()
            try:
                answer = await exchange(port, request)
            except Exception as exc:
                errors[kind] += 1
                first_error.setdefault(kind, f"{type(exc).__name__}: {exc}"[:300])
                return
            latencies[kind].append((time.perf_counter() - scheduled) * 1000)
            if kind == "enterGrade":
                grades.append((answer["data"]["enterGrade"]["grade"]["id"], sent, tag[0]))
            elif kind == "markAttendance":
                marked.append((tag[0], tag[1], sent))

        async def arrivals(kind: str, rate: float) -> None:
            if rate <= 0:
                return
            rng = random.Random(hash(kind))
            bodies = requests.get(kind, [b""])
            cycle = itertools.cycle(range(len(bodies)))
            lessons = itertools.cycle(range(len(marks)))
            start = time.perf_counter()
            due = start + rng.expovariate(rate)
            while due < start + seconds:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                if kind == "markAttendance":
                    lesson = next(lessons)
                    status_index = mark_turn[lesson] % 2
                    mark_turn[lesson] += 1
                    request, tag = marks[lesson][status_index], (lesson, ("ABSENT", "PRESENT")[status_index])
                else:
                    index = next(cycle)
                    request, tag = bodies[index], (index, "")
                offered[kind] += 1
                task = asyncio.create_task(one(kind, due, request, tag))
                inflight.add(task)
                task.add_done_callback(inflight.discard)
                due += rng.expovariate(rate)

        started = time.perf_counter()
        await asyncio.gather(*(arrivals(k, r) for k, r in rates.items()))
        if inflight:
            await asyncio.wait(list(inflight), timeout=60)
        elapsed = time.perf_counter() - started
        return {
            "seconds": seconds,  # what the offered rate is over
            "elapsed": elapsed,  # until the last answer: what the achieved rate is over
            "latencies": latencies,
            "errors": errors,
            "offered": offered,
            "first_error": first_error,
            "grades": grades,
            "marked": marked,
        }

    loop = asyncio.get_running_loop()
    print("HELLO", flush=True)
    while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        command, _, rest = line.partition(" ")
        if command != "PHASE":
            break
        payload = json.loads(rest)
        print(json.dumps(await phase(payload["seconds"], payload["rates"])), flush=True)
    for conns in idle.values():
        for _, writer in conns:
            writer.close()


async def _subscribers_worker(spec: dict[str, Any]) -> None:
    """Child process: the subscriptions of `spec["subs"]`, opened `ramp` at a time on OPEN.

    Every event after a subscription's first answer is kept as (key, value, arrival); DUMP
    prints those since the last DUMP; CLOSE closes the sockets."""
    import websockets

    _raise_nofile(len(spec["subs"]) + 1024)
    init = json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {spec['token']}"}})
    pong = json.dumps({"type": "pong"})
    heard: list[tuple[str, Any, float]] = []
    failed: list[str] = []
    opened = [0]
    conns: list[Any] = []
    ramp = asyncio.Semaphore(spec["ramp"])

    async def one(sub: dict[str, Any]) -> None:
        body = {"query": sub["query"], "variables": sub["variables"]}
        async with ramp:
            try:
                conn = await websockets.connect(
                    f"ws://127.0.0.1:{sub['port']}/graphql",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    open_timeout=120,
                    ping_interval=None,
                    compression=None,
                )
                conns.append(conn)
                await conn.send(init)
                while (message := orjson.loads(await conn.recv()))["type"] != "connection_ack":
                    if message["type"] != "ping":
                        raise RuntimeError(f"connection_init: {message}")
                await conn.send(json.dumps({"id": "1", "type": "subscribe", "payload": body}))
                if sub["first"]:
                    while (message := orjson.loads(await conn.recv()))["type"] != "next":
                        if message["type"] != "ping":
                            raise RuntimeError(f"subscribe: {message}")
            except Exception as exc:
                failed.append(f"{type(exc).__name__}: {exc}"[:300])
                return
        opened[0] += 1
        try:
            async for raw in conn:
                message = orjson.loads(raw)
                if message.get("type") == "next":
                    data = (message.get("payload") or {}).get("data") or {}
                    heard.append((sub["key"], data.get(sub["root"]), time.time()))
                elif message.get("type") == "ping":
                    await conn.send(pong)
                elif message.get("type") in ("error", "complete"):
                    failed.append(f"{message.get('type')}: {str(message.get('payload'))[:300]}")
                    return
        except websockets.ConnectionClosed:
            failed.append("closed")

    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    print("HELLO", flush=True)
    while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        if line == "OPEN":
            tasks = [asyncio.create_task(one(sub)) for sub in spec["subs"]]
            deadline = time.monotonic() + 60 + len(tasks) / 20
            while opened[0] + len(failed) < len(tasks) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            print(json.dumps({"opened": opened[0], "failed": failed[:3]}), flush=True)
        elif line == "DUMP":
            dumped, heard[:] = list(heard), []
            print(json.dumps({"heard": dumped, "failed": len(failed)}), flush=True)
        else:
            break
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)


class Child:
    """One of this script's client processes, spoken to by lines of JSON."""

    def __init__(self, role: str, spec: dict[str, Any]) -> None:
        self.role, self.spec = role, spec
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.simulate", f"--{self.role}-worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT,
            limit=256 * 1024 * 1024,
        )  # fmt: skip
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(self.spec).encode() + b"\n")
        if await self.line(60) != "HELLO":
            raise RuntimeError(f"the {self.role} worker did not start")

    async def line(self, within: float) -> str:
        assert self.proc is not None
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), within)
        if not line:
            raise RuntimeError(f"the {self.role} worker exited")
        return line.decode().strip()

    async def ask(self, command: str, within: float) -> dict[str, Any]:
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
        answer: dict[str, Any] = json.loads(await self.line(within))
        return answer

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"QUIT\n")
            await self.proc.stdin.drain()
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


# --- measuring -----------------------------------------------------------------------------------


def _q(values: list[float], p: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(sorted(values), n=100)[p - 1]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


@dataclass
class Counters:
    """The tiers' own counters, read before and after a phase."""

    primary_xacts: int
    replica_xacts: int
    events: int
    spublish: int
    cpu: list[float]  # the API processes'
    backends_cpu: list[float]  # the primary's, the replica's, the Redis nodes' (all six)
    at: float = field(default_factory=time.monotonic)


@dataclass
class Phase:
    name: str
    multiplier: float
    rates: dict[str, float]
    report: dict[str, Any]
    deliveries: dict[str, list[float]]
    expected: dict[str, int]
    before: Counters
    after: Counters
    held: dict[str, bool] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return float(self.report["seconds"])

    @property
    def elapsed(self) -> float:
        return float(self.report["elapsed"])

    def per_second(self, name: str) -> float:
        delta = getattr(self.after, name) - getattr(self.before, name)
        return float(delta) / (self.after.at - self.before.at)


async def _xacts(cluster: Cluster) -> int:
    sql = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
    return int(await asyncio.to_thread(cluster.psql, sql, DATABASE) or 0)


async def _spublish(redis: OwnRedisCluster) -> int:
    total = 0
    for port in redis.ports:
        client = redis.client(port)
        try:
            if (await client.info("replication")).get("role") != "master":
                continue
            stats = await client.info("commandstats")
            total += int((stats.get("cmdstat_spublish") or {}).get("calls", 0))
        finally:
            await client.aclose()
    return total


def _cpu_of(pid: int, *, children: bool = False) -> float:
    """User + system CPU seconds of a process (and of its children that ended, if `children`)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres_cpu(cluster: Cluster) -> float:
    """The postmaster's CPU, its ended backends' and its live backends'."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    total = _cpu_of(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                total += _cpu_of(int(stat.parent.name))
    return total


async def _counters(primary: Cluster, replica: Cluster, redis: OwnRedisCluster, apis: list[Server]) -> Counters:
    events = await asyncio.to_thread(primary.psql, "SELECT coalesce(max(id), 0) FROM event_log", DATABASE)
    return Counters(
        await _xacts(primary), await _xacts(replica), int(events or 0), await _spublish(redis),
        [s.cpu_seconds() for s in apis],
        [_postgres_cpu(primary), _postgres_cpu(replica), sum(_cpu_of(p.pid) for p in redis.procs.values())],
    )  # fmt: skip


def _deliveries(
    report: dict[str, Any], heard: list[list[Any]], mark_dates: list[str], subs_per_key: dict[str, int]
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Milliseconds from a write's POST until a subscriber had its event, per stream; and how
    many deliveries the writes called for. A grade event is matched by the grade's id; an
    attendance summary by its date and state (≥ a class of ABSENT marks: the last ABSENT round
    sent before it arrived, else the last PRESENT one)."""
    sent_grade = {gid: sent for gid, sent, _ in report["grades"]}
    by_date: dict[str, list[tuple[float, str]]] = {}
    for lesson, status, sent in report["marked"]:
        by_date.setdefault(mark_dates[lesson], []).append((sent, status))
    for sends in by_date.values():
        sends.sort()
    grades: list[float] = []
    summaries: list[float] = []
    for key, value, arrived in heard:
        if not isinstance(value, dict):
            continue
        if key.startswith("child:"):
            gid = (value.get("grade") or {}).get("id")
            if gid in sent_grade:
                grades.append((arrived - sent_grade[gid]) * 1000)
        else:
            date = key.split(":", 1)[1]
            status = "ABSENT" if (value.get("counts") or {}).get("absent", 0) >= 30 else "PRESENT"
            earlier = [s for s, st in by_date.get(date, []) if st == status and s <= arrived]
            if earlier:
                summaries.append((arrived - earlier[-1]) * 1000)
    children = report.get("grade_children", {})
    expected = {
        "gradeEvents": sum(subs_per_key.get(f"child:{c}", 0) * n for c, n in children.items()),
        "attendanceSummary": sum(
            subs_per_key.get(f"date:{mark_dates[lesson]}", 0) for lesson, _, _ in report["marked"]
        ),
    }
    return {"gradeEvents": grades, "attendanceSummary": summaries}, expected


# --- the set-up ------------------------------------------------------------------------------------


@dataclass
class World:
    """What the traffic is made of: who reads and writes what."""

    diaries: list[tuple[str, int]]  # (parent e-mail, child id)
    teacher_email: str
    journal_vars: dict[str, str]
    mark_lessons: list[tuple[int, str]]  # (lesson id, date): one per date
    children: list[int]
    class_id: int
    grade_bodies: list[dict[str, Any]]
    grade_child_of: list[int]


async def _world(url: str, parents: int) -> World:
    engine = create_engine(url, pool_size=3, max_overflow=2)
    bus = EventBus("memory://")
    services = cast("AppServices", Backends(create_session_factory(engine), bus))
    try:
        await _ensure_scale_school(services)
        scene = await _scene(services)
        await furnish(
            services.session_factory,
            class_id=scene.class_id,
            child_id=scene.child_id,
            parent_email=scene.parent_email,
            week=WEEK,
        )
        scene = await _scene(services)
        others = [c for c in scene.children if c != scene.child_id]
        writes = await _writes(services, scene, len(others))
        async with services.session_factory() as session:
            teacher_id = await session.scalar(select(User.id).where(User.email == scene.teacher_email))
            lessons = (
                await session.execute(
                    select(Lesson.id, Lesson.date)
                    .where(
                        Lesson.class_id == scene.class_id,
                        Lesson.teacher_id == teacher_id,
                        Lesson.status == LessonStatus.SCHEDULED,
                        Lesson.date < WEEK[0],
                    )
                    .order_by(Lesson.date.desc(), Lesson.id)
                )
            ).all()
            families = (
                await session.execute(
                    select(User.email, Guardianship.child_id)
                    .join(Guardianship, Guardianship.parent_id == User.id)
                    .where(User.email.like("parent%@%.scale.ediary.ru"), User.email != scene.parent_email)
                    .order_by(User.id)
                    .limit(parents - 1)
                )
            ).all()
    finally:
        await engine.dispose()
    by_date: dict[str, int] = {}
    for lesson_id, date in lessons:
        by_date.setdefault(date.isoformat(), int(lesson_id))
    mark_lessons = [(lid, d) for d, lid in list(by_date.items())[:8]]
    values = ("5", "4", "3", "5", "2")
    grade_bodies, grade_child_of = [], []
    for k, (child_id, lesson_id) in enumerate(writes.grade_targets):
        grade_bodies.append(_grade(child_id, lesson_id, values[k % len(values)], writes.control_type_id))
        grade_child_of.append(child_id)
    return World(
        diaries=[(scene.parent_email, scene.child_id), *((str(e), int(c)) for e, c in families)],
        teacher_email=scene.teacher_email,
        journal_vars={
            "c": to_base64("SchoolClass", scene.class_id),
            "s": to_base64("Subject", scene.subject_id),
            "p": to_base64("Period", scene.period_id),
        },
        mark_lessons=mark_lessons,
        children=scene.children,
        class_id=scene.class_id,
        grade_bodies=grade_bodies,
        grade_child_of=grade_child_of,
    )


def _api_env(primary: Cluster, replica: Cluster, redis: OwnRedisCluster, secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": primary.url(DATABASE),
        "DATABASE_REPLICA_URLS": replica.url(DATABASE),
        "BROADCAST_URL": redis.url,
        "BROADCAST_NAMESPACE": f"sim-{secrets.token_hex(4)}:",
        "SECRET_KEY": secret,
        "LOG_LEVEL": "WARNING",
        "DISPATCHER_ENABLED": "false",
        "REMINDERS_ENABLED": "false",
        "REPORTS_WORKER_ENABLED": "false",
        "WEBHOOKS_SENDER_ENABLED": "false",
        # many sockets and requests from one address and a few users: no per-address cap, no cost budget
        "WS_INIT_TIMEOUT_SECONDS": "60",
        "WS_MAX_UNAUTHENTICATED_PER_ADDRESS": "0",
        "QUERY_COST_BUDGET": "0",
        "PYTHONPATH": str(ROOT),
    }


async def _sign_in(http: httpx.AsyncClient, server: Server, login: str) -> str:
    answer = (
        await http.post(f"{server.url}/graphql", json={"query": SIGN_IN, "variables": {"l": login, "p": DEMO_PASSWORD}})
    ).json()
    return str(answer["data"]["signIn"]["accessToken"])


def _base_rates(args: argparse.Namespace) -> dict[str, float]:
    return {"diary": args.diary_rate, "journal": args.journal_rate, "markAttendance": args.mark_rate,
            "enterGrade": args.grade_rate}  # fmt: skip


async def _simulate(args: argparse.Namespace) -> None:
    why = cluster_unsupported()
    if why:
        raise SystemExit(why)
    pg.require_postgres_binaries()
    _raise_nofile(1 << 16)
    started = time.monotonic()
    phases: list[Phase] = []
    memory: list[float] = []
    children: list[Child] = []
    apis: list[Server] = []
    with pg.server_root() as root, pg.running() as clusters:
        console.print("[dim]PostgreSQL primary: initdb, schema, a scale school…")
        primary = pg.start_primary(root)
        clusters.append(primary)
        primary.set_option("log_statement = 'none'")  # the servers' own default is every statement
        primary.psql(f"CREATE DATABASE {DATABASE}")
        await asyncio.to_thread(upgrade, primary.url(DATABASE))
        world = await _world(primary.url(DATABASE), args.parents)
        primary.psql("CHECKPOINT")
        console.print("[dim]its streaming replica (pg_basebackup), a 3-master Redis Cluster, two API processes…")
        replica = await asyncio.to_thread(pg.start_replica, root, primary)
        clusters.append(replica)
        await asyncio.to_thread(pg.wait_replayed, primary, replica, 60)
        async with own_redis_cluster() as redis, httpx.AsyncClient(timeout=60) as http:
            env = _api_env(primary, replica, redis, secrets.token_urlsafe(32))
            try:
                apis = [Server(env, f"api {k + 1}") for k in range(2)]
                await asyncio.gather(*(s.start() for s in apis))
                setup_s = time.monotonic() - started
                console.print(f"[dim]set up in {setup_s:.0f} s; signing in…")
                teacher_writes = await _sign_in(http, apis[0], world.teacher_email)
                teacher_reads = await _sign_in(http, apis[1], world.teacher_email)  # a session of its own
                teacher_watches = await _sign_in(http, apis[0], world.teacher_email)
                diary_query = READS[2].query  # diary c: what every diary screen shows
                journal_query = READS[4].query
                diary_requests: list[tuple[dict[str, Any], str]] = []
                for email, child_id in world.diaries:
                    token = await _sign_in(http, apis[len(diary_requests) % 2], email)
                    variables = {"c": to_base64("Child", child_id), "from": WEEK[0].isoformat(),
                                 "to": WEEK[1].isoformat()}  # fmt: skip
                    diary_requests.append(({"query": diary_query, "variables": variables}, token))
                marks = [
                    [(_marks(lesson, world.children, s), teacher_writes) for s in ("ABSENT", "PRESENT")]
                    for lesson, _ in world.mark_lessons
                ]
                ports = [s.port for s in apis]
                load = Child(
                    "load",
                    {
                        "ports": ports,
                        "requests": {
                            "diary": diary_requests,
                            "journal": [({"query": journal_query, "variables": world.journal_vars}, teacher_reads)],
                            "enterGrade": [(b, teacher_writes) for b in world.grade_bodies],
                        },
                        "marks": marks,
                    },
                )
                children.append(load)
                subs, subs_per_key = _subscriptions(args, world, ports)
                watchers = Child("subscribers", {"token": teacher_watches, "subs": subs, "ramp": 32})
                children.append(watchers)
                await asyncio.gather(load.start(), watchers.start())
                rss_before = [s.rss_kb() for s in apis]
                console.print(f"[dim]{len(subs):,} subscribers…")
                opened = await watchers.ask("OPEN", 300)
                await asyncio.sleep(2)
                memory = [
                    (s.rss_kb() - b) / max(1, len(subs) // len(apis)) for s, b in zip(apis, rss_before, strict=True)
                ]
                if opened["failed"]:
                    console.print(f"[yellow]subscriptions failed: {opened['failed']}")
                base = _base_rates(args)
                mark_dates = [d for _, d in world.mark_lessons]
                if args.warmup_seconds > 0:
                    console.print(f"[dim]warm-up, {args.warmup_seconds:.0f} s at the base rate…")
                    await load.ask("PHASE " + json.dumps({"seconds": args.warmup_seconds, "rates": base}), 300)
                    await watchers.ask("DUMP", 60)
                for multiplier in args.multipliers:
                    name = "base" if multiplier == 1 else f"{multiplier:g}×"
                    rates = {k: r * multiplier for k, r in base.items()}
                    console.print(f"[dim]phase {name}: {args.phase_seconds:.0f} s at {_rates_text(rates)}…")
                    before = await _counters(primary, replica, redis, apis)
                    report = await load.ask("PHASE " + json.dumps({"seconds": args.phase_seconds, "rates": rates}),
                                            args.phase_seconds + 120)  # fmt: skip
                    await asyncio.sleep(args.settle_seconds)  # the last events on their way
                    after = await _counters(primary, replica, redis, apis)
                    heard = (await watchers.ask("DUMP", 60))["heard"]
                    report["grade_children"] = _grades_per_child(report, world)
                    deliveries, expected = _deliveries(report, heard, mark_dates, subs_per_key)
                    phases.append(Phase(name, multiplier, rates, report, deliveries, expected, before, after))
            finally:
                for child in children:
                    await child.stop()
                for server in apis:
                    await server.stop()
    if phases:
        _judge(phases, args)
        console.print(_table(phases, args, len(subs), memory))
        console.print(_tiers(phases, memory, time.monotonic() - started))


def _grades_per_child(report: dict[str, Any], world: World) -> dict[int, int]:
    """Grades entered per child."""
    counts: dict[int, int] = {}
    for _, _, index in report["grades"]:
        child = world.grade_child_of[index]
        counts[child] = counts.get(child, 0) + 1
    return counts


def _subscriptions(
    args: argparse.Namespace, world: World, ports: list[int]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """`--subscribers` per server: gradeEvents of the class's children in turn, and a share of
    attendanceSummary over the marked dates."""
    subs: list[dict[str, Any]] = []
    per_key: dict[str, int] = {}
    class_id = to_base64("SchoolClass", world.class_id)
    for port in ports:
        summaries = round(args.subscribers * args.summary_share)
        for k in range(args.subscribers):
            if k < summaries:
                date = world.mark_lessons[k % len(world.mark_lessons)][1]
                sub = {"key": f"date:{date}", "query": SUMMARY, "variables": {"c": class_id, "d": date},
                       "root": "attendanceSummary", "first": True}  # fmt: skip
            else:
                child = world.children[k % len(world.children)]
                sub = {"key": f"child:{child}", "query": GRADES, "variables": {"c": to_base64("Child", child)},
                       "root": "gradeEvents", "first": False}  # fmt: skip
            sub["port"] = port
            subs.append(sub)
            key = str(sub["key"])
            per_key[key] = per_key.get(key, 0) + 1
    return subs, per_key


def _rates_text(rates: dict[str, float]) -> str:
    return ", ".join(f"{k} {r:g}/s" for k, r in rates.items())


def _judge(phases: list[Phase], args: argparse.Namespace) -> None:
    base = phases[0]
    for phase in phases:
        for kind in (*KINDS, "gradeEvents", "attendanceSummary"):
            p95, base_p95 = _p95(phase, kind), _p95(base, kind)
            if p95 is None or base_p95 is None:
                continue
            bound = max(base_p95 * args.hold_factor, args.hold_floor_ms)
            ok = p95 <= bound
            if kind in KINDS:
                offered = phase.report["offered"][kind]
                done = len(phase.report["latencies"][kind])
                ok = ok and done >= 0.95 * offered and phase.report["errors"][kind] == 0
            phase.held[kind] = ok


def _p95(phase: Phase, kind: str) -> float | None:
    values = phase.report["latencies"].get(kind) if kind in KINDS else phase.deliveries.get(kind)
    return _q(values or [], 95)


def _table(phases: list[Phase], args: argparse.Namespace, subscribers: int, memory: list[float]) -> Table:
    table = Table(
        title=f"School-day simulation: 2 API processes, PostgreSQL primary + 1 streaming replica, Redis Cluster "
        f"(3 masters), {subscribers:,} WebSocket subscribers; {args.phase_seconds:.0f} s a phase",
        caption=f"holds: p95 ≤ max({args.hold_factor:g} × the base phase's p95, {args.hold_floor_ms:g} ms), "
        "achieved ≥ 95 % of offered, no errors. event → …: ms from the write's POST until a subscriber has its "
        "event; offered = the deliveries the writes called for.",
    )
    for column in ("phase", "kind", "offered/s", "achieved/s", "p50 ms", "p95 ms", "p99 ms", "errors", "holds"):
        table.add_column(column, justify="left" if column in ("phase", "kind") else "right")
    for phase in phases:
        s, e = phase.seconds, phase.elapsed
        for kind in KINDS:
            lat = phase.report["latencies"][kind]
            table.add_row(
                phase.name, kind, f"{phase.report['offered'][kind] / s:.1f}", f"{len(lat) / e:.1f}",
                _ms(_q(lat, 50)), _ms(_q(lat, 95)), _ms(_q(lat, 99)), str(phase.report["errors"][kind]),
                _held(phase, kind),
            )  # fmt: skip
        for stream, values in phase.deliveries.items():
            table.add_row(
                "", f"event → {stream}", f"{phase.expected[stream] / s:.1f}", f"{len(values) / e:.1f}",
                _ms(_q(values, 50)), _ms(_q(values, 95)), _ms(_q(values, 99)), "", _held(phase, stream),
                end_section=stream == "attendanceSummary",
            )  # fmt: skip
    return table


def _tiers(phases: list[Phase], memory: list[float], total_s: float) -> Table:
    table = Table(
        title="The tiers during each phase (a second, over the phase and its settling)",
        caption=f"Memory per subscriber (RSS growth while they opened): {' | '.join(f'{kb:.0f} KB' for kb in memory)} "
        f"on API 1 | 2. Whole run {total_s:.0f} s, set-up included.",
    )
    for column in ("phase", "API CPU, cores 1 | 2", "PG CPU, primary | replica", "Redis CPU", "primary xact/s",
                   "replica xact/s", "event log appends/s", "SPUBLISH/s", "first error"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("phase", "first error") else "right")
    for phase in phases:
        wall = phase.after.at - phase.before.at
        cpu = " | ".join(f"{(a - b) / wall:.2f}" for a, b in zip(phase.after.cpu, phase.before.cpu, strict=True))
        used = [(a - b) / wall for a, b in zip(phase.after.backends_cpu, phase.before.backends_cpu, strict=True)]
        errors = "; ".join(f"{k}: {m[:80]}" for k, m in phase.report["first_error"].items()) or "—"
        table.add_row(
            phase.name, cpu, f"{used[0]:.2f} | {used[1]:.2f}", f"{used[2]:.2f}",
            f"{phase.per_second('primary_xacts'):.0f}", f"{phase.per_second('replica_xacts'):.0f}",
            f"{phase.per_second('events'):.0f}", f"{phase.per_second('spublish'):.0f}", errors,
        )  # fmt: skip
    return table


def _held(phase: Phase, kind: str) -> str:
    if kind not in phase.held:
        return "—"
    return "yes" if phase.held[kind] else "NO"


def _run(coro: Coroutine[Any, Any, None]) -> None:
    run: Callable[[Coroutine[Any, Any, None]], None]
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    run(coro)


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] in ("--load-worker", "--subscribers-worker"):
        spec = json.loads(sys.stdin.readline())
        _run(_load_worker(spec) if sys.argv[1] == "--load-worker" else _subscribers_worker(spec))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase-seconds", type=float, default=40.0)
    parser.add_argument("--warmup-seconds", type=float, default=8.0, help="at the base rate, not reported")
    parser.add_argument("--settle-seconds", type=float, default=2.0, help="after a phase, for the last events")
    parser.add_argument("--multipliers", type=float, nargs="+", default=[1, 2, 4])
    parser.add_argument("--diary-rate", type=float, default=12.0, help="base parents' week diaries a second")
    parser.add_argument("--journal-rate", type=float, default=3.0, help="base class journals a second")
    parser.add_argument("--mark-rate", type=float, default=1.5, help="base markAttendance (a class of 30) a second")
    parser.add_argument("--grade-rate", type=float, default=3.0, help="base enterGrade a second")
    parser.add_argument("--subscribers", type=int, default=200, help="WebSocket subscribers per API process")
    parser.add_argument("--summary-share", type=float, default=0.1, help="of them on attendanceSummary")
    parser.add_argument("--parents", type=int, default=20, help="parents whose diaries are read")
    parser.add_argument("--hold-factor", type=float, default=2.0)
    parser.add_argument("--hold-floor-ms", type=float, default=50.0)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        asyncio.run(_simulate(args))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: everything the run started is stopped")
        sys.exit(130)


if __name__ == "__main__":
    main()
