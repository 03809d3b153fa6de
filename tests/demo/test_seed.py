"""Demo and scale seeding, on SQLite (a temp file) and PostgreSQL (a scratch database).

Self-contained: no shared fixtures; each backend gets its own empty database,
the tables come from `Base.metadata.create_all`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from rich.console import Console
from sqlalchemy import Date, TextClause, bindparam, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from stdnum.ru import inn as stdnum_inn

from ediary_gql.auth.passwords import verify_password
from ediary_gql.db import models
from ediary_gql.db.base import Base
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.enums import AttendanceStatus, Sex, StaffRole, UserStatus
from ediary_gql.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_demo, seed_scale
from ediary_gql.demo.curriculum import HOURS, SUBJECTS, lesson_topic
from ediary_gql.demo.demo_school import DEMO_SCHOOL_INN, demo_timetable
from ediary_gql.demo.ids import okpo_is_valid, snils, snils_is_valid
from ediary_gql.demo.names import NameMaker, feminine_surname
from ediary_gql.demo.scale import class_layout, plan_staffing, school_timetable
from ediary_gql.demo.school_calendar import DEMO_FROM, DEMO_TO, TODAY, SchoolCalendar
from ediary_gql.demo.timetable import Demand, TimetableError, build_timetable, check_timetable
from ediary_gql.services import person_names

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Db:
    backend: str
    engine: AsyncEngine
    factory: async_sessionmaker[AsyncSession]
    first_run: bool
    second_run: bool


def _pg_admin_url() -> str:
    env = os.environ.get("DATABASE_URL") or ""
    url = make_url(env if env.startswith("postgres") else PG_DEFAULT)
    return url.set(drivername="postgresql+asyncpg", database="postgres").render_as_string(hide_password=False)


async def _create_tables(engine: AsyncEngine) -> None:
    assert models.__all__  # every table registered
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


@pytest_asyncio.fixture(scope="module", params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Db]:
    """An empty database with the tables, seeded with the demo twice (the second time must do nothing)."""
    backend: str = request.param
    admin: AsyncEngine | None = None
    scratch = f"seed_scratch_{secrets.token_hex(4)}"
    if backend == "sqlite":
        folder: Path = tmp_path_factory.mktemp("seed")
        url = f"sqlite+aiosqlite:///{folder / 'seed.db'}"
    else:
        admin = create_async_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        except (OSError, DBAPIError) as exc:  # pragma: no cover - no server here
            await admin.dispose()
            pytest.skip(f"PostgreSQL is not reachable: {exc}")
        url = make_url(_pg_admin_url()).set(database=scratch).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await _create_tables(engine)
        factory = create_session_factory(engine)
        first = await seed_demo(factory)
        second = await seed_demo(factory)
        yield Db(backend, engine, factory, first, second)
    finally:
        await engine.dispose()
        if admin is not None:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            await admin.dispose()


def _sql(sql: str, params: dict[str, object]) -> TextClause:
    """Raw SQL with typed dates, so both drivers get what they expect."""
    binds = [bindparam(k, v, type_=Date()) if isinstance(v, dt.date) else bindparam(k, v) for k, v in params.items()]
    return text(sql).bindparams(*binds)


async def _rows(db: Db, sql: str, **params: object) -> list[tuple[object, ...]]:
    async with db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(_sql(sql, params))).all()]


async def _scalar(db: Db, sql: str, **params: object) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(_sql(sql, params))).scalar()


async def _demo_school_id(db: Db) -> int:
    return int(await _scalar(db, "SELECT id FROM schools WHERE inn = :inn", inn=DEMO_SCHOOL_INN))


# --- the demo ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_seed_demo_runs_once(db: Db) -> None:
    assert db.first_run is True
    assert db.second_run is False
    assert await _scalar(db, "SELECT count(*) FROM schools WHERE inn = :inn", inn=DEMO_SCHOOL_INN) == 1
    assert await _scalar(db, "SELECT count(*) FROM users WHERE email = 'teacher@demo.ediary.ru'") == 1


@pytest.mark.asyncio
async def test_demo_school_identifiers_are_valid(db: Db) -> None:
    [(inn, okpo, status, uid, region)] = await _rows(
        db,
        "SELECT s.inn, s.okpo, s.status, s.diary_uid, st.region_code FROM schools s "
        "JOIN settlements st ON st.id = s.settlement_id WHERE s.inn = :inn",
        inn=DEMO_SCHOOL_INN,
    )
    assert stdnum_inn.is_valid(str(inn))
    assert okpo_is_valid(str(okpo))
    assert status == "ACTIVE"
    assert uid
    assert region == "77"
    snilses = await _rows(db, "SELECT snils FROM children WHERE snils IS NOT NULL")
    assert snilses
    assert all(snils_is_valid(str(s)) for (s,) in snilses)


@pytest.mark.asyncio
async def test_demo_logins_exist_with_their_roles(db: Db) -> None:
    school_id = await _demo_school_id(db)
    async with db.factory() as session:
        users = {
            u.email: u
            for u in (
                await session.scalars(select(models.User).where(models.User.email.in_([e for _, e, _ in DEMO_LOGINS])))
            ).all()
        }
        assert {role for role, _, _ in DEMO_LOGINS} == {"OPERATOR", "SCHOOL_ADMIN", "TEACHER", "PARENT", "STUDENT"}
        phones = set()
        for role, email, who in DEMO_LOGINS:
            user = users[email]
            assert who
            assert user.status is UserStatus.CONFIRMED
            assert user.phone is not None
            assert user.phone.startswith("+7999000000")
            phones.add(user.phone)
            assert verify_password(user.password_hash, DEMO_PASSWORD)
            roles = set(
                (
                    await session.scalars(
                        select(models.StaffMembership.role).where(
                            models.StaffMembership.user_id == user.id, models.StaffMembership.school_id == school_id
                        )
                    )
                ).all()
            )
            assert user.is_operator is (role == "OPERATOR")
            if role in ("SCHOOL_ADMIN", "TEACHER"):
                assert roles == {StaffRole(role)}
            else:
                assert roles == set()
        assert len(phones) == len(DEMO_LOGINS)
        # A demo hash is shared: one argon2 run for every account.
        assert len({u.password_hash for u in users.values()}) == 1

    teacher = users["teacher@demo.ediary.ru"].id
    homeroom = await _rows(db, "SELECT level, letter FROM school_classes WHERE homeroom_teacher_id = :t", t=teacher)
    assert homeroom == [(5, "А")]
    taught = await _rows(
        db,
        "SELECT c.level || c.letter, s.name FROM teaching_assignments a JOIN school_classes c ON c.id = a.class_id "
        "JOIN subjects s ON s.id = a.subject_id WHERE a.teacher_id = :t ORDER BY 1",
        t=teacher,
    )
    assert taught == [("5А", "Математика"), ("5Б", "Математика"), ("6А", "Математика")]

    student = users["student@demo.ediary.ru"].id
    [(child_class,)] = await _rows(
        db,
        "SELECT c.level || c.letter FROM children ch JOIN enrollments e ON e.child_id = ch.id "
        "JOIN school_classes c ON c.id = e.class_id WHERE ch.user_id = :u",
        u=student,
    )
    assert child_class == "5А"


@pytest.mark.asyncio
async def test_demo_parent_has_two_children(db: Db) -> None:
    parent = await _scalar(db, "SELECT id FROM users WHERE email = 'parent@demo.ediary.ru'")
    children = await _rows(
        db,
        "SELECT ch.id, c.level || c.letter, ch.user_id FROM guardianships g JOIN children ch ON ch.id = g.child_id "
        "JOIN enrollments e ON e.child_id = ch.id JOIN school_classes c ON c.id = e.class_id "
        "WHERE g.parent_id = :p ORDER BY 2",
        p=parent,
    )
    assert [c for _, c, _ in children] == ["5А", "7А"]
    student = await _scalar(db, "SELECT id FROM users WHERE email = 'student@demo.ediary.ru'")
    assert children[0][2] == student
    # One guardian for every other child; the demo parent is the only one with two.
    per_parent = Counter(p for (p,) in await _rows(db, "SELECT parent_id FROM guardianships"))
    assert sorted(per_parent.values())[-2:] == [1, 2]
    assert await _scalar(db, "SELECT count(*) FROM guardianships") == 100
    notes = await _scalar(db, "SELECT count(*) FROM notifications WHERE user_id = :p", p=parent)
    assert isinstance(notes, int)
    assert notes >= 3


@pytest.mark.asyncio
async def test_each_class_has_25_children(db: Db) -> None:
    sizes = await _rows(
        db,
        "SELECT c.level || c.letter, count(e.id) FROM school_classes c JOIN enrollments e ON e.class_id = c.id "
        "WHERE c.school_id = :s GROUP BY c.level, c.letter ORDER BY c.level, c.letter",
        s=await _demo_school_id(db),
    )
    assert sizes == [("5А", 25), ("5Б", 25), ("6А", 25), ("7А", 25)]


@pytest.mark.asyncio
async def test_children_names_match_sex(db: Db) -> None:
    children = await _rows(db, "SELECT last_name, first_name, middle_name, sex FROM children")
    assert len(children) == 100
    for last, first, middle, sex in children:
        assert first
        assert last
        if sex == Sex.MALE.value:
            assert str(middle).endswith("ич"), (last, first, middle)
        else:
            assert str(middle).endswith("на"), (last, first, middle)
            assert str(last).endswith("а"), (last, first, middle)


@pytest.mark.asyncio
async def test_every_demo_name_passes_the_rule_for_names(db: Db) -> None:
    # the names every workflow takes (services/person_names.py): the demo people could be typed in
    people = await _rows(db, "SELECT last_name, first_name, middle_name FROM users") + await _rows(
        db, "SELECT last_name, first_name, middle_name FROM children"
    )
    bad = [
        part
        for row in people
        for part, required in zip(row, (True, True, False), strict=True)
        if person_names.check(part, required=required) != person_names.NameCheck(part)
    ]
    assert bad == []


@pytest.mark.asyncio
async def test_no_teacher_class_or_room_is_booked_twice(db: Db) -> None:
    for who in ("class_id", "teacher_id", "coalesce(substitute_teacher_id, teacher_id)", "room"):
        clashes = await _rows(
            db,
            f"SELECT {who}, date, start_time, count(*) FROM lessons WHERE status = 'SCHEDULED' "  # noqa: S608 - fixed column names
            f"GROUP BY {who}, date, start_time HAVING count(*) > 1",
        )
        assert clashes == [], who
    days = {
        d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))
        for (d,) in await _rows(db, "SELECT DISTINCT date FROM lessons")
    }
    assert min(days) == DEMO_FROM
    assert max(days) == DEMO_TO
    assert days == set(SchoolCalendar().school_days(DEMO_FROM, DEMO_TO))
    assert dt.date(2026, 11, 4) not in days  # Unity Day
    per_day = await _rows(db, "SELECT class_id, date, count(*) FROM lessons GROUP BY class_id, date")
    assert {n for _, _, n in per_day} <= {5, 6}


@pytest.mark.asyncio
async def test_every_class_subject_has_a_teacher(db: Db) -> None:
    pairs = await _rows(
        db,
        "SELECT c.level, s.external_id FROM teaching_assignments a JOIN school_classes c ON c.id = a.class_id "
        "JOIN subjects s ON s.id = a.subject_id",
    )
    per_level = Counter(level for level, _ in pairs)
    classes_per_level = {5: 2, 6: 1, 7: 1}
    for level, count in classes_per_level.items():
        assert per_level[level] == len(HOURS[level]) * count
    taught = {(level, code) for level, code in pairs}
    for level in classes_per_level:
        assert set(HOURS[level]) == {code for lv, code in taught if lv == level}


@pytest.mark.asyncio
async def test_marks_and_attendance_only_for_the_past(db: Db) -> None:
    today = TODAY
    assert await _scalar(db, "SELECT count(*) FROM grades WHERE graded_on > :d", d=today) == 0
    assert (
        await _scalar(
            db, "SELECT count(*) FROM grades g JOIN lessons l ON l.id = g.lesson_id WHERE l.date > :d", d=today
        )
        == 0
    )
    assert (
        await _scalar(
            db, "SELECT count(*) FROM attendances a JOIN lessons l ON l.id = a.lesson_id WHERE l.date > :d", d=today
        )
        == 0
    )
    marks = Counter(v for (v,) in await _rows(db, "SELECT value FROM grades"))
    total = sum(marks.values())
    assert total > 1000
    assert marks["4"] + marks["5"] > 0.6 * total
    assert 0 < marks["2"] < 0.1 * total
    assert await _scalar(db, "SELECT count(*) FROM grades WHERE control_type_id IS NULL") == 0
    assert await _scalar(db, "SELECT count(*) FROM grade_revisions") >= total
    statuses = Counter(s for (s,) in await _rows(db, "SELECT status FROM attendances"))
    assert statuses[AttendanceStatus.PRESENT.value] > 0.9 * sum(statuses.values())
    for status in ("ABSENT", "LATE", "SICK"):
        assert statuses[status] > 0, status
    assert (
        await _scalar(db, "SELECT count(*) FROM attendances WHERE status IN ('SICK', 'EXCUSED') AND reason IS NULL")
        == 0
    )
    # Every child has a mark for every past scheduled lesson.
    past_lessons = await _scalar(db, "SELECT count(*) FROM lessons WHERE date <= :d AND status = 'SCHEDULED'", d=today)
    assert await _scalar(db, "SELECT count(*) FROM attendances") == 25 * past_lessons
    homework = await _scalar(db, "SELECT count(*) FROM homeworks")
    lessons = await _scalar(db, "SELECT count(*) FROM lessons")
    assert 0.5 * lessons < homework
    assert await _scalar(db, "SELECT count(*) FROM announcements") >= 2


# --- scale ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_seed_scale_small_school_beside_the_demo(db: Db) -> None:
    """A few small schools next to the demo data: separate INNs, consistent rows."""
    out = io.StringIO()
    first = await seed_scale(
        db.factory, schools=1, progress=Console(file=out, width=200), classes_per_school=5, class_size=6
    )
    second = await seed_scale(db.factory, schools=1, classes_per_school=5, class_size=6)
    assert "school 1/1" in out.getvalue()
    structural = ("schools", "children", "school_classes", "teaching_assignments", "lessons", "timetable_slots")
    assert {k: first[k] for k in structural} == {k: second[k] for k in structural}
    assert first["schools"] == 1
    assert first["children"] == 30
    assert first["school_classes"] == 5
    inns = [str(i) for (i,) in await _rows(db, "SELECT inn FROM schools WHERE inn LIKE '7799%' ORDER BY inn")]
    assert len(inns) == 2
    assert all(stdnum_inn.is_valid(i) for i in inns)
    assert await _scalar(db, "SELECT count(*) FROM schools") == 3
    await _check_scale_rows(db)


async def _check_scale_rows(db: Db) -> None:
    for who in ("class_id", "teacher_id"):
        clashes = await _rows(
            db,
            f"SELECT {who}, date, start_time FROM lessons GROUP BY {who}, date, start_time HAVING count(*) > 1",  # noqa: S608
        )
        assert clashes == [], who
    assert await _scalar(db, "SELECT count(*) FROM grades WHERE graded_on > :d", d=TODAY) == 0
    assert await _scalar(db, "SELECT count(*) FROM grades g LEFT JOIN grade_revisions r ON r.grade_id = g.id "
                         "WHERE r.id IS NULL") == 0  # fmt: skip


@pytest.mark.asyncio
async def test_seed_scale_one_full_school_on_sqlite(tmp_path: Path) -> None:
    """One full-size school (≈10 s on SQLite): 40 classes × 25 children, the whole year of lessons."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'scale.db'}")
    try:
        await _create_tables(engine)
        counts = await seed_scale(create_session_factory(engine), schools=1)
        db = Db("sqlite", engine, create_session_factory(engine), False, False)
        assert counts["schools"] == 1
        assert counts["children"] == 1000
        assert counts["school_classes"] == 40
        assert 55 <= counts["users"] - 1000 - 1 <= 65  # teachers, beside the parents and the admin
        assert counts["lessons"] > 35_000
        assert counts["attendances"] > 100_000
        assert counts["grades"] > 50_000
        for table, n in counts.items():
            assert await _scalar(db, f"SELECT count(*) FROM {table}") == n, table  # noqa: S608
        sizes = {n for (n,) in await _rows(db, "SELECT count(*) FROM enrollments GROUP BY class_id")}
        assert sizes == {25}
        levels = {lv for (lv,) in await _rows(db, "SELECT DISTINCT level FROM school_classes")}
        assert levels == set(range(1, 12))
        await _check_scale_rows(db)
        statuses = Counter(s for (s,) in await _rows(db, "SELECT status FROM attendances"))
        present = statuses["PRESENT"] / sum(statuses.values())
        assert 0.92 < present < 0.98
        first_attendance = await _scalar(
            db, "SELECT min(l.date) FROM attendances a JOIN lessons l ON l.id = a.lesson_id"
        )
        assert str(first_attendance) >= (TODAY - dt.timedelta(days=28)).isoformat()
        # Roughly two marks a month per child and subject.
        per_child = counts["grades"] / 1000
        assert 40 < per_child < 100
    finally:
        await engine.dispose()


# --- the pieces ---------------------------------------------------------------------------


def test_full_school_timetable_has_no_double_booking() -> None:
    classes = class_layout(40)
    staff = plan_staffing(classes)
    assert 55 <= len(staff.teachers) <= 65
    placements = school_timetable(classes, staff, seed=1)
    check_timetable(placements)
    per_class = Counter(p.class_key for p in placements)
    levels = {cls: level for cls, level, _ in classes}
    assert all(per_class[cls] == sum(HOURS[levels[cls]].values()) for cls in per_class)
    assert len(staff.homeroom) == 40
    assert len(set(staff.homeroom.values())) == 40


def test_demo_timetable_is_reproducible() -> None:
    first, second = demo_timetable(), demo_timetable()
    assert first == second
    check_timetable(first)
    # The sixth lesson on Friday is free in the fifth grade (29 lessons a week).
    assert not [p for p in first if p.class_key.startswith("5") and p.weekday == 5 and p.number == 6]


def test_timetable_refuses_an_overloaded_teacher() -> None:
    demands = [Demand(f"{n}А", "busy", "MATH", 5) for n in range(1, 8)]
    with pytest.raises(TimetableError):
        build_timetable(demands, seed=1)


def test_names_are_reproducible_and_match_sex() -> None:
    a, b = NameMaker(7), NameMaker(7)
    for _ in range(50):
        fa, fb = a.family(), b.family()
        assert fa == fb
        girl = a.child(Sex.FEMALE, fa)
        assert girl == b.child(Sex.FEMALE, fb)
        assert girl.middle_name.endswith("на")
        assert girl.last_name == feminine_surname(fa.surname)
    assert feminine_surname("Вишневский") == "Вишневская"
    assert feminine_surname("Ковальчук") == "Ковальчук"


def test_identifier_checksums() -> None:
    assert snils_is_valid("11223344595")  # the published example 112-233-445 95
    assert all(snils_is_valid(snils(n)) for n in range(0, 5000, 7))
    assert okpo_is_valid("41535279")
    assert stdnum_inn.is_valid(DEMO_SCHOOL_INN)


def test_topics_mark_tests_every_eighth_lesson() -> None:
    topics = [lesson_topic("MATH", n, 5) for n in range(16)]
    assert [n for n, (_, is_test) in enumerate(topics) if is_test] == [7, 15]
    assert topics[7][0].startswith("Контрольная работа")
    # Every subject is taught at some level.
    assert {s.code for s in SUBJECTS} == {code for hours in HOURS.values() for code in hours}
