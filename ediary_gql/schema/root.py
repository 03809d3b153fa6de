"""The assembled schema: root types merged from every area, and its limits."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry import relay
from strawberry.extensions import MaskErrors, SchemaExtension

from ediary_gql.schema import enum_values
from ediary_gql.schema.accounts import AccountsMutation, AccountsQuery, AccountsSubscription
from ediary_gql.schema.announcements import AnnouncementsMutation, AnnouncementsQuery, AnnouncementsSubscription
from ediary_gql.schema.applications import ApplicationsMutation, ApplicationsQuery, ApplicationsSubscription
from ediary_gql.schema.attendance import AttendanceMutation, AttendanceSubscription
from ediary_gql.schema.audit import AuditQuery
from ediary_gql.schema.calendar_feed import CalendarFeedMutation
from ediary_gql.schema.changes import ChangesQuery, ChangesSubscription
from ediary_gql.schema.child_transfers import ChildTransfersMutation, ChildTransfersQuery
from ediary_gql.schema.cost import CostBudget, RequestBounds
from ediary_gql.schema.delivery import DeliveryMutation
from ediary_gql.schema.diary import DiaryQuery
from ediary_gql.schema.directory import DirectoryQuery
from ediary_gql.schema.documents import PreparedDocuments
from ediary_gql.schema.errors import ErrorLoggingSchema, should_mask_error
from ediary_gql.schema.event_results import SharingExecutionContext
from ediary_gql.schema.event_stream import EventStreamQuery
from ediary_gql.schema.feedback import FeedbackMutation, FeedbackQuery, FeedbackSubscription
from ediary_gql.schema.grades import GradesMutation, GradesSubscription
from ediary_gql.schema.homework import HomeworkMutation
from ediary_gql.schema.identities import IdentitiesMutation
from ediary_gql.schema.integrations import IntegrationsMutation
from ediary_gql.schema.lessons import LessonsMutation
from ediary_gql.schema.messages import MessagesMutation, MessagesQuery, MessagesSubscription
from ediary_gql.schema.personal_data import PersonalDataMutation, PersonalDataQuery, SensitiveReads
from ediary_gql.schema.registration import RegistrationMutation
from ediary_gql.schema.reports import ReportsMutation, ReportsQuery, ReportsSubscription
from ediary_gql.schema.roster_import import RosterImportMutation
from ediary_gql.schema.school_setup import SCHOOL_SETUP_TYPES, SchoolSetupMutation
from ediary_gql.schema.schools import SchoolsMutation, SchoolsQuery
from ediary_gql.schema.staff_bindings import StaffBindingsMutation, StaffBindingsQuery
from ediary_gql.schema.statistics import StatisticsQuery
from ediary_gql.schema.sync import SyncMutation, SyncQuery
from ediary_gql.schema.types.audit import AuditEntry
from ediary_gql.schema.types.notification import Notification
from ediary_gql.schema.types.user import User
from ediary_gql.schema.webhooks import WebhooksMutation
from ediary_gql.settings import Settings


@strawberry.type
class NodeQuery:
    node: relay.Node | None = relay.node(description="Any entity by its global ID; null if absent or not yours to see")
    nodes: list[relay.Node | None] = relay.node(description="Several entities by global ID, in the order asked")


# Each area contributes a root type; the schema's roots inherit them all.
@strawberry.type(description="Reads: the signed-in user, nodes by global ID, and each area's lists and records")
class Query(
    NodeQuery,
    AccountsQuery,
    StaffBindingsQuery,
    AuditQuery,
    DiaryQuery,
    ApplicationsQuery,
    AnnouncementsQuery,
    SchoolsQuery,
    DirectoryQuery,
    FeedbackQuery,
    MessagesQuery,
    ChildTransfersQuery,
    EventStreamQuery,
    StatisticsQuery,
    ReportsQuery,
    SyncQuery,
    ChangesQuery,
    PersonalDataQuery,
):
    pass


@strawberry.type(description="Writes: each takes one input and answers a payload with the result and userErrors")
class Mutation(
    AccountsMutation,
    StaffBindingsMutation,
    DeliveryMutation,
    RegistrationMutation,
    ApplicationsMutation,
    AnnouncementsMutation,
    SchoolSetupMutation,
    RosterImportMutation,
    SchoolsMutation,
    CalendarFeedMutation,
    FeedbackMutation,
    MessagesMutation,
    LessonsMutation,
    HomeworkMutation,
    GradesMutation,
    AttendanceMutation,
    ReportsMutation,
    ChildTransfersMutation,
    SyncMutation,
    IntegrationsMutation,
    WebhooksMutation,
    PersonalDataMutation,
    IdentitiesMutation,
):
    pass


@strawberry.type(description="Live events over WebSocket; every stream resumes from a cursor with `after`")
class Subscription(
    AccountsSubscription,
    ApplicationsSubscription,
    AnnouncementsSubscription,
    MessagesSubscription,
    FeedbackSubscription,
    GradesSubscription,
    AttendanceSubscription,
    ReportsSubscription,
    ChangesSubscription,
):
    pass


_built: dict[tuple[float, ...], strawberry.Schema] = {}


def _limits(settings: Settings) -> tuple[float, ...]:
    """Every setting the schema's extensions are made with."""
    return (
        settings.query_max_depth,
        settings.query_max_aliases,
        settings.query_max_tokens,
        settings.query_max_cost,
        settings.page_max,
        settings.query_cost_budget,
        settings.query_cost_window_seconds,
        settings.query_timeout_seconds,
    )


def build_schema(settings: Settings) -> strawberry.Schema:
    """The process's schema. Strawberry's relay fields are finalised when a schema
    is first built, so it is built once and reused (limits are fixed per process;
    the cost budget lives with it, one per process)."""
    limits = _limits(settings)
    if _built:
        (built_limits, schema), *_ = _built.items()
        if built_limits != limits:
            raise RuntimeError("the schema was already built with other query limits in this process")
        return schema
    _built[limits] = schema = _build(settings)
    return schema


def _build(settings: Settings) -> strawberry.Schema:
    # Extensions are given as factories: one fresh instance per request.
    limits = {
        "max_depth": settings.query_max_depth,
        "max_aliases": settings.query_max_aliases,
        "max_tokens": settings.query_max_tokens,
    }
    bounds = RequestBounds(
        max_cost=settings.query_max_cost,
        page_max=settings.page_max,
        timeout_seconds=settings.query_timeout_seconds,
        budget=(
            CostBudget(settings.query_cost_budget, settings.query_cost_window_seconds)
            if settings.query_cost_budget
            else None
        ),
    )
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: PreparedDocuments(**limits, bounds=bounds),
        lambda: MaskErrors(should_mask_error=should_mask_error, error_message="Внутренняя ошибка сервера"),
        # reads of children's documents, written in one INSERT when the request ends
        SensitiveReads,
    ]
    schema = ErrorLoggingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Notification, AuditEntry, *SCHOOL_SETUP_TYPES],
        extensions=extensions,
        execution_context_class=SharingExecutionContext,
    )
    enum_values.describe(schema._schema)
    return schema
