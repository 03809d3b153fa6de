"""Diary benchmarks on a `seed --scale` school, printed as a table.

    DATABASE_URL=postgresql+asyncpg://… BROADCAST_URL=redis://… python bench/diary.py

Scenarios: a parent's 1-week diary, a teacher's class journal, markAttendance
for a whole class, and a fan-out: N WebSocket subscribers (100, 1,000, 5,000 by
default) watch attendanceSummary while one markAttendance lands — the time until
the last subscriber has it. Each read row has its *limit* measured in the same
run: the same rows fetched by raw SQL through asyncpg, PostgreSQL building the
JSON, and the ratio of our throughput to it.

The scale school is reused if the database has one (`seed_scale(schools=1)`
otherwise, ~20 s on PostgreSQL). Subscribers run in a child process (loopback
only), so one process does not have to hold both ends of 5,000 sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
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

from ediary_gql.app import create_app
from ediary_gql.context import AppServices
from ediary_gql.db.migrate import upgrade
from ediary_gql.db.models.calendar import Period
from ediary_gql.db.models.children import Child, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.users import User
from ediary_gql.demo import DEMO_PASSWORD, seed_scale
from ediary_gql.events import channels
from ediary_gql.settings import Settings, load_settings

console = Console(width=150)
TODAY = dt.date(2026, 11, 27)  # "today" of the scale data
WEEK = (dt.date(2026, 11, 23), dt.date(2026, 11, 29))

DIARY = """
query($c: ID!, $from: Date!, $to: Date!) {
  diary(childId: $c, from: $from, to: $to) {
    date
    lessons {
      lesson { id date startTime endTime lessonNumber room topic status }
      subject { id name shortName }
      teacher { id fullName }
      homework { isDone homework { id text dueOn } }
      grades { id value weight comment gradedOn }
      attendance { id status minutesLate }
    }
  }
}"""
JOURNAL = """
query($c: ID!, $s: ID!, $p: ID!) {
  classJournal(classId: $c, subjectId: $s, periodId: $p) {
    lessons { id date topic }
    rows {
      child { id lastName firstName }
      cells { lessonId grades { id value weight } attendance { id status } }
      average { average weightedAverage count }
    }
  }
}"""
MARK = """
mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { field code message } } }
"""
SUMMARY = """subscription($c: ID!, $d: Date!) {
  attendanceSummary(classId: $c, date: $d) { counts { present absent late excused sick unmarked } }
}"""

# The limits: the same rows, PostgreSQL building the JSON.
DIARY_SQL = """
SELECT coalesce(json_agg(d ORDER BY d.date), '[]')::text FROM (
  SELECT l.date, json_agg(json_build_object(
    'lesson', json_build_object('id', l.id, 'date', l.date, 'startTime', l.start_time, 'endTime', l.end_time,
                                'lessonNumber', l.lesson_number, 'room', l.room, 'topic', l.topic, 'status', l.status),
    'subject', json_build_object('id', s.id, 'name', s.name, 'shortName', s.short_name),
    'teacher', json_build_object('id', u.id, 'fullName', concat_ws(' ', u.last_name, u.first_name, u.middle_name)),
    'homework', (SELECT coalesce(json_agg(json_build_object('isDone', hc.id IS NOT NULL,
                   'homework', json_build_object('id', h.id, 'text', h.text, 'dueOn', h.due_on))), '[]')
                 FROM homeworks h LEFT JOIN homework_completions hc ON hc.homework_id = h.id AND hc.child_id = $1
                 WHERE h.lesson_id = l.id),
    'grades', (SELECT coalesce(json_agg(json_build_object('id', g.id, 'value', g.value, 'weight', g.weight,
                 'comment', g.comment, 'gradedOn', g.graded_on)), '[]')
               FROM grades g WHERE g.lesson_id = l.id AND g.child_id = $1 AND g.deleted_at IS NULL),
    'attendance', (SELECT json_build_object('id', a.id, 'status', a.status, 'minutesLate', a.minutes_late)
                   FROM attendances a WHERE a.lesson_id = l.id AND a.child_id = $1)
  ) ORDER BY l.start_time) AS lessons
  FROM lessons l
  JOIN subjects s ON s.id = l.subject_id
  JOIN users u ON u.id = l.teacher_id
  JOIN enrollments e ON e.class_id = l.class_id AND e.child_id = $1
   AND e.starts_on <= l.date AND (e.ends_on IS NULL OR e.ends_on >= l.date)
  WHERE l.date BETWEEN $2 AND $3
  GROUP BY l.date
) d
"""
JOURNAL_SQL = """
WITH l AS (
  SELECT id, date, start_time, topic FROM lessons
  WHERE class_id = $1 AND subject_id = $2 AND date BETWEEN $3 AND $4
), c AS (
  SELECT ch.id, ch.last_name, ch.first_name FROM children ch
  WHERE ch.id IN (SELECT child_id FROM enrollments WHERE class_id = $1 AND starts_on <= $4
                  AND (ends_on IS NULL OR ends_on >= $3))
), g AS (
  SELECT child_id, lesson_id, json_agg(json_build_object('id', id, 'value', value, 'weight', weight)) AS grades
  FROM grades WHERE lesson_id IN (SELECT id FROM l) AND deleted_at IS NULL GROUP BY child_id, lesson_id
), a AS (
  SELECT child_id, lesson_id, json_build_object('id', id, 'status', status) AS mark
  FROM attendances WHERE lesson_id IN (SELECT id FROM l)
), av AS (
  SELECT child_id, round(avg(numeric_value), 2) AS average,
         round(sum(numeric_value * weight) / sum(weight), 2) AS weighted, count(*) AS n
  FROM grades WHERE child_id IN (SELECT id FROM c) AND subject_id = $2 AND graded_on BETWEEN $3 AND $4
   AND deleted_at IS NULL AND kind = 'REGULAR' AND numeric_value IS NOT NULL GROUP BY child_id
)
SELECT json_build_object(
  'lessons', (SELECT coalesce(json_agg(json_build_object('id', id, 'date', date, 'topic', topic)
              ORDER BY date, start_time), '[]') FROM l),
  'rows', (SELECT coalesce(json_agg(json_build_object(
     'child', json_build_object('id', c.id, 'lastName', c.last_name, 'firstName', c.first_name),
     'cells', (SELECT coalesce(json_agg(json_build_object('lessonId', l.id, 'grades', coalesce(g.grades, '[]'::json),
                 'attendance', a.mark) ORDER BY l.date, l.start_time), '[]')
               FROM l LEFT JOIN g ON g.lesson_id = l.id AND g.child_id = c.id
               LEFT JOIN a ON a.lesson_id = l.id AND a.child_id = c.id),
     'average', (SELECT json_build_object('average', av.average, 'weightedAverage', av.weighted, 'count', av.n)
                 FROM av WHERE av.child_id = c.id)
  ) ORDER BY c.last_name, c.first_name), '[]') FROM c)
)::text
"""


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    seconds: float
    statements: int
    limit_rps: float | None = None
    cpu_seconds: float | None = None  # the server process's CPU time over the run

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def row(self) -> list[str]:
        lat = sorted(self.latencies_ms)
        q = statistics.quantiles(lat, n=100) if len(lat) > 1 else lat * 99
        limit = f"{self.limit_rps:.0f}" if self.limit_rps else "—"
        ratio = f"1/{self.limit_rps / self.rps:.1f}" if self.limit_rps else "—"
        return [
            self.name,
            str(len(lat)),
            f"{q[49]:.1f}",
            f"{q[94]:.1f}",
            f"{q[98]:.1f}",
            f"{self.rps:.0f}",
            f"{self.statements / len(lat):.1f}",
            f"{self.cpu_seconds * 1000 / len(lat):.2f}" if self.cpu_seconds is not None else "—",
            limit,
            ratio,
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _run(
    name: str, call: Callable[[], Awaitable[None]], *, requests: int, concurrency: int, counter: list[int]
) -> Result:
    latencies: list[float] = []
    remaining = [requests]

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            started = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - started) * 1000)

    for _ in range(min(20, requests)):  # warm-up: caches, pools
        await call()
    counter[0] = 0
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, latencies, time.perf_counter() - started, counter[0])


async def _load(
    name: str,
    query: str,
    variables: dict[str, Any],
    token: str,
    *,
    port: int,
    requests: int,
    concurrency: int,
    counter: list[int],
) -> Result:
    """Reads driven from a child process, so the client's work is not the server's."""
    spec = {"port": port, "query": query, "variables": variables, "token": token}
    spec |= {"requests": requests, "concurrency": concurrency}
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
    report = json.loads(out.decode().strip().splitlines()[-1])
    return Result(name, report["latencies"], report["seconds"], counter[0], cpu_seconds=cpu)


async def _load_worker(spec: dict[str, Any]) -> None:
    """Child process: a minimal HTTP/1.1 keep-alive client, one connection per concurrent user.

    It sends the same pre-encoded request again and again and checks each answer has no
    errors (parsed by orjson): far less work per request than a general client, so the
    server is measured, not the client, which shares the machine with it."""
    body = json.dumps({"query": spec["query"], "variables": spec["variables"]}).encode()
    request = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {spec['token']}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    remaining = [spec["requests"]]
    latencies: list[float] = []

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        answer = orjson.loads(await reader.readexactly(length))
        if status != b"200" or "errors" in answer:
            raise RuntimeError(f"{status.decode()}: {str(answer)[:500]}")

    async def user(measured: bool) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", spec["port"])
        try:
            if not measured:
                for _ in range(10):
                    await exchange(reader, writer)
                return
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                await exchange(reader, writer)
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(user(False) for _ in range(spec["concurrency"])))
    print("WARM", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    started = time.perf_counter()
    await asyncio.gather(*(user(True) for _ in range(spec["concurrency"])))
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

        diary_vars = {"c": to_base64("Child", scene.child_id), "from": WEEK[0].isoformat(), "to": WEEK[1].isoformat()}
        journal_vars = {
            "c": to_base64("SchoolClass", scene.class_id),
            "s": to_base64("Subject", scene.subject_id),
            "p": to_base64("Period", scene.period_id),
        }
        run = {"port": port, "requests": args.requests, "concurrency": args.concurrency, "counter": counter}
        diary = await _load("diary: a parent's week", DIARY, diary_vars, parent, **run)
        journal = await _load(f"classJournal: {len(scene.children)} children", JOURNAL, journal_vars, teacher, **run)
        if not settings.is_sqlite:
            diary.limit_rps = await _limit(
                settings, DIARY_SQL, (scene.child_id, *WEEK), requests=args.requests, concurrency=args.concurrency
            )
            journal.limit_rps = await _limit(
                settings,
                JOURNAL_SQL,
                (scene.class_id, scene.subject_id, *scene.period),
                requests=args.requests,
                concurrency=args.concurrency,
            )
        # what any signed-in request costs before it reads anything: HTTP, GraphQL, the token,
        # the session and the actor's roles; the reads' own cost is what lies above it
        floor = await _load("floor: a signed-in { __typename }", "{ __typename }", {}, parent, **run)
        results += [diary, journal, floor]

        marks_round = [0]

        async def mark() -> None:
            marks_round[0] += 1
            status = "ABSENT" if marks_round[0] % 2 else "PRESENT"
            variables = {
                "i": {
                    "lessonId": to_base64("Lesson", scene.lesson_id),
                    "marks": [{"childId": to_base64("Child", c), "status": status} for c in scene.children],
                }
            }
            response = await http.post(
                "/graphql", json={"query": MARK, "variables": variables}, headers={"Authorization": f"Bearer {teacher}"}
            )
            body = response.json()
            assert "errors" not in body, body
            assert body["data"]["markAttendance"]["userErrors"] == [], body

        try:
            results.append(
                await _run(
                    f"markAttendance: {len(scene.children)} children",
                    mark,
                    requests=max(50, args.requests // 10),
                    concurrency=1,  # one teacher, one lesson: writes in turn
                    counter=counter,
                )
            )
        except (AssertionError, KeyError) as exc:
            console.print(f"[yellow]markAttendance skipped: {exc}")
        ws_url = f"ws://127.0.0.1:{port}"
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
    table = Table(title=f"ediary-gql diary — concurrency {args.concurrency}, {backend}")
    for column in (
        "scenario",
        "requests",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "req/s",
        "SQL/req",
        "CPU ms/req",
        "limit req/s",
        "ratio",
    ):
        table.add_column(column, justify="right" if column != "scenario" else "left")
    for result in results:
        table.add_row(*result.row())
    console.print(table)
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
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # the server's event loop as `ediary-gql serve` runs it: uvicorn takes uvloop where it is installed
    run: Callable[[Coroutine[Any, Any, None]], None]
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    run(main(parser.parse_args()))
