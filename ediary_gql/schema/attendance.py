"""Root fields of attendance."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.resolvers import attendance
from ediary_gql.schema.ids import optional_pk, pk
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.subscriptions import AFTER, each
from ediary_gql.schema.types.attendance import (
    AttendanceSummary,
    LessonAttendance,
    MarkAttendanceInput,
    MarkAttendancePayload,
)

Info = strawberry.Info[Context, None]


@strawberry.type
class AttendanceMutation:
    mark_attendance: MarkAttendancePayload = mutation(
        attendance.mark_attendance,
        MarkAttendanceInput,
        MarkAttendancePayload,
        description="Marks for a whole lesson in one call; guardians are notified of ABSENT and LATE",
    )


@strawberry.type
class AttendanceSubscription:
    @strawberry.subscription(
        description="A lesson with all its marks each time they change; give exactly one of classId (its teachers, "
        "the school's admins) or schoolId (the school's admins)"
    )
    def attendance_events(
        self,
        info: Info,
        class_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="The class to follow (or give schoolId)")
        ] = None,
        school_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="The school to follow (or give classId)")
        ] = None,
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[LessonAttendance, None]:
        feed = attendance.events_feed(
            class_id=optional_pk(class_id, "SchoolClass", field="classId"),
            school_id=optional_pk(school_id, "School", field="schoolId"),
        )
        return each(info, feed, LessonAttendance.of, after=after)

    @strawberry.subscription(
        description="A class's attendance counts on a day: at once, then after every change (a dashboard feed)"
    )
    def attendance_summary(
        self,
        info: Info,
        class_id: Annotated[relay.GlobalID, strawberry.argument(description="The class")],
        date: Annotated[dt.date, strawberry.argument(description="The day; today in the school's zone by default")],
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[AttendanceSummary, None]:
        feed = attendance.summary_feed(class_id=pk(class_id, "SchoolClass", field="classId"), date=date)
        return each(info, feed, AttendanceSummary.of, after=after)
