"""Root fields of grades."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.resolvers import grades
from ediary_gql.schema.ids import pk
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.subscriptions import AFTER, each
from ediary_gql.schema.types.grade import (
    CorrectGradeInput,
    DeleteGradeInput,
    EnterGradeInput,
    GradeEvent,
    GradePayload,
)

Info = strawberry.Info[Context, None]


@strawberry.type
class GradesMutation:
    enter_grade: GradePayload = mutation(
        grades.enter_grade,
        EnterGradeInput,
        GradePayload,
        description="A grade at a lesson, or a final grade for a period or year (the class × subject's teacher)",
    )
    correct_grade: GradePayload = mutation(
        grades.correct_grade,
        CorrectGradeInput,
        GradePayload,
        description="Correct a grade, with a reason; the old value stays in history",
    )
    delete_grade: GradePayload = mutation(
        grades.delete_grade,
        DeleteGradeInput,
        GradePayload,
        description="Delete a grade, with a reason (kept in history)",
    )


@strawberry.type
class GradesSubscription:
    @strawberry.subscription(
        description="A child's grades created, corrected or deleted: for the child's guardians, the child, "
        "their teachers and the school's admins"
    )
    def grade_events(
        self,
        info: Info,
        child_id: Annotated[relay.GlobalID, strawberry.argument(description="The child whose grades to follow")],
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[GradeEvent, None]:
        feed = grades.grade_feed(child_id=pk(child_id, "Child", field="childId"))
        return each(info, feed, GradeEvent.of, after=after)
