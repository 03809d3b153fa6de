"""Root fields of sync by external IDs (the integrations area): nodeBySourcedId and the
bulk upserts syncLessons, syncGrades, syncAttendance."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.resolvers import sync
from ediary_gql.schema.ids import pk
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.attendance import Attendance
from ediary_gql.schema.types.grade import Grade
from ediary_gql.schema.types.lesson import Lesson
from ediary_gql.schema.types.school_class import Child, SchoolClass
from ediary_gql.schema.types.subject import Subject
from ediary_gql.schema.types.sync import (
    SourcedType,
    SyncAttendanceInput,
    SyncAttendancePayload,
    SyncGradesInput,
    SyncGradesPayload,
    SyncLessonsInput,
    SyncLessonsPayload,
)
from ediary_gql.schema.types.user import User
from ediary_gql.services.sync import SourcedType as Kind

Info = strawberry.Info[Context, None]

NODE_TYPES: dict[Kind, type[EntityNode]] = {
    Kind.CHILD: Child,
    Kind.TEACHER: User,
    Kind.GUARDIAN: User,
    Kind.SCHOOL_CLASS: SchoolClass,
    Kind.SUBJECT: Subject,
    Kind.LESSON: Lesson,
    Kind.GRADE: Grade,
    Kind.ATTENDANCE: Attendance,
}
WHO = "the school's admin, or its integration with the scope {}"


@strawberry.type
class SyncQuery:
    @strawberry.field(
        description="A school's record by its sourcedId; null if there is none or it is not yours to see (as node). "
        "A teacher or guardian is shown to the school's admins and its integration with a roster scope"
    )
    async def node_by_sourced_id(
        self,
        info: Info,
        school_id: Annotated[
            relay.GlobalID, strawberry.argument(description="The school whose external IDs these are")
        ],
        type_: Annotated[SourcedType, strawberry.argument(name="type", description="What the sourcedId names")],  # type: ignore[valid-type]
        sourced_id: Annotated[str, strawberry.argument(description="The school's external ID")],
    ) -> relay.Node | None:
        ctx = info.context
        school = pk(school_id, "School", field="schoolId")
        kind = Kind(type_)
        row: Any = await sync.node_by_sourced_id(ctx, school_id=school, type=kind, sourced_id=sourced_id)
        if row is None:
            return None
        node = NODE_TYPES[kind]
        # a person the school linked under that sourcedId is the school's to look up
        if await node.visible(ctx, row) or (node is User and sync.may_see_sourced_ids(ctx, school)):
            return node.from_row(row)
        return None


@strawberry.type
class SyncMutation:
    sync_lessons: SyncLessonsPayload = mutation(
        sync.sync_lessons,
        SyncLessonsInput,
        SyncLessonsPayload,
        description="Create or update up to 1,000 lessons by sourcedId, by the rules of createLesson and updateLesson "
        "(bookings, holidays, the year); all or nothing, idempotent; " + WHO.format("roster:write"),
    )
    sync_grades: SyncGradesPayload = mutation(
        sync.sync_grades,
        SyncGradesInput,
        SyncGradesPayload,
        description="Enter or correct up to 1,000 grades at lessons by sourcedId, by the rules of enterGrade and "
        "correctGrade (lessons held, children of the class); all or nothing, idempotent; " + WHO.format("grades:write"),
    )
    sync_attendance: SyncAttendancePayload = mutation(
        sync.sync_attendance,
        SyncAttendanceInput,
        SyncAttendancePayload,
        description="Write up to 1,000 attendance marks by sourcedId, by the rules of markAttendance (guardians told "
        "of absences); all or nothing, idempotent; " + WHO.format("attendance:write"),
    )
