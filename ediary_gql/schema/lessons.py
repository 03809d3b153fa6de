"""Root fields of the schedule: lessons and timetable templates."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import lessons
from ediary_gql.schema.types.lesson import GenerateLessonsPayload, LessonPayload, TimetableTemplatePayload


@strawberry.type
class LessonsMutation:
    create_lesson: LessonPayload = strawberry.mutation(
        resolver=lessons.create_lesson,
        description="A lesson by hand; refused if its class, teacher or room is booked then (the lesson named)",
    )
    update_lesson: LessonPayload = strawberry.mutation(
        resolver=lessons.update_lesson, description="Move, cancel or restore a lesson; substitute teacher, topic, room"
    )
    create_timetable_template: TimetableTemplatePayload = strawberry.mutation(
        resolver=lessons.create_timetable_template, description="A class's weekly timetable for a period"
    )
    generate_lessons: GenerateLessonsPayload = strawberry.mutation(
        resolver=lessons.generate_lessons,
        description="Lessons from a template over dates of its period, skipping holidays and days off; "
        "idempotent; slots that would double-book are reported in `skipped`",
    )
