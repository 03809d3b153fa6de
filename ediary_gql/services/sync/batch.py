"""What a sync call takes and gives back, and the checks every call shares: who may
sync, the size of the batch, the items' own sourcedIds and the ones they refer to."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import Base
from ediary_gql.db.models.enums import IntegrationScope
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import audit
from ediary_gql.services.roster_import.cells import SOURCED_ID

MAX_ITEMS = 1000
SOURCED_ID_RULE = "Латинские буквы, цифры и . _ : -, до 64 знаков"


class Action(enum.StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"


@dataclass(frozen=True, slots=True)
class Synced:
    """What became of one item: its index in the call, its sourcedId, the action and
    the row's id (of a row a dry run made: an id that was never kept)."""

    index: int
    sourced_id: str
    action: Action
    target_id: int


@dataclass(frozen=True, slots=True)
class SyncResult:
    applied: bool  # False: a dry run, nothing kept
    items: list[Synced]

    def count(self, action: Action) -> int:
        return sum(1 for item in self.items if item.action == action)


class Item(Protocol):
    @property
    def sourced_id(self) -> str: ...


def path(index: int, field: str | None = None) -> tuple[str, ...]:
    """An item's input path: `items.17` or `items.17.value`."""
    return ("items", str(index)) if field is None else ("items", str(index), field)


def begin(actor: Actor, *, school_id: int, items: Sequence[Item], scope: IntegrationScope, refused: str) -> None:
    """Who may sync (FORBIDDEN: `refused`) and the batch's size, at once."""
    policy.require_confirmed(actor)
    policy.ensure(policy.can_sync(actor, school_id, scope=scope), refused)
    if not items:
        raise DomainError(ErrorCode.REQUIRED, "Передайте хотя бы одну запись", field="items")
    if len(items) > MAX_ITEMS:
        raise DomainError(
            ErrorCode.INVALID, f"Не больше {MAX_ITEMS} записей за вызов, передано {len(items)}", field="items"
        )


def check_sourced_ids(errors: ErrorCollector, items: Sequence[Item]) -> set[int]:
    """Each item's own sourcedId: well formed and once in the batch. The indexes of the
    items refused."""
    bad: set[int] = set()
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        sid = item.sourced_id
        if not SOURCED_ID.match(sid):
            errors.add(path(i, "sourcedId"), ErrorCode.INVALID, SOURCED_ID_RULE)
            bad.add(i)
        elif sid in seen:
            errors.add(path(i, "sourcedId"), ErrorCode.DUPLICATE, f"Повтор: этот sourcedId уже в items.{seen[sid]}")
            bad.add(i)
        else:
            seen[sid] = i
    return bad


def referenced(items: Iterable[Item], attribute: str) -> set[str]:
    """The sourcedIds the items name in `attribute` (those well formed; others find nothing)."""
    found: set[str] = set()
    for item in items:
        value = getattr(item, attribute)
        if isinstance(value, str) and SOURCED_ID.match(value):
            found.add(value)
    return found


def summarize(
    session: AsyncSession,
    actor: Actor,
    *,
    school_id: int,
    action: str,
    items: Sequence[Synced],
    changes: list[dict[str, Any]],
) -> None:
    """The call's audit entry: the counts, and each record it created or changed, before
    and after (one entry for the batch, as importRoster and generateLessons write theirs;
    grades keep their own history besides)."""
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="School",
        entity_id=school_id,
        school_id=school_id,
        after={
            **{a.value.lower(): sum(1 for item in items if item.action == a) for a in Action},
            "changes": changes,
        },
    )


async def insert_rows(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Rows in one statement (executemany), none read back."""
    if rows:
        await session.execute(insert(model), rows)


async def insert_returning(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]], *columns: str
) -> list[tuple[Any, ...]]:
    """Rows in one statement a batch, with their ids and `columns` read back (in no set
    order: the ORM's row-at-a-time INSERT … RETURNING on SQLite, which cannot order them,
    is what this avoids)."""
    if not rows:
        return []
    table = model.__table__
    stmt = insert(model).returning(table.c.id, *(table.c[name] for name in columns))
    return [tuple(found) for found in (await session.execute(stmt, rows)).all()]


@asynccontextmanager
async def refusing_conflicts(session: AsyncSession) -> AsyncIterator[None]:
    """Write what the block stages, and flush it. A unique key taken meanwhile (another
    writer's record under the same sourcedId or slot) refuses the whole batch: it can be
    sent again."""
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except IntegrityError:
        raise DomainError(
            ErrorCode.CONFLICT, "Те же записи одновременно изменены другим запросом: повторите вызов", field="items"
        ) from None
