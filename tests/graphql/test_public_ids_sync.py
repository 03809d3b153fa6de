"""The public-ID walk of sync by sourcedId: each sync's audit entry (its counts and every
record it created or changed) and the notices it sends name rows only by global IDs,
under camelCase keys."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from tests.graphql.test_public_ids import _assert_public_everywhere
from tests.support import GraphQLClient
from tests.sync_support import MONDAY, make_sync_world, sync

ACTIONS: set[str] = {"syncLessons", "syncGrades", "syncAttendance"}
KINDS: set[NotificationKind] = {NotificationKind.LESSON, NotificationKind.GRADE, NotificationKind.ATTENDANCE}


async def test_sync_by_sourced_id(gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    sw = await make_sync_world(session)
    await sw.lessons(session, 1)
    admin, parent, operator = [await sw.token(gql, u) for u in (sw.admin, sw.parent, sw.operator)]
    # a lesson created, then moved and given a substitute
    new = {
        "sourcedId": "L-NEW",
        "classSourcedId": "CLS-1",
        "subjectSourcedId": "SUB-MATH",
        "teacherSourcedId": "T-1",
        "date": MONDAY.isoformat(),
        "startTime": "14:00",
        "endTime": "14:45",
    }
    for item in (new, {**new, "startTime": "15:00", "endTime": "15:45", "substituteTeacherSourcedId": "T-2"}):
        assert (await sync(gql, admin, "syncLessons", sw, [item]))["applied"]
    # a grade entered, then corrected with a control type; a mark made, then changed
    grade = {"sourcedId": "G-1", "childSourcedId": "STU-1", "lessonSourcedId": "L-1", "value": "4"}
    for item in (grade, {**grade, "value": "5", "controlType": "TEST"}):
        assert (await sync(gql, admin, "syncGrades", sw, [item]))["applied"]
    mark = {"sourcedId": "A-1", "childSourcedId": "STU-1", "lessonSourcedId": "L-1", "status": "ABSENT"}
    for item in (mark, {**mark, "status": "LATE", "minutesLate": 5}):
        assert (await sync(gql, admin, "syncAttendance", sw, [item]))["applied"]
    await _assert_public_everywhere(
        gql, app_services, actions=ACTIONS, kinds=KINDS, inbox_readers=[parent], operator=operator, admins=[admin]
    )
