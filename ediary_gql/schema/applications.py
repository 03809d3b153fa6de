"""Root fields of parents' applications for diary access."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay

from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.resolvers import applications
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.ids import optional_pk, pk_or_none
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.subscriptions import AFTER, each, entity
from ediary_gql.schema.types.application import (
    Application,
    ApplicationEvent,
    ApplicationFilter,
    ApplicationPayload,
    CreateApplicationInput,
    ReviewApplicationInput,
    SubmitApplicationInput,
    UpdateApplicationInput,
)

Info = strawberry.Info[Context, None]


@strawberry.type
class ApplicationsQuery:
    @strawberry.field(
        description="One application: its applicant, the school's admins and operators; null for anyone else"
    )
    async def application(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="The application's global ID")]
    ) -> Application | None:
        row = await applications.application(info.context, application_id=pk_or_none(id, "Application"))
        return Application.from_row(row) if row is not None else None

    @strawberry.field(description="The signed-in parent's applications, newest first")
    async def my_applications(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Application]:
        page = await applications.my_applications(
            info.context, paging=PageArgs(first=first, after=after, last=last, before=before)
        )
        return to_connection(page, Application.from_row)

    @strawberry.field(
        description="The review queue of the actor's schools (operators: all), oldest due date first; no drafts"
    )
    async def applications(
        self,
        info: Info,
        filter: Annotated[
            ApplicationFilter | None, strawberry.argument(description="Which applications to list")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Application]:
        page = await applications.applications(
            info.context,
            status=enums.ApplicationStatus(filter.status) if filter and filter.status is not None else None,
            overdue=filter.overdue if filter else None,
            query=filter.query if filter else None,
            school_id=optional_pk(filter.school_id, "School", field="schoolId") if filter else None,
            paging=PageArgs(first=first, after=after, last=last, before=before),
        )
        return to_connection(page, Application.from_row)


@strawberry.type
class ApplicationsMutation:
    create_application: ApplicationPayload = mutation(
        applications.create_application,
        CreateApplicationInput,
        ApplicationPayload,
        description="Start a draft (a confirmed account); files go as a multipart request",
    )
    update_application: ApplicationPayload = mutation(
        applications.update_application,
        UpdateApplicationInput,
        ApplicationPayload,
        description="Replace the form of a draft or of an application returned for correction",
    )
    submit_application: ApplicationPayload = mutation(
        applications.submit_application,
        SubmitApplicationInput,
        ApplicationPayload,
        description="Check everything and send it to the school: a number and a due date in 5 working days",
    )
    review_application: ApplicationPayload = mutation(
        applications.review_application,
        ReviewApplicationInput,
        ApplicationPayload,
        description="One review step by the school's admin: accept, review, ask to correct, extend, approve, reject",
    )


@strawberry.type
class ApplicationsSubscription:
    @strawberry.subscription(
        description="Status changes of one application; with no ID, of every application at the admin's schools",
        deprecation_reason="Use applicationEvents: its events carry a cursor to resume from",
    )
    def application_status_changed(
        self,
        info: Info,
        application_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Only this application's changes")
        ] = None,
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[Application, None]:
        feed = applications.status_feed(
            info.context, application_id=optional_pk(application_id, "Application", field="applicationId")
        )
        return each(info, feed, entity(Application.from_row), after=after)

    @strawberry.subscription(
        description="Status changes of one application, each with its cursor; with no ID, of every application at "
        "the admin's schools"
    )
    def application_events(
        self,
        info: Info,
        application_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Only this application's changes")
        ] = None,
        after: Annotated[str | None, AFTER] = None,
    ) -> AsyncGenerator[ApplicationEvent, None]:
        feed = applications.status_feed(
            info.context, application_id=optional_pk(application_id, "Application", field="applicationId")
        )
        return each(info, feed, ApplicationEvent.of, after=after)
