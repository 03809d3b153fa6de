"""The diary's hot reads as JSON documents built by PostgreSQL, in the API's output shape.

A child's diary and a class journal: the same rows as `services.diary` reads,
but every value already as the GraphQL response carries it (global IDs in
base64, dates and times in ISO form, decimals as strings, enums by name), so
the server only picks the selected fields. `SHAPE` and `JOURNAL_SHAPE` list
what the documents hold: a selection asking for anything else is read the
ordinary way (services.diary). PostgreSQL only; SQLite reads the ordinary way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay.utils import to_base64

from ediary_gql.auth.actor import Actor
from ediary_gql.services.diary import journal_params, may_read_diary

# Field names as the GraphQL types name them; None marks a leaf.
_LESSON = dict.fromkeys(("id", "date", "startTime", "endTime", "lessonNumber", "room", "topic", "status"))
_SUBJECT = dict.fromkeys(("id", "name", "shortName", "sourcedId"))
_GRADE = dict.fromkeys(("id", "value", "numericValue", "kind", "weight", "comment", "gradedOn", "isDeleted"))
_ATTENDANCE = dict.fromkeys(("id", "status", "minutesLate", "reason"))
_CHILD = dict.fromkeys(("id", "lastName", "firstName", "middleName", "birthDate", "sex", "citizenship", "fullName"))
SHAPE: dict[str, Any] = {
    "date": None,
    "lessons": {
        "lesson": _LESSON,
        "subject": _SUBJECT,
        "teacher": dict.fromkeys(("id", "lastName", "firstName", "middleName", "fullName")),
        "homework": {
            "isDone": None,
            "homework": dict.fromkeys(("id", "text", "publishedOn", "dueOn", "expectedMinutes")),
        },
        "grades": _GRADE,
        "attendance": _ATTENDANCE,
    },
}
JOURNAL_SHAPE: dict[str, Any] = {
    "classId": None,
    "subjectId": None,
    "periodId": None,
    "lessons": _LESSON,
    "children": _CHILD,
    "rows": {
        "child": _CHILD,
        "cells": {"lessonId": None, "grades": _GRADE, "attendance": _ATTENDANCE},
        "average": {"subject": _SUBJECT, "average": None, "weightedAverage": None, "count": None},
    },
}

# A time as Python's isoformat() writes it: seconds always, microseconds only when there are any.
_TIME = (
    "CASE WHEN date_part('microseconds', {0})::int % 1000000 = 0 THEN to_char({0}, 'HH24:MI:SS') "
    "ELSE to_char({0}, 'HH24:MI:SS.US') END"
)


def _gid(type_name: str, column: str) -> str:
    """Relay's global ID: base64 of "Type:id" (short enough for PostgreSQL to add no line breaks)."""
    return f"encode(convert_to('{type_name}:' || {column}, 'UTF8'), 'base64')"


def _lesson(alias: str) -> str:
    return (
        f"json_build_object('id', {_gid('Lesson', f'{alias}.id')}, 'date', {alias}.date, "
        f"'startTime', {_TIME.format(f'{alias}.start_time')}, 'endTime', {_TIME.format(f'{alias}.end_time')}, "
        f"'lessonNumber', {alias}.lesson_number, 'room', {alias}.room, 'topic', {alias}.topic, "
        f"'status', {alias}.status)"
    )


def _subject(alias: str) -> str:
    return (
        f"json_build_object('id', {_gid('Subject', f'{alias}.id')}, 'name', {alias}.name, "
        f"'shortName', {alias}.short_name, 'sourcedId', {alias}.external_id)"
    )


def _grade(alias: str) -> str:
    return (
        f"json_build_object('id', {_gid('Grade', f'{alias}.id')}, 'value', {alias}.value, "
        f"'numericValue', {alias}.numeric_value, 'kind', {alias}.kind, 'weight', {alias}.weight::text, "
        f"'comment', {alias}.comment, 'gradedOn', {alias}.graded_on, 'isDeleted', false)"
    )


def _attendance(alias: str) -> str:
    return (
        f"json_build_object('id', {_gid('Attendance', f'{alias}.id')}, 'status', {alias}.status, "
        f"'minutesLate', {alias}.minutes_late, 'reason', {alias}.reason)"
    )


def _full_name(alias: str) -> str:
    """As the API joins them: the non-empty parts, space-separated."""
    parts = ", ".join(f"nullif({alias}.{p}, '')" for p in ("last_name", "first_name", "middle_name"))
    return f"concat_ws(' ', {parts})"


_SQL = f"""
WITH lessons AS (
  SELECT l.* FROM lessons l
  WHERE l.class_id IN (SELECT e.class_id FROM enrollments e WHERE e.child_id = :child
                       AND e.starts_on <= :end AND (e.ends_on IS NULL OR e.ends_on >= :start))
    AND l.date BETWEEN :start AND :end
    AND (CAST(:subject AS integer) IS NULL OR l.subject_id = :subject)
    AND EXISTS (SELECT 1 FROM enrollments e WHERE e.class_id = l.class_id AND e.child_id = :child
                AND e.starts_on <= l.date AND (e.ends_on IS NULL OR e.ends_on >= l.date))
)
SELECT coalesce(json_agg(json_build_object('date', d.date, 'lessons', d.lessons) ORDER BY d.date), '[]')::text
FROM (
  SELECT l.date, json_agg(json_build_object(
    'lesson', {_lesson("l")},
    'subject', {_subject("s")},
    'teacher', json_build_object(
      'id', {_gid("User", "u.id")}, 'lastName', u.last_name, 'firstName', u.first_name,
      'middleName', u.middle_name, 'fullName', {_full_name("u")}),
    'homework', (
      SELECT coalesce(json_agg(json_build_object(
        'isDone', EXISTS (SELECT 1 FROM homework_completions c WHERE c.homework_id = h.id AND c.child_id = :child),
        'homework', json_build_object(
          'id', {_gid("Homework", "h.id")}, 'text', h.text, 'publishedOn', h.published_on, 'dueOn', h.due_on,
          'expectedMinutes', h.expected_minutes)
      ) ORDER BY h.id), '[]')
      FROM homeworks h WHERE h.lesson_id = l.id),
    'grades', (
      SELECT coalesce(json_agg({_grade("g")} ORDER BY g.graded_on, g.id), '[]')
      FROM grades g WHERE g.lesson_id = l.id AND g.child_id = :child AND g.deleted_at IS NULL),
    'attendance', (
      SELECT {_attendance("a")} FROM attendances a WHERE a.lesson_id = l.id AND a.child_id = :child)
  ) ORDER BY l.start_time, l.id) AS lessons
  FROM lessons l
  JOIN subjects s ON s.id = l.subject_id
  JOIN users u ON u.id = l.teacher_id
  GROUP BY l.date
) d
"""  # noqa: S608 - built from constants only; every value is a bound parameter
_STATEMENT = text(_SQL)

_JOURNAL_SQL = f"""
WITH l AS (
  SELECT * FROM lessons
  WHERE class_id = :class AND subject_id = :subject AND date BETWEEN :start AND :end
), c AS (
  SELECT * FROM children WHERE id IN (
    SELECT child_id FROM enrollments
    WHERE class_id = :class AND starts_on <= :end AND (ends_on IS NULL OR ends_on >= :start))
), g AS (
  SELECT child_id, lesson_id, json_agg({_grade("grades")} ORDER BY graded_on, id) AS grades
  FROM grades WHERE lesson_id IN (SELECT id FROM l) AND deleted_at IS NULL GROUP BY child_id, lesson_id
), a AS (
  SELECT child_id, lesson_id, {_attendance("attendances")} AS mark
  FROM attendances WHERE lesson_id IN (SELECT id FROM l)
), av AS (
  -- as services.averages: weights summed ×100 as integers, means rounded half up to 2 places
  SELECT child_id, count(*) AS n, sum(numeric_value) AS total,
         sum(numeric_value * round(weight * 100)::integer) AS weighted, sum(round(weight * 100)::integer) AS weights
  FROM grades
  WHERE child_id IN (SELECT id FROM c) AND subject_id = :subject AND graded_on BETWEEN :start AND :end
    AND deleted_at IS NULL AND kind = 'REGULAR' AND numeric_value IS NOT NULL
  GROUP BY child_id
)
SELECT json_build_object(
  'lessons', (SELECT coalesce(json_agg({_lesson("l")} ORDER BY l.date, l.start_time, l.id), '[]') FROM l),
  'rows', (SELECT coalesce(json_agg(json_build_object(
    'child', json_build_object(
      'id', {_gid("Child", "c.id")}, 'lastName', c.last_name, 'firstName', c.first_name,
      'middleName', c.middle_name, 'birthDate', c.birth_date, 'sex', c.sex, 'citizenship', c.citizenship,
      'fullName', {_full_name("c")}),
    'cells', (
      SELECT coalesce(json_agg(json_build_object(
        'lessonId', {_gid("Lesson", "l.id")}, 'grades', coalesce(g.grades, '[]'::json), 'attendance', a.mark
      ) ORDER BY l.date, l.start_time, l.id), '[]')
      FROM l LEFT JOIN g ON g.lesson_id = l.id AND g.child_id = c.id
      LEFT JOIN a ON a.lesson_id = l.id AND a.child_id = c.id),
    'average', (
      SELECT json_build_object(
        'subject', {_subject("s")},
        'average', round(av.total::numeric / av.n, 2),
        'weightedAverage', round(av.weighted::numeric / av.weights, 2),
        'count', av.n)
      FROM av JOIN subjects s ON s.id = :subject WHERE av.child_id = c.id)
  ) ORDER BY c.last_name, c.first_name, c.middle_name, c.id), '[]') FROM c)
)::text
"""  # noqa: S608 - built from constants only; every value is a bound parameter
_JOURNAL_STATEMENT = text(_JOURNAL_SQL)


async def diary_document(
    session: AsyncSession,
    *,
    actor: Actor,
    child_id: int,
    start: dt.date,
    end: dt.date,
    subject_id: int | None = None,
) -> list[dict[str, Any]]:
    """The child's days with lessons, as `SHAPE` describes them; the access as for `diary`."""
    params = {"child": child_id, "actor": actor.user_id, "start": start, "end": end, "subject": subject_id}
    if not await may_read_diary(session, actor=actor, params=params):
        return []
    found = (await session.execute(_STATEMENT, params)).scalar_one()
    days: list[dict[str, Any]] = orjson.loads(found)
    return days


async def journal_document(
    session: AsyncSession, *, actor: Actor, class_id: int, subject_id: int, period_id: int
) -> dict[str, Any]:
    """A class journal as `JOURNAL_SHAPE` describes it; the access as for `class_journal`."""
    params = await journal_params(session, actor=actor, class_id=class_id, subject_id=subject_id, period_id=period_id)
    found = (await session.execute(_JOURNAL_STATEMENT, params)).scalar_one()
    journal: dict[str, Any] = orjson.loads(found)
    journal["classId"] = to_base64("SchoolClass", class_id)
    journal["subjectId"] = to_base64("Subject", subject_id)
    journal["periodId"] = to_base64("Period", period_id)
    journal["children"] = [row["child"] for row in journal["rows"]]
    return journal
