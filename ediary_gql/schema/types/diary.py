"""The diary's read models: a child's days and lessons, a class journal, averages.

They are views over rows the diary service reads set-based; the entities in
them are the owners' types (Lesson, Subject, Homework, Grade, Attendance,
Child), built straight from those rows, without further queries.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import diary
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.attendance import Attendance
from ediary_gql.schema.types.averages import SubjectAverage
from ediary_gql.schema.types.grade import Grade
from ediary_gql.schema.types.homework import Homework
from ediary_gql.schema.types.lesson import Lesson
from ediary_gql.schema.types.school_class import Child
from ediary_gql.schema.types.subject import Subject
from ediary_gql.services import diary as service

if TYPE_CHECKING:
    from ediary_gql.context import Context


def _subject_of(row: Any) -> Subject:
    return Subject(
        id=row.subject_id,
        name=row.subject_name,
        short_name=row.subject_short_name,
        sourced_id=row.subject_external_id,
        _school_id=row.school_id,
    )


@strawberry.type(
    description="A lesson's teacher as the diary shows them: the name only. Its global ID is its own "
    "(not the User's), so a client cache never mixes the two"
)
class DiaryTeacher(EntityNode):
    model = UserRow

    id: relay.NodeID[int]
    last_name: str = strawberry.field(description="Family name")
    first_name: str = strawberry.field(description="Given name")
    middle_name: str | None = strawberry.field(description="Patronymic, if any")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(id=row.id, last_name=row.last_name, first_name=row.first_name, middle_name=row.middle_name)

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await diary.may_see_diary_teacher(context, row.id)

    @strawberry.field(description="Last, first and middle name")
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


@strawberry.type(description="Homework given at a lesson, and whether this child has done it")
class DiaryHomework:
    homework: Homework = strawberry.field(description="The homework given at the lesson")
    is_done: bool = strawberry.field(description="Whether the child (or a guardian) marked it done")


@strawberry.type(description="A lesson in a child's diary, with the child's homework, grades and attendance")
class DiaryLesson:
    lesson: Lesson = strawberry.field(description="The lesson: date, times, room, topic")
    subject: Subject = strawberry.field(description="The lesson's subject")
    teacher: DiaryTeacher = strawberry.field(description="Who teaches the lesson, by name")
    homework: list[DiaryHomework] = strawberry.field(description="Homework given at the lesson, for this child")
    grades: list[Grade] = strawberry.field(description="This child's grades at the lesson (deleted ones left out)")
    attendance: Attendance | None = strawberry.field(description="This child's attendance mark, if marked")

    @classmethod
    def build(cls, item: service.DiaryLesson) -> Self:
        row = item.row
        return cls(
            lesson=Lesson.from_row(row),
            subject=_subject_of(row),
            teacher=DiaryTeacher(
                id=row.teacher_id,
                last_name=row.teacher_last_name,
                first_name=row.teacher_first_name,
                middle_name=row.teacher_middle_name,
            ),
            homework=[DiaryHomework(homework=Homework.from_row(h.row), is_done=h.is_done) for h in item.homework],
            grades=[Grade.from_row(g) for g in item.grades],
            attendance=Attendance.from_row(item.attendance[0]) if item.attendance else None,
        )


@strawberry.type(description="A school day of a child's diary")
class DiaryDay:
    date: dt.date = strawberry.field(description="The day, in the school's calendar")
    lessons: list[DiaryLesson] = strawberry.field(description="The day's lessons of the child's class, in order")

    @classmethod
    def build(cls, day: service.DiaryDay) -> Self:
        return cls(date=day.date, lessons=[DiaryLesson.build(lesson) for lesson in day.lessons])


@strawberry.type(description="One child × one lesson of a class journal")
class JournalCell:
    lesson_id: relay.GlobalID = strawberry.field(description="The lesson of this column")
    grades: list[Grade] = strawberry.field(description="The child's grades at the lesson (deleted ones left out)")
    attendance: Attendance | None = strawberry.field(description="The child's attendance mark, if marked")


@strawberry.type(description="A child's line of a class journal: a cell per lesson, in lesson order, and the average")
class JournalRow:
    child: Child = strawberry.field(description="The child of this line")
    cells: list[JournalCell] = strawberry.field(description="A cell per lesson of the journal, in lesson order")
    average: SubjectAverage | None = strawberry.field(description="The child's averages in the subject; null if none")


@strawberry.type(description="A teacher's journal of a class in a subject over a period")
class ClassJournal:
    class_id: relay.GlobalID = strawberry.field(description="The class")
    subject_id: relay.GlobalID = strawberry.field(description="The subject")
    period_id: relay.GlobalID = strawberry.field(description="The period")
    lessons: list[Lesson] = strawberry.field(description="The journal's columns: the lessons of the period, in order")
    rows: list[JournalRow] = strawberry.field(description="A line per child of the class, by name")

    @strawberry.field(description="The children of the class in the period, by name")
    def children(self) -> list[Child]:
        return [row.child for row in self.rows]

    @classmethod
    def build(cls, journal: service.ClassJournal) -> Self:
        lesson_ids = [lesson.id for lesson in journal.lessons]
        gids = [relay.GlobalID("Lesson", str(i)) for i in lesson_ids]
        grades: dict[tuple[int, int], list[Grade]] = {}
        marks: dict[tuple[int, int], Attendance] = {}
        for lesson in journal.lessons:
            for g in lesson.grades:
                grades.setdefault((g.child_id, lesson.id), []).append(Grade.from_row(g))
            for a in lesson.attendance:
                marks[(a.child_id, lesson.id)] = Attendance.from_row(a)
        rows = []
        for child in journal.children:
            found = journal.averages.get(child.id)
            rows.append(
                JournalRow(
                    child=Child.from_row(child),
                    cells=[
                        JournalCell(
                            lesson_id=gid,
                            grades=grades.get((child.id, lid), []),
                            attendance=marks.get((child.id, lid)),
                        )
                        for lid, gid in zip(lesson_ids, gids, strict=True)
                    ],
                    average=SubjectAverage.build(found) if found is not None else None,
                )
            )
        return cls(
            class_id=relay.GlobalID("SchoolClass", str(journal.class_id)),
            subject_id=relay.GlobalID("Subject", str(journal.subject_id)),
            period_id=relay.GlobalID("Period", str(journal.period_id)),
            lessons=[Lesson.from_row(lesson.row) for lesson in journal.lessons],
            rows=rows,
        )
