"""Root fields of parents' applications for diary access."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from ediary_gql.resolvers import applications
from ediary_gql.schema.connection import Connection
from ediary_gql.schema.types.application import Application, ApplicationPayload


@strawberry.type
class ApplicationsQuery:
    application: Application | None = strawberry.field(
        resolver=applications.application,
        description="One application: its applicant, the school's admins and operators; null for anyone else",
    )
    my_applications: Connection[Application] = strawberry.field(
        resolver=applications.my_applications, description="The signed-in parent's applications, newest first"
    )
    applications: Connection[Application] = strawberry.field(
        resolver=applications.applications,
        description="The review queue of the actor's schools (operators: all), oldest due date first; no drafts",
    )


@strawberry.type
class ApplicationsMutation:
    create_application: ApplicationPayload = strawberry.mutation(
        resolver=applications.create_application,
        description="Start a draft (a confirmed account); files go as a multipart request",
    )
    update_application: ApplicationPayload = strawberry.mutation(
        resolver=applications.update_application,
        description="Replace the form of a draft or of an application returned for correction",
    )
    submit_application: ApplicationPayload = strawberry.mutation(
        resolver=applications.submit_application,
        description="Check everything and send it to the school: a number and a due date in 5 working days",
    )
    review_application: ApplicationPayload = strawberry.mutation(
        resolver=applications.review_application,
        description="One review step by the school's admin: accept, review, ask to correct, extend, approve, reject",
    )


@strawberry.type
class ApplicationsSubscription:
    @strawberry.subscription(
        description="Status changes of one application; with no ID, of every application at the admin's schools"
    )
    def application_status_changed(
        self, info: applications.Info, application_id: relay.GlobalID | None = None
    ) -> AsyncGenerator[Application, None]:
        return applications.application_status_changed(info, application_id)
