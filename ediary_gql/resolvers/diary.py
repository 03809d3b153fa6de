"""Resolvers of the diary reads: myChildren, child, diary, classJournal, Child.averages.

Thin: parse IDs, open a short read-only session, call the diary service, build
the read models. The diary and the journal are read in a fixed number of
statements (see services/diary.py); Child.averages goes through a loader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, cast

import orjson
import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.db.json_shapes import SqlNested
from ediary_gql.db.models.children import Child as ChildRow
from ediary_gql.errors import DomainError, ErrorCollector
from ediary_gql.schema.execution import Prebuilt
from ediary_gql.schema.node import node_pk, pk_of
from ediary_gql.schema.types.child import Child
from ediary_gql.schema.types.diary import ClassJournal, DiaryDay, SubjectAverage
from ediary_gql.services import diary as service
from ediary_gql.services import diary_document
from ediary_gql.services.averages import SubjectAverage as FoundAverage

Info = strawberry.Info[Context, None]


def _ids(**given: tuple[relay.GlobalID | None, str]) -> dict[str, int | None]:
    """Database ids of global IDs, every wrong one reported at once."""
    errors = ErrorCollector()
    out: dict[str, int | None] = {}
    for name, (gid, type_name) in given.items():
        try:
            out[name] = None if gid is None else pk_of(gid, type_name, field=name)
        except DomainError as exc:
            errors.errors.extend(exc.errors)
    errors.raise_if_any()
    return out


async def my_children(info: Info) -> list[Child]:
    actor = policy.require_actor(info.context.actor)
    async with info.context.read_session_factory() as session:
        ids = await service.my_children(session, actor=actor)
    rows = await info.context.loaders.by_id(ChildRow).load_many(ids)
    return [Child.from_row(row) for row in rows if row is not None]


async def child(info: Info, id: relay.GlobalID) -> Child | None:
    pk = node_pk(id, "Child")
    if pk is None:
        return None
    row = await info.context.loaders.by_id(ChildRow).load(pk)
    if row is None or not await Child.visible(info.context, row):
        return None
    return Child.from_row(row)


async def diary(
    info: Info,
    child_id: relay.GlobalID,
    start: Annotated[dt.date, strawberry.argument(name="from", description="First day, inclusive")],
    end: Annotated[dt.date, strawberry.argument(name="to", description="Last day, inclusive")],
    subject_id: relay.GlobalID | None = None,
) -> list[DiaryDay]:
    actor = policy.require_actor(info.context.actor)
    ids = _ids(childId=(child_id, "Child"), subjectId=(subject_id, "Subject"))
    child_pk = ids["childId"]
    assert child_pk is not None  # noqa: S101 - a required argument
    sessions = info.context.read_session_factory
    read: dict[str, Any] = {
        "actor": actor,
        "child_id": child_pk,
        "start": start,
        "end": end,
        "subject_id": ids["subjectId"],
    }

    async def objects() -> list[DiaryDay]:
        async with sessions() as session:
            days = await service.diary(session, **read)
        return [DiaryDay.build(day) for day in days]

    async def document(sql: str) -> orjson.Fragment:
        return await diary_document.diary_document(info.context.services.reads, sql, **read)

    return cast("list[DiaryDay]", await _either_way(info, diary_document.DIARY, document, objects))


async def class_journal(
    info: Info, class_id: relay.GlobalID, subject_id: relay.GlobalID, period_id: relay.GlobalID
) -> ClassJournal:
    actor = policy.require_actor(info.context.actor)
    ids = _ids(classId=(class_id, "SchoolClass"), subjectId=(subject_id, "Subject"), periodId=(period_id, "Period"))
    sessions = info.context.read_session_factory
    read: dict[str, Any] = {
        "actor": actor,
        "class_id": ids["classId"] or 0,
        "subject_id": ids["subjectId"] or 0,
        "period_id": ids["periodId"] or 0,
    }

    async def objects() -> ClassJournal:
        async with sessions() as session:
            return ClassJournal.build(await service.class_journal(session, **read))

    async def document(sql: str) -> orjson.Fragment:
        return await diary_document.journal_document(info.context.services.reads, sql, **read)

    return cast("ClassJournal", await _either_way(info, diary_document.JOURNAL, document, objects))


async def _either_way(
    info: Info,
    root: SqlNested,
    document: Callable[[str], Awaitable[orjson.Fragment]],
    objects: Callable[[], Awaitable[Any]],
) -> Any:
    """On PostgreSQL, `Prebuilt`: the database builds the response's JSON when every
    selected field has SQL in `root`, else the objects are read; on SQLite, the objects."""
    if info.context.settings.is_sqlite:
        return await objects()
    return Prebuilt(root, document, objects)


async def child_averages(info: Info, child_id: int, period_id: relay.GlobalID) -> list[SubjectAverage]:
    """Child.averages: batched over every child of the response by one loader."""
    actor = policy.require_actor(info.context.actor)
    period_pk = pk_of(period_id, "Period", field="periodId")
    context = info.context

    async def batch(keys: list[tuple[int, int]]) -> list[list[FoundAverage] | DomainError]:
        async with context.read_session_factory() as session:
            return await service.averages_for(session, actor=actor, keys=keys)

    loader: DataLoader[tuple[int, int], list[FoundAverage]] = context.loaders.get(
        "diary.child_averages",
        batch,  # type: ignore[arg-type]  # a DomainError in place of a value is raised by load()
    )
    found = await loader.load((child_id, period_pk))
    return [SubjectAverage.build(a) for a in found]
