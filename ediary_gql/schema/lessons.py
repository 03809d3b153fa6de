"""Root fields of the schedule: lessons and timetable templates."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import lessons
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.lesson import (
    CreateLessonInput,
    CreateTimetableTemplateInput,
    GenerateLessonsInput,
    GenerateLessonsPayload,
    LessonPayload,
    TimetableTemplatePayload,
    UpdateLessonInput,
)


@strawberry.type
class LessonsMutation:
    create_lesson: LessonPayload = mutation(
        lessons.create_lesson,
        CreateLessonInput,
        LessonPayload,
        description="A lesson by hand; refused if its class, teacher or room is booked then (the lesson named)",
    )
    update_lesson: LessonPayload = mutation(
        lessons.update_lesson,
        UpdateLessonInput,
        LessonPayload,
        description="Move, cancel or restore a lesson; substitute teacher, topic, room",
    )
    create_timetable_template: TimetableTemplatePayload = mutation(
        lessons.create_timetable_template,
        CreateTimetableTemplateInput,
        TimetableTemplatePayload,
        description="A class's weekly timetable for a period",
    )
    generate_lessons: GenerateLessonsPayload = mutation(
        lessons.generate_lessons,
        GenerateLessonsInput,
        GenerateLessonsPayload,
        description="Lessons from a template over dates of its period, skipping holidays and days off; "
        "idempotent; slots that would double-book are reported in `skipped`",
    )
