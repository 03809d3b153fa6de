"""Root fields of homework."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import homework
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.homework import (
    AssignHomeworkInput,
    HomeworkPayload,
    MarkHomeworkDoneInput,
    MarkHomeworkDonePayload,
)


@strawberry.type
class HomeworkMutation:
    assign_homework: HomeworkPayload = mutation(
        homework.assign_homework,
        AssignHomeworkInput,
        HomeworkPayload,
        description="Homework for a lesson: text, due date, expected volume, attached files",
    )
    mark_homework_done: MarkHomeworkDonePayload = mutation(
        homework.mark_homework_done,
        MarkHomeworkDoneInput,
        MarkHomeworkDonePayload,
        description="Mark a homework done (or not) for a child: by the child or their guardian",
    )
