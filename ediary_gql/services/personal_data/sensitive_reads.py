"""Audited reads of a child's SNILS and birth certificate.

Every place that hands such a value out (a GraphQL field, an export, a report, OneRoster)
calls `note(child_id, field)`. Within a `ReadScope` (a GraphQL request opens one; anyone
else may, with `reading(...)`) the notes are gathered and written by `flush` in one
INSERT when the request ends; with no scope open, `record` writes them at once in the
caller's session. A read the reader was not entitled to never gets here: the value is
only noted where it is actually shown.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Select, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ediary_gql.auth import personal_fields, policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.children import Child, Guardianship
from ediary_gql.db.models.personal_data import SensitiveRead
from ediary_gql.errors import forbidden, not_found
from ediary_gql.services.open_enrolments import child_schools

MAX_OPERATION = 128

REFUSED = "Журнал доступа к документам ребёнка видят его законные представители и администраторы его школы"


@dataclass(slots=True)
class ReadScope:
    """The reads of one request: who, why (the operation) and from where."""

    reader_id: int | None
    operation: str | None
    address: str | None
    # (child, field) pairs in the order first read; one row each per request
    reads: dict[tuple[int, str], dt.datetime] = field(default_factory=dict)

    def note(self, child_id: int, field_key: str) -> None:
        self.reads.setdefault((child_id, field_key), utcnow())

    def rows(self) -> list[dict[str, object]]:
        operation = self.operation[:MAX_OPERATION] if self.operation else None
        return [
            {
                "reader_id": self.reader_id,
                "child_id": child_id,
                "field": field_key,
                "operation": operation,
                "address": self.address,
                "read_at": at,
            }
            for (child_id, field_key), at in self.reads.items()
        ]


_scope: contextvars.ContextVar[ReadScope | None] = contextvars.ContextVar("sensitive_read_scope", default=None)


def open_scope(scope: ReadScope) -> contextvars.Token[ReadScope | None]:
    return _scope.set(scope)


def close_scope(token: contextvars.Token[ReadScope | None]) -> None:
    _scope.reset(token)


@contextlib.contextmanager
def reading(scope: ReadScope) -> Iterator[ReadScope]:
    """Gather the reads made inside the block into `scope` (flush it afterwards)."""
    token = open_scope(scope)
    try:
        yield scope
    finally:
        close_scope(token)


def _check(field_key: str) -> None:
    if field_key not in personal_fields.AUDITED:
        raise ValueError(f"{field_key} is not an audited personal field")


def note(child_id: int, field_key: str) -> bool:
    """Note that `field_key` (a key of personal_fields.AUDITED) of the child was shown, in
    the open scope; False when no scope is open (the caller then calls `record`)."""
    _check(field_key)
    scope = _scope.get()
    if scope is None:
        return False
    scope.note(child_id, field_key)
    return True


async def flush(session_factory: async_sessionmaker[AsyncSession], scope: ReadScope) -> int:
    """Write the scope's reads in one INSERT, in a transaction of their own; how many."""
    rows = scope.rows()
    if not rows:
        return 0
    async with session_factory() as session, session.begin():
        await session.execute(insert(SensitiveRead).values(rows))
    scope.reads.clear()
    return len(rows)


async def record(
    session: AsyncSession,
    *,
    reader_id: int | None,
    reads: Iterable[tuple[int, str]],
    operation: str,
    address: str | None = None,
) -> int:
    """Write reads made outside a request (an export, a report, OneRoster) in the caller's
    transaction, one INSERT for all of them; how many."""
    scope = ReadScope(reader_id=reader_id, operation=operation, address=address)
    for child_id, field_key in reads:
        _check(field_key)
        scope.note(child_id, field_key)
    rows = scope.rows()
    if rows:
        await session.execute(insert(SensitiveRead).values(rows))
    return len(rows)


# --- the access log -------------------------------------------------------------------


async def child_school_ids(session: AsyncSession, child_id: int) -> frozenset[int]:
    """The schools the child is at now: the one holding the record and those of enrolments
    not yet ended. A school the child has left no longer sees who reads the documents."""
    found = {school for _, school in await child_schools(session, [child_id])}
    holder = await session.scalar(select(Child.school_id).where(Child.id == child_id))
    if holder is not None:
        found.add(holder)
    return frozenset(found)


async def access_log_query(session: AsyncSession, *, actor: Actor, child_id: int) -> Select[SensitiveRead]:
    """Who read the child's documents, newest first (page by `SensitiveRead.id`); for the
    child's guardians and the admins of the child's schools, FORBIDDEN for others."""
    if await session.scalar(select(Child.id).where(Child.id == child_id)) is None:
        raise not_found("childId", "Ребёнок не найден")
    schools = await child_school_ids(session, child_id)
    if not policy.can_view_sensitive_access_log(actor, child_id=child_id, school_ids=schools):
        raise forbidden(REFUSED)
    return select(SensitiveRead).where(SensitiveRead.child_id == child_id).order_by(SensitiveRead.id.desc())


async def guardian_child_ids(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.scalars(select(Guardianship.child_id).where(Guardianship.parent_id == user_id))
    return sorted(set(rows.all()))
