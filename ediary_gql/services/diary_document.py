"""The diary's hot reads as JSON built by PostgreSQL, in the response's own shape.

A child's diary and a class journal: the same rows as `services.diary` reads,
described here field by field as SQL (`DIARY`, `JOURNAL`: an expression per
GraphQL field, giving the value as the response carries it: global IDs in
base64, dates and times in ISO form, decimals as strings, enums by name). The
GraphQL layer renders the selection into one statement whose result is the
response's value itself (schema/execution.py), as UTF-8 bytes that go into the
response untouched. A selection asking for a field not described here is read
the ordinary way (services.diary). PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import select, text

from ediary_gql.auth.actor import Actor
from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.db.reads import Reads, ReadStatement
from ediary_gql.services.diary import (
    JOURNAL_FACTS,
    check_range,
    diary_access,
    diary_params,
    enrolments_as_json,
    journal_access,
    journal_keys,
)

# A time as Python's isoformat() writes it: seconds always, microseconds only when there are any.
_TIME = (
    "CASE WHEN date_part('microseconds', {0})::int % 1000000 = 0 THEN to_char({0}, 'HH24:MI:SS') "
    "ELSE to_char({0}, 'HH24:MI:SS.US') END"
)


def _gid(type_name: str, column: str) -> str:
    """Relay's global ID: base64 of "Type:id" (short enough for PostgreSQL to add no line breaks)."""
    return f"encode(convert_to('{type_name}:' || {column}, 'UTF8'), 'base64')"


def _full_name(alias: str) -> str:
    """As the API joins a name: its non-empty parts, space-separated."""
    parts = ", ".join(f"nullif({alias}.{p}, '')" for p in ("last_name", "first_name", "middle_name"))
    return f"concat_ws(' ', {parts})"


def _one(of: SqlObject) -> SqlNested:
    """An object built from the row at hand."""
    return SqlNested("{object}", of)


def _entity(type_name: str, a: str, columns: dict[str, str], **computed: str) -> SqlObject:
    """A node of alias `a`: its global ID, plain columns by field name, computed expressions."""
    return SqlObject(
        {"id": _gid(type_name, f"{a}.id"), **{field: f"{a}.{column}" for field, column in columns.items()}, **computed}
    )


def _lesson(a: str) -> SqlObject:
    return _entity(
        "Lesson",
        a,
        {
            "date": "date",
            "lessonNumber": "lesson_number",
            "room": "room",
            "topic": "topic",
            "status": "status",
            "sourcedId": "external_id",
        },
        startTime=_TIME.format(f"{a}.start_time"),
        endTime=_TIME.format(f"{a}.end_time"),
    )


def _subject(a: str) -> SqlObject:
    return _entity("Subject", a, {"name": "name", "shortName": "short_name", "sourcedId": "external_id"})


def _grade(a: str) -> SqlObject:
    return _entity(
        "Grade",
        a,
        {"value": "value", "numericValue": "numeric_value", "kind": "kind", "comment": "comment"},
        weight=f"{a}.weight::text",
        gradedOn=f"{a}.graded_on",
        isDeleted=f"({a}.deleted_at IS NOT NULL)",
    )


def _attendance(a: str) -> SqlObject:
    return _entity("Attendance", a, {"status": "status", "minutesLate": "minutes_late", "reason": "reason"})


_NAMES = {"lastName": "last_name", "firstName": "first_name", "middleName": "middle_name"}


def _child(a: str) -> SqlObject:
    columns = {
        **_NAMES,
        "birthDate": "birth_date",
        "sex": "sex",
        "citizenship": "citizenship",
        "sourcedId": "external_id",
    }
    return _entity("Child", a, columns, fullName=_full_name(a))


def _grades_of(lesson: str, child: str) -> SqlNested:
    return SqlNested(
        "(SELECT coalesce(json_agg({object} ORDER BY g.graded_on, g.id), '[]') FROM grades g "
        f"WHERE g.lesson_id = {lesson} AND g.child_id = {child} AND g.deleted_at IS NULL)",
        _grade("g"),
    )


def _attendance_of(lesson: str, child: str) -> SqlNested:
    return SqlNested(
        f"(SELECT {{object}} FROM attendances a WHERE a.lesson_id = {lesson} AND a.child_id = {child})",
        _attendance("a"),
    )


# diary(childId, from, to, subjectId): [DiaryDay]
_DIARY_LESSON = SqlObject(
    {
        "lesson": _one(_lesson("l")),
        "subject": _one(_subject("s")),
        "teacher": _one(_entity("DiaryTeacher", "u", _NAMES, fullName=_full_name("u"))),
        "homework": SqlNested(
            "(SELECT coalesce(json_agg({object} ORDER BY h.id), '[]') FROM homeworks h WHERE h.lesson_id = l.id)",
            SqlObject(
                {
                    "isDone": "EXISTS (SELECT 1 FROM homework_completions hc "
                    "WHERE hc.homework_id = h.id AND hc.child_id = :child)",
                    "homework": _one(
                        _entity(
                            "Homework",
                            "h",
                            {
                                "text": "text",
                                "publishedOn": "published_on",
                                "dueOn": "due_on",
                                "expectedMinutes": "expected_minutes",
                            },
                        )
                    ),
                }
            ),
        ),
        "grades": _grades_of("l.id", ":child"),
        "attendance": _attendance_of("l.id", ":child"),
    }
)
DIARY = SqlNested(
    """
WITH lessons AS (
  SELECT l.* FROM lessons l
  WHERE l.class_id IN (SELECT e.class_id FROM enrollments e WHERE e.child_id = :child
                       AND e.starts_on <= :end AND (e.ends_on IS NULL OR e.ends_on >= :start))
    AND l.date BETWEEN :start AND :end
    AND (CAST(:subject AS integer) IS NULL OR l.subject_id = :subject)
    AND EXISTS (SELECT 1 FROM enrollments e WHERE e.class_id = l.class_id AND e.child_id = :child
                AND e.starts_on <= l.date AND (e.ends_on IS NULL OR e.ends_on >= l.date))
    -- as services.diary._own_part: staff read only their own schools' lessons
    AND (CAST(:whole AS boolean) OR l.school_id IN (
          SELECT m.school_id FROM staff_memberships m WHERE m.user_id = :actor AND m.active
          AND m.role IN ('SCHOOL_ADMIN', 'TEACHER')))
)
SELECT convert_to(coalesce(json_agg({object} ORDER BY d.date), '[]')::text, 'UTF8')
FROM (SELECT DISTINCT date FROM lessons) d
""",
    SqlObject(
        {
            "date": "d.date",
            "lessons": SqlNested(
                "(SELECT json_agg({object} ORDER BY l.start_time, l.id) FROM lessons l "
                "JOIN subjects s ON s.id = l.subject_id JOIN users u ON u.id = l.teacher_id WHERE l.date = d.date)",
                _DIARY_LESSON,
            ),
        }
    ),
)

# classJournal(classId, subjectId, periodId): ClassJournal
_CHILDREN_IN_ORDER = "ORDER BY c.last_name, c.first_name, c.middle_name, c.id), '[]') FROM c)"
JOURNAL = SqlNested(
    """
WITH l AS (
  SELECT * FROM lessons WHERE class_id = :class AND subject_id = :subject AND date BETWEEN :start AND :end
), c AS (
  SELECT * FROM children WHERE id IN (
    SELECT child_id FROM enrollments
    WHERE class_id = :class AND starts_on <= :end AND (ends_on IS NULL OR ends_on >= :start))
), av AS (
  -- as services.averages: weights summed ×100 as integers, means rounded half up to 2 places
  SELECT child_id, count(*) AS n, sum(numeric_value) AS total,
         sum(numeric_value * round(weight * 100)::integer) AS weighted, sum(round(weight * 100)::integer) AS weights
  FROM grades
  WHERE child_id IN (SELECT id FROM c) AND subject_id = :subject AND graded_on BETWEEN :start AND :end
    AND deleted_at IS NULL AND kind = 'REGULAR' AND numeric_value IS NOT NULL
  GROUP BY child_id
)
SELECT convert_to({object}::text, 'UTF8')
""",
    SqlObject(
        {
            "classId": _gid("SchoolClass", "CAST(:class AS integer)"),
            "subjectId": _gid("Subject", "CAST(:subject AS integer)"),
            "periodId": _gid("Period", "CAST(:period AS integer)"),
            "lessons": SqlNested(
                "(SELECT coalesce(json_agg({object} ORDER BY l.date, l.start_time, l.id), '[]') FROM l)", _lesson("l")
            ),
            "children": SqlNested("(SELECT coalesce(json_agg({object} " + _CHILDREN_IN_ORDER, _child("c")),
            "rows": SqlNested(
                "(SELECT coalesce(json_agg({object} " + _CHILDREN_IN_ORDER,
                SqlObject(
                    {
                        "child": _one(_child("c")),
                        "cells": SqlNested(
                            "(SELECT coalesce(json_agg({object} ORDER BY l.date, l.start_time, l.id), '[]') FROM l)",
                            SqlObject(
                                {
                                    "lessonId": _gid("Lesson", "l.id"),
                                    "grades": _grades_of("l.id", "c.id"),
                                    "attendance": _attendance_of("l.id", "c.id"),
                                }
                            ),
                        ),
                        "average": SqlNested(
                            "(SELECT {object} FROM av JOIN subjects s ON s.id = :subject WHERE av.child_id = c.id)",
                            SqlObject(
                                {
                                    "subject": _one(_subject("s")),
                                    "average": "round(av.total::numeric / av.n, 2)",
                                    "weightedAverage": "round(av.weighted::numeric / av.weights, 2)",
                                    "count": "av.n",
                                }
                            ),
                        ),
                    }
                ),
            ),
        }
    ),
)


@lru_cache(maxsize=256)
def _diary_statement(sql: str) -> ReadStatement:
    """The child's enrolments (the access facts) and the diary by `sql`, in one round trip.
    PostgreSQL builds the diary whether or not the access is granted; it is dropped when not."""
    return ReadStatement(select(enrolments_as_json(), text(f"({sql})")))


async def diary_document(
    reads: Reads,
    sql: str,
    *,
    actor: Actor,
    child_id: int,
    start: dt.date,
    end: dt.date,
    subject_id: int | None = None,
) -> orjson.Fragment:
    """The child's days with lessons by `sql` (DIARY rendered for a selection), as the
    response's JSON text; the access as for `services.diary.diary`. One statement."""
    params = diary_params(actor, child_id=child_id, start=start, end=end, subject_id=subject_id)
    check_range(start, end)
    [(enrolments, document)] = await reads.rows(_diary_statement(sql), params)
    if not diary_access(actor, params, _enrolment_facts(enrolments)):
        return _NO_DAYS
    return orjson.Fragment(document)


_NO_DAYS = orjson.Fragment(b"[]")


def _enrolment_facts(enrolments: str) -> list[tuple[Any, ...]]:
    """`enrolments_as_json` read back: its dates as dates again."""
    return [
        (class_id, dt.date.fromisoformat(first), last and dt.date.fromisoformat(last), school_id, teaches)
        for class_id, first, last, school_id, teaches in orjson.loads(enrolments)
    ]


async def journal_document(
    reads: Reads, sql: str, *, actor: Actor, class_id: int, subject_id: int, period_id: int
) -> orjson.Fragment:
    """A class journal by `sql` (JOURNAL rendered for a selection), as the response's JSON
    text; the access as for `services.diary.class_journal`. Two statements: the facts
    (which also give the period's days the journal is read over), then the journal."""
    params = journal_keys(actor, class_id=class_id, subject_id=subject_id, period_id=period_id)
    facts = await reads.rows(_JOURNAL_FACTS, params)
    params = journal_access(actor, params, facts[0] if facts else None)
    [(document,)] = await reads.rows(_journal_statement(sql), params)
    return orjson.Fragment(document)


_JOURNAL_FACTS = ReadStatement(JOURNAL_FACTS)


@lru_cache(maxsize=256)
def _journal_statement(sql: str) -> ReadStatement:
    return ReadStatement(select(text(f"({sql})")))
