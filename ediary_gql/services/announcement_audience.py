"""Who an announcement reaches: its facts and a reader's, as the policy takes them. Apart
from services/announcements.py so that downloads (services/attachments.py) use it too."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.classes import SchoolClass, TeachingAssignment
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.db.models.messages import Announcement, AnnouncementAttachment, AnnouncementClass
from ediary_gql.services import diary_facts

STAFF_ROLES = (StaffRole.TEACHER, StaffRole.SCHOOL_ADMIN)


async def reader_facts(session: AsyncSession, actor: Actor) -> policy.AnnouncementReader:
    """The actor's children's classes today and the classes they teach or lead at schools
    where they are staff now: two statements at most (none for an actor with neither)."""
    children = set(actor.guardian_of)
    if actor.student_child_id is not None:
        children.add(actor.student_child_id)
    family = frozenset(found for _, found in await diary_facts.current_classes_of_children(session, children))
    schools = actor.schools_with(*STAFF_ROLES)
    taught: frozenset[int] = frozenset()
    if schools:
        assigned = (
            select(SchoolClass.id)
            .join(TeachingAssignment, TeachingAssignment.class_id == SchoolClass.id)
            .where(TeachingAssignment.teacher_id == actor.user_id, SchoolClass.school_id.in_(schools))
        )
        homeroom = select(SchoolClass.id).where(
            SchoolClass.homeroom_teacher_id == actor.user_id, SchoolClass.school_id.in_(schools)
        )
        taught = frozenset((await session.scalars(select(union(assigned, homeroom).subquery().c[0]))).all())
    return policy.AnnouncementReader(family_classes=family, taught_classes=taught)


def facts(row: Announcement, class_ids: Iterable[int]) -> policy.AnnouncementFacts:
    return policy.AnnouncementFacts(
        school_id=row.school_id,
        audience=row.audience.value,
        class_ids=frozenset(class_ids),
        author_id=row.author_id,
        withdrawn=row.withdrawn_at is not None,
    )


async def classes_of(session: AsyncSession, announcement_ids: list[int]) -> list[tuple[int, int]]:
    """(announcement id, class id) for the announcements' classes."""
    if not announcement_ids:
        return []
    rows = await session.execute(
        select(AnnouncementClass.announcement_id, AnnouncementClass.class_id)
        .where(AnnouncementClass.announcement_id.in_(announcement_ids))
        .order_by(AnnouncementClass.class_id)
    )
    return [(a, c) for a, c in rows.all()]


async def attachment_facts(
    session: AsyncSession, actor: Actor | None, attachment_ids: Sequence[int]
) -> list[tuple[policy.AnnouncementFacts, policy.AnnouncementReader]]:
    """For attachments that are files of announcements: each announcement's facts with the
    reader's (read only when there is such an announcement)."""
    if actor is None:
        return []
    rows = (
        await session.scalars(
            select(Announcement)
            .join(AnnouncementAttachment, AnnouncementAttachment.announcement_id == Announcement.id)
            .where(AnnouncementAttachment.attachment_id.in_(list(attachment_ids)))
        )
    ).all()
    if not rows:
        return []
    classes: dict[int, list[int]] = {}
    for announcement_id, class_id in await classes_of(session, [r.id for r in rows]):
        classes.setdefault(announcement_id, []).append(class_id)
    reader = await reader_facts(session, actor)
    return [(facts(r, classes.get(r.id, ())), reader) for r in rows]
