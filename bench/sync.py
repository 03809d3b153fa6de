"""Sync by external IDs over real HTTP: syncLessons, syncGrades and syncAttendance with
1,000 items a call (new, then the same again, then changed), printed as a table of
items per second and SQL statements per call.

    DATABASE_URL=postgresql+asyncpg://… BROADCAST_URL=redis://… python bench/sync.py [--rounds 3] [--items 1000]

The demo school is seeded if missing (its admin signs in); each run adds classes of its
own (a class and its teacher per round of lessons, one class of 25 children with the
lessons already held for grades and marks), every sourcedId tagged with the run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ediary_gql.app import create_app
from ediary_gql.context import AppServices
from ediary_gql.db.migrate import upgrade
from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass, Subject, TeachingAssignment
from ediary_gql.db.models.enums import LessonStatus, Sex, StaffRole, UserStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.db.models.schools import School, StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.demo import DEMO_PASSWORD, seed_demo
from ediary_gql.demo.demo_school import DEMO_SCHOOL_INN
from ediary_gql.services.lessons.checks import days_off
from ediary_gql.settings import load_settings

console = Console(width=150)
SLOTS = 7  # lessons a school day
LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ"
CHILDREN = 25


def _slot(n: int) -> tuple[dt.time, dt.time]:
    start = dt.datetime(2000, 1, 1, 8, 30) + dt.timedelta(minutes=55 * (n % SLOTS))
    return start.time(), (start + dt.timedelta(minutes=45)).time()


@dataclass
class Bench:
    """The run's classes, teachers, children and lessons, by sourcedId."""

    tag: str
    school_id: int
    year: AcademicYear
    subject_sid: str = ""
    school_days: list[dt.date] = field(default_factory=list)
    next_letter: int = 0

    def sid(self, *parts: object) -> str:
        return "-".join([self.tag, *map(str, parts)])

    async def setup(self, session: AsyncSession) -> None:
        self.subject_sid = self.sid("SUB")
        session.add(Subject(school_id=self.school_id, name=f"Предмет {self.tag}", external_id=self.subject_sid))
        off = await days_off(session, self.school_id, self.year.starts_on, self.year.ends_on)
        day = self.year.starts_on
        while day <= self.year.ends_on:
            if day.isoweekday() <= 5 and day not in off:
                self.school_days.append(day)
            day += dt.timedelta(days=1)
        await session.flush()

    async def add_class(self, session: AsyncSession) -> tuple[str, str, int, int]:
        """A class of level 11 with a teacher assigned to the run's subject: their sourcedIds, ids."""
        taken = set(
            await session.scalars(
                select(SchoolClass.letter).where(SchoolClass.academic_year_id == self.year.id, SchoolClass.level == 11)
            )
        )
        letter = next(x for x in LETTERS if x not in taken)
        class_sid, teacher_sid = self.sid("CLS", LETTERS.index(letter)), self.sid("T", LETTERS.index(letter))
        klass = SchoolClass(
            school_id=self.school_id, academic_year_id=self.year.id, level=11, letter=letter, external_id=class_sid
        )
        teacher = User(
            email=f"{teacher_sid.lower()}@bench.ediary.ru",  # sourcedIds are Latin
            password_hash="-",
            last_name="Учитель",
            first_name=letter,
            status=UserStatus.CONFIRMED,
        )
        session.add_all([klass, teacher])
        await session.flush()
        subject = await session.scalar(select(Subject.id).where(Subject.external_id == self.subject_sid))
        assert subject is not None
        session.add_all(
            [
                StaffMembership(user_id=teacher.id, school_id=self.school_id, role=StaffRole.TEACHER, active=True),
                TeachingAssignment(teacher_id=teacher.id, class_id=klass.id, subject_id=subject),
                RosterLink(school_id=self.school_id, kind="TEACHER", external_id=teacher_sid, target_id=teacher.id),
            ]
        )
        await session.flush()
        return class_sid, teacher_sid, klass.id, teacher.id

    async def add_children(self, session: AsyncSession, class_id: int) -> list[str]:
        sids = [self.sid("STU", n) for n in range(CHILDREN)]
        await session.execute(
            insert(Child),
            [
                {
                    "last_name": "Ученик",
                    "first_name": f"Номер{n}",
                    "birth_date": dt.date(2010, 1, 1),
                    "sex": Sex.MALE,
                    "school_id": self.school_id,
                    "external_id": sid,
                }
                for n, sid in enumerate(sids)
            ],
        )
        ids = list(await session.scalars(select(Child.id).where(Child.external_id.in_(sids))))
        await session.execute(
            insert(Enrollment), [{"child_id": c, "class_id": class_id, "starts_on": self.year.starts_on} for c in ids]
        )
        return sids

    async def add_lessons(self, session: AsyncSession, class_id: int, teacher_id: int, count: int) -> list[str]:
        """Lessons already held (before today), SLOTS a day from the year's start."""
        subject = await session.scalar(select(Subject.id).where(Subject.external_id == self.subject_sid))
        held = [d for d in self.school_days if d < dt.date.today()]
        sids = [self.sid("L", n) for n in range(count)]
        await session.execute(
            insert(Lesson),
            [
                {
                    "school_id": self.school_id,
                    "class_id": class_id,
                    "subject_id": subject,
                    "teacher_id": teacher_id,
                    "date": held[n // SLOTS],
                    "start_time": _slot(n)[0],
                    "end_time": _slot(n)[1],
                    "status": LessonStatus.SCHEDULED,
                    "external_id": sid,
                }
                for n, sid in enumerate(sids)
            ],
        )
        return sids


@dataclass
class Row:
    scenario: str
    items: int
    seconds: list[float]
    statements: list[int]

    def cells(self) -> list[str]:
        median = statistics.median(self.seconds)
        return [
            self.scenario,
            f"{self.items:,}",
            str(len(self.seconds)),
            f"{median * 1000:.0f}",
            f"{max(self.seconds) * 1000:.0f}",
            f"{self.items / median:,.0f}",
            f"{statistics.median(self.statements):.0f}",
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main(rounds: int, items: int) -> None:
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

    async with services.session_factory() as session, session.begin():
        school_id = await session.scalar(select(School.id).where(School.inn == DEMO_SCHOOL_INN))
        assert school_id is not None
        year = await session.scalar(
            select(AcademicYear).where(AcademicYear.school_id == school_id).order_by(AcademicYear.starts_on.desc())
        )
        assert year is not None
        bench = Bench(tag=f"B{uuid.uuid4().hex[:6]}", school_id=school_id, year=year)
        await bench.setup(session)
        class_sid, _, class_id, teacher_id = await bench.add_class(session)
        children = await bench.add_children(session, class_id)
        per_round = -(-items // CHILDREN)
        lessons = await bench.add_lessons(session, class_id, teacher_id, per_round * (rounds + 1))
        lesson_classes = [await bench.add_class(session) for _ in range(rounds)]

    def pairs(round_: int) -> list[tuple[str, str]]:
        mine = lessons[round_ * per_round : (round_ + 1) * per_round]
        return [(c, lesson) for lesson in mine for c in children][:items]

    def grades(round_: int, value: str) -> list[dict[str, Any]]:
        return [
            {"sourcedId": bench.sid("G", round_, n), "childSourcedId": c, "lessonSourcedId": lesson, "value": value}
            for n, (c, lesson) in enumerate(pairs(0))
        ]

    def marks(round_: int, status: str) -> list[dict[str, Any]]:
        return [
            {"sourcedId": bench.sid("A", c, lesson), "childSourcedId": c, "lessonSourcedId": lesson, "status": status}
            for c, lesson in pairs(round_ + 1)
        ]

    def timetable(round_: int, room: str) -> list[dict[str, Any]]:
        class_sid_r, teacher_sid, _, _ = lesson_classes[round_]
        return [
            {
                "sourcedId": bench.sid("LL", round_, n),
                "classSourcedId": class_sid_r,
                "subjectSourcedId": bench.subject_sid,
                "teacherSourcedId": teacher_sid,
                "date": bench.school_days[n // SLOTS].isoformat(),
                "startTime": _slot(n)[0].isoformat(),
                "endTime": _slot(n)[1].isoformat(),
                "room": f"{room}-{round_}",  # a room of the round's own: the rounds' classes meet at the same times
            }
            for n in range(items)
        ]

    scenarios: list[tuple[str, str, Callable[[int], list[dict[str, Any]]]]] = [
        ("syncLessons: new", "syncLessons", lambda r: timetable(r, "1")),
        ("syncLessons: again, unchanged", "syncLessons", lambda r: timetable(r, "1")),
        ("syncLessons: every lesson changed", "syncLessons", lambda r: timetable(r, "2")),
        ("syncLessons: dry run", "syncLessons", lambda r: timetable(r, "3")),
        ("syncGrades: new", "syncGrades", lambda r: grades(r, "5")),
        ("syncGrades: again, unchanged", "syncGrades", lambda r: grades(r, "5")),
        ("syncGrades: every grade corrected", "syncGrades", lambda r: grades(r, "4")),
        ("syncAttendance: new", "syncAttendance", lambda r: marks(r, "PRESENT")),
        ("syncAttendance: again, unchanged", "syncAttendance", lambda r: marks(r, "PRESENT")),
        ("syncAttendance: every mark changed", "syncAttendance", lambda r: marks(r, "SICK")),
    ]
    rows = {name: Row(name, items, [], []) for name, _, _ in scenarios}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300) as http:
        signed = await http.post(
            "/graphql",
            json={
                "query": "mutation($l: String!, $p: String!) { signIn(input: {login: $l, password: $p}) "
                "{ accessToken } }",
                "variables": {"l": "admin@demo.ediary.ru", "p": DEMO_PASSWORD},
            },
        )
        headers = {"Authorization": f"Bearer {signed.json()['data']['signIn']['accessToken']}"}
        for round_ in range(rounds):
            for name, mutation, make in scenarios:
                kind = mutation[0].upper() + mutation[1:]
                query = (
                    f"mutation($i: {kind}Input!) {{ {mutation}(input: $i) {{ applied "
                    "summary { created updated unchanged } userErrors { field message } } }"
                )
                variables = {"i": {"schoolId": to_base64("School", school_id), "items": make(round_)}}
                variables["i"]["dryRun"] = name.endswith("dry run")
                counter[0] = 0
                started = time.perf_counter()
                response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
                seconds = time.perf_counter() - started
                payload = response.json()["data"][mutation]
                assert not payload["userErrors"], (name, payload["userErrors"][:3])
                rows[name].seconds.append(seconds)
                rows[name].statements.append(counter[0])

    server.should_exit = True
    await serving
    table = Table(
        title=f"Sync by sourcedId over HTTP — {items:,} items a call, {rounds} rounds, "
        f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'} + {settings.broadcast_url.split(':')[0]}"
    )
    for column in ("scenario", "items", "calls", "median ms", "max ms", "items/s", "SQL/call"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for row in rows.values():
        table.add_row(*row.cells())
    console.print(table)
    console.print(f"(the class of marks and grades: {class_sid}; SQL/call counts the whole request)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.items))
