"""The diary's read models (schema/types/diary.py) over SQL: DiaryDay, DiaryLesson,
DiaryHomework, ClassJournal, JournalRow, JournalCell, SubjectAverage.

They read the rows the services' statements select (services/diary_document.py):
the diary's `lessons` and its `:child`; the journal's `l` (lessons), `c` (children),
`av` (averages) and its `:class`, `:subject`, `:period`.
"""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject
from ediary_gql.schema.sql.attendance import attendance
from ediary_gql.schema.sql.child import child
from ediary_gql.schema.sql.common import gid, one
from ediary_gql.schema.sql.grade import grade
from ediary_gql.schema.sql.homework import homework
from ediary_gql.schema.sql.lesson import lesson
from ediary_gql.schema.sql.subject import subject
from ediary_gql.schema.sql.user import diary_teacher


def grades_of(lesson_id: str, child_id: str, school_id: str) -> SqlNested:
    """A child's grades at a lesson, deleted ones left out, in the order they were given;
    with the school, the key grades are to be partitioned by."""
    return SqlNested(
        "(SELECT coalesce(json_agg({object} ORDER BY g.graded_on, g.id), '[]') FROM grades g "
        f"WHERE g.school_id = {school_id} AND g.lesson_id = {lesson_id} AND g.child_id = {child_id}"
        " AND g.deleted_at IS NULL)",
        grade("g"),
    )


def attendance_of(lesson_id: str, child_id: str, school_id: str) -> SqlNested:
    """The child's mark at the lesson; the lesson's school is the partition key, so
    PostgreSQL reads one partition of attendances (pruned at run time)."""
    return SqlNested(
        f"(SELECT {{object}} FROM attendances a WHERE a.school_id = {school_id}"
        f" AND a.lesson_id = {lesson_id} AND a.child_id = {child_id})",
        attendance("a"),
    )


DIARY_HOMEWORK = SqlObject(
    {
        "isDone": "EXISTS (SELECT 1 FROM homework_completions hc WHERE hc.homework_id = h.id AND hc.child_id = :child)",
        "homework": one(homework("h")),
    }
)

# a lesson `l` of the diary's `lessons`, with its subject `s` and teacher `u`
DIARY_LESSON = SqlObject(
    {
        "lesson": one(lesson("l")),
        "subject": one(subject("s")),
        "teacher": one(diary_teacher("u")),
        "homework": SqlNested(
            "(SELECT coalesce(json_agg({object} ORDER BY h.id), '[]') FROM homeworks h WHERE h.lesson_id = l.id)",
            DIARY_HOMEWORK,
        ),
        "grades": grades_of("l.id", ":child", "l.school_id"),
        "attendance": attendance_of("l.id", ":child", "l.school_id"),
    }
)

# a day `d` of the diary's `lessons`
DIARY_DAY = SqlObject(
    {
        "date": "d.date",
        "lessons": SqlNested(
            "(SELECT json_agg({object} ORDER BY l.start_time, l.id) FROM lessons l "
            "JOIN subjects s ON s.id = l.subject_id JOIN users u ON u.id = l.teacher_id WHERE l.date = d.date)",
            DIARY_LESSON,
        ),
    }
)

JOURNAL_CELL = SqlObject(
    {
        "lessonId": gid("Lesson", "l.id"),
        "grades": grades_of("l.id", "c.id", "l.school_id"),
        "attendance": attendance_of("l.id", "c.id", "l.school_id"),
    }
)

# the averages `av` of a child, in the journal's subject `s`
SUBJECT_AVERAGE = SqlObject(
    {
        "subject": one(subject("s")),
        "average": "round(av.total::numeric / av.n, 2)",
        "weightedAverage": "round(av.weighted::numeric / av.weights, 2)",
        "count": "av.n",
    }
)

_LESSONS_IN_ORDER = "ORDER BY l.date, l.start_time, l.id), '[]') FROM l)"
_CHILDREN_IN_ORDER = "ORDER BY c.last_name, c.first_name, c.middle_name, c.id), '[]') FROM c)"

JOURNAL_ROW = SqlObject(
    {
        "child": one(child("c")),
        "cells": SqlNested("(SELECT coalesce(json_agg({object} " + _LESSONS_IN_ORDER, JOURNAL_CELL),
        "average": SqlNested(
            "(SELECT {object} FROM av JOIN subjects s ON s.id = :subject WHERE av.child_id = c.id)", SUBJECT_AVERAGE
        ),
    }
)

CLASS_JOURNAL = SqlObject(
    {
        "classId": gid("SchoolClass", "CAST(:class AS integer)"),
        "subjectId": gid("Subject", "CAST(:subject AS integer)"),
        "periodId": gid("Period", "CAST(:period AS integer)"),
        "lessons": SqlNested("(SELECT coalesce(json_agg({object} " + _LESSONS_IN_ORDER, lesson("l")),
        "children": SqlNested("(SELECT coalesce(json_agg({object} " + _CHILDREN_IN_ORDER, child("c")),
        "rows": SqlNested("(SELECT coalesce(json_agg({object} " + _CHILDREN_IN_ORDER, JOURNAL_ROW),
    }
)
