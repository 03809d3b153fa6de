"""Declarative partitioning on PostgreSQL (db/partitioning.py): the schema the migrations
make, and the hot statements the app issues reading one partition only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.base import Base
from ediary_gql.db.models.enums import AttendanceStatus
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.partitioning import MODULUS, partition_key, partition_names
from ediary_gql.resolvers.loaders import Loaders
from tests.diary_support import MONDAY, School1, build_school, gid, token
from tests.support import GraphQLClient

pytestmark = pytest.mark.usefixtures("postgres_only")

PARTITIONED = [t for t in Base.metadata.sorted_tables if partition_key(t) is not None]

DIARY = """
query($c: ID!, $from: Date!, $to: Date!) {
  diary(childId: $c, from: $from, to: $to) { date lessons { lesson { id } attendance { status } grades { value } } }
}"""
JOURNAL = """
query($c: ID!, $s: ID!, $p: ID!) {
  classJournal(classId: $c, subjectId: $s, periodId: $p) {
    rows { cells { attendance { status } grades { value } } average { average } }
  }
}"""
MARK = "mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { code } } }"
GRADE = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { code } } }"
CORRECT = "mutation($i: CorrectGradeInput!) { correctGrade(input: $i) { grade { value } userErrors { code } } }"
DELETE = "mutation($i: DeleteGradeInput!) { deleteGrade(input: $i) { grade { isDeleted } userErrors { code } } }"


@pytest.fixture
def postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("partitions are PostgreSQL's; on SQLite the tables are plain")


@contextmanager
def _statements() -> Iterator[list[tuple[str, Any]]]:
    """Every statement any engine of this process sends (the live server's included)."""
    seen: list[tuple[str, Any]] = []

    def heard(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not many:
            seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", heard)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", heard)


def _scanned(plan: dict[str, Any], table: str) -> set[str]:
    """The partitions of `table` the executed plan read (pruned ones are not in the plan,
    or were never executed when pruned at run time)."""
    found: set[str] = set()
    names = set(partition_names(table))
    if plan.get("Relation Name") in names and plan.get("Actual Loops", 0) > 0:
        found.add(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found |= _scanned(child, table)
    return found


async def _partitions_read(session: AsyncSession, statement: str, parameters: Any, table: str) -> set[str]:
    explain = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON) " + statement
    result = await session.execute(text("SELECT 1"))  # a connection in a transaction
    result.close()
    conn = await session.connection()
    raw = (await conn.exec_driver_sql(explain, tuple(parameters or ()))).scalar_one()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return _scanned(plan, table)


async def _home(session: AsyncSession, school_id: int, table: str = "attendances") -> str:
    """The partition of `table` holding the school's rows."""
    found = await session.scalar(
        text(f"SELECT DISTINCT tableoid::regclass::text FROM {table} WHERE school_id = :s"),  # noqa: S608 - fixed names
        {"s": school_id},
    )
    assert isinstance(found, str)
    return found


def _reads(seen: list[tuple[str, Any]], table: str) -> list[tuple[str, Any]]:
    """The statements that read `table` (a SELECT naming it, or a subquery of one)."""
    return [(s, p) for s, p in seen if f"FROM {table} " in s and s.lstrip().upper().startswith(("SELECT", "WITH"))]


def _reads_of_lessons(seen: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The statements that read `lessons` (the table, not the diary's CTE of that name)."""
    return [
        (s, p)
        for s, p in seen
        if re.search(r"\bFROM lessons\b", s) and s.lstrip().upper().startswith(("SELECT", "WITH"))
    ]


async def _lessons_home(session: AsyncSession, world: School1, home: str) -> str:
    """The first school's partition of lessons: numbered as its attendance's (the same key and modulus)."""
    found = await _home(session, world.school.id, "lessons")
    assert found == home.replace("attendances_", "lessons_")
    return found


async def _grades_home(session: AsyncSession, world: School1, home: str) -> str:
    """The first school's partition of grades: numbered as its attendance's (the same key and modulus)."""
    found = await _home(session, world.school.id, "grades")
    assert found == home.replace("attendances_", "grades_")
    return found


async def _two_schools(session: AsyncSession) -> tuple[School1, School1, str]:
    """Two schools whose marks live in different partitions; the first one's partition."""
    first = await build_school(session, children=2, weeks=1)
    home = await _home(session, first.school.id)
    for _ in range(10):
        other = await build_school(session, children=1, weeks=1)
        if await _home(session, other.school.id) != home:
            return first, other, home
    raise AssertionError("every school hashed to one partition")


async def test_partitioned_tables_have_their_key_partitions_and_primary_key(session: AsyncSession) -> None:
    # the migrations made each partitioned table of the models as db/partitioning.py says
    assert sorted(t.name for t in PARTITIONED) == ["attendances", "grades", "lessons"]
    for table in PARTITIONED:
        key = partition_key(table)
        found = (
            await session.execute(
                text(
                    "SELECT pg_get_partkeydef(c.oid),"
                    " (SELECT array_agg(i.inhrelid::regclass::text ORDER BY i.inhrelid::regclass::text)"
                    "  FROM pg_inherits i WHERE i.inhparent = c.oid),"
                    " (SELECT array_agg(a.attname::text ORDER BY k.n) FROM pg_constraint p"
                    "  CROSS JOIN unnest(p.conkey) WITH ORDINALITY AS k(attnum, n)"
                    "  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
                    "  WHERE p.conrelid = c.oid AND p.contype = 'p')"
                    " FROM pg_class c WHERE c.relname = :t AND c.relkind = 'p'"
                ),
                {"t": table.name},
            )
        ).one()
        assert found[0] == f"HASH ({key})"
        assert found[1] == sorted(partition_names(table.name))
        assert len(found[1]) == MODULUS
        assert found[2] == [key, "id"]


async def test_the_diary_reads_one_partition_of_attendance(gql: GraphQLClient, session: AsyncSession) -> None:
    # given marks of two schools in two partitions
    world, _, home = await _two_schools(session)
    parent = await token(gql, world.parent)
    # when a parent reads the child's week
    with _statements() as seen:
        data = await gql.data(
            DIARY,
            {"c": gid("Child", world.children[0].id), "from": MONDAY.isoformat(), "to": "2026-09-13"},
            token=parent,
        )
    assert any(d["lessons"][0]["attendance"] for d in data["diary"])
    # then the statement that read the marks read the child's school's partition only
    reads = [(s, p) for s, p in seen if "FROM attendances" in s]
    assert reads
    for statement, parameters in reads:
        assert await _partitions_read(session, statement, parameters, "attendances") == {home}


async def test_the_journal_reads_one_partition_of_attendance(gql: GraphQLClient, session: AsyncSession) -> None:
    world, _, home = await _two_schools(session)
    teacher = await token(gql, world.teacher)
    variables = {
        "c": gid("SchoolClass", world.school_class.id),
        "s": gid("Subject", world.subject.id),
        "p": gid("Period", world.period.id),
    }
    with _statements() as seen:
        data = await gql.data(JOURNAL, variables, token=teacher)
    assert data["classJournal"]["rows"]
    reads = [(s, p) for s, p in seen if "FROM attendances" in s]
    assert reads
    for statement, parameters in reads:
        assert await _partitions_read(session, statement, parameters, "attendances") == {home}


async def test_marking_attendance_reads_and_writes_one_partition(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a lesson of a school with marks, and another school with marks elsewhere
    world, _, home = await _two_schools(session)
    lesson = world.lessons[0]
    teacher = await token(gql, world.teacher)
    # when its teacher changes a mark
    marks = [{"childId": gid("Child", world.children[0].id), "status": AttendanceStatus.ABSENT.value}]
    with _statements() as seen:
        data = await gql.data(MARK, {"i": {"lessonId": gid("Lesson", lesson.id), "marks": marks}}, token=teacher)
    assert data["markAttendance"]["userErrors"] == []
    # then the marks it read were the lesson's school's partition's only
    reads = [(s, p) for s, p in seen if "FROM attendances" in s and s.lstrip().upper().startswith("SELECT")]
    assert reads
    for statement, parameters in reads:
        assert await _partitions_read(session, statement, parameters, "attendances") == {home}
    # and the upsert names the school, so the row is routed to (and conflicts within) it
    upserts = [s for s, _ in seen if s.startswith("INSERT INTO attendances")]
    assert len(upserts) == 1
    assert "school_id" in upserts[0]
    assert "ON CONFLICT (child_id, lesson_id, school_id)" in upserts[0]
    assert await _home(session, world.school.id) == home
    await session.rollback()


async def test_the_diary_and_the_journal_read_one_partition_of_grades(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given grades of two schools in two partitions
    world, _, home = await _two_schools(session)
    grades_home = await _grades_home(session, world, home)
    parent, teacher = await token(gql, world.parent), await token(gql, world.teacher)
    journal = {
        "c": gid("SchoolClass", world.school_class.id),
        "s": gid("Subject", world.subject.id),
        "p": gid("Period", world.period.id),
    }
    # when a parent reads the child's week and the teacher the class journal
    with _statements() as seen:
        diary = await gql.data(
            DIARY,
            {"c": gid("Child", world.children[0].id), "from": MONDAY.isoformat(), "to": "2026-09-13"},
            token=parent,
        )
        grid = await gql.data(JOURNAL, journal, token=teacher)
    assert any(d["lessons"][0]["grades"] for d in diary["diary"])
    assert grid["classJournal"]["rows"][0]["average"]["average"] is not None
    # then every statement that read grades (the diary's and the journal's cells, the
    # journal's averages) read the school's partition only
    reads = _reads(seen, "grades")
    assert len(reads) >= 2
    for statement, parameters in reads:
        assert await _partitions_read(session, statement, parameters, "grades") == {grades_home}


async def test_grade_writes_read_and_write_one_partition(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a school with grades, and another school with grades elsewhere
    world, _, home = await _two_schools(session)
    grades_home = await _grades_home(session, world, home)
    teacher = await token(gql, world.teacher)
    child = gid("Child", world.children[0].id)
    at_lesson = {"childId": child, "lessonId": gid("Lesson", world.lessons[0].id), "value": "4"}
    final = {"childId": child, "kind": "PERIOD_FINAL", "subjectId": gid("Subject", world.subject.id), "value": "5"}
    final["periodId"] = gid("Period", world.period.id)
    # when its teacher enters a grade at a lesson and a final grade, corrects one and deletes one
    with _statements() as seen:
        entered = [(await gql.data(GRADE, {"i": grade}, token=teacher))["enterGrade"] for grade in (at_lesson, final)]
        assert [e["userErrors"] for e in entered] == [[], []]
        first, second = (e["grade"]["id"] for e in entered)
        corrected = await gql.data(
            CORRECT, {"i": {"gradeId": first, "value": "5", "reason": "Пересдача"}}, token=teacher
        )
        deleted = await gql.data(DELETE, {"i": {"gradeId": second, "reason": "Ошибка"}}, token=teacher)
    assert corrected["correctGrade"] == {"grade": {"value": "5"}, "userErrors": []}
    assert deleted["deleteGrade"] == {"grade": {"isDeleted": True}, "userErrors": []}
    # then the grades they read (the final's duplicate check, the locked reads of
    # correctGrade and deleteGrade) and the rows they updated were the school's partition's only
    reads = _reads(seen, "grades")
    updates = [(s, p) for s, p in seen if s.startswith("UPDATE grades ")]
    assert (len(reads), len(updates)) == (3, 2)
    for statement, parameters in reads + updates:
        assert await _partitions_read(session, statement, parameters, "grades") == {grades_home}
    # and the inserts name the school, so each row is routed to its partition: the two
    # grades and their four steps of history (two entered, a correction, a deletion),
    # which refer to (school, grade)
    inserts = [s for s, _ in seen if s.startswith(("INSERT INTO grades ", "INSERT INTO grade_revisions "))]
    assert len(inserts) == 6
    assert all("school_id" in s for s in inserts)
    assert await _home(session, world.school.id, "grades") == grades_home
    history = await session.execute(
        text(
            "SELECT count(*), count(*) FILTER (WHERE r.school_id = g.school_id) FROM grade_revisions r"
            " JOIN grades g ON g.id = r.grade_id WHERE g.school_id = :s"
        ),
        {"s": world.school.id},
    )
    assert history.one() == (4, 4)
    await session.rollback()


async def test_the_grade_feed_reads_a_grade_by_its_school_in_one_partition(
    app_services: AppServices, session: AsyncSession
) -> None:
    # given grades of two schools in two partitions
    world, other, home = await _two_schools(session)
    grades_home = await _grades_home(session, world, home)
    mine = await session.scalar(select(Grade.id).where(Grade.school_id == world.school.id).limit(1))
    assert mine is not None
    # when the feed reads the grade an event names, by its (school, id)
    loaders = Loaders(app_services.session_factory)
    with _statements() as seen:
        found = await loaders.by_partition(Grade).load((world.school.id, mine))
        elsewhere = await Loaders(app_services.session_factory).by_partition(Grade).load((other.school.id, mine))
    # then it is found in its school's partition only, and not under another school
    assert found is not None
    assert found.id == mine
    assert elsewhere is None
    reads = _reads(seen, "grades")
    assert len(reads) == 2
    assert await _partitions_read(session, *reads[0], "grades") == {grades_home}
    await session.rollback()


async def test_the_diary_and_the_journal_read_one_partition_of_lessons(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given lessons of two schools in two partitions
    world, _, home = await _two_schools(session)
    lessons_home = await _lessons_home(session, world, home)
    parent, teacher = await token(gql, world.parent), await token(gql, world.teacher)
    journal = {
        "c": gid("SchoolClass", world.school_class.id),
        "s": gid("Subject", world.subject.id),
        "p": gid("Period", world.period.id),
    }
    # when a parent reads the child's week and the teacher the class journal
    with _statements() as seen:
        diary = await gql.data(
            DIARY,
            {"c": gid("Child", world.children[0].id), "from": MONDAY.isoformat(), "to": "2026-09-13"},
            token=parent,
        )
        grid = await gql.data(JOURNAL, journal, token=teacher)
    assert any(d["lessons"] for d in diary["diary"])
    assert grid["classJournal"]["rows"][0]["cells"]
    # then the statements that read lessons (the diary's, by the child's classes' schools;
    # the journal's, by the class's school) read the school's partition only
    reads = _reads_of_lessons(seen)
    assert len(reads) == 2
    for statement, parameters in reads:
        assert await _partitions_read(session, statement, parameters, "lessons") == {lessons_home}


async def test_marking_and_grading_read_the_lesson_in_one_partition(gql: GraphQLClient, session: AsyncSession) -> None:
    # given a lesson of a school, and another school with lessons elsewhere
    world, _, home = await _two_schools(session)
    lessons_home = await _lessons_home(session, world, home)
    teacher = await token(gql, world.teacher)
    lesson, child = gid("Lesson", world.lessons[0].id), gid("Child", world.children[0].id)
    marks = [{"childId": child, "status": AttendanceStatus.ABSENT.value}]
    # when its teacher marks attendance and enters a grade at it
    with _statements() as seen:
        marked = await gql.data(MARK, {"i": {"lessonId": lesson, "marks": marks}}, token=teacher)
        graded = await gql.data(GRADE, {"i": {"childId": child, "lessonId": lesson, "value": "4"}}, token=teacher)
    assert marked["markAttendance"]["userErrors"] == []
    assert graded["enterGrade"]["userErrors"] == []
    # then each read the lesson by its id within the teacher's school: its partition only
    reads = _reads_of_lessons(seen)
    assert len(reads) == 2
    for statement, parameters in reads:
        assert await _partitions_read(session, statement, parameters, "lessons") == {lessons_home}
    await session.rollback()
