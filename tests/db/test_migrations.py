"""Migrations build exactly the models' schema, and go down and up again."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from ediary_gql.db import models  # noqa: F401 - the whole metadata
from ediary_gql.db.base import Base
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import downgrade, upgrade
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import GradeKind, ReportGrouping, ReportKind
from ediary_gql.db.models.grades import ControlType
from ediary_gql.db.models.reports import ReportTemplate
from ediary_gql.db.models.schools import StaffBinding
from ediary_gql.db.partitioning import include_name, include_object
from ediary_gql.settings import Settings
from tests.factories import (
    make_attendance,
    make_audit_entry,
    make_control_type,
    make_enrollment,
    make_event_record,
    make_grade,
    make_grade_revision,
    make_guardianship,
    make_homework,
    make_homework_attachment,
    make_homework_completion,
    make_notification,
    make_notification_delivery,
    make_report_template,
    make_school,
    make_school_class,
    make_staff_binding,
    make_user,
)


@pytest_asyncio.fixture
async def scratch_url(settings: Settings, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database on the configured backend."""
    if settings.is_sqlite:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(str(make_url(settings.database_url).set(database="postgres")))
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(settings.database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def _diff(connection: Connection) -> list[object]:
    # Partitions are made from their parent's key (db/partitioning.py), not declared as
    # tables: they are left out of the comparison, and checked in test_partitions_*; so is
    # an index made on one backend only (partitioning.sqlite_only, by_id) on the other.
    opts = {
        "compare_type": True,
        "include_name": include_name,
        "include_object": include_object(connection.dialect.name),
    }
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_matches_the_models_and_round_trips(scratch_url: str) -> None:
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
        await asyncio.to_thread(downgrade, scratch_url, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: c.dialect.get_table_names(c))
            assert set(tables) <= {"alembic_version"}
        await asyncio.to_thread(upgrade, scratch_url)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_staff_binding_comments_are_copied_from_the_audit_trail(scratch_url: str) -> None:
    # given requests made while their comments went to the audit trail only
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with create_session_factory(engine)() as session:
            commented = await make_staff_binding(session)
            silent = await make_staff_binding(session)
            for binding, comment in ((commented, "Приказ № 12 от 01.09"), (silent, None)):
                await make_audit_entry(
                    session,
                    actor_user_id=binding.user_id,
                    action="requestStaffBinding",
                    entity_type="StaffBinding",
                    entity_id=binding.id,
                    before=None,
                    after={"status": "PENDING", "comment": comment},
                )
            await session.commit()
        await asyncio.to_thread(downgrade, scratch_url, "145c484ae209")
        # when the column comes
        await asyncio.to_thread(upgrade, scratch_url)
        # then each binding has its own comment back
        async with create_session_factory(engine)() as session:
            found = {b.id: b.comment for b in await session.scalars(sa.select(StaffBinding))}
        assert found == {commented.id: "Приказ № 12 от 01.09", silent.id: None}
    finally:
        await engine.dispose()


async def test_child_records_get_their_school_and_keep_their_rows(scratch_url: str) -> None:
    # given a database of the revision before children were held by one school, with a
    # child enrolled at two schools (the old claim), grades, attendance and a guardian
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with create_session_factory(engine)() as session:
            grade = await make_grade(session)
            child = await session.get_one(Child, grade.child_id)
            first = await session.get_one(SchoolClass, grade.class_id)
            await make_attendance(session, child_id=child.id, lesson_id=grade.lesson_id)
            await make_guardianship(session, child_id=child.id)
            later = await make_school_class(session)
            await make_enrollment(session, child_id=child.id, class_id=later.id, starts_on=dt.date(2026, 10, 1))
            await session.commit()
            ids = (child.id, first.school_id)
        await asyncio.to_thread(downgrade, scratch_url, "e288595e16b4")
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE children SET school_id = NULL"))
        # when the migration runs
        await asyncio.to_thread(upgrade, scratch_url)
        # then nothing referring to the child is lost, and the school that had it first
        # (and has it still) holds its record, not the one that claimed it later
        async with engine.connect() as conn:
            counts = [
                (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608 - fixed names
                for table in ("children", "grades", "attendances", "enrollments", "guardianships")
            ]
            held = (await conn.execute(text("SELECT school_id FROM children WHERE id = :i"), {"i": ids[0]})).scalar()
        assert counts == [1, 1, 1, 2, 1]
        assert held == ids[1]
    finally:
        await engine.dispose()


async def test_every_school_gets_the_default_control_types_once(scratch_url: str) -> None:
    # given schools of the revision before every school had the defaults: one with none,
    # one with its own TEST (another name and weight) and a type of its own
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with create_session_factory(engine)() as session:
            bare = await make_school(session)
            own = await make_school(session)
            await make_control_type(session, school_id=own.id, code="TEST", name="Контрольная", weight=3)
            await make_control_type(session, school_id=own.id, code="PROJECT", name="Проект", weight=2)
            await session.commit()
        await asyncio.to_thread(downgrade, scratch_url, "37a91b94236b")
        # when the migration runs, and runs again
        await asyncio.to_thread(upgrade, scratch_url)
        await asyncio.to_thread(downgrade, scratch_url, "37a91b94236b")
        await asyncio.to_thread(upgrade, scratch_url)
        # then each school has every default once, and keeps what it had as it was
        async with create_session_factory(engine)() as session:
            rows = (await session.scalars(sa.select(ControlType).order_by(ControlType.code))).all()
        found = {(r.school_id, r.code): (r.name, str(r.weight)) for r in rows}
        defaults = {
            "CHECK": ("Проверочная работа", "1.50"),
            "HOMEWORK": ("Домашняя работа", "1.00"),
            "ORAL": ("Устный ответ", "1.00"),
            "QUIZ": ("Самостоятельная работа", "1.50"),
            "TEST": ("Контрольная работа", "2.00"),
        }
        assert len(rows) == 5 + 6
        assert {code: found[(bare.id, code)] for code in defaults} == defaults
        assert found[(own.id, "TEST")] == ("Контрольная", "3.00")
        assert found[(own.id, "PROJECT")] == ("Проект", "2.00")
        assert {code: found[(own.id, code)] for code in defaults if code != "TEST"} == {
            code: v for code, v in defaults.items() if code != "TEST"
        }
    finally:
        await engine.dispose()


async def test_every_school_gets_the_built_in_report_templates_once(scratch_url: str) -> None:
    # given schools of the revision before the built-in templates were written with the
    # school: one with none, one with a default of its own, one with a template of its own
    # under the built-in name
    before = "b2c3d4e5f6a7"
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    progress, attendance = "Успеваемость (по умолчанию)", "Посещаемость (по умолчанию)"
    try:
        async with create_session_factory(engine)() as session:
            bare = await make_school(session)
            own = await make_school(session)
            named = await make_school(session)
            author = await make_user(session)
            mine = {
                "kind": ReportKind.PROGRESS,
                "columns": ["DATE", "GRADE"],
                "group_by": ReportGrouping.DATE,
                "created_by_id": author.id,
            }
            await make_report_template(session, school_id=own.id, name="Краткий", is_default=True, **mine)
            await make_report_template(session, school_id=named.id, name=progress, is_default=False, **mine)
            await session.commit()
        await asyncio.to_thread(downgrade, scratch_url, before)
        # when the migration runs, and runs again
        await asyncio.to_thread(upgrade, scratch_url)
        await asyncio.to_thread(downgrade, scratch_url, before)
        await asyncio.to_thread(upgrade, scratch_url)
        # then each school has each built-in once, its default unless it made one of its
        # own, and keeps what it had as it was
        async with create_session_factory(engine)() as session:
            rows = (await session.scalars(sa.select(ReportTemplate).order_by(ReportTemplate.id))).all()
        found = {(r.school_id, r.name): (r.kind.value, r.is_default, r.created_by_id, list(r.columns)) for r in rows}
        built_in_progress = ["DATE", "GRADE", "CONTROL_TYPE", "WEIGHT", "TEACHER"]
        built_in_attendance = ["DATE", "SUBJECT", "STATUS", "MINUTES_LATE"]
        assert found == {
            (bare.id, progress): ("PROGRESS", True, None, built_in_progress),
            (bare.id, attendance): ("ATTENDANCE", True, None, built_in_attendance),
            (own.id, "Краткий"): ("PROGRESS", True, author.id, ["DATE", "GRADE"]),
            (own.id, progress): ("PROGRESS", False, None, built_in_progress),
            (own.id, attendance): ("ATTENDANCE", True, None, built_in_attendance),
            (named.id, progress): ("PROGRESS", False, author.id, ["DATE", "GRADE"]),
            (named.id, attendance): ("ATTENDANCE", True, None, built_in_attendance),
        }
        assert len(rows) == len(found)
    finally:
        await engine.dispose()


async def test_marks_and_grades_get_their_school_and_move_into_the_partitions(scratch_url: str) -> None:
    # given grades and attendance of two schools, of the revision before they carried
    # their school (and, on PostgreSQL, before attendance was partitioned)
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with create_session_factory(engine)() as session:
            for _ in range(2):
                grade = await make_grade(session)
                await make_attendance(session, child_id=grade.child_id, lesson_id=grade.lesson_id)
            await session.commit()
        await asyncio.to_thread(downgrade, scratch_url, "1333f954ab59")
        # when the migration runs
        await asyncio.to_thread(upgrade, scratch_url)
        # then every row is kept, with its lesson's (its class's) school, and new ids
        # still come from the same sequence
        async with engine.connect() as conn:
            marks = (
                await conn.execute(
                    text(
                        "SELECT a.id, a.school_id, l.school_id FROM attendances a"
                        " JOIN lessons l ON l.id = a.lesson_id ORDER BY a.id"
                    )
                )
            ).all()
            grades = (
                await conn.execute(
                    text(
                        "SELECT g.school_id, c.school_id FROM grades g"
                        " JOIN school_classes c ON c.id = g.class_id ORDER BY g.id"
                    )
                )
            ).all()
        assert len(marks) == 2
        assert len({m[1] for m in marks}) == 2
        assert all(m[1] == m[2] for m in marks)
        assert len(grades) == 2
        assert all(g[0] == g[1] for g in grades)
        async with create_session_factory(engine)() as session:
            grade = await make_grade(session)
            later = await make_attendance(session, child_id=grade.child_id, lesson_id=grade.lesson_id)
            await session.commit()
        assert later.id > max(m[0] for m in marks)
        # and it goes down again with the rows
        await asyncio.to_thread(downgrade, scratch_url, "1333f954ab59")
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM attendances"))).scalar_one()
        assert count == 3
    finally:
        await engine.dispose()


async def test_audit_entries_move_into_their_months_and_back(scratch_url: str, settings: Settings) -> None:
    # given entries of this month and of fourteen months ago, of the revision before the
    # trail was partitioned by month on PostgreSQL
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    now = dt.datetime.now(dt.UTC)
    long_ago = now.replace(day=1, hour=12) - dt.timedelta(days=14 * 31)
    try:
        async with create_session_factory(engine)() as session:
            old = await make_audit_entry(session, created_at=long_ago)
            recent = await make_audit_entry(session)
            await session.commit()
            ids = {
                old.id: f"audit_entries_y{long_ago:%Y}m{long_ago:%m}",
                recent.id: f"audit_entries_y{now:%Y}m{now:%m}",
            }
        await asyncio.to_thread(downgrade, scratch_url, "8b3d6e2f4a10")
        # when the migration runs
        await asyncio.to_thread(upgrade, scratch_url)
        # then every entry is kept, on PostgreSQL in its month's partition, and new ids
        # still come from the same sequence
        where = "tableoid::regclass::text" if not settings.is_sqlite else "'-'"
        async with engine.connect() as conn:
            rows = (await conn.execute(text(f"SELECT id, {where} FROM audit_entries ORDER BY id"))).all()  # noqa: S608
        assert [r[0] for r in rows] == sorted(ids)
        if not settings.is_sqlite:
            assert {r[0]: r[1] for r in rows} == ids
        async with create_session_factory(engine)() as session:
            later = await make_audit_entry(session)
            await session.commit()
        assert later.id > max(ids)
        # and it goes down again with the rows
        await asyncio.to_thread(downgrade, scratch_url, "8b3d6e2f4a10")
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM audit_entries"))).scalar_one()
        assert count == 3
    finally:
        await engine.dispose()


async def test_notifications_move_into_the_partitions_with_their_deliveries(scratch_url: str) -> None:
    # given two users' notifications and deliveries, of the revision before the inbox was
    # partitioned (and deliveries carried their recipient)
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with create_session_factory(engine)() as session:
            for _ in range(2):
                note = await make_notification(session)
                await make_notification_delivery(session, notification_id=note.id)
            await session.commit()
        await asyncio.to_thread(downgrade, scratch_url, "8b3d6e2f4a10")
        # when the migration runs
        await asyncio.to_thread(upgrade, scratch_url)
        # then every row is kept, each delivery with its notification's recipient, and new
        # ids still come from the same sequence
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT n.id, n.user_id, d.user_id FROM notifications n"
                        " JOIN notification_deliveries d ON d.notification_id = n.id ORDER BY n.id"
                    )
                )
            ).all()
        assert len(rows) == 2
        assert len({r[1] for r in rows}) == 2
        assert all(r[1] == r[2] for r in rows)
        async with create_session_factory(engine)() as session:
            later = await make_notification_delivery(session)
            await session.commit()
        assert later.notification_id > max(r[0] for r in rows)
        # and a deleted notification takes its deliveries along
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM notifications WHERE id = :i"), {"i": rows[0][0]})
            left = (await conn.execute(text("SELECT count(*) FROM notification_deliveries"))).scalar_one()
        assert left == 2
        # and it goes down again with the rows
        await asyncio.to_thread(downgrade, scratch_url, "8b3d6e2f4a10")
        async with engine.connect() as conn:
            counts = [
                (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608 - fixed names
                for table in ("notifications", "notification_deliveries")
            ]
        assert counts == [2, 2]
    finally:
        await engine.dispose()


async def test_grades_move_into_the_partitions_and_their_history_gets_its_school(scratch_url: str) -> None:
    # given grades of two schools with their history, of the revision before grades were
    # partitioned (and before the history carried the grade's school)
    before = "8b3d6e2f4a10"
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with create_session_factory(engine)() as session:
            for _ in range(2):
                grade = await make_grade(session)
                await make_grade_revision(session, grade_id=grade.id)
            final = await make_grade(session, lesson_id=None, kind=GradeKind.PERIOD_FINAL)
            await session.commit()
        await asyncio.to_thread(downgrade, scratch_url, before)
        # when the migration runs
        await asyncio.to_thread(upgrade, scratch_url)
        # then every grade and step is kept, each step with its grade's school
        async with engine.connect() as conn:
            grades = (await conn.execute(text("SELECT id, school_id FROM grades ORDER BY id"))).all()
            steps = (
                await conn.execute(
                    text(
                        "SELECT r.school_id, g.school_id FROM grade_revisions r"
                        " JOIN grades g ON g.id = r.grade_id ORDER BY r.id"
                    )
                )
            ).all()
        assert len(grades) == 3
        assert len({g[1] for g in grades}) == 3
        assert len(steps) == 2
        assert all(s[0] == s[1] for s in steps)
        # and new ids come from the same sequence, a second live final is still refused,
        # and deleting a grade takes its history with it
        async with create_session_factory(engine)() as session:
            later = await make_grade(session)
            await session.commit()
            assert later.id > max(g[0] for g in grades)
            with pytest.raises(sa.exc.IntegrityError):
                async with session.begin_nested():
                    await make_grade(
                        session,
                        lesson_id=None,
                        kind=GradeKind.PERIOD_FINAL,
                        child_id=final.child_id,
                        class_id=final.class_id,
                        subject_id=final.subject_id,
                        period_id=final.period_id,
                    )
            await session.rollback()
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM grades WHERE id = :i"), {"i": grades[0][0]})
            left = (await conn.execute(text("SELECT count(*) FROM grade_revisions"))).scalar_one()
        assert left == 1
        # and it goes down again with the rows
        await asyncio.to_thread(downgrade, scratch_url, before)
        async with engine.connect() as conn:
            counts = [
                (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608 - fixed names
                for table in ("grades", "grade_revisions")
            ]
        assert counts == [3, 1]
    finally:
        await engine.dispose()


async def test_events_move_into_their_days_and_back(scratch_url: str, settings: Settings) -> None:
    # given placed events of today and of ten days ago, of the revision before the log was
    # partitioned by day on PostgreSQL
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    now = dt.datetime.now(dt.UTC)
    long_ago = now - dt.timedelta(days=10)
    try:
        async with create_session_factory(engine)() as session:
            old = await make_event_record(session, created_at=long_ago, position=1)
            recent = await make_event_record(session, position=2)
            await session.commit()
            homes = {
                old.id: f"event_log_y{long_ago:%Y}m{long_ago:%m}d{long_ago:%d}",
                recent.id: f"event_log_y{now:%Y}m{now:%m}d{now:%d}",
            }
        await asyncio.to_thread(downgrade, scratch_url, "b5f8d1e6a274")
        # when the migration runs
        await asyncio.to_thread(upgrade, scratch_url)
        # then every event is kept with its position, on PostgreSQL in its day's partition,
        # and new ids still come from the same sequence
        where = "tableoid::regclass::text" if not settings.is_sqlite else "'-'"
        async with engine.connect() as conn:
            rows = (await conn.execute(text(f"SELECT id, position, {where} FROM event_log ORDER BY id"))).all()  # noqa: S608
        assert [(r[0], r[1]) for r in rows] == [(old.id, 1), (recent.id, 2)]
        if not settings.is_sqlite:
            assert {r[0]: r[2] for r in rows} == homes
        async with create_session_factory(engine)() as session:
            later = await make_event_record(session)
            await session.commit()
        assert later.id > recent.id
        # and it goes down again with the rows
        await asyncio.to_thread(downgrade, scratch_url, "b5f8d1e6a274")
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM event_log"))).scalar_one()
        assert count == 3
    finally:
        await engine.dispose()


async def test_homework_completions_and_attachments_get_their_homeworks_school(scratch_url: str) -> None:
    # given a completion and a file of homework of two schools, of the revision before these
    # rows carried their school
    before = "d8b2f5a1c396"
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with create_session_factory(engine)() as session:
            for _ in range(2):
                homework = await make_homework(session)
                await make_homework_completion(session, homework_id=homework.id)
                await make_homework_attachment(session, homework_id=homework.id)
            await session.commit()
        await asyncio.to_thread(downgrade, scratch_url, before)
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in sa.inspect(c).get_columns("homework_completions")}
            )
        assert "school_id" not in columns
        # when the migration runs
        await asyncio.to_thread(upgrade, scratch_url)
        # then every row is kept with its homework's school
        async with engine.connect() as conn:
            rows = {
                table: (
                    await conn.execute(
                        text(
                            f"SELECT t.school_id, h.school_id FROM {table} t"  # noqa: S608 - fixed names
                            " JOIN homeworks h ON h.id = t.homework_id ORDER BY t.id"
                        )
                    )
                ).all()
                for table in ("homework_completions", "homework_attachments")
            }
        for found in rows.values():
            assert len(found) == 2
            assert all(r[0] == r[1] for r in found)
            assert len({r[0] for r in found}) == 2
        # and it goes down again with the rows
        await asyncio.to_thread(downgrade, scratch_url, before)
        async with engine.connect() as conn:
            counts = [
                (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608 - fixed names
                for table in ("homework_completions", "homework_attachments")
            ]
        assert counts == [2, 2]
    finally:
        await engine.dispose()
