"""Root fields of the analytics: attendanceStatistics and gradeStatistics."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.resolvers import statistics
from ediary_gql.schema.ids import optional_pk, pk
from ediary_gql.schema.types.statistics import AttendanceGroupBy, AttendanceStatistics, GradeStatistics

Info = strawberry.Info[Context, None]


@strawberry.type
class StatisticsQuery:
    @strawberry.field(
        description="Attendance of a school (its admins) or a class (also its teachers) from `from` to `to` "
        "(at most 366 days), over lessons not cancelled: counts by status, the attendance rate "
        "((present + late) / marked), groups, and the children missing more than `threshold`"
    )
    async def attendance_statistics(
        self,
        info: Info,
        start: Annotated[dt.date, strawberry.argument(name="from", description="First day, inclusive")],
        end: Annotated[dt.date, strawberry.argument(name="to", description="Last day, inclusive")],
        group_by: Annotated[AttendanceGroupBy, strawberry.argument(description="How the rows are grouped")],  # type: ignore[valid-type]
        school_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="The school (or give classId)")
        ] = None,
        class_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="The class (or give schoolId)")
        ] = None,
        threshold: Annotated[
            float,
            strawberry.argument(description="Share of missed marked lessons (0 to 1) above which a child is listed"),
        ] = 0.1,
    ) -> AttendanceStatistics:
        found = await statistics.attendance_statistics(
            info.context,
            school_id=optional_pk(school_id, "School", field="schoolId"),
            class_id=optional_pk(class_id, "SchoolClass", field="classId"),
            start=start,
            end=end,
            group_by=group_by,
            threshold=threshold,
        )
        return AttendanceStatistics.build(found)

    @strawberry.field(
        description="Grades of a class over a period per subject: the distribution by value and the averages "
        "(the school's admins and the class's teachers)"
    )
    async def grade_statistics(
        self,
        info: Info,
        class_id: Annotated[relay.GlobalID, strawberry.argument(description="The class")],
        period_id: Annotated[relay.GlobalID, strawberry.argument(description="The period")],
    ) -> GradeStatistics:
        found = await statistics.grade_statistics(
            info.context,
            class_id=pk(class_id, "SchoolClass", field="classId"),
            period_id=pk(period_id, "Period", field="periodId"),
        )
        return GradeStatistics.build(found)
