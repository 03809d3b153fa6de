"""The public-ID walk of announcements: every action the announcement service audits and
every kind it notifies, driven over HTTP, leaves only global IDs under camelCase keys."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from tests import diary_writes_support as diary
from tests.graphql.test_public_ids import _assert_public_everywhere, _do, gid
from tests.sample_files import tiny_pdf
from tests.support import GraphQLClient

ACTIONS: set[str] = {"publishAnnouncement", "updateAnnouncement", "withdrawAnnouncement"}
KINDS: set[NotificationKind] = {NotificationKind.ANNOUNCEMENT}

PUBLISH = """mutation($i: PublishAnnouncementInput!) {
  publishAnnouncement(input: $i) { announcement { id } userErrors { field code message } } }"""


async def test_announcement_workflows(gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    world = await diary.make_world(session)
    teacher, parent = await world.token(gql, world.teacher), await world.token(gql, world.parent)
    admin, op = await world.token(gql, world.admin), await world.token(gql, world.operator)
    # the class's teacher publishes to the class with a file; the admin changes and withdraws it
    variables = {
        "i": {
            "schoolId": gid("School", world.school.id), "audience": "CLASSES",
            "classIds": [gid("SchoolClass", world.school_class.id)], "kind": "MEETING",
            "title": "Собрание", "text": "В четверг в 18:00", "startsOn": "2026-12-01", "files": [None],
        }
    }  # fmt: skip
    sent = await gql.upload(
        PUBLISH, variables, {"i.files.0": ("план.pdf", tiny_pdf(), "application/pdf")}, token=teacher
    )
    body = sent.json()["data"]["publishAnnouncement"]
    assert body["userErrors"] == []
    ann = body["announcement"]["id"]
    await _do(gql, admin, "updateAnnouncement", announcementId=ann, title="Собрание в пятницу")
    await _do(gql, admin, "withdrawAnnouncement", announcementId=ann)
    await _assert_public_everywhere(
        gql, app_services, actions=ACTIONS, kinds=KINDS, inbox_readers=[parent, admin], operator=op, admins=[admin]
    )
