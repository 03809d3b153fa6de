"""Per-request loaders for the diary policy's row facts (teaching assignments,
class rosters on a date) and the visibility checks built on them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.errors import ErrorCode, ErrorCollector, FieldError
from ediary_gql.schema.node import pk_of
from ediary_gql.services import diary_access

if TYPE_CHECKING:
    from ediary_gql.context import Context
    from ediary_gql.resolvers.loaders import Loaders


async def assignments(loaders: Loaders, teacher_id: int) -> frozenset[tuple[int, int]]:
    """(class id, subject id) pairs the teacher is assigned to."""
    loader = loaders.grouped("diary.assignments", diary_access.assignments_of)
    return frozenset(await loader.load(teacher_id))


async def school_of_class(loaders: Loaders, class_id: int) -> int:
    row = await loaders.by_id(SchoolClass).load(class_id)
    return row.school_id if row is not None else -1


async def class_children(loaders: Loaders, class_id: int, date: dt.date) -> frozenset[int]:
    loader = loaders.grouped("diary.class_children", diary_access.children_on)
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


class IdReader:
    """Database ids out of global IDs, every wrong one reported at once."""

    def __init__(self) -> None:
        self.errors = ErrorCollector()

    def pk(self, global_id: relay.GlobalID, type_name: str, field: str | tuple[str, ...]) -> int:
        path = (field,) if isinstance(field, str) else field
        found = self.errors.check(lambda: pk_of(global_id, type_name, field=path[-1]))
        if found is None:
            self.errors.errors[-1] = FieldError(ErrorCode.INVALID, f"Ожидается идентификатор типа {type_name}", path)
            return -1
        return found

    def optional(self, global_id: relay.GlobalID | None, type_name: str, field: str | tuple[str, ...]) -> int | None:
        return None if global_id is None else self.pk(global_id, type_name, field)

    def done(self) -> None:
        self.errors.raise_if_any()


async def fresh_actor(context: Context, actor: Actor) -> Actor | None:
    """The actor's facts as they are now (wards, memberships, status), for a per-event
    re-check on a long-lived subscription: the connection's actor was read at connect.
    Read with every other subscriber of the process asking in the same loop turn."""
    if actor.is_system:
        return actor
    current = await context.services.shared_reads.actor(actor.user_id)
    return None if current is None else dataclasses.replace(current, session_id=actor.session_id)


async def event_context(context: Context, actor: Actor) -> Context | None:
    """A context for one subscription event: fresh loaders and the actor's current facts.
    The connection's loaders are renewed too, so nested fields never read stale rows."""
    current = await fresh_actor(context, actor)
    if current is None:
        return None
    context.loaders = context.fresh_loaders()
    scoped = dataclasses.replace(context, loaders=context.loaders)
    scoped.set_actor(current)
    return scoped


async def current_school_of_child(loaders: Loaders, child_id: int) -> tuple[int, frozenset[int]]:
    """(school id or -1, class ids) of the child's enrolments open today at their school."""
    loader = loaders.grouped("diary.child_classes", diary_access.current_classes_of_children)
    pairs: list[tuple[int, int]] = await loader.load(child_id)
    schools = {school for _, school in pairs}
    return (next(iter(schools)) if len(schools) == 1 else -1), frozenset(c for c, _ in pairs)
