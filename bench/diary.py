"""Diary benchmarks on a `seed --scale` school, printed as a table.

    DATABASE_URL=postgresql+asyncpg://… BROADCAST_URL=redis://… python bench/diary.py

Scenarios: a parent's 1-week diary in four selections (bench/diary_reads.py), a
teacher's class journal with and without attendance, markAttendance for a class of
30 and enterGrade (concurrent teachers, each at a lesson of their own), and a
fan-out: N WebSocket subscribers (100, 1,000, 5,000 by default) watch
attendanceSummary while one markAttendance lands — the time until the last
subscriber has it. Each read row has its *limit* measured in the same run: the same
rows fetched by raw SQL through asyncpg, PostgreSQL building the JSON, and the ratio
of our throughput to it, against the row's target.

The scale school is reused if the database has one (`seed_scale(schools=1)`
otherwise, ~20 s on PostgreSQL), with what bench/diary_world.py adds to it once.
Subscribers run in a child process (loopback only), so one process does not have to
hold both ends of 5,000 sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import event, select
from strawberry.relay import to_base64

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.diary_reads import READS
from bench.diary_world import furnish
from ediary_gql.app import create_app
from ediary_gql.context import AppServices
from ediary_gql.db.migrate import upgrade
from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.grades import ControlType
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import User
from ediary_gql.demo import DEMO_PASSWORD, seed_scale
from ediary_gql.events import channels
from ediary_gql.settings import Settings, load_settings

console = Console(width=170)
TODAY = dt.date(2026, 11, 27)  # "today" of the scale data
WEEK = (dt.date(2026, 11, 23), dt.date(2026, 11, 29))

MARK = """
mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { field code message } } }
"""
GRADE = """
mutation($i: EnterGradeInput!) {
  enterGrade(input: $i) { grade { id value weight } userErrors { field code message } }
}"""
SUMMARY = """subscription($c: ID!, $d: Date!) {
  attendanceSummary(classId: $c, date: $d) { counts { present absent late excused sick unmarked } }
}"""


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    seconds: float
    statements: int
    limit_rps: float | None = None
    cpu_seconds: float | None = None  # the server process's CPU time over the run
    target: float | None = None  # the share of the limit to reach
    target_text: str = "—"
    other_size: str = "—"  # SQL statements per request of the row at another size of result

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def met(self) -> str:
        if self.target is None:
            return "—"
        if not self.limit_rps:
            return "n/a"
        return "yes" if self.rps >= self.target * self.limit_rps else "no"

    def row(self) -> list[str]:
        lat = sorted(self.latencies_ms)
        q = statistics.quantiles(lat, n=100) if len(lat) > 1 else lat * 99
        unmeasured = "n/a" if self.target is not None else "—"
        return [
            self.name,
            str(len(lat)),
            f"{q[49]:.1f}",
            f"{q[94]:.1f}",
            f"{q[98]:.1f}",
            f"{self.rps:.0f}",
            f"{self.statements / len(lat):.1f}",
            self.other_size,
            f"{self.cpu_seconds * 1000 / len(lat):.2f}" if self.cpu_seconds is not None else "—",
            f"{self.limit_rps:.0f}" if self.limit_rps else unmeasured,
            f"{self.rps / self.limit_rps:.2f}" if self.limit_rps else unmeasured,
            self.target_text,
            self.met(),
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Body = dict[str, Any]  # {"query": …, "variables": …}


async def _load(
    name: str,
    bodies: list[list[Body]],
    token: str,
    *,
    port: int,
    requests: int,
    concurrency: int,
    counter: list[int],
) -> Result:
    """Requests driven from a child process, so the client's work is not the server's.

    Concurrent user i sends the bodies of `bodies[i % len(bodies)]` in turn."""
    spec = {"port": port, "bodies": bodies, "token": token, "requests": requests, "concurrency": concurrency}
    worker = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--load-worker", json.dumps(spec), stdout=subprocess.PIPE, stdin=subprocess.PIPE
    )
    assert worker.stdout is not None
    assert worker.stdin is not None
    if not (await worker.stdout.readline()).startswith(b"WARM"):  # warmed up: the count starts now
        raise RuntimeError(f"{name}: the load worker failed")
    counter[0] = 0
    cpu = time.process_time()
    worker.stdin.write(b"GO\n")
    await worker.stdin.drain()
    out, _ = await worker.communicate()
    cpu = time.process_time() - cpu
    lines = out.decode().strip().splitlines()
    if worker.returncode or not lines:
        raise RuntimeError(f"{name}: the load worker failed")
    report = json.loads(lines[-1])
    return Result(name, report["latencies"], report["seconds"], counter[0], cpu_seconds=cpu)


async def _load_worker(spec: dict[str, Any]) -> None:
    """Child process: a minimal HTTP/1.1 keep-alive client, one connection per concurrent user.

    Each user sends its pre-encoded requests again and again and checks each answer has no
    errors and no userErrors (parsed by orjson): far less work per request than a general
    client, so the server is measured, not the client, which shares the machine with it."""

    def encoded(body: Body) -> bytes:
        data = json.dumps(body).encode()
        return (
            f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {spec['token']}\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode() + data

    per_user = [[encoded(b) for b in bodies] for bodies in spec["bodies"]]
    remaining = [spec["requests"]]
    latencies: list[float] = []

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        answer = orjson.loads(await reader.readexactly(length))
        refused = [v for v in (answer.get("data") or {}).values() if isinstance(v, dict) and v.get("userErrors")]
        if status != b"200" or "errors" in answer or refused:
            raise RuntimeError(f"{status.decode()}: {str(answer)[:500]}")

    async def user(k: int, measured: bool) -> None:
        requests = itertools.cycle(per_user[k % len(per_user)])
        reader, writer = await asyncio.open_connection("127.0.0.1", spec["port"])
        try:
            if not measured:
                for _ in range(10):
                    await exchange(reader, writer, next(requests))
                return
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                await exchange(reader, writer, next(requests))
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(user(k, False) for k in range(spec["concurrency"])))
    print("WARM", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    started = time.perf_counter()
    await asyncio.gather(*(user(k, True) for k in range(spec["concurrency"])))
    seconds = time.perf_counter() - started
    print(json.dumps({"latencies": latencies, "seconds": seconds}), flush=True)


@dataclass
class Scene:
    parent_email: str
    child_id: int
    class_id: int
    school_id: int
    teacher_email: str
    subject_id: int
    period_id: int
    period: tuple[dt.date, dt.date]
    lesson_id: int
    lesson_date: dt.date
    children: list[int]


async def _scene(services: AppServices) -> Scene:
    """A parent and child, the child's class, a teacher of it with a subject, the current period."""
    async with services.session_factory() as session:
        row = (
            await session.execute(
                select(User.email, Guardianship.child_id, Enrollment.class_id, SchoolClass.school_id)
                .join(Guardianship, Guardianship.parent_id == User.id)
                .join(Enrollment, Enrollment.child_id == Guardianship.child_id)
                .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
                .where(User.email.like("parent%@%.scale.ediary.ru"), SchoolClass.level == 7)
                .order_by(User.id)
                .limit(1)
            )
        ).one()
        email, child_id, class_id, school_id = row
        teacher_email, subject_id = (
            await session.execute(
                select(User.email, TeachingAssignment.subject_id)
                .join(TeachingAssignment, TeachingAssignment.teacher_id == User.id)
                .where(TeachingAssignment.class_id == class_id)
                .order_by(TeachingAssignment.id)
                .limit(1)
            )
        ).one()
        year_id = await session.scalar(select(SchoolClass.academic_year_id).where(SchoolClass.id == class_id))
        period = (
            await session.execute(
                select(Period.id, Period.starts_on, Period.ends_on).where(
                    Period.academic_year_id == year_id, Period.starts_on <= TODAY, Period.ends_on >= TODAY
                )
            )
        ).one()
        lesson_id, lesson_date = (
            await session.execute(
                select(Lesson.id, Lesson.date)
                .where(Lesson.class_id == class_id, Lesson.subject_id == subject_id, Lesson.date <= TODAY)
                .order_by(Lesson.date.desc())
                .limit(1)
            )
        ).one()
        children = list(
            (
                await session.scalars(
                    select(Child.id)
                    .join(Enrollment, Enrollment.child_id == Child.id)
                    .where(Enrollment.class_id == class_id)
                    .order_by(Child.id)
                )
            ).all()
        )
    return Scene(
        str(email),
        int(child_id),
        int(class_id),
        int(school_id),
        str(teacher_email),
        int(subject_id),
        int(period[0]),
        (period[1], period[2]),
        int(lesson_id),
        lesson_date,
        [int(c) for c in children],
    )


async def _ensure_scale_school(services: AppServices) -> None:
    async with services.session_factory() as session:
        found = await session.scalar(select(User.id).where(User.email.like("parent%@%.scale.ediary.ru")).limit(1))
    if found is None:
        console.print("No scale school in the database: seeding one (seed --scale 1)…")
        await seed_scale(services.session_factory, schools=1, progress=console)


async def _limit(settings: Settings, sql: str, args: tuple[Any, ...], *, requests: int, concurrency: int) -> float:
    """Requests per second of the raw-SQL version through asyncpg (PostgreSQL only)."""
    import asyncpg

    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    try:
        remaining = [requests]

        async def worker() -> None:
            async with pool.acquire() as conn:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    text = await conn.fetchval(sql, *args)
                    json.loads(text)  # the client parses it, as it parses ours

        for _ in range(20):
            await pool.fetchval(sql, *args)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)
    finally:
        await pool.close()


def _raise_nofile(limit: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(max(soft, limit), hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def _fan_out(
    http: httpx.AsyncClient, ws_url: str, token: str, scene: Scene, services: AppServices, n: int, round_no: int
) -> tuple[int, float | None]:
    """N subscribers in a child process; one markAttendance; ms until the last one has the new summary."""
    status = "EXCUSED" if round_no % 2 else "SICK"  # never the marks already there: a change is published
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--subscribers-worker",
        json.dumps(
            {
                "url": ws_url,
                "token": token,
                "n": n,
                "classId": to_base64("SchoolClass", scene.class_id),
                "date": scene.lesson_date.isoformat(),
                # the new summary: at least the whole class with the new status
                "expect": {"status": status.lower(), "at_least": len(scene.children)},
            }
        ),
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
    )
    assert worker.stdout is not None
    assert worker.stdin is not None
    ready = await asyncio.wait_for(worker.stdout.readline(), 300)
    if not ready.startswith(b"READY"):
        worker.kill()
        return 0, None
    channel = channels.class_attendance(scene.class_id)
    for _ in range(600):  # every subscription on the bus (this process serves them all), or 30 s
        if services.bus.subscriber_count(channel) >= n:
            break
        await asyncio.sleep(0.05)
    marks = [{"childId": to_base64("Child", c), "status": status} for c in scene.children]
    sent = time.time()
    response = await http.post(
        "/graphql",
        json={"query": MARK, "variables": {"i": {"lessonId": to_base64("Lesson", scene.lesson_id), "marks": marks}}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    if body.get("errors") or body["data"]["markAttendance"]["userErrors"]:
        console.print(f"[red]markAttendance failed: {body}")
    out, _ = await asyncio.wait_for(worker.communicate(), 120)
    report = json.loads(out.decode().strip().splitlines()[-1])
    last = report["last"]
    return int(report["received"]), (last - sent) * 1000 if last else None


async def _subscribers_worker(spec: dict[str, Any]) -> None:
    """Child process: open N connections, subscribe, print READY, report when each heard the event."""
    import websockets

    _raise_nofile(spec["n"] * 2 + 256)
    n: int = spec["n"]
    heard: list[float] = []
    failed: list[dict[str, Any]] = []
    expect: dict[str, Any] = spec["expect"]
    opened: list[Any] = []
    subscribed = [0]
    go = asyncio.Event()

    # subscribe a few at a time: each subscription's first summary is a database read,
    # and a burst of thousands would only measure the connection pool's queue
    ramp = asyncio.Semaphore(25)

    async def one() -> None:
        async with ramp:
            conn = await subscribe()
        await go.wait()
        while True:
            message = json.loads(await conn.recv())
            if message["type"] == "ping":
                await conn.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                counts = ((message["payload"].get("data") or {}).get("attendanceSummary") or {}).get("counts") or {}
                if counts.get(expect["status"], 0) >= expect["at_least"]:
                    heard.append(time.time())
                    return
            elif message["type"] in ("error", "complete"):
                failed.append(message)
                return

    async def subscribe() -> Any:
        conn = await websockets.connect(
            f"{spec['url']}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            open_timeout=60,
            max_queue=64,
        )
        opened.append(conn)
        await conn.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {spec['token']}"}})
        )
        while json.loads(await conn.recv())["type"] != "connection_ack":
            pass
        await conn.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUMMARY, "variables": {"c": spec["classId"], "d": spec["date"]}},
                }
            )
        )
        while json.loads(await conn.recv())["type"] != "next":  # the summary as it is now
            pass
        subscribed[0] += 1
        return conn

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    deadline = time.monotonic() + 30 + n / 20
    while subscribed[0] < n and not all(t.done() for t in tasks):
        if time.monotonic() > deadline:
            print(f"only {subscribed[0]} of {n} subscribed", file=sys.stderr, flush=True)
            break
        await asyncio.sleep(0.05)
    go.set()
    print("READY", flush=True)
    await asyncio.wait(tasks, timeout=60)
    if failed:
        print(f"{len(failed)} subscriptions ended instead: {failed[0]}", file=sys.stderr, flush=True)
    print(json.dumps({"received": len(heard), "last": max(heard) if heard else None}), flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(conn.close() for conn in opened), return_exceptions=True)


@dataclass
class Writes:
    """Where the write rows write: a lesson per concurrent user for markAttendance (before the
    diary's week), a (child, lesson) per user for enterGrade (the previous period, never the
    diary's child), so neither changes what the reads read."""

    mark_lessons: list[int]
    grade_targets: list[tuple[int, int]]
    control_type_id: int
    previous_period_id: int


async def _writes(services: AppServices, scene: Scene, users: int) -> Writes:
    async with services.session_factory() as session:
        teacher_id = await session.scalar(select(User.id).where(User.email == scene.teacher_email))
        mark_lessons = (
            await session.scalars(
                select(Lesson.id)
                .where(
                    Lesson.class_id == scene.class_id,
                    Lesson.teacher_id == teacher_id,
                    Lesson.status == LessonStatus.SCHEDULED,
                    Lesson.date < WEEK[0],
                )
                .order_by(Lesson.date.desc(), Lesson.start_time.desc())
                .limit(users)
            )
        ).all()
        grade_lessons = (
            await session.scalars(
                select(Lesson.id)
                .where(
                    Lesson.class_id == scene.class_id,
                    Lesson.subject_id == scene.subject_id,
                    Lesson.status == LessonStatus.SCHEDULED,
                    Lesson.date < scene.period[0],
                )
                .order_by(Lesson.date.desc(), Lesson.start_time.desc())
                .limit(users)
            )
        ).all()
        control_type_id = await session.scalar(
            select(ControlType.id).where(ControlType.school_id == scene.school_id).order_by(ControlType.id).limit(1)
        )
        year_id = select(Period.academic_year_id).where(Period.id == scene.period_id).scalar_subquery()
        previous = await session.scalar(
            select(Period.id)
            .where(Period.academic_year_id == year_id, Period.ends_on < scene.period[0])
            .order_by(Period.ends_on.desc())
            .limit(1)
        )
    others = sorted(c for c in scene.children if c != scene.child_id)
    if not (mark_lessons and grade_lessons and others):
        raise RuntimeError("the scale school has no past lessons of the teacher to write at")
    return Writes(
        [int(x) for x in mark_lessons],
        [(others[k % len(others)], int(grade_lessons[k % len(grade_lessons)])) for k in range(users)],
        int(control_type_id or 0),
        int(previous or scene.period_id),
    )


def _marks(lesson_id: int, children: list[int], status: str) -> Body:
    marks = [{"childId": to_base64("Child", c), "status": status} for c in children]
    return {"query": MARK, "variables": {"i": {"lessonId": to_base64("Lesson", lesson_id), "marks": marks}}}


def _mark_rounds(writes: Writes, scene: Scene, children: int) -> list[Body]:
    """The first `children` of the class marked absent, then present: each request a change."""
    return [_marks(writes.mark_lessons[0], scene.children[:children], s) for s in ("ABSENT", "PRESENT")]


def _grade(child_id: int, lesson_id: int, value: str, control_type_id: int) -> Body:
    entered = {
        "childId": to_base64("Child", child_id),
        "lessonId": to_base64("Lesson", lesson_id),
        "value": value,
        "controlTypeId": to_base64("ControlType", control_type_id),
    }
    return {"query": GRADE, "variables": {"i": entered}}


async def _statements(http: httpx.AsyncClient, bodies: list[Body], token: str, counter: list[int]) -> float:
    """SQL statements per request, one request at a time: a round of `bodies` to warm the
    caches, then three rounds counted (as the runs count: every statement of the server's
    while they last, so what a write sets going after its answer lands in the next one's)."""
    rounds = 3
    for k in range(rounds + 1):
        if k == 1:
            counter[0] = 0
        for body in bodies:
            answer = (await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})).json()
            refused = [v for v in (answer.get("data") or {}).values() if isinstance(v, dict) and v.get("userErrors")]
            if "errors" in answer or refused:
                raise RuntimeError(str(answer)[:500])
    return counter[0] / (rounds * len(bodies))


async def main(args: argparse.Namespace) -> None:
    _raise_nofile(max(args.subscribers, default=0) * 2 + 1024)
    # thousands of sockets from this one address, 25 handshakes at a time: no per-address cap;
    # one user drives thousands of requests a second: no cost budget per viewer
    settings = load_settings(
        log_level="WARNING",
        dispatcher_enabled=False,
        ws_init_timeout_seconds=60,
        ws_max_unauthenticated_per_address=0,
        query_cost_budget=0,
    )
    if settings.is_sqlite:
        console.print("[yellow]SQLite: the raw-SQL limits need PostgreSQL; set DATABASE_URL for the real numbers")
        # one writer at a time: concurrent markAttendance transactions would wait on the file's lock
        args.write_concurrency = 1
    await asyncio.to_thread(upgrade, settings.database_url)
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio", backlog=8192)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only this flag
        await asyncio.sleep(0.01)
    services: AppServices = app.state.services
    await _ensure_scale_school(services)
    scene = await _scene(services)
    added = await furnish(
        services.session_factory,
        class_id=scene.class_id,
        child_id=scene.child_id,
        parent_email=scene.parent_email,
        week=WEEK,
    )
    if added:
        console.print("Added to the scale school for the bench: " + ", ".join(f"{n} {k}" for k, n in added.items()))
        scene = await _scene(services)
    writes = await _writes(services, scene, args.write_concurrency)
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += 1

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
    results: list[Result] = []
    fan_out: list[tuple[int, int, float | None]] = []
    limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=args.concurrency * 2)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits) as http:

        async def sign_in(login: str) -> str:
            signed = await http.post(
                "/graphql",
                json={
                    "query": "mutation($l: String!, $p: String!) { signIn(input: {login: $l, password: $p}) "
                    "{ accessToken } }",
                    "variables": {"l": login, "p": DEMO_PASSWORD},
                },
            )
            return str(signed.json()["data"]["signIn"]["accessToken"])

        parent, teacher = await sign_in(scene.parent_email), await sign_in(scene.teacher_email)

        child = to_base64("Child", scene.child_id)
        diary_vars = {"c": child, "from": WEEK[0].isoformat(), "to": WEEK[1].isoformat()}
        one_day = {"c": child, "from": WEEK[0].isoformat(), "to": WEEK[0].isoformat()}
        journal_vars = {
            "c": to_base64("SchoolClass", scene.class_id),
            "s": to_base64("Subject", scene.subject_id),
            "p": to_base64("Period", scene.period_id),
        }
        previous_period = journal_vars | {"p": to_base64("Period", writes.previous_period_id)}
        run = {"port": port, "requests": args.requests, "concurrency": args.concurrency, "counter": counter}
        for read in READS:
            token, variables, other = (
                (teacher, journal_vars, previous_period) if read.journal else (parent, diary_vars, one_day)
            )
            result = await _load(read.name, [[{"query": read.query, "variables": variables}]], token, **run)
            result.target, result.target_text = read.target, read.target_text
            other_size = await _statements(http, [{"query": read.query, "variables": other}], token, counter)
            result.other_size = f"{other_size:.1f}"
            if not settings.is_sqlite:
                sql_args = (
                    (scene.class_id, scene.subject_id, *scene.period) if read.journal else (scene.child_id, *WEEK)
                )
                result.limit_rps = await _limit(
                    settings, read.sql, sql_args, requests=args.requests, concurrency=args.concurrency
                )
            results.append(result)
        # what any signed-in request costs before it reads anything: HTTP, GraphQL, the token,
        # the session and the actor's roles; the reads' own cost is what lies above it
        results.append(await _load("floor: a signed-in { __typename }", [[{"query": "{ __typename }"}]], parent, **run))

        # writes: one teacher per concurrent user, each at a lesson of their own
        write_run = run | {"requests": args.write_requests, "concurrency": args.write_concurrency}
        marking = [
            [_marks(lesson, scene.children, "ABSENT"), _marks(lesson, scene.children, "PRESENT")]
            for lesson in writes.mark_lessons
        ]
        grading = [
            [_grade(child_id, lesson, value, writes.control_type_id) for value in ("5", "4", "3", "5", "2")]
            for child_id, lesson in writes.grade_targets
        ]
        for name, bodies in ((f"markAttendance: {len(scene.children)} children", marking), ("enterGrade", grading)):
            try:
                results.append(await _load(name, bodies, teacher, **write_run))
            except RuntimeError as exc:
                console.print(f"[yellow]{name} skipped: {exc}")
                continue
            if bodies is marking:  # one request at a time: the whole class, and 5 children of it
                sizes = (len(scene.children), 5)
                per_size = [await _statements(http, _mark_rounds(writes, scene, n), teacher, counter) for n in sizes]
                results[-1].other_size = ", ".join(f"{n}: {k:.1f}" for n, k in zip(sizes, per_size, strict=True))
        ws_url = f"ws://127.0.0.1:{port}"
        if args.subscribers:  # the fan-out's changes are to SICK and EXCUSED: start from PRESENT
            await _statements(http, [_marks(scene.lesson_id, scene.children, "PRESENT")], teacher, counter)
        for k, n in enumerate(args.subscribers):
            try:
                received, ms = await _fan_out(http, ws_url, teacher, scene, services, n, k)
            except Exception as exc:  # report and go on: the table is still worth printing
                console.print(f"[yellow]fan-out {n} failed: {type(exc).__name__}: {exc}")
                received, ms = 0, None
            fan_out.append((n, received, ms))

    server.should_exit = True
    await serving
    backend = f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'} + {settings.broadcast_url.split(':')[0]}"
    table = Table(
        title=f"ediary-gql diary — reads at concurrency {args.concurrency}, writes at {args.write_concurrency}, "
        f"{backend}",
        caption=f"journal: {len(scene.children)} children. SQL/req, other size: one request at a time at another "
        "size of result (the diary over one day, the journal of the previous period, markAttendance of 30 and of 5 "
        "children). ratio: req/s over the limit's",
    )
    for column in (
        "scenario",
        "requests",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "req/s",
        "SQL/req",
        "SQL/req, other size",
        "CPU ms/req",
        "limit req/s",
        "ratio",
        "target",
        "met",
    ):
        table.add_column(column, justify="right" if column != "scenario" else "left")
    for result in results:
        table.add_row(*result.row())
    console.print(table)
    if fan_out:
        fan = Table(title="attendanceSummary fan-out: one markAttendance, N subscribers")
        for column in ("subscribers", "received", "ms until the last has it"):
            fan.add_column(column, justify="right")
        for n, received, ms in fan_out:
            fan.add_row(f"{n:,}", f"{received:,}", f"{ms:.0f}" if ms is not None else "—")
        console.print(fan)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"peak memory of the process (server and HTTP client): {peak_mb:.0f} MB")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--load-worker":
        asyncio.run(_load_worker(json.loads(sys.argv[2])))
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--subscribers-worker":
        asyncio.run(_subscribers_worker(json.loads(sys.argv[2])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--subscribers", type=int, nargs="*", default=[100, 1000, 5000])
    parser.add_argument("--write-requests", type=int, default=200, help="requests of each write row")
    parser.add_argument("--write-concurrency", type=int, default=8)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # the server's event loop as `ediary-gql serve` runs it: uvicorn takes uvloop where it is installed
    run: Callable[[Coroutine[Any, Any, None]], None]
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    run(main(parser.parse_args()))
