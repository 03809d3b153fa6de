"""Root fields of reports: requestReport, the templates and remarks, myReports and
reportEvents (School.reportTemplates and Child.reportRemarks are fields of those types)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from ediary_gql.context import Context
from ediary_gql.db.models import enums
from ediary_gql.resolvers import reports
from ediary_gql.schema.connection import After, Before, Connection, First, Last, PageArgs, to_connection
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.subscriptions import AFTER, each
from ediary_gql.schema.types.report import (
    AddReportRemarkInput,
    AddReportRemarkPayload,
    CreateReportTemplateInput,
    Report,
    ReportEvent,
    ReportFilter,
    ReportTemplatePayload,
    RequestReportInput,
    RequestReportPayload,
    UpdateReportTemplateInput,
)

Info = strawberry.Info[Context, None]


@strawberry.type
class ReportsQuery:
    @strawberry.field(description="The signed-in user's own reports, newest first")
    async def my_reports(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[ReportFilter | None, strawberry.argument(description="Which reports to list")] = None,
    ) -> Connection[Report]:
        page = await reports.my_reports(
            info.context,
            paging=PageArgs(first=first, after=after, last=last, before=before),
            status=enums.ReportStatus(filter.status) if filter and filter.status is not None else None,
            kind=enums.ReportKind(filter.kind) if filter and filter.kind is not None else None,
        )
        return to_connection(page, Report.from_row)


@strawberry.type
class ReportsMutation:
    request_report: RequestReportPayload = mutation(
        reports.request_report,
        RequestReportInput,
        RequestReportPayload,
        description="Queue a progress or attendance report of a child, a class or a school over a period (or "
        "dates), in a format: QUEUED → RUNNING → READY | FAILED, followed by reportEvents or myReports; the "
        "requester is notified when it is ready. A parent asks for their children, a student for themself, a "
        "teacher for the classes they teach, a school admin for the whole school",
    )
    create_report_template: ReportTemplatePayload = mutation(
        reports.create_report_template,
        CreateReportTemplateInput,
        ReportTemplatePayload,
        description="A school's report template (its admins and teachers): columns in order, grouping, comments "
        "and remarks included, whether it is the default of its kind",
    )
    update_report_template: ReportTemplatePayload = mutation(
        reports.update_report_template,
        UpdateReportTemplateInput,
        ReportTemplatePayload,
        description="Change a report template's name, columns, grouping, inclusions or default mark",
    )
    add_report_remark: AddReportRemarkPayload = mutation(
        reports.add_report_remark,
        AddReportRemarkInput,
        AddReportRemarkPayload,
        description="A teacher's remark on a child's period (a teacher of the child's class, or a school admin), "
        "shown in the remarks section of the child's reports",
    )


@strawberry.type
class ReportsSubscription:
    @strawberry.subscription(
        description="Status changes of the signed-in user's own reports (QUEUED, RUNNING, READY, FAILED, "
        "EXPIRED), each with its cursor"
    )
    def report_events(
        self, info: Info, after: Annotated[str | None, AFTER] = None
    ) -> AsyncGenerator[ReportEvent, None]:
        return each(info, reports.report_feed(info.context), ReportEvent.of, after=after)
