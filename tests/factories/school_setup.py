"""Teacher invitations and roster links (school setup and imports)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.school_setup import RosterLink, TeacherInvitation
from tests.factories._base import persist, seq, take_parents
from tests.factories.schools import make_school
from tests.factories.users import make_user


async def make_teacher_invitation(session: AsyncSession, **overrides: Any) -> TeacherInvitation:
    """An invitation by email to a contact with no account yet."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    fields: dict[str, Any] = {"email": f"invited{seq()}@example.ru"}
    fields.update(o)
    return await persist(session, TeacherInvitation(**fields))


async def make_roster_link(session: AsyncSession, **overrides: Any) -> RosterLink:
    """A teacher known to a school by its external ID."""
    o = take_parents(overrides)
    if "school_id" not in o:
        o["school_id"] = (await make_school(session)).id
    if "target_id" not in o:
        o["target_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {"kind": "TEACHER", "external_id": f"T-{seq()}"}
    fields.update(o)
    return await persist(session, RosterLink(**fields))
