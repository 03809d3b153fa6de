"""The models on both backends: the schema creates, every factory makes its row,
and the database itself refuses rows that break the rules."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint, func, make_url, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

import tests.factories as f
from ediary_gql.db import models
from ediary_gql.db.base import Base
from ediary_gql.db.engine import SessionFactory, create_engine, create_session_factory
from ediary_gql.db.partitioning import partition_key

# Async tests run on the suite's one event loop (the live server's, when there is one).
on_suite_loop = pytest.mark.asyncio(loop_scope="session")

# Where we may create and drop a scratch database of our own: the server of a
# PostgreSQL DATABASE_URL if one is set, else the local one.
_configured = os.environ.get("DATABASE_URL", "")
PG_SERVER = make_url(
    _configured if _configured.startswith("postgresql") else "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)

Check = Callable[[AsyncSession], Awaitable[Any]]


def _pg_url(database: str) -> str:
    return PG_SERVER.set(database=database).render_as_string(hide_password=False)


async def _pg_admin(sql: str) -> None:
    engine = create_engine(_pg_url("postgres"))
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=["sqlite", "postgresql"])
async def sessions(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[SessionFactory]:
    """Sessions on a scratch database of its own with the whole schema, per backend."""
    scratch = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('models') / 'models.db'}"
    else:
        scratch = f"models_scratch_{uuid.uuid4().hex[:12]}"
        try:
            await _pg_admin(f'CREATE DATABASE "{scratch}"')
        except OSError as exc:  # nothing listening
            if os.environ.get("CI"):
                raise
            pytest.skip(f"PostgreSQL is not reachable at {PG_SERVER.host}:{PG_SERVER.port}: {exc}")
        url = _pg_url(scratch)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield create_session_factory(engine)
    finally:
        await engine.dispose()
        if scratch is not None:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


# --- the schema itself --------------------------------------------------------


def test_models_package_registers_every_model() -> None:
    mapped = {m.class_.__tablename__ for m in Base.registry.mappers}
    assert mapped == set(Base.metadata.tables)
    exported = {getattr(models, name).__tablename__ for name in models.__all__}
    assert exported == mapped


def test_every_foreign_key_is_indexed_and_has_a_delete_rule() -> None:
    missing = []
    for table in Base.metadata.sorted_tables:
        leading = {next(iter(ix.columns)).name for ix in table.indexes}
        leading |= {
            next(iter(c.columns)).name
            for c in table.constraints
            if isinstance(c, UniqueConstraint | PrimaryKeyConstraint) and len(c.columns)
        }
        # a partitioned table's primary key is (partition key, id) on PostgreSQL
        # (db/partitioning.py), an index that leads with the key; SQLite has no partitions
        if (key := partition_key(table)) is not None:
            leading.add(key)
        for fk in table.foreign_key_constraints:
            # a composite reference (into a partitioned table: (key, x_id)) is served by an
            # index leading with one of its columns
            if not set(fk.column_keys) & leading or fk.ondelete is None:
                missing.append(f"{table.name}.{'/'.join(fk.column_keys)}")
    assert missing == []


# --- factories ----------------------------------------------------------------

EVERY_FACTORY = [getattr(f, name) for name in f.__all__ if name.startswith("make_")]


@on_suite_loop
async def test_every_factory_makes_its_row(sessions: SessionFactory) -> None:
    async with sessions() as session:
        for make in EVERY_FACTORY:
            row = await make(session)
            assert row.__table__.name in Base.metadata.tables, make.__name__
        await session.commit()

    async with sessions() as session:
        empty = [
            table.name
            for table in Base.metadata.sorted_tables
            if not await session.scalar(select(func.count()).select_from(table))
        ]
    assert empty == []


@on_suite_loop
async def test_factories_fill_a_class_journal(sessions: SessionFactory) -> None:
    """Given rows thread through: one class, its subject, lessons, grades, marks."""
    async with sessions() as session:
        school_class = await f.make_school_class(session)
        subject = await f.make_subject(session, school_id=school_class.school_id)
        teacher = await f.make_teacher(session, school_id=school_class.school_id)
        children = [await f.make_enrolled_child(session, school_class=school_class) for _ in range(3)]
        lessons = [
            await f.make_lesson(session, school_class=school_class, subject=subject, teacher=teacher) for _ in range(10)
        ]
        for lesson in lessons:
            for child in children:
                await f.make_grade(session, lesson=lesson, child=child)
                await f.make_attendance(session, lesson=lesson, child=child)
        await session.commit()

        assert len({(x.date, x.start_time) for x in lessons}) == 10
        assert {x.school_id for x in lessons} == {school_class.school_id}
        grades = (await session.scalars(select(models.Grade).where(models.Grade.class_id == school_class.id))).all()
        assert len(grades) == 30
        assert {g.subject_id for g in grades} == {subject.id}
        assert {g.teacher_id for g in grades} == {teacher.id}


@on_suite_loop
async def test_factories_make_rows_in_every_state(sessions: SessionFactory) -> None:
    """Status-dependent columns are filled so the CHECK constraints accept the row."""
    e = models.enums
    async with sessions() as session:
        for school_status in e.SchoolStatus:
            await f.make_school(session, status=school_status)
        for binding_status in e.StaffBindingStatus:
            await f.make_staff_binding(session, status=binding_status)
        for application_status in e.ApplicationStatus:
            application = await f.make_application(session, status=application_status)
            assert (application.number is None) == (application_status is e.ApplicationStatus.DRAFT)
        for attendance_status in e.AttendanceStatus:
            await f.make_attendance(session, status=attendance_status)
        for feedback_status in e.FeedbackStatus:
            await f.make_feedback_ticket(session, status=feedback_status)
        for report_status in e.ReportStatus:
            await f.make_report(session, status=report_status)
        for request_status in models.personal_data.DataRequestStatus:
            export = request_status in f.personal_data.EXPORT_STATUSES
            await f.make_data_request(session, kind="EXPORT" if export else "ERASURE", status=request_status)
        for kind in e.GradeKind:
            await f.make_grade(session, kind=kind)
        await f.make_grade(session, value="PASS")
        await f.make_control_type(session, school_id=None)
        await f.make_application(session, school_id=None)
        await session.commit()


# --- constraints the database enforces ------------------------------------------


async def _duplicate_inn(session: AsyncSession) -> Any:
    school = await f.make_school(session)
    return await f.make_school(session, inn=school.inn)


async def _level_12(session: AsyncSession) -> Any:
    return await f.make_school_class(session, level=12, letter="А")


async def _duplicate_lesson(session: AsyncSession) -> Any:
    lesson = await f.make_lesson(session)
    return await f.make_lesson(session, class_id=lesson.class_id, date=lesson.date, start_time=lesson.start_time)


async def _grade_seven(session: AsyncSession) -> Any:
    return await f.make_grade(session, value="7", numeric_value=None)


async def _lesson_ends_before_it_starts(session: AsyncSession) -> Any:
    lesson = await f.make_lesson(session)
    return await f.make_lesson(
        session,
        class_id=lesson.class_id,
        start_time=lesson.end_time,
        end_time=lesson.start_time,
    )


async def _late_by_301_minutes(session: AsyncSession) -> Any:
    return await f.make_attendance(session, status=models.enums.AttendanceStatus.LATE, minutes_late=301)


async def _zero_weight(session: AsyncSession) -> Any:
    return await f.make_control_type(session, weight=Decimal("0"))


async def _duplicate_guardianship(session: AsyncSession) -> Any:
    link = await f.make_guardianship(session)
    return await f.make_guardianship(session, parent_id=link.parent_id, child_id=link.child_id)


async def _inn_with_letters(session: AsyncSession) -> Any:
    return await f.make_school(session, inn="77010A0001")


async def _missing_parent(session: AsyncSession) -> Any:
    return await f.make_lesson(session, teacher_id=10**9)


CHECKS: dict[str, tuple[Check, tuple[str, ...]]] = {
    "duplicate INN": (_duplicate_inn, ("uq_schools_inn", "schools.inn")),
    "class level 12": (_level_12, ("ck_school_classes_level",)),
    "duplicate lesson": (
        _duplicate_lesson,
        # on PostgreSQL the partition's index refuses it, named after the parent's columns
        ("class_id_date_start_time_school_id", "lessons.class_id, lessons.date, lessons.start_time"),
    ),
    "grade 7": (_grade_seven, ("ck_grades_value", "ck_grades_numeric_value")),
    "lesson ends first": (_lesson_ends_before_it_starts, ("ck_lessons_times",)),
    "301 minutes late": (_late_by_301_minutes, ("ck_attendances_minutes_late",)),
    "weight 0": (_zero_weight, ("ck_control_types_weight_positive",)),
    "duplicate guardianship": (
        _duplicate_guardianship,
        ("uq_guardianships_parent_id_child_id", "guardianships.parent_id, guardianships.child_id"),
    ),
    "INN with a letter": (_inn_with_letters, ("ck_schools_inn_digits",)),
    "unknown teacher": (_missing_parent, ("fk_lessons_teacher_id_users", "FOREIGN KEY")),
}


@on_suite_loop
@pytest.mark.parametrize("case", list(CHECKS))
async def test_database_refuses(sessions: SessionFactory, case: str) -> None:
    check, names = CHECKS[case]
    async with sessions() as session:
        with pytest.raises(IntegrityError) as caught:
            await check(session)
        await session.rollback()
    message = str(caught.value.orig)
    assert any(name in message for name in names), message


@on_suite_loop
async def test_application_version_refuses_a_stale_update(sessions: SessionFactory) -> None:
    async with sessions() as session:
        application = await f.make_application(session)
        await session.commit()
        assert application.version == 1

    async with sessions() as first, sessions() as second:
        mine = await first.get(models.Application, application.id)
        # end the reading transaction, as a client does between reading and saving
        await first.commit()
        theirs = await second.get(models.Application, application.id)
        assert mine is not None
        assert theirs is not None
        theirs.child_first_name = "Анна (исправлено)"
        await second.commit()
        mine.child_first_name = "Мария (исправлено)"
        with pytest.raises(StaleDataError):
            await first.commit()
