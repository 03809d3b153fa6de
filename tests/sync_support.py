"""A school known to an integrator by sourcedIds, for the sync tests: the diary-writes
world (tests/diary_writes_support.py) with external IDs on its class, subject, children,
teachers and a guardian, lessons held by sourcedId, and more children on demand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.enums import LessonStatus, Sex
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.services.lessons.checks import days_off
from tests.diary_writes_support import MONDAY, World, gid, make_world
from tests.factories.lessons import lesson_times
from tests.support import GraphQLClient

__all__ = ["MONDAY", "SyncWorld", "gid", "make_sync_world", "sync"]

SLOTS_PER_DAY = 7


@dataclass
class SyncWorld:
    """`world` with: class CLS-1, subject SUB-MATH, children STU-1 (`child`) and STU-2
    (`other_child`), teachers T-1 (`teacher`, assigned) and T-2 (`other_teacher`, not
    assigned), guardian G-1 (`parent`)."""

    world: World

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)

    async def school_days(self, session: AsyncSession, count: int, start: dt.date = MONDAY) -> list[dt.date]:
        """The first `count` school days from `start` (no weekend, holiday or day off)."""
        off = await days_off(session, self.world.school.id, start, start + dt.timedelta(days=count * 2 + 60))
        found: list[dt.date] = []
        day = start
        while len(found) < count:
            if day.isoweekday() <= 5 and day not in off:
                found.append(day)
            day += dt.timedelta(days=1)
        return found

    async def lessons(self, session: AsyncSession, count: int, *, prefix: str = "L") -> list[Lesson]:
        """`count` lessons of the class in maths with `teacher`, sourcedIds L-1, L-2, …,
        SLOTS_PER_DAY a school day from MONDAY (all held by now)."""
        days = await self.school_days(session, -(-count // SLOTS_PER_DAY))
        rows = []
        for n in range(count):
            start, end = lesson_times(n % SLOTS_PER_DAY + 1)
            rows.append(
                {
                    "school_id": self.world.school.id,
                    "class_id": self.world.school_class.id,
                    "subject_id": self.world.subject.id,
                    "teacher_id": self.world.teacher.id,
                    "date": days[n // SLOTS_PER_DAY],
                    "start_time": start,
                    "end_time": end,
                    "lesson_number": n % SLOTS_PER_DAY + 1,
                    "status": LessonStatus.SCHEDULED,
                    "external_id": f"{prefix}-{n + 1}",
                }
            )
        await session.execute(insert(Lesson), rows)
        await session.commit()
        sids = [row["external_id"] for row in rows]
        found = {
            row.external_id: row
            for row in await session.scalars(
                select(Lesson).where(Lesson.school_id == self.world.school.id, Lesson.external_id.in_(sids))
            )
        }
        return [found[sid] for sid in sids]

    async def children(self, session: AsyncSession, count: int, *, first: int = 3) -> list[Child]:
        """`count` more children enrolled in the class, sourcedIds STU-<first>, …"""
        rows = [
            {
                "last_name": "Ученик",
                "first_name": f"Номер{n}",
                "birth_date": dt.date(2015, 1, 1),
                "sex": Sex.MALE,
                "school_id": self.world.school.id,
                "external_id": f"STU-{n}",
            }
            for n in range(first, first + count)
        ]
        await session.execute(insert(Child), rows)
        found = list(
            await session.scalars(
                select(Child).where(
                    Child.external_id.in_([r["external_id"] for r in rows]), Child.school_id == self.world.school.id
                )
            )
        )
        await session.execute(
            insert(Enrollment),
            [
                {"child_id": c.id, "class_id": self.world.school_class.id, "starts_on": self.world.year.starts_on}
                for c in found
            ],
        )
        await session.commit()
        return sorted(found, key=lambda c: int(str(c.external_id).split("-")[1]))


async def make_sync_world(session: AsyncSession) -> SyncWorld:
    world = await make_world(session)
    world.school_class.external_id = "CLS-1"
    world.subject.external_id = "SUB-MATH"
    world.child.external_id = "STU-1"
    world.other_child.external_id = "STU-2"
    school = world.school.id
    session.add_all(
        [
            RosterLink(school_id=school, kind="TEACHER", external_id="T-1", target_id=world.teacher.id),
            RosterLink(school_id=school, kind="TEACHER", external_id="T-2", target_id=world.other_teacher.id),
            RosterLink(school_id=school, kind="GUARDIAN", external_id="G-1", target_id=world.parent.id),
        ]
    )
    await session.commit()
    return SyncWorld(world)


async def sync(
    gql: GraphQLClient,
    token: str,
    mutation: str,
    world: SyncWorld,
    items: list[dict[str, Any]],
    *,
    dry_run: bool = False,
    selection: str = "items { index sourcedId action }",
) -> dict[str, Any]:
    """The payload of syncLessons/syncGrades/syncAttendance (`mutation`) for the world's school."""
    name = mutation[0].upper() + mutation[1:]
    query = (
        f"mutation($i: {name}Input!) {{ {mutation}(input: $i) {{ applied summary {{ created updated unchanged }} "
        f"{selection} userErrors {{ field code message }} }} }}"
    )
    data = await gql.data(
        query, {"i": {"schoolId": gid("School", world.school.id), "items": items, "dryRun": dry_run}}, token=token
    )
    payload: dict[str, Any] = data[mutation]
    return payload
