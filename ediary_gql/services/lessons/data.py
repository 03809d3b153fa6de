"""The data classes: a lesson, changes to one, a template with its slots, and what generation returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from ediary_gql.db.models.enums import LessonStatus
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import ErrorCode


class Keep:
    """A field an update leaves as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = Keep()


@dataclass(frozen=True, slots=True)
class LessonData:
    class_id: int
    subject_id: int
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    teacher_id: int | None = None  # None: the actor teaches it
    lesson_number: int | None = None
    room: str | None = None
    topic: str | None = None
    allow_on_holiday: bool = False  # a make-up day on a holiday or a day off


@dataclass(frozen=True, slots=True)
class LessonChanges:
    date: dt.date | Keep = KEEP
    start_time: dt.time | Keep = KEEP
    end_time: dt.time | Keep = KEEP
    lesson_number: int | Keep | None = KEEP
    room: str | Keep | None = KEEP
    topic: str | Keep | None = KEEP
    status: LessonStatus | Keep = KEEP
    substitute_teacher_id: int | Keep | None = KEEP
    allow_on_holiday: bool = False  # moved to (or restored on) a holiday as a make-up day


@dataclass(frozen=True, slots=True)
class SlotData:
    weekday: int
    start_time: dt.time
    end_time: dt.time
    subject_id: int
    teacher_id: int
    lesson_number: int = 0
    room: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateData:
    class_id: int
    period_id: int
    name: str
    slots: Sequence[SlotData]


@dataclass(frozen=True, slots=True)
class SkippedLesson:
    """A lesson `generate_lessons` did not make, and why (CONFLICT or DUPLICATE)."""

    date: dt.date
    start_time: dt.time
    code: ErrorCode
    message: str
    conflicting_lesson_id: int | None


@dataclass(slots=True)
class GenerationResult:
    created: list[Lesson] = field(default_factory=list)
    already_present: int = 0
    skipped: list[SkippedLesson] = field(default_factory=list)
