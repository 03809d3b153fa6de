"""The diary reads: myChildren, child, diary, classJournal, Child.averages.

Thin: open a short read-only session, call the diary service, return its rows. The
diary and the journal are read in a fixed number of statements (see services/diary.py)
and can come two ways (`TwoWays`); Child.averages goes through a loader.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.errors import DomainError
from ediary_gql.resolvers import enrolments, messages, user_fields
from ediary_gql.resolvers.loaders import LoaderKey
from ediary_gql.services import diary as service
from ediary_gql.services import diary_document
from ediary_gql.services.averages import SubjectAverage

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class TwoWays(Generic[T]):
    """A read that can come two ways: as rows (`rows()`), or, on PostgreSQL, as the
    response's JSON built by the database (`document(sql, arguments)`, given the SQL
    rendered for the selection into `root`, the service's rows with `{object}` where the
    JSON goes; the JSON text). `root` is None where only the rows are read (SQLite, or
    compiled reads switched off). The schema side picks (schema/execution.Prebuilt)."""

    root: str | None
    document: Callable[[str, Mapping[str, Any]], Awaitable[bytes]]
    rows: Callable[[], Awaitable[T]]


async def my_children(ctx: Context) -> list[Child]:
    actor = policy.require_actor(ctx.actor)
    async with ctx.read_session_factory() as session:
        ids = await service.my_children(session, actor=actor)
    rows = await ctx.loaders.by_id(Child).load_many(ids)
    return [row for row in rows if row is not None]


def my_children_read(ctx: Context) -> TwoWays[list[Child]]:
    """myChildren, either way (`TwoWays`)."""
    actor = policy.require_actor(ctx.actor)

    async def document(sql: str, arguments: Mapping[str, Any]) -> bytes:
        return await diary_document.my_children_document(ctx.services.reads, sql, arguments, actor=actor)

    return TwoWays(_root(ctx, diary_document.MY_CHILDREN_ROWS), document, lambda: my_children(ctx))


def child_read(ctx: Context, *, child_id: int) -> TwoWays[Child | None]:
    """child(id:), either way (`TwoWays`): null alike if absent or not one's to see."""

    async def document(sql: str, arguments: Mapping[str, Any]) -> bytes:
        if not await enrolments.may_view_child(ctx, child_id):
            return b"null"
        return await diary_document.child_document(ctx.services.reads, sql, arguments, child_id=child_id)

    return TwoWays(_root(ctx, diary_document.CHILD_ROWS), document, lambda: child(ctx, child_id=child_id))


def node_rows(ctx: Context, table: str) -> str | None:
    """The service's row of `table` for node(id:) as JSON; None where rows are read."""
    return _root(ctx, diary_document.node_rows(table))


async def node_document(ctx: Context, sql: str, arguments: Mapping[str, Any], *, pk: int) -> bytes:
    return await diary_document.node_document(ctx.services.reads, sql, arguments, pk=pk)


async def child(ctx: Context, *, child_id: int) -> Child | None:
    """A child if one may see them; None alike if absent or not one's to see."""
    row = await ctx.loaders.by_id(Child).load(child_id)
    if row is None or not await enrolments.may_view_child(ctx, row.id):
        return None
    return row


def diary(
    ctx: Context, *, child_id: int, start: dt.date, end: dt.date, subject_id: int | None
) -> TwoWays[list[service.DiaryDay]]:
    actor = policy.require_actor(ctx.actor)
    sessions = ctx.read_session_factory
    read: dict[str, Any] = {"actor": actor, "child_id": child_id, "start": start, "end": end, "subject_id": subject_id}

    async def rows() -> list[service.DiaryDay]:
        async with sessions() as session:
            return await service.diary(session, **read)

    async def document(sql: str, arguments: Mapping[str, Any]) -> bytes:
        return await diary_document.diary_document(ctx.services.reads, sql, arguments, **read)

    return TwoWays(_root(ctx, diary_document.DIARY_ROWS), document, rows)


def class_journal(ctx: Context, *, class_id: int, subject_id: int, period_id: int) -> TwoWays[service.ClassJournal]:
    actor = policy.require_actor(ctx.actor)
    sessions = ctx.read_session_factory
    read: dict[str, Any] = {"actor": actor, "class_id": class_id, "subject_id": subject_id, "period_id": period_id}

    async def rows() -> service.ClassJournal:
        async with sessions() as session:
            return await service.class_journal(session, **read)

    async def document(sql: str, arguments: Mapping[str, Any]) -> bytes:
        return await diary_document.journal_document(ctx.services.reads, sql, arguments, **read)

    return TwoWays(_root(ctx, diary_document.JOURNAL_ROWS), document, rows)


def _root(ctx: Context, root: str) -> str | None:
    """The service's rows for the response's JSON on PostgreSQL; on SQLite, or with
    compiled reads switched off, none: the rows are read."""
    return None if ctx.settings.is_sqlite or not ctx.settings.compiled_reads else root


CHILD_AVERAGES: LoaderKey[tuple[int, int | None], list[SubjectAverage]] = LoaderKey("diary.child_averages")


async def may_see_diary_teacher(ctx: Context, user_id: int) -> bool:
    """node(id:) of a DiaryTeacher: the policy's rule over the schools the user teaches at."""
    if ctx.actor is None:
        return False
    memberships = await user_fields.all_memberships(ctx, user_id)
    teaches_at = frozenset(school for school, role in memberships if role is StaffRole.TEACHER)
    family = await messages.family_schools(ctx) if teaches_at else frozenset()
    return policy.can_view_diary_teacher(ctx.actor, user_id, teaches_at=teaches_at, family_school_ids=family)


async def child_averages(ctx: Context, *, child_id: int, period_id: int | None) -> list[SubjectAverage]:
    """Child.averages: batched over every child of the response by one loader; no period
    is the current one of the child's school."""
    actor = policy.require_actor(ctx.actor)

    async def batch(keys: list[tuple[int, int | None]]) -> list[list[SubjectAverage] | DomainError]:
        async with ctx.read_session_factory() as session:
            return await service.averages_for(session, actor=actor, keys=keys)

    loader: DataLoader[tuple[int, int | None], list[SubjectAverage]] = ctx.loaders.get(
        CHILD_AVERAGES,
        batch,  # type: ignore[arg-type]  # a DomainError in place of a value is raised by load()
    )
    return await loader.load((child_id, period_id))
