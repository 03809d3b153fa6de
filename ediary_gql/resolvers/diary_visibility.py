"""Per-request loaders for the diary policy's row facts (teaching assignments,
class rosters on a date) and the visibility checks built on them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ediary_gql.auth import policy
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.resolvers.loaders import Loaders
from ediary_gql.services import diary_facts

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def assignments(loaders: Loaders, teacher_id: int) -> frozenset[tuple[int, int]]:
    """(class id, subject id) pairs the teacher is assigned to."""
    loader = loaders.grouped(diary_facts.assignments_of)
    return frozenset(await loader.load(teacher_id))


async def school_of_class(loaders: Loaders, class_id: int) -> int:
    row = await loaders.by_id(SchoolClass).load(class_id)
    return row.school_id if row is not None else -1


async def class_children(loaders: Loaders, class_id: int, date: dt.date) -> frozenset[int]:
    loader = loaders.grouped(diary_facts.children_on)
    return frozenset(await loader.load((class_id, date)))


async def teaches(context: Context, loaders: Loaders, class_id: int, subject_id: int | None) -> bool:
    """The actor teaches that subject (None: any subject) in that class."""
    actor = context.actor
    if actor is None:
        return False
    pairs = await assignments(loaders, actor.user_id)
    if subject_id is None:
        return any(c == class_id for c, _ in pairs)
    return (class_id, subject_id) in pairs


async def may_view_lesson(context: Context, lesson: Lesson, loaders: Loaders | None = None) -> bool:
    loaders = loaders or context.loaders
    actor = context.actor
    if actor is None:
        return False
    children = (
        await class_children(loaders, lesson.class_id, lesson.date)
        if actor.guardian_of or actor.student_child_id is not None
        else frozenset()
    )
    return policy.can_view_lesson(actor, school_id=lesson.school_id, class_child_ids=children)


async def may_view_child_record(
    context: Context, *, child_id: int, class_id: int, subject_id: int | None, loaders: Loaders | None = None
) -> bool:
    """A grade (subject given) or attendance mark (subject None) of a child in a class."""
    loaders = loaders or context.loaders
    actor = context.actor
    if actor is None:
        return False
    school_id = await school_of_class(loaders, class_id)
    return policy.can_view_child_record(
        actor,
        child_id=child_id,
        school_id=school_id,
        teaches=await teaches(context, loaders, class_id, subject_id),
    )


async def current_school_of_child(loaders: Loaders, child_id: int) -> tuple[int, frozenset[int]]:
    """(school id or -1, class ids) of the child's enrolments open today at their school."""
    loader = loaders.grouped(diary_facts.current_classes_of_children)
    pairs: list[tuple[int, int]] = await loader.load(child_id)
    schools = {school for _, school in pairs}
    return (next(iter(schools)) if len(schools) == 1 else -1), frozenset(c for c, _ in pairs)
