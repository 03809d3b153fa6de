"""A child's diary as one JSON document built by PostgreSQL, in the API's output shape.

The same days, lessons and records as `services.diary.diary`, but every value
already as the GraphQL response carries it (global IDs in base64, dates and
times in ISO form, decimals as strings, enums by name), so the server only
picks the selected fields. `SHAPE` lists what the document holds: a selection
asking for anything else is read the ordinary way (services.diary). PostgreSQL
only; SQLite reads the ordinary way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.services.diary import may_read_diary

# Field names as the GraphQL types name them; None marks a leaf.
SHAPE: dict[str, Any] = {
    "date": None,
    "lessons": {
        "lesson": dict.fromkeys(("id", "date", "startTime", "endTime", "lessonNumber", "room", "topic", "status")),
        "subject": dict.fromkeys(("id", "name", "shortName", "sourcedId")),
        "teacher": dict.fromkeys(("id", "lastName", "firstName", "middleName", "fullName")),
        "homework": {
            "isDone": None,
            "homework": dict.fromkeys(("id", "text", "publishedOn", "dueOn", "expectedMinutes")),
        },
        "grades": dict.fromkeys(("id", "value", "numericValue", "kind", "weight", "comment", "gradedOn", "isDeleted")),
        "attendance": dict.fromkeys(("id", "status", "minutesLate", "reason")),
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
    'lesson', json_build_object(
      'id', {_gid("Lesson", "l.id")}, 'date', l.date,
      'startTime', {_TIME.format("l.start_time")}, 'endTime', {_TIME.format("l.end_time")},
      'lessonNumber', l.lesson_number, 'room', l.room, 'topic', l.topic, 'status', l.status),
    'subject', json_build_object(
      'id', {_gid("Subject", "s.id")}, 'name', s.name, 'shortName', s.short_name, 'sourcedId', s.external_id),
    'teacher', json_build_object(
      'id', {_gid("User", "u.id")}, 'lastName', u.last_name, 'firstName', u.first_name,
      'middleName', u.middle_name,
      'fullName', concat_ws(' ', nullif(u.last_name, ''), nullif(u.first_name, ''), nullif(u.middle_name, ''))),
    'homework', (
      SELECT coalesce(json_agg(json_build_object(
        'isDone', EXISTS (SELECT 1 FROM homework_completions c WHERE c.homework_id = h.id AND c.child_id = :child),
        'homework', json_build_object(
          'id', {_gid("Homework", "h.id")}, 'text', h.text, 'publishedOn', h.published_on, 'dueOn', h.due_on,
          'expectedMinutes', h.expected_minutes)
      ) ORDER BY h.id), '[]')
      FROM homeworks h WHERE h.lesson_id = l.id),
    'grades', (
      SELECT coalesce(json_agg(json_build_object(
        'id', {_gid("Grade", "g.id")}, 'value', g.value, 'numericValue', g.numeric_value, 'kind', g.kind,
        'weight', g.weight::text, 'comment', g.comment, 'gradedOn', g.graded_on, 'isDeleted', false
      ) ORDER BY g.graded_on, g.id), '[]')
      FROM grades g WHERE g.lesson_id = l.id AND g.child_id = :child AND g.deleted_at IS NULL),
    'attendance', (
      SELECT json_build_object(
        'id', {_gid("Attendance", "a.id")}, 'status', a.status, 'minutesLate', a.minutes_late, 'reason', a.reason)
      FROM attendances a WHERE a.lesson_id = l.id AND a.child_id = :child)
  ) ORDER BY l.start_time, l.id) AS lessons
  FROM lessons l
  JOIN subjects s ON s.id = l.subject_id
  JOIN users u ON u.id = l.teacher_id
  GROUP BY l.date
) d
"""  # noqa: S608 - built from constants only; every value is a bound parameter
_STATEMENT = text(_SQL)


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
