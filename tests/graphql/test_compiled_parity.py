"""Compiled reads answer as the ordinary resolvers do (PostgreSQL).

The diary graph's reads are rendered into one SQL statement building the response
(schema/sql/, schema/execution.py); fields without SQL are completed per object.
Every selection here is sent over real HTTP to the test server and to a second one
with compiled reads switched off (COMPILED_READS=false), and the two bodies, data
and errors, must be equal, for readers who may and who may not see the records.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import GraphQLSchema, TypeInfo, TypeInfoVisitor, Visitor, get_named_type, parse, visit
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.diary_reads import FULL
from ediary_gql.app import create_app
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.enums import GradeAction, StaffRole
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.homework import Homework
from ediary_gql.schema.root import build_schema
from ediary_gql.schema.sql.described import DESCRIBED
from ediary_gql.settings import Settings, load_settings
from tests.conftest import LiveServer
from tests.diary_support import MONDAY, PASSWORD, School1, build_school, gid, token
from tests.factories import (
    make_attachment,
    make_grade_revision,
    make_guardianship,
    make_homework_attachment,
    make_lesson,
    make_school,
    make_staff_membership,
    make_user,
)
from tests.factories.homework import make_homework
from tests.support import GraphQLClient, StatementCounter, served

USER = "id lastName firstName middleName status isOperator fullName birthDate phone email sourcedId"
CHILD = "id lastName firstName middleName birthDate sex citizenship sourcedId fullName snils"
SUBJECT = "id name shortName sourcedId __typename"
CLASS = "id level letter sourcedId name"
LESSON = f"""id date startTime endTime lessonNumber room topic status sourcedId startsAt endsAt
  schoolClass {{ {CLASS} }} subject {{ {SUBJECT} }} teacher {{ {USER} }} substituteTeacher {{ id fullName }}"""
GRADE = f"""id value numericValue kind weight comment gradedOn isDeleted sourcedId
  child {{ {CHILD} }} subject {{ name }} teacher {{ {USER} }} lesson {{ id date }}
  period {{ id number name startsOn endsOn }}
  controlType {{ id code name weight isDefault }}
  history {{ action oldValue newValue oldComment newComment reason changedAt changedBy {{ id fullName phone }} }}"""
ATTENDANCE = f"""id status minutesLate reason markedAt sourcedId
  child {{ id fullName }} lesson {{ id topic }} markedBy {{ {USER} }}"""
HOMEWORK = """id text publishedOn dueOn expectedMinutes completion { done total }
  lesson { id } attachments { id fileName contentType sizeBytes sha256 createdAt url }"""

DIARY_ALL = f"""
query($c: ID!, $from: Date!, $to: Date!) {{
  diary(childId: $c, from: $from, to: $to) {{
    __typename date
    lessons {{
      lesson {{ ...L }}
      again: lesson {{ id room }}
      subject {{ {SUBJECT} }}
      teacher {{ id lastName firstName middleName fullName __typename }}
      homework {{ isDone homework {{ {HOMEWORK} }} }}
      grades {{ {GRADE} }}
      attendance {{ {ATTENDANCE} }}
    }}
  }}
}}
fragment L on Lesson {{ {LESSON} }}"""

DIARY_SCREEN = """
query($c: ID!, $from: Date!, $to: Date!) {
  diary(childId: $c, from: $from, to: $to) {
    date
    lessons {
      lesson { id startTime endTime room topic }
      subject { name }
      grades { value weight controlType { name weight } }
      attendance { status }
    }
  }
}"""

DIARY_CONDITIONS = """
query($c: ID!, $from: Date!, $to: Date!, $s: ID, $more: Boolean!, $less: Boolean!) {
  diary(childId: $c, from: $from, to: $to, subjectId: $s) {
    date
    lessons {
      lesson { id topic @include(if: $more) starts: startsAt @skip(if: $less) }
      ... @include(if: $more) { grades { id history { action } teacher { id } } }
      ...Marks @skip(if: $less)
    }
  }
}
fragment Marks on DiaryLesson { attendance { status markedBy { fullName } } homework { isDone } }"""

JOURNAL_ALL = f"""
query($c: ID!, $s: ID!, $p: ID!) {{
  classJournal(classId: $c, subjectId: $s, periodId: $p) {{
    __typename classId subjectId periodId
    lessons {{ id date topic subject {{ name }} }}
    children {{ {CHILD} averages {{ count }} }}
    rows {{
      child {{ id currentClass {{ name }} }}
      average {{ subject {{ {SUBJECT} }} average weightedAverage count }}
    }}
  }}
}}"""

# a grade in every cell with its control type and history: heavier than a journal screen asks
CELL_GRADE = "value controlType { name } history { action }"
JOURNAL_CELLS = f"""
query($c: ID!, $s: ID!, $p: ID!) {{
  classJournal(classId: $c, subjectId: $s, periodId: $p) {{
    rows {{ cells {{ lessonId grades {{ {CELL_GRADE} }} }} }}
  }}
}}"""

JOURNAL_ATTENDANCE = """
query($c: ID!, $s: ID!, $p: ID!) {
  classJournal(classId: $c, subjectId: $s, periodId: $p) {
    lessons { id date }
    rows { child { id fullName } cells { lessonId attendance { status minutesLate markedBy { fullName } } } }
  }
}"""

ROOTS = f"""
query($id: ID!, $p: ID!) {{
  myChildren {{ {CHILD} averages(periodId: $p) {{ subject {{ name }} average count }} }}
  child(id: $id) {{ id fullName }}
  node(id: $id) {{ __typename ... on Child {{ id fullName }} }}
}}"""

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Grade { value controlType { name } history { action changedBy { fullName } } teacher { fullName phone } }
    ... on Lesson { topic subject { name } schoolClass { name } startsAt }
    ... on Homework { text attachments { fileName url } lesson { id } }
    ... on Attendance { status markedBy { fullName } child { fullName snils } }
    ... on Child { fullName averages { count } }
    ... on SchoolClass { name homeroomTeacher { id } }
    ... on DiaryTeacher { fullName }
    ... on Period { name }
    ... on User { fullName email }
  }
}"""

SELECTIONS = [NODE, DIARY_ALL, DIARY_SCREEN, DIARY_CONDITIONS, JOURNAL_ALL, JOURNAL_CELLS, JOURNAL_ATTENDANCE, ROOTS]

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest_asyncio.fixture(scope="module")
async def ordinary(settings: Settings, live: LiveServer) -> AsyncIterator[str]:
    """A second server on the same database, with compiled reads switched off."""
    if settings.is_sqlite:
        pytest.skip("compiled reads are PostgreSQL's")
    async with served(create_app(settings.model_copy(update={"compiled_reads": False}))) as url:
        yield url


@pytest_asyncio.fixture
async def plain(ordinary: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=ordinary, timeout=10) as http:
        yield GraphQLClient(http)


async def _world(session: AsyncSession, *, children: int = 3, weeks: int = 1) -> School1:
    """build_school's week, with a substitute, homework files and grade histories."""
    world = await build_school(session, children=children, weeks=weeks)
    substitute = await make_user(session, last_name="Замена")
    world.lessons[0].substitute_teacher_id = substitute.id
    world.lessons[0].topic = "Дроби"
    for lesson in world.lessons[:2]:
        homework = await make_homework(session, lesson=lesson, text="с файлом")
        for k in range(2):
            file = await make_attachment(session, owner_id=world.teacher.id, file_name=f"лист {k}.pdf")
            await make_homework_attachment(session, homework_id=homework.id, attachment_id=file.id)
    await session.flush()
    for grade in (await session.scalars(select(Grade).order_by(Grade.id))).all():
        await make_grade_revision(session, grade_id=grade.id, changed_by_id=grade.teacher_id)
        if grade.id % 2 == 0:
            await make_grade_revision(
                session,
                grade_id=grade.id,
                action=GradeAction.CORRECTED,
                old_value="3",
                new_value=grade.value,
                reason="пересдача",
                changed_by_id=grade.teacher_id,
            )
    await session.commit()
    return world


def _week(days: int = 7) -> dict[str, str]:
    return {"from": MONDAY.isoformat(), "to": (MONDAY + dt.timedelta(days=days - 1)).isoformat()}


async def _same(
    gql: GraphQLClient, plain: GraphQLClient, query: str, variables: dict[str, Any], who: str | None
) -> Any:
    compiled = await gql.post(query, variables, token=who)
    resolved = await plain.post(query, variables, token=who)
    # the query-cost throttle's figures are each server's own
    compiled.pop("extensions", None)
    resolved.pop("extensions", None)
    assert _differences(_local(compiled), _local(resolved)) == [], (compiled.get("errors"), variables)
    return compiled


def _local(body: dict[str, Any]) -> Any:
    """Download addresses without the server they are on."""
    return json.loads(re.sub(r"http://127\.0\.0\.1:\d+", "<server>", json.dumps(body)))


def _differences(a: Any, b: Any, at: str = "") -> list[str]:
    """Where two answers differ, by path (empty if equal, keys' order included)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return [f"{at}: keys {list(a)} != {list(b)}"]
        return [d for k in a for d in _differences(a[k], b[k], f"{at}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{at}: {len(a)} items != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{at}[{i}]")]
    return [] if (a == b and type(a) is type(b)) or a == b else [f"{at}: {a!r} != {b!r}"]


REFUSED = ("other family", "other school's admin")  # readers the child's diary is not for


async def _readers(gql: GraphQLClient, session: AsyncSession, world: School1) -> dict[str, str]:
    """The parent, the class's teacher, a school admin, another family's parent, and the
    admin of another school."""
    admin = await make_user(session, password=PASSWORD)
    await make_staff_membership(session, user=admin, school=world.school, role=StaffRole.SCHOOL_ADMIN)
    other = await make_user(session, password=PASSWORD)
    await make_guardianship(session, parent=other, child=world.children[1])
    foreign = await make_user(session, password=PASSWORD)
    await make_staff_membership(session, user=foreign, school=await make_school(session), role=StaffRole.SCHOOL_ADMIN)
    await session.commit()
    return {
        "parent": await token(gql, world.parent),
        "teacher": await token(gql, world.teacher),
        "admin": await token(gql, admin),
        "other family": await token(gql, other),
        "other school's admin": await token(gql, foreign),
    }


async def test_diary_reads_answer_as_the_ordinary_resolvers(
    gql: GraphQLClient, plain: GraphQLClient, session: AsyncSession
) -> None:
    # given a week with every kind of record, and readers who may and may not see it
    world = await _world(session)
    readers = await _readers(gql, session, world)
    child = gid("Child", world.children[0].id)

    for who, bearer in readers.items():
        # when each reads the diary with each selection, compiled and field by field
        for query in (DIARY_ALL, DIARY_SCREEN):
            body = await _same(gql, plain, query, {"c": child, **_week()}, bearer)
            # then the same answers; the other family is refused the same way
            assert (body["data"] is None) == (who in REFUSED), (who, body.get("errors"))
        for more in (True, False):
            for less in (True, False):
                variables = {"c": child, **_week(), "more": more, "less": less, "s": None}
                await _same(gql, plain, DIARY_CONDITIONS, variables, bearer)
        await _same(
            gql,
            plain,
            DIARY_CONDITIONS,
            {"c": child, **_week(), "more": True, "less": False, "s": gid("Subject", world.subject.id)},
            bearer,
        )
    await _same(gql, plain, DIARY_SCREEN, {"c": child, **_week()}, None)


async def test_journal_answers_as_the_ordinary_resolvers(
    gql: GraphQLClient, plain: GraphQLClient, session: AsyncSession
) -> None:
    world = await _world(session)
    readers = await _readers(gql, session, world)
    variables = {
        "c": gid("SchoolClass", world.school_class.id),
        "s": gid("Subject", world.subject.id),
        "p": gid("Period", world.period.id),
    }
    for who, bearer in readers.items():
        for query in (JOURNAL_ALL, JOURNAL_CELLS, JOURNAL_ATTENDANCE):
            body = await _same(gql, plain, query, variables, bearer)
            assert (body["data"] is None) == (who in ("parent", *REFUSED)), (who, body.get("errors"))
    missing = {**variables, "c": gid("SchoolClass", 10**9)}
    await _same(gql, plain, JOURNAL_ATTENDANCE, missing, readers["teacher"])


async def test_child_reads_answer_as_the_ordinary_resolvers(
    gql: GraphQLClient, plain: GraphQLClient, session: AsyncSession
) -> None:
    world = await _world(session)
    readers = await _readers(gql, session, world)
    for child in world.children[:2]:
        variables = {"id": gid("Child", child.id), "p": gid("Period", world.period.id)}
        for bearer in readers.values():
            await _same(gql, plain, ROOTS, variables, bearer)


async def test_node_reads_answer_as_the_ordinary_resolvers(
    gql: GraphQLClient, plain: GraphQLClient, session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    # given records of every described type, by global ID
    world = await _world(session)
    readers = await _readers(gql, session, world)
    ids = [gid(name, model.id) for name, model in (("Lesson", world.lessons[0]), ("Child", world.children[0]))]
    ids += [gid("SchoolClass", world.school_class.id), gid("Period", world.period.id)]
    ids += [gid("DiaryTeacher", world.teacher.id), gid("User", world.teacher.id), gid("Subject", world.subject.id)]
    for name, model in (("Grade", Grade), ("Homework", Homework), ("Attendance", Attendance)):
        ids += [gid(name, pk) for pk in (await session.scalars(select(model.id).order_by(model.id).limit(2))).all()]
    # when each reader asks for each, then the same answers (null alike for what is not theirs)
    with caplog.at_level(logging.INFO, logger="ediary_gql.schema.execution"):
        for bearer in readers.values():
            for node_id in ids:
                await _same(gql, plain, NODE, {"id": node_id}, bearer)
    # and an error in a field completed the ordinary way nulls its object as it would there
    wrong = (
        "query($id: ID!, $p: ID!) { node(id: $id) { id ... on Child { fullName averages(periodId: $p) { count } } } }"
    )
    body = await _same(gql, plain, wrong, {"id": ids[1], "p": gid("Subject", 1)}, readers["parent"])
    assert body["data"] == {"node": None}, body
    assert body["errors"][0]["path"] == ["node", "averages"], body
    # and the nodes were compiled, with their policy's fields completed the ordinary way
    logged = {r.getMessage() for r in caplog.records}
    assert "compiled read node: completed the ordinary way: SchoolClass.homeroomTeacher" in logged
    assert "compiled read node: completed the ordinary way: Child.snils" in logged  # an Attendance's child


# local times a zone's offset makes hard: a fold and a gap of Vladivostok's old summer time
# (a fold: Python's fold=0 takes the earlier, summer offset), and its LMT of +08:47:31
_ODD_TIMES = [
    (dt.date(2010, 10, 31), dt.time(2, 30), dt.time(2, 59, 59)),
    (dt.date(2010, 3, 28), dt.time(2, 0, 1), dt.time(3, 0)),
    (dt.date(1900, 1, 1), dt.time(10, 0), dt.time(10, 45, 0, 5)),
]


async def test_lesson_times_and_download_addresses_answer_as_the_ordinary_resolvers(
    gql: GraphQLClient, plain: GraphQLClient, session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    # given a school far from Moscow, lessons with seconds and microseconds, and odd local times
    world = await _world(session)
    world.school.timezone = "Asia/Vladivostok"
    world.lessons[0].start_time, world.lessons[0].end_time = dt.time(8, 30, 15), dt.time(9, 15, 0, 250000)
    odd = [
        await make_lesson(
            session,
            school_class=world.school_class,
            subject=world.subject,
            teacher=world.teacher,
            date=day,
            start_time=start,
            end_time=end,
        )
        for day, start, end in _ODD_TIMES
    ]
    await session.commit()
    readers = await _readers(gql, session, world)
    # (a subject too: node(id:) is compiled for a selection reaching past the node's scalars)
    lessons = "query($id: ID!) { node(id: $id) { ... on Lesson { startsAt endsAt subject { name } } } }"
    variables = {"c": gid("Child", world.children[0].id), **_week()}
    with caplog.at_level(logging.INFO, logger="ediary_gql.schema.execution"):
        # when each reads the bench's whole diary, and each odd lesson by ID
        for who, bearer in readers.items():
            body = await _same(gql, plain, FULL, variables, bearer)
            assert (body["data"] is None) == (who in REFUSED), (who, body.get("errors"))
            for lesson in odd:
                await _same(gql, plain, lessons, {"id": gid("Lesson", lesson.id)}, bearer)
    # then the same answers, each field compiled
    assert [r.getMessage() for r in caplog.records if "ordinary way" in r.getMessage()] == []
    first = (await gql.data(FULL, variables, token=readers["parent"]))["diary"][0]
    lesson = first["lessons"][0]["lesson"]
    assert (lesson["startsAt"], lesson["endsAt"]) == (
        f"{first['date']}T08:30:15+10:00",
        f"{first['date']}T09:15:00.250000+10:00",
    ), first
    files = [f for item in first["lessons"][0]["homework"] for f in item["homework"]["attachments"]]
    assert len(files) == 2
    server = str(gql.http.base_url).rstrip("/")
    assert [f["url"] for f in files] == [f"{server}/files/{f['id']}" for f in files]
    admin = readers["admin"]
    fold = await gql.data(lessons, {"id": gid("Lesson", odd[0].id)}, token=admin)
    assert (fold["node"]["startsAt"], fold["node"]["endsAt"]) == (
        "2010-10-31T02:30:00+11:00",
        "2010-10-31T02:59:59+11:00",
    )
    lmt = await gql.data(lessons, {"id": gid("Lesson", odd[2].id)}, token=admin)
    assert lmt["node"]["endsAt"] == "1900-01-01T10:45:00.000005+08:47:31"


def _selected(schema: GraphQLSchema, query: str) -> set[tuple[str, str]]:
    """(type, field) of every field the query selects."""
    info = TypeInfo(schema)
    seen: set[tuple[str, str]] = set()

    class Fields(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            parent = info.get_parent_type()
            if parent is not None:
                seen.add((get_named_type(parent).name, node.name.value))

    visit(parse(query), TypeInfoVisitor(info, Fields()))
    return seen


def test_every_compiled_field_is_in_a_parity_selection() -> None:
    # given every field the types describe over SQL
    described = {(type_name, field) for type_name, obj in DESCRIBED.items() for field in obj.fields}
    # then each is selected by at least one of the selections compared above
    schema = build_schema(load_settings(secret_key="x" * 32))._schema
    selected = set().union(*(_selected(schema, q) for q in SELECTIONS))
    assert described - selected == set()
    # and each describes a field the schema has
    for type_name, field in described:
        assert field in schema.get_type(type_name).fields, (type_name, field)  # type: ignore[union-attr]


@pytest.mark.parametrize("query", [DIARY_ALL, DIARY_SCREEN, DIARY_CONDITIONS])
async def test_a_diary_week_takes_the_same_statements_whatever_its_size(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter, ordinary: str, query: str
) -> None:
    # given one week, then four, of lessons with every kind of record
    world = await _world(session, children=3, weeks=4)
    parent = await token(gql, world.parent)
    variables = {"c": gid("Child", world.children[0].id), "more": True, "less": False}
    counts = []
    for days in (7, 28):
        with sql_counter:
            body = await gql.post(query, {**variables, **_week(days)}, token=parent)
        assert "errors" not in body, body["errors"]
        counts.append(sql_counter.count)
    # then four times the records, the same statements
    assert counts[0] == counts[1], sql_counter.statements


@pytest.mark.parametrize("query", [JOURNAL_ALL, JOURNAL_CELLS, JOURNAL_ATTENDANCE])
async def test_a_journal_takes_the_same_statements_whatever_its_size(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter, ordinary: str, query: str
) -> None:
    counts = []
    for children in (2, 6):
        world = await _world(session, children=children, weeks=1 if children == 2 else 3)
        variables = {
            "c": gid("SchoolClass", world.school_class.id),
            "s": gid("Subject", world.subject.id),
            "p": gid("Period", world.period.id),
        }
        bearer = await token(gql, world.teacher)
        with sql_counter:
            body = await gql.post(query, variables, token=bearer)
        assert "errors" not in body, body["errors"]
        counts.append(sql_counter.count)
    assert counts[0] == counts[1], sql_counter.statements
    if query is JOURNAL_ATTENDANCE:
        assert counts[0] == 3, sql_counter.statements  # the session's roles, the facts, the journal


async def test_the_fields_completed_the_ordinary_way_are_logged_once(
    gql: GraphQLClient, session: AsyncSession, ordinary: str, caplog: pytest.LogCaptureFixture
) -> None:
    world = await _world(session)
    parent = await token(gql, world.parent)
    query = DIARY_SCREEN.replace("attendance { status }", "attendance { status sourcedId }")
    with caplog.at_level(logging.INFO, logger="ediary_gql.schema.execution"):
        await gql.data(query, {"c": gid("Child", world.children[0].id), **_week()}, token=parent)
    lines = [r.getMessage() for r in caplog.records if "ordinary way" in r.getMessage()]
    assert lines == ["compiled read diary: completed the ordinary way: Attendance.sourcedId"]
