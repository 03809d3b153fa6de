"""Declarative partitioning on PostgreSQL (db/partitioning.py): the schema the migrations
make, and the hot statements the app issues reading one partition only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.base import Base
from ediary_gql.db.models.enums import AttendanceStatus
from ediary_gql.db.partitioning import MODULUS, partition_key, partition_names
from tests.diary_support import MONDAY, School1, build_school, gid, token
from tests.support import GraphQLClient

pytestmark = pytest.mark.usefixtures("postgres_only")

PARTITIONED = [t for t in Base.metadata.sorted_tables if partition_key(t) is not None]

DIARY = """
query($c: ID!, $from: Date!, $to: Date!) {
  diary(childId: $c, from: $from, to: $to) { date lessons { lesson { id } attendance { status } } }
}"""
JOURNAL = """
query($c: ID!, $s: ID!, $p: ID!) {
  classJournal(classId: $c, subjectId: $s, periodId: $p) { rows { cells { attendance { status } } } }
}"""
MARK = "mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { code } } }"


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


async def _home(session: AsyncSession, school_id: int) -> str:
    found = await session.scalar(
        text("SELECT DISTINCT tableoid::regclass::text FROM attendances WHERE school_id = :s"), {"s": school_id}
    )
    assert isinstance(found, str)
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
    assert [t.name for t in PARTITIONED] == ["attendances"]
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


STATISTICS = """
query($c: ID!, $from: Date!, $to: Date!, $by: AttendanceGroupBy!) {
  attendanceStatistics(classId: $c, from: $from, to: $to, groupBy: $by, threshold: 0.1) {
    total { present } groups { label } missingOver { childId }
  }
}"""


@pytest.mark.parametrize("group_by", ["DAY", "CHILD"])
async def test_attendance_statistics_read_one_partition(
    gql: GraphQLClient, session: AsyncSession, group_by: str
) -> None:
    # given marks of two schools in two partitions
    world, _, home = await _two_schools(session)
    teacher = await token(gql, world.teacher)
    # when the class's teacher asks for the week's attendance figures
    variables = {"c": gid("SchoolClass", world.school_class.id), "from": MONDAY.isoformat(), "to": "2026-09-13"}
    with _statements() as seen:
        data = await gql.data(STATISTICS, {**variables, "by": group_by}, token=teacher)
    assert data["attendanceStatistics"]["groups"]
    # then every statement over the marks read the class's school's partition only
    reads = [(s, p) for s, p in seen if "attendances" in s]
    assert reads
    for statement, parameters in reads:
        assert await _partitions_read(session, statement, parameters, "attendances") == {home}
