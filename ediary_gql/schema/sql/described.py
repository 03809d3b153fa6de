"""Every type the diary graph describes over SQL, by GraphQL type name (for the parity
tests' account of what is compiled)."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlObject
from ediary_gql.schema.sql import diary
from ediary_gql.schema.sql.attachment import attachment
from ediary_gql.schema.sql.attendance import attendance
from ediary_gql.schema.sql.child import child
from ediary_gql.schema.sql.grade import grade, grade_revision
from ediary_gql.schema.sql.homework import homework
from ediary_gql.schema.sql.lesson import lesson
from ediary_gql.schema.sql.period import period
from ediary_gql.schema.sql.school_class import school_class
from ediary_gql.schema.sql.subject import control_type, subject
from ediary_gql.schema.sql.user import diary_teacher, user

DESCRIBED: dict[str, SqlObject] = {
    "Lesson": lesson("x"),
    "Subject": subject("x"),
    "ControlType": control_type("x"),
    "DiaryTeacher": diary_teacher("x"),
    "User": user("x"),
    "Homework": homework("x"),
    "Attachment": attachment("x"),
    "Grade": grade("x"),
    "GradeRevision": grade_revision("x"),
    "Attendance": attendance("x"),
    "Child": child("x"),
    "SchoolClass": school_class("x"),
    "Period": period("x"),
    "DiaryDay": diary.DIARY_DAY,
    "DiaryLesson": diary.DIARY_LESSON,
    "DiaryHomework": diary.DIARY_HOMEWORK,
    "ClassJournal": diary.CLASS_JOURNAL,
    "JournalRow": diary.JOURNAL_ROW,
    "JournalCell": diary.JOURNAL_CELL,
    "SubjectAverage": diary.SUBJECT_AVERAGE,
}
