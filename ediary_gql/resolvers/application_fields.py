"""Fields of Application that need related rows or a policy decision (through loaders)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ediary_gql.db.models.applications import ApplicationAttachment, ApplicationEvent
from ediary_gql.db.models.enums import ApplicationAction
from ediary_gql.db.models.schools import School
from ediary_gql.services.applications import deadlines, queries, status

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def history(context: Context, application_id: int) -> list[ApplicationEvent]:
    loader = context.loaders.grouped(queries.history_of)
    return list(await loader.load(application_id))


async def attachments(context: Context, application_id: int) -> list[ApplicationAttachment]:
    loader = context.loaders.grouped(queries.attachments_of)
    return list(await loader.load(application_id))


async def is_overdue(context: Context, row: Any) -> bool:
    school = await context.loaders.by_id(School).load(row.school_id) if row.school_id is not None else None
    return deadlines.is_overdue(row, school)


def available_actions(context: Context, row: Any) -> list[ApplicationAction]:
    return status.available_actions(context.actor, row)
