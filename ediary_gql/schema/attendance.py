"""Root fields of attendance."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from ediary_gql.resolvers import attendance
from ediary_gql.schema.types.attendance import AttendanceSummary, LessonAttendance, MarkAttendancePayload


@strawberry.type
class AttendanceMutation:
    mark_attendance: MarkAttendancePayload = strawberry.mutation(
        resolver=attendance.mark_attendance,
        description="Marks for a whole lesson in one call; guardians are notified of ABSENT and LATE",
    )


@strawberry.type
class AttendanceSubscription:
    @strawberry.subscription(
        description="A lesson with all its marks each time they change; give exactly one of classId (its teachers, "
        "the school's admins) or schoolId (the school's admins)"
    )
    def attendance_events(
        self, info: attendance.Info, class_id: relay.GlobalID | None = None, school_id: relay.GlobalID | None = None
    ) -> AsyncGenerator[LessonAttendance, None]:
        return attendance.attendance_events(info, class_id, school_id)

    @strawberry.subscription(
        description="A class's attendance counts on a day: at once, then after every change (a dashboard feed)"
    )
    def attendance_summary(
        self, info: attendance.Info, class_id: relay.GlobalID, date: dt.date
    ) -> AsyncGenerator[AttendanceSummary, None]:
        return attendance.attendance_summary(info, class_id, date)
