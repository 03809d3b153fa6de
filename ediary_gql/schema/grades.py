"""Root fields of grades."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from ediary_gql.resolvers import grades
from ediary_gql.schema.types.grade import GradeEvent, GradePayload


@strawberry.type
class GradesMutation:
    enter_grade: GradePayload = strawberry.mutation(
        resolver=grades.enter_grade,
        description="A grade at a lesson, or a final grade for a period or year (the class × subject's teacher)",
    )
    correct_grade: GradePayload = strawberry.mutation(
        resolver=grades.correct_grade, description="Correct a grade, with a reason; the old value stays in history"
    )
    delete_grade: GradePayload = strawberry.mutation(
        resolver=grades.delete_grade, description="Delete a grade, with a reason (kept in history)"
    )


@strawberry.type
class GradesSubscription:
    @strawberry.subscription(
        description="A child's grades created, corrected or deleted: for the child's guardians, the child, "
        "their teachers and the school's admins"
    )
    def grade_events(self, info: grades.Info, child_id: relay.GlobalID) -> AsyncGenerator[GradeEvent, None]:
        return grades.grade_events(info, child_id)
