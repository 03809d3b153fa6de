"""Analytics reads: attendanceStatistics and gradeStatistics. Thin: a short read-only
session and the statistics service (services/statistics.py), which asks the policy."""

from __future__ import annotations

import datetime as dt

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.services import statistics as service


async def attendance_statistics(
    ctx: Context,
    *,
    school_id: int | None,
    class_id: int | None,
    start: dt.date,
    end: dt.date,
    group_by: service.GroupBy,
    threshold: float,
) -> service.AttendanceStatistics:
    actor = policy.require_actor(ctx.actor)
    async with ctx.read_session_factory() as session:
        return await service.attendance_statistics(
            session,
            actor=actor,
            school_id=school_id,
            class_id=class_id,
            start=start,
            end=end,
            group_by=group_by,
            threshold=threshold,
        )


async def grade_statistics(ctx: Context, *, class_id: int, period_id: int) -> service.GradeStatistics:
    actor = policy.require_actor(ctx.actor)
    async with ctx.read_session_factory() as session:
        return await service.grade_statistics(session, actor=actor, class_id=class_id, period_id=period_id)
