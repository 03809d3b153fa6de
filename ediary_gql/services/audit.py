"""The audit trail: every mutation records who changed what, before and after."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.services import public_ids

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
            # rows named by global IDs under camelCase keys, as clients read them (public_ids)
            before=public_ids.public(before, entity_type=entity_type),
            after=public_ids.public(after, entity_type=entity_type),
            ip=meta.ip,
            request_id=meta.request_id,
        )
    )


# The trail's order, newest first: by time, then id. A page after a cursor is so bounded
# in time, and on PostgreSQL (partitions a month by created_at) reads only the months it
# can find rows in; the indexes end in (created_at, id).
LOG_KEY = (AuditEntry.created_at, AuditEntry.id)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    school_id: int | None = None
    actor_user_id: int | None = None
    entity_type: str | None = None
    entity_id: int | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_log_query(actor: Actor | None, flt: AuditFilter) -> Select[AuditEntry]:
    """Entries the actor may read (operators: all; school admins: their schools'), filtered."""
    scope = policy.audit_scope(actor)
    stmt = select(AuditEntry)
    if scope is not None:
        if flt.school_id is not None and flt.school_id not in scope:
            return stmt.where(false())
        stmt = stmt.where(AuditEntry.school_id.in_(scope))
    if flt.school_id is not None:
        stmt = stmt.where(AuditEntry.school_id == flt.school_id)
    if flt.actor_user_id is not None:
        stmt = stmt.where(AuditEntry.actor_user_id == flt.actor_user_id)
    if flt.entity_type is not None:
        stmt = stmt.where(AuditEntry.entity_type == flt.entity_type)
    if flt.entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == flt.entity_id)
    if flt.action is not None:
        stmt = stmt.where(AuditEntry.action == flt.action)
    if flt.since is not None:
        stmt = stmt.where(AuditEntry.created_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEntry.created_at < flt.until)
    return stmt
