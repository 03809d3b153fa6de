"""The diary's hot reads as JSON built by PostgreSQL, in the response's own shape.

A child's diary and a class journal: the rows `services.diary` reads (who may
read them, and which rows: `DIARY_ROWS`, `JOURNAL_ROWS`), as one statement whose
result is the response's value itself, as UTF-8 text. The GraphQL layer renders
the selection's JSON into them from the types' field descriptions (schema/sql/,
schema/execution.py). PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import select, text

from ediary_gql.auth.actor import Actor
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

# The diary's rows: the child's lessons in the range that the actor may see, as the
# CTE `lessons`, and their days `d`; `{object}` is a day's JSON (schema/sql/diary.py).
# Lessons are partitioned by school: they are read class by class of the child's in the
# range, each with its school (one, or two across a transfer), so PostgreSQL reads only
# that school's partition (pruned at run time: the lateral subquery is rescanned with the
# class's school as a parameter; OFFSET 0 keeps it a subquery, not flattened into a join
# that would read every partition).
DIARY_ROWS = """
WITH lessons AS (
  SELECT l.* FROM (SELECT DISTINCT k.school_id, e.class_id FROM enrollments e JOIN school_classes k ON k.id = e.class_id
                   WHERE e.child_id = :child AND e.starts_on <= :end AND (e.ends_on IS NULL OR e.ends_on >= :start)) ce
  CROSS JOIN LATERAL (SELECT * FROM lessons x WHERE x.school_id = ce.school_id AND x.class_id = ce.class_id
                      AND x.date BETWEEN :start AND :end OFFSET 0) l
  WHERE (CAST(:subject AS integer) IS NULL OR l.subject_id = :subject)
    AND EXISTS (SELECT 1 FROM enrollments e WHERE e.class_id = l.class_id AND e.child_id = :child
                AND e.starts_on <= l.date AND (e.ends_on IS NULL OR e.ends_on >= l.date))
    -- as services.diary._own_part: staff read only their own schools' lessons
    AND (CAST(:whole AS boolean) OR l.school_id IN (
          SELECT m.school_id FROM staff_memberships m WHERE m.user_id = :actor AND m.active
          AND m.role IN ('SCHOOL_ADMIN', 'TEACHER')))
)
SELECT convert_to(coalesce(json_agg({object} ORDER BY d.date), '[]')::text, 'UTF8')
FROM (SELECT DISTINCT date FROM lessons) d
"""

# A class journal's rows: its lessons `l`, its children `c` and their averages `av` over
# the period's days; `{object}` is the journal's JSON (schema/sql/diary.py).
JOURNAL_ROWS = """
WITH l AS (
  -- the class's lessons are its school's (from the journal's facts): one partition read
  SELECT * FROM lessons
  WHERE school_id = :school AND class_id = :class AND subject_id = :subject AND date BETWEEN :start AND :end
), c AS (
  SELECT * FROM children WHERE id IN (
    SELECT child_id FROM enrollments
    WHERE class_id = :class AND starts_on <= :end AND (ends_on IS NULL OR ends_on >= :start))
), av AS (
  -- as services.averages: weights summed ×100 as integers, means rounded half up to 2 places;
  -- the subject's grades are its school's: by the partition key, one partition read
  SELECT child_id, count(*) AS n, sum(numeric_value) AS total,
         sum(numeric_value * round(weight * 100)::integer) AS weighted, sum(round(weight * 100)::integer) AS weights
  FROM grades
  WHERE school_id = :school AND child_id IN (SELECT id FROM c) AND subject_id = :subject
    AND graded_on BETWEEN :start AND :end
    AND deleted_at IS NULL AND kind = 'REGULAR' AND numeric_value IS NOT NULL
  GROUP BY child_id
)
SELECT convert_to({object}::text, 'UTF8')
"""


@lru_cache(maxsize=256)
def _diary_statement(sql: str) -> ReadStatement:
    """The child's enrolments (the access facts) and the diary by `sql`, in one round trip.
    PostgreSQL builds the diary whether or not the access is granted; it is dropped when not."""
    return ReadStatement(select(enrolments_as_json(), text(f"({sql})")))


async def diary_document(
    reads: Reads,
    sql: str,
    arguments: Mapping[str, Any],
    *,
    actor: Actor,
    child_id: int,
    start: dt.date,
    end: dt.date,
    subject_id: int | None = None,
) -> bytes:
    """The child's days with lessons by `sql` (DIARY_ROWS rendered for a selection, with
    its own `arguments`), as the response's JSON text; the access as for
    `services.diary.diary`. One statement."""
    params = diary_params(actor, child_id=child_id, start=start, end=end, subject_id=subject_id)
    check_range(start, end)
    [(enrolments, document)] = await reads.rows(_diary_statement(sql), {**arguments, **params})
    if not diary_access(actor, params, _enrolment_facts(enrolments)):
        return b"[]"
    return bytes(document)


def _enrolment_facts(enrolments: str) -> list[tuple[Any, ...]]:
    """`enrolments_as_json` read back: its dates as dates again."""
    return [
        (class_id, dt.date.fromisoformat(first), last and dt.date.fromisoformat(last), school_id, teaches)
        for class_id, first, last, school_id, teaches in orjson.loads(enrolments)
    ]


async def journal_document(
    reads: Reads,
    sql: str,
    arguments: Mapping[str, Any],
    *,
    actor: Actor,
    class_id: int,
    subject_id: int,
    period_id: int,
) -> bytes:
    """A class journal by `sql` (JOURNAL_ROWS rendered for a selection), as the response's JSON
    text; the access as for `services.diary.class_journal`. Two statements: the facts
    (which also give the period's days the journal is read over), then the journal."""
    params = journal_keys(actor, class_id=class_id, subject_id=subject_id, period_id=period_id)
    facts = await reads.rows(_JOURNAL_FACTS, params)
    params = journal_access(actor, params, facts[0] if facts else None)
    [(document,)] = await reads.rows(_journal_statement(sql), {**arguments, **params})
    return bytes(document)


_JOURNAL_FACTS = ReadStatement(JOURNAL_FACTS)


@lru_cache(maxsize=256)
def _journal_statement(sql: str) -> ReadStatement:
    return ReadStatement(select(text(f"({sql})")))


# myChildren's rows: the actor's wards (a guardian) or the student's own record, by name,
# as services.diary.my_children; `{object}` is a child's JSON (schema/sql/child.py).
MY_CHILDREN_ROWS = """
SELECT convert_to(coalesce(json_agg({object} ORDER BY c.last_name, c.first_name, c.id), '[]')::text, 'UTF8')
FROM children c
WHERE c.id IN (SELECT g.child_id FROM guardianships g WHERE g.parent_id = :actor) OR c.user_id = :actor
"""

# child(id:)'s row, once the policy has let the actor see it.
CHILD_ROWS = "SELECT convert_to(({object})::text, 'UTF8') FROM children c WHERE c.id = :child"


async def my_children_document(reads: Reads, sql: str, arguments: Mapping[str, Any], *, actor: Actor) -> bytes:
    """The actor's children by `sql` (MY_CHILDREN_ROWS rendered for a selection). One statement."""
    [(document,)] = await reads.rows(_journal_statement(sql), {**arguments, "actor": actor.user_id})
    return bytes(document)


async def child_document(reads: Reads, sql: str, arguments: Mapping[str, Any], *, child_id: int) -> bytes:
    """A child by `sql` (CHILD_ROWS rendered for a selection), `null` if there is none;
    whether the actor may see the child is the caller's to decide first. One statement."""
    [(document,)] = await reads.rows(_journal_statement(sql), {**arguments, "child": child_id})
    return b"null" if document is None else bytes(document)


def node_rows(table: str) -> str:
    """node(id:)'s row of `table` (aliased `x`), once the policy has let the actor see it."""
    return f"SELECT convert_to(({{object}})::text, 'UTF8') FROM {table} x WHERE x.id = :node"


async def node_document(reads: Reads, sql: str, arguments: Mapping[str, Any], *, pk: int) -> bytes:
    """An entity by `sql` (node_rows rendered for a selection), `null` if there is none. One statement."""
    [(document,)] = await reads.rows(_journal_statement(sql), {**arguments, "node": pk})
    return b"null" if document is None else bytes(document)
