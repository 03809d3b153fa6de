"""Children, enrolments and guardianships."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.children import Child, ChildTransfer, Enrollment, Guardianship
from ediary_gql.db.models.classes import SchoolClass
from tests.factories._base import (
    birth_certificate,
    fake,
    persist,
    person_name,
    random_sex,
    seq,
    snils11,
    take_parents,
)
from tests.factories.classes import make_school_class
from tests.factories.users import make_user


async def make_child(session: AsyncSession, **overrides: Any) -> Child:
    """A schoolchild with a SNILS and a Russian birth certificate (not enrolled)."""
    o = take_parents(overrides)
    n = seq()
    sex = o.get("sex") or random_sex()
    birth_date = o.get("birth_date") or fake.date_of_birth(minimum_age=7, maximum_age=16)
    series, number = birth_certificate(n)
    fields: dict[str, Any] = {
        **person_name(sex),
        "sex": sex,
        "birth_date": birth_date,
        "snils": snils11(n),
        "birth_cert_series": series,
        "birth_cert_number": number,
        "birth_cert_issued_on": birth_date + dt.timedelta(days=12),
        "citizenship": "643",
    }
    fields.update(o)
    return await persist(session, Child(**fields))


async def make_enrollment(session: AsyncSession, **overrides: Any) -> Enrollment:
    """The child is in the class from the start of the class's year."""
    o = take_parents(overrides)
    if "class_id" not in o:
        o["class_id"] = (await make_school_class(session)).id
    if "child_id" not in o:
        o["child_id"] = (await make_child(session)).id
    if "starts_on" not in o:
        school_class = await session.get(SchoolClass, o["class_id"])
        assert school_class is not None
        year = await session.get(AcademicYear, school_class.academic_year_id)
        assert year is not None
        o["starts_on"] = year.starts_on
    # the school of the child's enrolment holds its record (services/child_transfers.py)
    child = await session.get(Child, o["child_id"])
    if child is not None and child.school_id is None:
        school_class = await session.get(SchoolClass, o["class_id"])
        assert school_class is not None
        child.school_id = school_class.school_id
    return await persist(session, Enrollment(**o))


async def make_enrolled_child(session: AsyncSession, **overrides: Any) -> Child:
    """A child enrolled in `school_class` / `class_id` (made if not given)."""
    o = take_parents(overrides)
    class_id = o.pop("class_id", None)
    child = await make_child(session, **o)
    if class_id is None:
        await make_enrollment(session, child_id=child.id)
    else:
        await make_enrollment(session, child_id=child.id, class_id=class_id)
    return child


async def make_guardianship(session: AsyncSession, **overrides: Any) -> Guardianship:
    o = take_parents(overrides)
    if "parent_id" not in o:
        o["parent_id"] = (await make_user(session)).id
    if "child_id" not in o:
        o["child_id"] = (await make_child(session)).id
    return await persist(session, Guardianship(**o))


async def make_child_transfer(session: AsyncSession, **overrides: Any) -> ChildTransfer:
    """A pending request of another school to take over an enrolled child's record
    (the asking school's own record of the child is made too, unless given)."""
    o = take_parents(overrides)
    if "child_id" not in o:
        o["child_id"] = (await make_enrolled_child(session)).id
    held = await session.get(Child, o["child_id"])
    assert held is not None
    if "record_id" not in o:
        other = await make_enrolled_child(session, snils=held.snils)
        o["record_id"] = other.id
    record = await session.get(Child, o["record_id"])
    assert record is not None
    o.setdefault("from_school_id", held.school_id)
    o.setdefault("to_school_id", record.school_id)
    return await persist(session, ChildTransfer(**o))
