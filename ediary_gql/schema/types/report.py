"""Report (a requested progress or attendance report and its file), ReportTemplate (a
school's shape for reports), ReportRemark (a teacher's remark on a child's period); their
inputs, payloads and the reportEvents event."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.db.models import enums
from ediary_gql.db.models.calendar import Period as PeriodRow
from ediary_gql.db.models.reports import Report as ReportRow
from ediary_gql.db.models.reports import ReportRemark as ReportRemarkRow
from ediary_gql.db.models.reports import ReportTemplate as ReportTemplateRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import reports as fields
from ediary_gql.resolvers.reports import TARGET_TYPES, ReportChange
from ediary_gql.schema.errors import UserError
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.academic_year import Period
from ediary_gql.schema.types.stream import cursor_field
from ediary_gql.schema.types.user import User
from ediary_gql.services.reports import names

if TYPE_CHECKING:
    from ediary_gql.context import Context

ReportKind = strawberry.enum(enums.ReportKind, description="PROGRESS (grades and averages) or ATTENDANCE")
ReportScope = strawberry.enum(enums.ReportScope, description="What a report is of: a CHILD, a CLASS or a SCHOOL")
ReportFormat = strawberry.enum(enums.ReportFormat, description="PDF, HTML (standalone), XLSX, or CSV (UTF-8, BOM, ';')")
ReportStatus = strawberry.enum(
    enums.ReportStatus,
    description="QUEUED → RUNNING → READY | FAILED; a READY report's file is deleted when it expires (EXPIRED)",
)
ReportColumn = strawberry.enum(
    enums.ReportColumn,
    description="A column of a report's tables; progress: DATE, SUBJECT, GRADE, CONTROL_TYPE, WEIGHT, TEACHER, "
    "TOPIC; attendance: DATE, SUBJECT, STATUS, MINUTES_LATE, TEACHER, TOPIC",
)
ReportGrouping = strawberry.enum(
    enums.ReportGrouping, description="SUBJECT: a table per subject; DATE: one table in the order of the lessons"
)

if TYPE_CHECKING:
    Info = strawberry.Info["Context", None]
else:  # a forward reference in the alias would hide `info` from strawberry
    Info = strawberry.Info


async def _period(info: Info, period_id: int | None) -> Period | None:
    if period_id is None:
        return None
    row = await info.context.loaders.by_id(PeriodRow).load(period_id)
    return Period.from_row(row) if row is not None and await Period.visible(info.context, row) else None


@strawberry.type(name="ReportTemplate", description="A school's shape for reports of one kind")
class ReportTemplate(EntityNode):
    model = ReportTemplateRow

    id: relay.NodeID[int]
    name: str = strawberry.field(description="The name people see")
    kind: ReportKind = strawberry.field(description="What kind of report template it is")  # type: ignore[valid-type]
    columns: list[ReportColumn] = strawberry.field(  # type: ignore[valid-type]
        description="The tables' columns, in order (a teacher's comment, when included, comes last)"
    )
    group_by: ReportGrouping = strawberry.field(description="How the tables are grouped")  # type: ignore[valid-type]
    include_comments: bool = strawberry.field(description="Teachers' comments on grades and marks")
    include_remarks: bool = strawberry.field(description="The section of teachers' remarks (addReportRemark)")
    is_default: bool = strawberry.field(description="Taken by a request of this kind that names no template")
    is_built_in: bool = strawberry.field(description="The built-in default a school starts with")
    created_at: dt.datetime = strawberry.field(description="When the report template was created")
    updated_at: dt.datetime = strawberry.field(description="When the report template was last changed")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            kind=enums.ReportKind(row.kind),
            columns=[enums.ReportColumn(c) for c in row.columns],
            group_by=enums.ReportGrouping(row.group_by),
            include_comments=row.include_comments,
            include_remarks=row.include_remarks,
            is_default=row.is_default,
            is_built_in=fields.template_is_built_in(row),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await fields.may_view_templates(context, row.school_id)


@strawberry.type(name="ReportRemark", description="A teacher's explanatory remark on a child's period")
class ReportRemark(EntityNode):
    model = ReportRemarkRow

    id: relay.NodeID[int]
    text: str = strawberry.field(description="The text as written")
    created_at: dt.datetime = strawberry.field(description="When the report remark was created")
    child_id: relay.GlobalID = strawberry.field(description="The child (Child) the remark is about")
    _period_id: strawberry.Private[int]
    _author_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            text=row.text,
            created_at=row.created_at,
            child_id=relay.GlobalID("Child", str(row.child_id)),
            _period_id=row.period_id,
            _author_id=row.author_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await fields.may_view_remark(context, row)

    @strawberry.field(description="The period the remark is on")
    async def period(self, info: Info) -> Period | None:
        return await _period(info, self._period_id)

    @strawberry.field(description="Who wrote it; null if the account is gone or not yours to see")
    async def author(self, info: Info) -> User | None:
        if self._author_id is None:
            return None
        row = await info.context.loaders.by_id(UserRow).load(self._author_id)
        return User.from_row(row) if row is not None and await User.visible(info.context, row) else None


@strawberry.type(name="Report", description="A requested report: queued, made in the background, then downloaded")
class Report(EntityNode):
    model = ReportRow

    id: relay.NodeID[int]
    kind: ReportKind = strawberry.field(description="What kind of report it is")  # type: ignore[valid-type]
    scope: ReportScope = strawberry.field(  # type: ignore[valid-type]
        description="What the report is of: a child, a class or a school"
    )
    format: ReportFormat = strawberry.field(description="The file format")  # type: ignore[valid-type]
    status: ReportStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the report is in its life cycle"
    )
    error: str | None = strawberry.field(description="Why it FAILED, in words")
    target_id: relay.GlobalID = strawberry.field(description="The Child, SchoolClass or School it is of")
    from_: dt.date = strawberry.field(name="from", description="First day covered")
    to: dt.date = strawberry.field(description="Last day covered")
    created_at: dt.datetime = strawberry.field(description="When the report was created")
    started_at: dt.datetime | None = strawberry.field(
        description="When the work on the report started; null until then"
    )
    finished_at: dt.datetime | None = strawberry.field(
        description="When the work on the report finished; null until then"
    )
    expires_at: dt.datetime | None = strawberry.field(description="When a READY report's file is deleted")
    byte_size: int | None = strawberry.field(description="The file's size, once READY")
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            kind=enums.ReportKind(row.kind),
            scope=enums.ReportScope(row.scope),
            format=enums.ReportFormat(row.format),
            status=enums.ReportStatus(row.status),
            error=row.error,
            target_id=relay.GlobalID(TARGET_TYPES[enums.ReportScope(row.scope)], str(row.scope_id)),
            from_=row.date_from,
            to=row.date_to,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            expires_at=row.expires_at,
            byte_size=row.byte_size,
            _row=row,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return fields.may_view_report(context, row)

    @strawberry.field(description="The child's name, the class («7А») or the school's short name")
    async def target_name(self, info: Info) -> str:
        return (await fields.report_names(info.context, self._row)).target

    @strawberry.field(description="«Успеваемость 7А 1 четверть»")
    async def title(self, info: Info) -> str:
        return names.title(self._row, await fields.report_names(info.context, self._row))

    @strawberry.field(description="The file's name when downloaded, e.g. «Успеваемость 7А 1 четверть.pdf»")
    async def file_name(self, info: Info) -> str:
        return names.file_name(self._row, await fields.report_names(info.context, self._row))

    @strawberry.field(description="The period asked for; null when dates were given")
    async def period(self, info: Info) -> Period | None:
        return await _period(info, self._row.period_id)

    @strawberry.field(description="The template it is shaped by; null when none applied (the built-in default)")
    async def template(self, info: Info) -> ReportTemplate | None:
        row = await fields.template(info.context, self._row.template_id)
        return None if row is None else ReportTemplate.from_row(row)

    @strawberry.field(
        description="Where to GET the file, with the same Authorization header as for the API; null unless READY "
        "and not expired"
    )
    def download_url(self, info: Info) -> str | None:
        if not fields.is_downloadable(self._row):
            return None
        return fields.download_url(info.context, relay.to_base64("Report", self.id))


@strawberry.type(description="A status change of one of the signed-in user's reports")
class ReportEvent:
    status: ReportStatus = strawberry.field(  # type: ignore[valid-type]
        description="The status this event tells of (the report may have moved on since)"
    )
    report: Report = strawberry.field(description="The report as it now is")
    cursor: str = cursor_field()

    @classmethod
    def of(cls, change: ReportChange, cursor: str) -> Self:
        return cls(status=change.status, report=Report.from_row(change.report), cursor=cursor)


@strawberry.input(description="Filters of myReports")
class ReportFilter:
    status: ReportStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only those in this status"
    )
    kind: ReportKind | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only those of this kind"
    )


@strawberry.input(description="Ask for a report over a period, or over dates (from and to)")
class RequestReportInput:
    kind: ReportKind = strawberry.field(description="What kind of request report it is")  # type: ignore[valid-type]
    scope: ReportScope = strawberry.field(description="What the report is of")  # type: ignore[valid-type]
    target_id: relay.GlobalID = strawberry.field(
        description="A Child (scope CHILD), a SchoolClass (CLASS) or a School (SCHOOL)"
    )
    format: ReportFormat = strawberry.field(description="The file format")  # type: ignore[valid-type]
    period_id: relay.GlobalID | None = node_id("Period", default=None)
    from_: dt.date | None = strawberry.field(name="from", default=None, description="First day, with `to`")
    to: dt.date | None = strawberry.field(default=None, description="Last day, with `from`")
    template_id: relay.GlobalID | None = node_id(
        "ReportTemplate", default=None, description="A template of the report's school; else its default"
    )


@strawberry.type(description="The report queued for building, or why it was refused")
class RequestReportPayload(Payload):
    report: Report | None = strawberry.field(
        default=None, description="The report as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="A new report template of a school")
class CreateReportTemplateInput:
    school_id: relay.GlobalID = node_id("School")
    name: str = strawberry.field(description="The name people see")
    kind: ReportKind = strawberry.field(  # type: ignore[valid-type]
        description="What kind of create report template it is"
    )
    columns: list[ReportColumn] = strawberry.field(  # type: ignore[valid-type]
        description="In order; DATE and GRADE (progress) or DATE and STATUS (attendance) are required"
    )
    group_by: ReportGrouping = strawberry.field(description="How the tables are grouped")  # type: ignore[valid-type]
    include_comments: bool = strawberry.field(default=True, description="Whether the grades' comments are shown")
    include_remarks: bool = strawberry.field(default=True, description="Whether teachers' remarks are shown")
    is_default: bool = strawberry.field(default=False, description="Make it the school's default for its kind")


@strawberry.input(description="Change a report template: only the fields given (its kind stays)")
class UpdateReportTemplateInput:
    template_id: relay.GlobalID = node_id("ReportTemplate")
    name: str | None = strawberry.field(default=None, description="The name people see")
    columns: list[ReportColumn] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The columns, in order; omit to keep"
    )
    group_by: ReportGrouping | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="How the tables are grouped"
    )
    include_comments: bool | None = strawberry.field(default=None, description="Whether the grades' comments are shown")
    include_remarks: bool | None = strawberry.field(default=None, description="Whether teachers' remarks are shown")
    is_default: bool | None = strawberry.field(
        default=None, description="Make it the school's default for its kind; omit to keep"
    )


@strawberry.type(description="The report template after the change, or why it was refused")
class ReportTemplatePayload(Payload):
    report_template: ReportTemplate | None = strawberry.field(
        default=None, description="The report template as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )


@strawberry.input(description="A remark on a child's period, shown in the remarks section of their reports")
class AddReportRemarkInput:
    child_id: relay.GlobalID = node_id("Child")
    period_id: relay.GlobalID = node_id("Period")
    text: str = strawberry.field(description="The text as written")


@strawberry.type(description="The teacher's remark added to reports, or why it was refused")
class AddReportRemarkPayload(Payload):
    report_remark: ReportRemark | None = strawberry.field(
        default=None, description="The report remark as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )
