"""Declarative partitioning on PostgreSQL (db/partitioning.py): the schema the migrations
make, and the hot statements the app issues reading one partition only."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import delete, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.context import AppServices
from ediary_gql.db.base import Base, utcnow
from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import AttendanceStatus, Channel, NotificationKind, UserStatus
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.notifications import Notification, NotificationDelivery
from ediary_gql.db.models.users import User
from ediary_gql.db.partitioning import (
    DAYS_AHEAD,
    MODULUS,
    MONTHS_AHEAD,
    Period,
    add_months,
    add_periods,
    default_name,
    is_partition_of,
    partition_key,
    partition_kind,
    partition_names,
    period_of,
    range_ddl,
    range_name,
)
from ediary_gql.events import log as event_log
from ediary_gql.events.publish import unit_of_work
from ediary_gql.events.retention import prune_expired
from ediary_gql.resolvers.loaders import Loaders
from ediary_gql.services import notifications
from ediary_gql.services.audit_retention import maintain
from ediary_gql.services.delivery.dispatcher import claim_due
from ediary_gql.settings import Settings, get_settings
from tests.diary_support import MONDAY, PASSWORD, School1, build_school, gid, token
from tests.factories import (
    make_audit_entry,
    make_event_record,
    make_notification,
    make_notification_delivery,
    make_operator,
    make_user,
)
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
AUDIT = """
query($f: AuditLogFilter, $first: Int, $after: String) {
  auditLog(filter: $f, first: $first, after: $after) { edges { cursor node { id } } }
}"""
MARK = "mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { code } } }"
GRADE = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { code } } }"
CORRECT = "mutation($i: CorrectGradeInput!) { correctGrade(input: $i) { grade { value } userErrors { code } } }"
DELETE = "mutation($i: DeleteGradeInput!) { deleteGrade(input: $i) { grade { isDeleted } userErrors { code } } }"
INBOX = """query($unread: Boolean) {
  notifications(first: 10, unread: $unread) { totalCount edges { node { id title isRead } } }
}"""
MARK_READ = (
    "mutation($i: MarkNotificationsReadInput) { markNotificationsRead(input: $i) { marked userErrors { code } } }"
)
# A statement that reads the inbox table (not notification_deliveries).
READS_NOTIFICATIONS = re.compile(r"\b(FROM|JOIN|UPDATE)\s+notifications\b")


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
    parent = Base.metadata.tables[table]
    name = plan.get("Relation Name")
    if isinstance(name, str) and is_partition_of(name, parent) and plan.get("Actual Loops", 0) > 0:
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


async def _grades_home(session: AsyncSession, world: School1, home: str) -> str:
    """The first school's partition of grades: numbered as its attendance's (the same key and modulus)."""
    found = await _home(session, world.school.id, "grades")
    assert found == home.replace("attendances_", "grades_")
    return found


async def _inbox_home(session: AsyncSession, user_id: int) -> str:
    found = await session.scalar(
        text("SELECT DISTINCT tableoid::regclass::text FROM notifications WHERE user_id = :u"), {"u": user_id}
    )
    assert isinstance(found, str)
    return found


async def _two_inboxes(session: AsyncSession) -> tuple[User, User, str]:
    """Two users with notifications in different partitions; the first one's partition."""
    first = await make_user(session, password=PASSWORD, status=UserStatus.CONFIRMED)
    for i in range(3):
        await make_notification(session, user_id=first.id, title=f"n{i}", body="")
    home = await _inbox_home(session, first.id)
    for _ in range(20):
        other = await make_user(session, password=PASSWORD, status=UserStatus.CONFIRMED)
        await make_notification(session, user_id=other.id, title="чужое", body="")
        if await _inbox_home(session, other.id) != home:
            await session.commit()
            return first, other, home
    raise AssertionError("every user hashed to one partition")


async def _each_reads_only(session: AsyncSession, seen: list[tuple[str, Any]], home: str) -> int:
    """Every captured statement reading notifications runs on `home` only; how many there were."""
    reads = [(s, p) for s, p in seen if READS_NOTIFICATIONS.search(s)]
    for statement, parameters in reads:
        assert await _partitions_read(session, statement, parameters, "notifications") == {home}, statement
    return len(reads)


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
    assert sorted((t.name, partition_kind(t)) for t in PARTITIONED) == [
        ("attendances", "hash"),
        ("audit_entries", "month"),
        ("event_log", "day"),
        ("grades", "hash"),
        ("lessons", "hash"),
        ("notifications", "hash"),
    ]
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
        if partition_kind(table) == "hash":
            assert found[0] == f"HASH ({key})"
            assert found[1] == sorted(partition_names(table.name))
            assert len(found[1]) == MODULUS
            assert found[2] == [key, "id"]
        else:
            # the default, and the current period with the ones ahead (older ones may be there too)
            period: Period = "day" if partition_kind(table) == "day" else "month"
            current = period_of(period, utcnow())
            ahead = DAYS_AHEAD if period == "day" else MONTHS_AHEAD
            wanted = {
                default_name(table.name),
                *(range_name(table.name, period, add_periods(period, current, n)) for n in range(ahead + 1)),
            }
            assert found[0] == f"RANGE ({key})"
            assert wanted <= set(found[1])
            assert all(is_partition_of(name, table) for name in found[1])
            assert found[2] == ["id", key]
            assert ahead == 3  # as the migrations made them


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


def _at(month: dt.date, day: int = 15) -> dt.datetime:
    return dt.datetime(month.year, month.month, day, 12, tzinfo=dt.UTC)


async def test_the_audit_log_reads_only_the_months_its_page_can_be_in(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given entries of this month and one of two months ago, each in its month's partition
    current = period_of("month", utcnow())
    earlier = add_months(current, -2)
    await (await session.connection()).exec_driver_sql(range_ddl("audit_entries", "month", earlier))
    await make_operator(session, email="op-partitions@example.ru", password=PASSWORD)
    await make_audit_entry(session, action="probe", created_at=_at(earlier))
    for _ in range(2):
        await make_audit_entry(session, action="probe")
    await session.commit()
    operator = await gql.sign_in("op-partitions@example.ru", PASSWORD)
    # when an operator pages through this month's entries, newest first
    this_month = {"since": dt.datetime.combine(current, dt.time(), tzinfo=dt.UTC).isoformat(), "action": "probe"}
    with _statements() as seen:
        first = (await gql.data(AUDIT, {"f": this_month, "first": 1}, token=operator))["auditLog"]["edges"]
        after = first[0]["cursor"]
        second = (await gql.data(AUDIT, {"f": this_month, "first": 1, "after": after}, token=operator))["auditLog"]
        after = second["edges"][0]["cursor"]
        third = (await gql.data(AUDIT, {"f": this_month, "first": 1, "after": after}, token=operator))["auditLog"]
    assert len(first) == len(second["edges"]) == 1
    assert first[0]["node"]["id"] != second["edges"][0]["node"]["id"]
    assert third["edges"] == []  # the entry of two months ago is not this month's
    reads = [(s, p) for s, p in seen if "FROM audit_entries" in s and s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3
    # then the first page read no month before this one (the months ahead and the
    # default may hold rows from `since` on) ...
    later = {
        default_name("audit_entries"),
        *(range_name("audit_entries", "month", add_months(current, n)) for n in range(12)),
    }
    read = await _partitions_read(session, *reads[0], "audit_entries")
    assert range_name("audit_entries", "month", current) in read
    assert read <= later
    # ... and a page after a cursor of this month read this month's partition alone
    for statement, parameters in reads[1:]:
        assert "created_at <=" in statement
        assert await _partitions_read(session, statement, parameters, "audit_entries") == {
            range_name("audit_entries", "month", current)
        }
    await session.rollback()


def test_audit_maintain_makes_the_months_ahead_and_drops_the_expired_ones(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given (on the suite's database) a month past a 6-month retention with an entry, an
    # older entry in the default, an entry of 5 months ahead in the default (its month
    # not made yet), and one of this month
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BROADCAST_URL", "memory://")
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret-key-of-enough-length")
    monkeypatch.setenv("AUDIT_RETENTION_MONTHS", "6")
    monkeypatch.setenv("AUDIT_PARTITIONS_AHEAD", "5")
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    current = period_of("month", utcnow())
    expired, older, ahead = add_months(current, -7), add_months(current, -9), add_months(current, 5)
    names = {m: range_name("audit_entries", "month", m) for m in (expired, current, add_months(current, 4), ahead)}

    async def run(work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    async def arrange(session: AsyncSession) -> list[int]:
        conn = await session.connection()
        for month in (add_months(current, 4), ahead):
            await conn.exec_driver_sql(f"DROP TABLE IF EXISTS {names[month]}")
        await conn.exec_driver_sql(range_ddl("audit_entries", "month", expired))
        ids = []
        for month in (expired, older, ahead, current):
            entry = AuditEntry(action="kept-probe", entity_type="User", created_at=_at(month))
            session.add(entry)
            await session.flush()
            ids.append(entry.id)
        return ids

    async def homes(session: AsyncSession) -> dict[int, str]:
        rows = await session.execute(
            text("SELECT id, tableoid::regclass::text FROM audit_entries WHERE action = 'kept-probe'")
        )
        return {row[0]: row[1] for row in rows}

    async def partitions(session: AsyncSession) -> set[str]:
        found = await session.scalars(
            text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'audit_entries'::regclass")
        )
        return set(found)

    async def tidy(session: AsyncSession) -> None:
        await session.execute(text("DELETE FROM audit_entries WHERE action = 'kept-probe'"))

    try:
        in_expired, in_older, in_ahead, in_current = asyncio.run(run(arrange))
        assert asyncio.run(run(homes))[in_ahead] == default_name("audit_entries")
        # when the maintenance runs
        result = runner.invoke(app, ["audit", "maintain"])
        assert result.exit_code == 0, result.output
        # then the months up to 5 ahead are there (the entry of then moved into its own),
        # the month past the retention is gone with its entry, and so is the older stray
        assert f"Made 2 partition(s): {names[add_months(current, 4)]}, {names[ahead]}." in result.output
        assert f"Dropped 1 partition(s): {names[expired]}." in result.output
        assert "Deleted 1 entry(ies)" in result.output
        have = asyncio.run(run(partitions))
        assert {names[current], names[add_months(current, 4)], names[ahead]} <= have
        assert names[expired] not in have
        assert asyncio.run(run(homes)) == {in_current: names[current], in_ahead: names[ahead]}
        assert not {in_expired, in_older} & set(asyncio.run(run(homes)))
        # and a second run finds nothing to do
        again = runner.invoke(app, ["audit", "maintain"])
        assert "Made 0 partition(s)" in again.output
        assert "Dropped 0 partition(s)" in again.output
    finally:
        asyncio.run(run(tidy))
        get_settings.cache_clear()


async def test_audit_maintenance_gives_up_rather_than_hold_up_the_writes(app_services: Any) -> None:
    # given a month ahead still to be made, and a transaction writing the trail meanwhile
    factory = app_services.session_factory
    ahead = range_name("audit_entries", "month", add_months(period_of("month", utcnow()), MONTHS_AHEAD))
    async with factory() as session, session.begin():
        await session.execute(text(f"DROP TABLE IF EXISTS {ahead}"))
    async with factory() as writer, writer.begin():
        await make_audit_entry(writer, action="kept-probe")
        # when the maintenance runs, it waits the lock timeout only, and fails that run
        started = asyncio.get_running_loop().time()
        with pytest.raises(DBAPIError, match="lock timeout"):
            await asyncio.wait_for(maintain(factory, retention_months=60, ahead=MONTHS_AHEAD), 10)
        assert asyncio.get_running_loop().time() - started < 10
        await writer.rollback()
    # and once the writer is done, the next run makes the month
    kept = await maintain(factory, retention_months=60, ahead=MONTHS_AHEAD)
    assert kept.made == [ahead]


async def test_deliveries_refer_to_their_notification_with_its_partition_key(session: AsyncSession) -> None:
    # the reference into the partitioned inbox names its key, and a deleted notification
    # takes its deliveries along
    found = (
        await session.execute(
            text(
                "SELECT confrelid::regclass::text, confdeltype::text,"
                " (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)"
                "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),"
                " (SELECT array_agg(a.attname::text ORDER BY k.n)"
                " FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)"
                "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)"
                " FROM pg_constraint c WHERE c.conname = 'fk_notification_deliveries_user_id_notifications'"
                " AND c.conparentid = 0"
            )
        )
    ).one()
    assert tuple(found) == ("notifications", "c", ["user_id", "notification_id"], ["user_id", "id"])
    # and no other index on the inbox than its key, the unread one and the look-up by id:
    # (user_id, id) is the key
    indexes = await session.scalars(
        text("SELECT indexname FROM pg_indexes WHERE tablename = 'notifications' ORDER BY indexname")
    )
    assert list(indexes) == ["ix_notifications_id", "ix_notifications_user_unread", "pk_notifications"]
    delivery = await make_notification_delivery(session)
    kept = await make_notification_delivery(session)
    await session.execute(delete(Notification).where(Notification.id == delivery.notification_id))
    left = await session.scalars(select(NotificationDelivery.id).execution_options(populate_existing=True))
    assert list(left) == [kept.id]
    await session.rollback()


async def test_the_inbox_reads_and_marks_one_partition(gql: GraphQLClient, session: AsyncSession) -> None:
    # given two users whose notifications live in different partitions
    user, _, home = await _two_inboxes(session)
    assert user.email is not None
    signed_in = await gql.sign_in(user.email, PASSWORD)
    # when the first one reads the inbox, the unread ones, marks one read and then the rest
    with _statements() as seen:
        inbox = (await gql.data(INBOX, {"unread": False}, token=signed_in))["notifications"]
        unread = (await gql.data(INBOX, {"unread": True}, token=signed_in))["notifications"]
        one = inbox["edges"][0]["node"]["id"]
        marked_one = await gql.data(MARK_READ, {"i": {"ids": [one]}}, token=signed_in)
        marked_rest = await gql.data(MARK_READ, {"i": None}, token=signed_in)
    assert (inbox["totalCount"], unread["totalCount"]) == (3, 3)
    assert marked_one["markNotificationsRead"] == {"marked": 1, "userErrors": []}
    assert marked_rest["markNotificationsRead"] == {"marked": 2, "userErrors": []}
    # then every statement that read (or updated) the inbox ran in the user's partition only
    assert await _each_reads_only(session, seen, home) >= 4
    await session.rollback()


async def test_delivering_reads_the_recipients_partition_only(app_services: AppServices, session: AsyncSession) -> None:
    # given a notice to a user whose inbox is in another partition than someone else's
    user, _, home = await _two_inboxes(session)
    with _statements() as seen:
        async with unit_of_work(app_services.session_factory, app_services.bus) as writing:
            await notifications.notify(
                writing, user=user, kind=NotificationKind.SECURITY, title="Вход", body="", channels=[Channel.PUSH]
            )
    # the deliveries are written in the same one statement, with the recipient
    writes = [s for s, _ in seen if s.startswith("INSERT INTO notification_deliveries")]
    assert len(writes) == 1
    assert "user_id" in writes[0]
    rows = (await session.execute(select(NotificationDelivery.user_id, NotificationDelivery.channel))).all()
    assert [tuple(r) for r in rows] == [(user.id, Channel.PUSH)]
    # when the dispatcher claims it
    with _statements() as seen:
        claimed = await claim_due(app_services.session_factory, now=utcnow(), limit=10, lease=dt.timedelta(minutes=1))
    assert [c.subject for c in claimed] == ["Вход"]
    # then its read of the notification's text ran in the recipient's partition only
    assert await _each_reads_only(session, seen, home) == 1
    await session.rollback()


async def test_the_live_feed_reads_a_notification_in_its_partition(
    app_services: AppServices, session: AsyncSession
) -> None:
    # given a new notification of a user, and another user's inbox elsewhere
    user, _, home = await _two_inboxes(session)
    note = await make_notification(session, user_id=user.id, title="Новое", body="")
    await session.commit()
    # when the feed reads it by its recipient and id (as notificationReceived does)
    loaders = Loaders(app_services.session_factory)
    with _statements() as seen:
        row = await loaders.by_partition(Notification).load((user.id, note.id))
    rows = [row] if row is not None else []
    assert [r.id for r in rows] == [note.id]
    assert isinstance(rows[0], Notification)
    # then it read the recipient's partition only
    assert await _each_reads_only(session, seen, home) == 1
    await session.rollback()


@pytest.mark.parametrize("table", ["attendances", "grades", "lessons", "notifications"])
async def test_a_look_up_by_id_alone_uses_an_index_of_id(session: AsyncSession, table: str) -> None:
    # a node or a loader by id does not know the partition key that leads the primary key
    # (the partitions are near empty here: a scan of each would win, so scans are off)
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = await session.scalar(text(f"EXPLAIN (FORMAT JSON) SELECT * FROM {table} WHERE id = 1"))  # noqa: S608
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def indexes(node: dict[str, Any]) -> list[str]:
        here = [node["Index Name"]] if "Index Name" in node else []
        return here + [name for child in node.get("Plans", []) for name in indexes(child)]

    used = indexes(plan[0]["Plan"])
    assert used
    assert all(re.fullmatch(rf"{table}_p\d+_id_idx", name) for name in used), used
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


async def _event_homes(factory: Any, kinds: list[str]) -> dict[str, tuple[int, str]]:
    """(position, partition) of the probe events still in the log, by kind."""
    async with factory() as session:
        rows = await session.execute(
            text("SELECT kind, position, tableoid::regclass::text FROM event_log WHERE kind = ANY(:k)"), {"k": kinds}
        )
        return {row[0]: (row[1], row[2]) for row in rows}


async def _event_partitions(factory: Any) -> set[str]:
    async with factory() as session:
        found = await session.scalars(
            text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'event_log'::regclass")
        )
        return set(found)


async def _old_day_of_events(factory: Any) -> tuple[str, dict[str, int]]:
    """A day partition of ten days ago holding an event, then a recent event, then one of a
    long transaction begun that day (appended then, committed and placed only now), then
    another recent one: the partition's name and the four positions by kind."""
    now = utcnow()
    old_day = period_of("day", now - dt.timedelta(days=10))
    async with factory() as session, session.begin():
        await session.execute(text(range_ddl("event_log", "day", old_day)))
    then = dt.datetime.combine(old_day, dt.time(12), tzinfo=dt.UTC)
    kinds = ["probe.old", "probe.recent", "probe.late", "probe.last"]
    for kind, created_at in zip(kinds, (then, now, then, now), strict=True):
        async with factory() as session, session.begin():
            await make_event_record(session, kind=kind, created_at=created_at)
        await event_log.place(factory)
    homes = await _event_homes(factory, kinds)
    old_name = range_name("event_log", "day", old_day)
    assert {kind: home[1] for kind, home in homes.items()} == {
        "probe.old": old_name,
        "probe.recent": range_name("event_log", "day", period_of("day", now)),
        "probe.late": old_name,
        "probe.last": range_name("event_log", "day", period_of("day", now)),
    }
    positions = {kind: home[0] for kind, home in homes.items()}
    assert positions["probe.old"] < positions["probe.recent"] < positions["probe.late"] < positions["probe.last"]
    return old_name, positions


async def test_event_prune_drops_whole_old_days_and_keeps_a_prefix(app_services: Any) -> None:
    # given a day of events past the 7-day retention, one of them placed after a recent
    # event, and a day ahead not made yet
    factory = app_services.session_factory
    ahead = range_name("event_log", "day", add_periods("day", period_of("day", utcnow()), DAYS_AHEAD))
    async with factory() as session, session.begin():
        await session.execute(text(f"DROP TABLE IF EXISTS {ahead}"))
    old_name, positions = await _old_day_of_events(factory)
    # when the log is pruned
    pruned = await prune_expired(factory, retention_days=7)
    # then the old day is dropped whole, the recent event placed before the late one goes
    # with it (a prefix), the last one is kept, and the day ahead is made
    assert pruned >= 3
    have = await _event_partitions(factory)
    assert old_name not in have
    assert ahead in have
    assert set(await _event_homes(factory, list(positions))) == {"probe.last"}
    # and a cursor into the pruned prefix is refused, while one at its end resumes with
    # every later event
    end = await event_log.head(factory)
    assert not await event_log.covers(factory, positions["probe.recent"], end=end)
    assert await event_log.covers(factory, positions["probe.late"], end=end)
    later = await event_log.read_after(factory, after=positions["probe.late"], limit=100_000)
    assert [e.position for e in later] == list(range(positions["probe.late"] + 1, end + 1))
    assert positions["probe.last"] in [e.position for e in later]


async def test_event_prune_deletes_the_rows_rather_than_wait_for_the_log(app_services: Any) -> None:
    # given a day of old events, and a transaction writing the log meanwhile
    factory = app_services.session_factory
    old_name, positions = await _old_day_of_events(factory)
    async with factory() as writer, writer.begin():
        await make_event_record(writer, kind="probe.writer")
        # when the log is pruned, it waits for the log's lock the lock timeout only
        started = asyncio.get_running_loop().time()
        pruned = await asyncio.wait_for(event_log.prune(factory, older_than=utcnow() - dt.timedelta(days=7)), 10)
        assert asyncio.get_running_loop().time() - started < 10
        await writer.rollback()
    # then it deleted the prefix's rows instead: the day is there, empty
    assert pruned >= 3
    assert old_name in await _event_partitions(factory)
    assert set(await _event_homes(factory, list(positions))) == {"probe.last"}
    async with factory() as session, session.begin():
        await session.execute(text(f"DROP TABLE {old_name}"))


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
