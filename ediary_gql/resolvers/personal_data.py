"""Personal data: requestMyData, myDataRequests, requestErasure, decideErasure,
erasureRequests, sensitiveDataAccessLog, and the audited reads of a GraphQL request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.personal_data import DataRequest, DataRequestKind, SensitiveRead
from ediary_gql.db.pagination import Page, PageArgs
from ediary_gql.resolvers import pages
from ediary_gql.services.personal_data import erasure, export, sensitive_reads
from ediary_gql.storage import storage_for

if TYPE_CHECKING:
    from ediary_gql.context import Context

ErasureDecision = erasure.ErasureDecision


# --- audited reads --------------------------------------------------------------------


def open_reads(ctx: Context, operation: str | None) -> sensitive_reads.ReadScope:
    """The scope a GraphQL request gathers its reads of children's documents in."""
    return sensitive_reads.ReadScope(reader_id=ctx.signed_in_user_id, operation=operation, address=ctx.client_ip)


async def flush_reads(ctx: Context, scope: sensitive_reads.ReadScope) -> None:
    if scope.reads:
        # the reader is known once the request authenticated (after the scope opened)
        scope.reader_id = ctx.signed_in_user_id
        await sensitive_reads.flush(ctx.session_factory, scope)


def operation_name(info: Any) -> str | None:
    """The operation a field is resolved in (a GraphQL `Info`), for the access log."""
    operation = getattr(info, "operation", None)
    name = getattr(operation, "name", None)
    if name is not None:
        return str(name.value)
    kind = getattr(operation, "operation", None)
    return f"anonymous {kind.value}" if kind is not None else None


async def shown_document(ctx: Context, child_id: int, field_key: str, *, operation: str | None) -> None:
    """A child's SNILS or birth certificate is about to be shown: note the read in the
    request's scope; outside one (an event of a subscription) write it at once."""
    if sensitive_reads.note(child_id, field_key):
        return
    scope = sensitive_reads.ReadScope(reader_id=ctx.signed_in_user_id, operation=operation, address=ctx.client_ip)
    scope.note(child_id, field_key)
    await sensitive_reads.flush(ctx.session_factory, scope)


# --- mutations --------------------------------------------------------------------------


async def request_my_data(ctx: Context, session: AsyncSession, actor: Actor) -> DataRequest:
    return await export.request_export(session, actor=actor)


async def request_erasure(
    ctx: Context, session: AsyncSession, actor: Actor, *, reason: str | None = None, include_children: bool = False
) -> DataRequest:
    return await erasure.request_erasure(session, actor=actor, reason=reason, include_children=include_children)


async def decide_erasure(
    ctx: Context,
    session: AsyncSession,
    actor: Actor,
    *,
    request_id: int,
    decision: ErasureDecision,
    holds: str,
    comment: str | None = None,
) -> DataRequest:
    return await erasure.decide_erasure(
        session,
        actor=actor,
        request_id=request_id,
        decision=ErasureDecision(decision),
        holds=holds,
        comment=comment,
        storage=storage_for(ctx.settings.upload_dir),
    )


# --- queries ------------------------------------------------------------------------------


async def my_data_requests(ctx: Context, *, paging: PageArgs) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    return await pages.page(ctx, export.my_requests_query(actor), paging, descending=True)


async def erasure_requests(ctx: Context, *, paging: PageArgs) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    return await pages.page(ctx, erasure.erasure_queue_query(actor), paging)


async def access_log(ctx: Context, *, child_id: int, paging: PageArgs) -> Page[Any]:
    actor = policy.require_actor(ctx.actor)
    async with ctx.read_session_factory() as session:
        stmt = await sensitive_reads.access_log_query(session, actor=actor, child_id=child_id)
    return await pages.page(ctx, stmt, paging, descending=True)


def may_view_request(ctx: Context, row: DataRequest) -> bool:
    return policy.can_view_data_request(
        ctx.actor_or_none, requester_id=row.requester_id, is_erasure=row.kind is DataRequestKind.ERASURE
    )


async def may_view_read(ctx: Context, row: SensitiveRead) -> bool:
    actor = ctx.actor_or_none
    async with ctx.read_session_factory() as session:
        schools = await sensitive_reads.child_school_ids(session, row.child_id)
    return policy.can_view_sensitive_access_log(actor, child_id=row.child_id, school_ids=schools)


def download_url(ctx: Context, row: DataRequest, global_id: str) -> str | None:
    """Where the requester GETs a READY export's file; None otherwise."""
    if row.status.value != "READY" or not row.storage_key:
        return None
    return str(ctx.request.url_for(export.EXPORT_FILE_ROUTE, request_id=global_id))
