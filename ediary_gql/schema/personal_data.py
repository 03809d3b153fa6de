"""Root fields of personal data: requestMyData, myDataRequests, requestErasure,
decideErasure, erasureRequests, sensitiveDataAccessLog; and the extension that writes the
reads of children's documents a request made, in one INSERT when it ends."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.extensions import SchemaExtension

from ediary_gql.context import Context
from ediary_gql.resolvers import personal_data
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.ids import pk
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.personal_data import (
    DataRequest,
    DecideErasureInput,
    DecideErasurePayload,
    RequestErasureInput,
    RequestErasurePayload,
    RequestMyDataPayload,
    SensitiveRead,
)
from ediary_gql.services.personal_data import sensitive_reads

Info = strawberry.Info[Context, None]


class SensitiveReads(SchemaExtension):
    """Gathers the request's reads of children's documents and writes them at its end."""

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context.context
        if not isinstance(ctx, Context):
            yield
            return
        operation = self.execution_context.operation_name
        if operation is None:
            try:
                operation = f"anonymous {self.execution_context.operation_type.value}"
            except Exception:  # the document did not parse: it reads nothing
                operation = None
        scope = personal_data.open_reads(ctx, operation)
        token = sensitive_reads.open_scope(scope)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):  # closed from another context
                sensitive_reads.close_scope(token)
            await personal_data.flush_reads(ctx, scope)


@strawberry.type
class PersonalDataQuery:
    @strawberry.field(description="Your own requests for your data (exports) and for its erasure, newest first")
    async def my_data_requests(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[DataRequest]:
        page = await personal_data.my_data_requests(
            info.context, paging=PageArgs(first=first, after=after, last=last, before=before)
        )
        return to_connection(page, DataRequest.from_row)

    @strawberry.field(description="Erasure requests waiting for a decision, oldest first; for operators")
    async def erasure_requests(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[DataRequest]:
        page = await personal_data.erasure_requests(
            info.context, paging=PageArgs(first=first, after=after, last=last, before=before)
        )
        return to_connection(page, DataRequest.from_row)

    @strawberry.field(
        description="Who read the child's SNILS and birth certificate, when, in which operation and from where, "
        "newest first; for the child's guardians and the admins of the child's school"
    )
    async def sensitive_data_access_log(
        self,
        info: Info,
        child_id: Annotated[relay.GlobalID, strawberry.argument(description="The child whose documents were read")],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[SensitiveRead]:
        page = await personal_data.access_log(
            info.context,
            child_id=pk(child_id, "Child", field="childId"),
            paging=PageArgs(first=first, after=after, last=last, before=before),
        )
        return to_connection(page, SensitiveRead.from_row)


@strawberry.type
class PersonalDataMutation:
    request_my_data: RequestMyDataPayload = mutation(
        personal_data.request_my_data,
        None,
        RequestMyDataPayload,
        description="Ask for everything held about you (and, for a guardian, your children) as a ZIP of JSON files, "
        "made in the background: QUEUED → RUNNING → READY; a notice says when it is ready, and only you download it",
    )
    request_erasure: RequestErasurePayload = mutation(
        personal_data.request_erasure,
        RequestErasureInput,
        RequestErasurePayload,
        description="Ask for your personal data to be erased; an operator decides, stating the legal holds. "
        "Grades and attendance are school records: they stay, anonymised",
    )
    decide_erasure: DecideErasurePayload = mutation(
        personal_data.decide_erasure,
        DecideErasureInput,
        DecideErasurePayload,
        description="Approve (the erasure is carried out at once) or reject an erasure request, stating the "
        "legal holds; for operators",
    )
