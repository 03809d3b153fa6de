"""What the demo and the scale data share: Moscow, a school's year, subjects and
control types, user rows, marks and the school's calendar."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import AcademicYear, CalendarOverride, Holiday, Period
from ediary_gql.db.models.classes import Subject
from ediary_gql.db.models.enums import GradeKind, PeriodKind, UserStatus
from ediary_gql.db.models.geo import Region, Settlement, normalize_name
from ediary_gql.db.models.grades import ControlType
from ediary_gql.demo.bulk import Row, insert_ids, insert_one, insert_rows
from ediary_gql.demo.curriculum import CONTROL_TYPES, SUBJECTS
from ediary_gql.demo.names import Person
from ediary_gql.demo.school_calendar import (
    BREAKS,
    QUARTERS,
    YEAR_END,
    YEAR_NAME,
    YEAR_START,
    SchoolCalendar,
)

MOSCOW_REGION = ("77", "Москва", "город федерального значения")
MOSCOW_SETTLEMENT = {"name": "Москва", "kind": "город", "okato": "45000000000", "oktmo": "45000000"}

# When the accounts were confirmed (before the school year).
ACCOUNTS_CONFIRMED_AT = dt.datetime(2026, 8, 20, 9, 0, tzinfo=dt.UTC)


async def ensure_moscow(session: AsyncSession) -> int:
    """The settlement id of Moscow; the region and settlement rows are made if absent."""
    code, name, kind = MOSCOW_REGION
    if await session.scalar(select(Region.code).where(Region.code == code)) is None:
        await insert_rows(session, Region, [{"code": code, "name": name, "kind": kind}])
    settlement_id = await session.scalar(
        select(Settlement.id)
        .where(Settlement.region_code == code, Settlement.name_normalized == normalize_name(MOSCOW_SETTLEMENT["name"]))
        .order_by(Settlement.id)
        .limit(1)
    )
    if settlement_id is not None:
        return int(settlement_id)
    return await insert_one(
        session,
        Settlement,
        {
            "region_code": code,
            "name": MOSCOW_SETTLEMENT["name"],
            "name_normalized": normalize_name(MOSCOW_SETTLEMENT["name"]),
            "kind": MOSCOW_SETTLEMENT["kind"],
            "okato": MOSCOW_SETTLEMENT["okato"],
            "oktmo": MOSCOW_SETTLEMENT["oktmo"],
        },
    )


async def load_calendar(session: AsyncSession) -> SchoolCalendar:
    """The school calendar with the global production-calendar overrides applied."""
    rows = (
        await session.execute(
            select(CalendarOverride.date, CalendarOverride.is_working).where(
                CalendarOverride.date >= YEAR_START, CalendarOverride.date <= YEAR_END
            )
        )
    ).all()
    return SchoolCalendar(overrides=[(d, bool(w)) for d, w in rows])


def user_row(
    person: Person,
    *,
    password_hash: str,
    email: str | None,
    phone: str | None = None,
    birth_date: dt.date | None = None,
    is_operator: bool = False,
) -> Row:
    return {
        "phone": phone,
        "email": email,
        "password_hash": password_hash,
        "last_name": person.last_name,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "birth_date": birth_date,
        "status": UserStatus.CONFIRMED,
        "is_operator": is_operator,
        "phone_confirmed_at": ACCOUNTS_CONFIRMED_AT if phone else None,
        "email_confirmed_at": ACCOUNTS_CONFIRMED_AT if email else None,
        "consent_at": ACCOUNTS_CONFIRMED_AT,
        "notification_prefs": {},
    }


@dataclass(frozen=True, slots=True)
class SchoolFrame:
    """A school's academic year and directories, by code."""

    school_id: int
    year_id: int
    period_ids: dict[int, int]  # quarter number → id
    subject_ids: dict[str, int]  # subject code → id
    control_types: dict[str, tuple[int, Decimal]]  # code → (id, weight)

    def period_for(self, day: dt.date) -> int | None:
        for q in QUARTERS:
            if day in q:
                return self.period_ids[q.number]
        return None


async def create_school_frame(session: AsyncSession, *, school_id: int) -> SchoolFrame:
    """The 2026/2027 year with four quarters and the breaks, every subject and control type."""
    year_id = await insert_one(
        session,
        AcademicYear,
        {
            "school_id": school_id,
            "name": YEAR_NAME,
            "starts_on": YEAR_START,
            "ends_on": YEAR_END,
            "period_kind": PeriodKind.QUARTER,
        },
    )
    period_list = await insert_ids(
        session,
        Period,
        [
            {
                "academic_year_id": year_id,
                "number": q.number,
                "name": q.name,
                "starts_on": q.starts_on,
                "ends_on": q.ends_on,
            }
            for q in QUARTERS
        ],
    )
    await insert_rows(
        session,
        Holiday,
        [{"school_id": school_id, "name": b.name, "starts_on": b.starts_on, "ends_on": b.ends_on} for b in BREAKS],
    )
    subject_list = await insert_ids(
        session,
        Subject,
        [{"school_id": school_id, "name": s.name, "short_name": s.short_name, "external_id": s.code} for s in SUBJECTS],
    )
    control_list = await insert_ids(
        session,
        ControlType,
        [{"school_id": school_id, "code": c.code, "name": c.name, "weight": c.weight} for c in CONTROL_TYPES],
    )
    return SchoolFrame(
        school_id=school_id,
        year_id=year_id,
        period_ids={q.number: pid for q, pid in zip(QUARTERS, period_list, strict=True)},
        subject_ids={s.code: sid for s, sid in zip(SUBJECTS, subject_list, strict=True)},
        control_types={c.code: (cid, c.weight) for c, cid in zip(CONTROL_TYPES, control_list, strict=True)},
    )


def ability(rng: random.Random) -> float:
    """A child's usual level: most are solid 4s, some 5s, a few 3s."""
    return min(4.9, max(3.0, rng.gauss(4.15, 0.45)))


def draw_mark(rng: random.Random, child_ability: float, *, difficulty: float = 0.0) -> int:
    """A mark 2–5 around the child's level: mostly 4–5, some 3, rarely 2."""
    x = rng.gauss(child_ability - difficulty, 0.75)
    if x >= 4.5:
        return 5
    if x >= 3.5:
        return 4
    if x >= 2.5:
        return 3
    return 2


def grade_row(
    *,
    school_id: int,
    child_id: int,
    lesson_id: int | None,
    subject_id: int,
    class_id: int,
    period_id: int | None,
    mark: int,
    control: tuple[int, Decimal],
    teacher_id: int,
    graded_on: dt.date,
    comment: str | None,
    created_at: dt.datetime,
) -> dict[str, Any]:
    return {
        "school_id": school_id,
        "child_id": child_id,
        "lesson_id": lesson_id,
        "subject_id": subject_id,
        "class_id": class_id,
        "period_id": period_id,
        "kind": GradeKind.REGULAR,
        "value": str(mark),
        "numeric_value": mark,
        "control_type_id": control[0],
        "weight": control[1],
        "comment": comment,
        "teacher_id": teacher_id,
        "graded_on": graded_on,
        "deleted_at": None,
        "created_at": created_at,
        "updated_at": created_at,
    }
