"""Root fields of homework."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import homework
from ediary_gql.schema.types.homework import HomeworkPayload, MarkHomeworkDonePayload


@strawberry.type
class HomeworkMutation:
    assign_homework: HomeworkPayload = strawberry.mutation(
        resolver=homework.assign_homework,
        description="Homework for a lesson: text, due date, expected volume, attached files",
    )
    mark_homework_done: MarkHomeworkDonePayload = strawberry.mutation(
        resolver=homework.mark_homework_done,
        description="Mark a homework done (or not) for a child: by the child or their guardian",
    )
