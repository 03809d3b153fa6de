"""The public-ID walk of reports: asking for one (its audit entry), the notice that it is
ready, a school's templates made and changed, and a teacher's remark name rows only by
global IDs, under camelCase keys."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind, ReportStatus
from ediary_gql.services.reports.worker import ReportWorker
from ediary_gql.settings import Settings
from tests.diary_writes_support import gid, make_world
from tests.graphql.test_public_ids import _assert_public_everywhere
from tests.services.reports.queue_support import ask, report
from tests.support import GraphQLClient

ACTIONS: set[str] = {"requestReport", "createReportTemplate", "updateReportTemplate", "addReportRemark"}
CREATE_TEMPLATE = """mutation($i: CreateReportTemplateInput!) {
  createReportTemplate(input: $i) { reportTemplate { id } userErrors { code } } }"""
UPDATE_TEMPLATE = """mutation($i: UpdateReportTemplateInput!) {
  updateReportTemplate(input: $i) { reportTemplate { id } userErrors { code } } }"""
ADD_REMARK = """
mutation($i: AddReportRemarkInput!) { addReportRemark(input: $i) { reportRemark { id } userErrors { code } } }"""
KINDS: set[NotificationKind] = {NotificationKind.REPORT}


async def test_reports(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, settings: Settings
) -> None:
    world = await make_world(session)
    asked = await ask(app_services, world.parent, world)
    assert await ReportWorker.from_settings(settings, app_services.session_factory).drain() == 1
    assert (await report(app_services, asked.id)).status is ReportStatus.READY
    parent, admin, operator = [await world.token(gql, u) for u in (world.parent, world.admin, world.operator)]
    created = await gql.data(
        CREATE_TEMPLATE,
        {
            "i": {
                "schoolId": gid("School", world.school.id),
                "name": "Краткий",
                "kind": "PROGRESS",
                "columns": ["DATE", "GRADE"],
                "groupBy": "DATE",
                "isDefault": True,
            }
        },
        token=admin,
    )
    template = created["createReportTemplate"]["reportTemplate"]["id"]
    changed = await gql.data(
        UPDATE_TEMPLATE, {"i": {"templateId": template, "isDefault": False, "columns": ["GRADE", "DATE"]}}, token=admin
    )
    assert changed["updateReportTemplate"]["userErrors"] == []
    remark = {"childId": gid("Child", world.child.id), "periodId": gid("Period", world.period.id), "text": "Молодец"}
    added = await gql.data(ADD_REMARK, {"i": remark}, token=await world.token(gql, world.teacher))
    assert added["addReportRemark"]["userErrors"] == []
    await _assert_public_everywhere(
        gql, app_services, actions=ACTIONS, kinds=KINDS, inbox_readers=[parent], operator=operator, admins=[admin]
    )
