"""The audit trail: every mutation records who changed what, before and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.audit import AuditEntry

_META = "ediary.audit_meta"


@dataclass(frozen=True, slots=True)
class RequestMeta:
    ip: str | None = None
    request_id: str | None = None


def set_request_meta(session: AsyncSession, meta: RequestMeta) -> None:
    """Where the change comes from; set once by whoever opens the transaction."""
    session.info[_META] = meta


def record(
    session: AsyncSession,
    *,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    school_id: int | None = None,
) -> None:
    meta: RequestMeta = session.info.get(_META, RequestMeta())
    session.add(
        AuditEntry(
            actor_user_id=actor.user_id if actor and not actor.is_system else None,
            school_id=school_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
            ip=meta.ip,
            request_id=meta.request_id,
        )
    )
