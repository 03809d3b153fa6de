"""Audit entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.audit import AuditEntry
from tests.factories._base import fake, persist, seq, take_parents
from tests.factories.users import make_user


async def make_audit_entry(session: AsyncSession, **overrides: Any) -> AuditEntry:
    """A user's own profile change (no school unless given)."""
    o = take_parents(overrides)
    if "actor_user_id" not in o:
        o["actor_user_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {
        "action": "updateNotificationPreferences",
        "entity_type": "User",
        "entity_id": o["actor_user_id"],
        "before": {"notification_prefs": {}},
        "after": {"notification_prefs": {"GRADE": ["PUSH"]}},
        "ip": fake.ipv4(),
        "request_id": f"req-{seq():08d}",
    }
    fields.update(o)
    return await persist(session, AuditEntry(**fields))
