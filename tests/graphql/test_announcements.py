"""publishAnnouncement, updateAnnouncement, withdrawAnnouncement, announcements and
announcementEvents over HTTP and WebSocket: who is addressed, who may publish."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import AnnouncementAudience, NotificationKind
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.events import channels
from tests.diary_writes_support import PASSWORD, World, codes, error_codes, gid
from tests.factories import (
    make_announcement,
    make_announcement_class,
    make_child,
    make_enrollment,
    make_guardianship,
    make_school_class,
    make_teacher,
    make_teaching_assignment,
    make_user,
)
from tests.sample_files import tiny_pdf, windows_exe
from tests.support import (
    GraphQLClient,
    StatementCounter,
    data_of,
    error_code,
    refusal_code,
    wait_subscribed,
    ws_connect,
)

PUBLISH = """
mutation($i: PublishAnnouncementInput!) {
  publishAnnouncement(input: $i) {
    announcement { id audience kind title text startsOn endsOn classes { id } author { id } attachments { id } }
    userErrors { field code message }
  }
}"""
UPDATE = """
mutation($i: UpdateAnnouncementInput!) {
  updateAnnouncement(input: $i) { announcement { id title endsOn } userErrors { field code message } }
}"""
WITHDRAW = """
mutation($i: WithdrawAnnouncementInput!) {
  withdrawAnnouncement(input: $i) { announcement { id withdrawnAt } userErrors { field code message } }
}"""
LIST = """
query($f: AnnouncementFilter, $first: Int, $after: String) {
  announcements(filter: $f, first: $first, after: $after) {
    edges { node { id title classes { id name } author { id fullName } attachments { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Announcement { id title } } }"
EVENTS = "subscription($s: ID!) { announcementEvents(schoolId: $s) { action announcement { id title } } }"


@dataclass
class Other:
    """A second class of the world's school: its teacher, a child and the child's parent."""

    school_class: SchoolClass
    teacher: User
    parent: User


async def _other_class(session: AsyncSession, world: World) -> Other:
    school_class = await make_school_class(
        session, school_id=world.school.id, academic_year_id=world.year.id, level=6, letter="Б"
    )
    teacher = await make_teacher(session, password=PASSWORD, school_id=world.school.id)
    await make_teaching_assignment(
        session, teacher_id=teacher.id, class_id=school_class.id, subject_id=world.subject.id
    )
    child = await make_child(session)
    await make_enrollment(session, child_id=child.id, class_id=school_class.id)
    parent = await make_user(session, password=PASSWORD)
    await make_guardianship(session, parent_id=parent.id, child_id=child.id)
    await session.commit()
    return Other(school_class=school_class, teacher=teacher, parent=parent)


@pytest.fixture
async def other(session: AsyncSession, world: World) -> Other:
    return await _other_class(session, world)


def _input(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schoolId": gid("School", world.school.id),
        "audience": "CLASSES",
        "classIds": [gid("SchoolClass", world.school_class.id)],
        "kind": "MEETING",
        "title": "Родительское собрание",
        "text": "В четверг в 18:00, кабинет 101.",
        "startsOn": "2026-12-01",
        "endsOn": "2026-12-10",
    }
    data.update(overrides)
    return {"i": data}


async def _publish(gql: GraphQLClient, world: World, user: User, **overrides: Any) -> dict[str, Any]:
    data = await gql.data(PUBLISH, _input(world, **overrides), token=await world.token(gql, user))
    payload: dict[str, Any] = data["publishAnnouncement"]
    return payload


async def _seen(gql: GraphQLClient, world: World, user: User, flt: dict[str, Any] | None = None) -> list[str]:
    data = await gql.data(LIST, {"f": flt}, token=await world.token(gql, user))
    return [e["node"]["id"] for e in data["announcements"]["edges"]]


async def _noticed(session: AsyncSession) -> set[int]:
    rows = await session.scalars(select(Notification.user_id).where(Notification.kind == NotificationKind.ANNOUNCEMENT))
    return set(rows.all())


async def test_a_class_announcement_reaches_its_families_and_no_one_else(
    gql: GraphQLClient, session: AsyncSession, world: World, other: Other
) -> None:
    # when the class's teacher publishes to the class
    payload = await _publish(gql, world, world.teacher)

    # then it stands as sent, by the teacher, for that class
    assert payload["userErrors"] == []
    ann = payload["announcement"]
    assert (ann["audience"], ann["kind"], ann["title"], ann["startsOn"], ann["endsOn"]) == (
        "CLASSES",
        "MEETING",
        "Родительское собрание",
        "2026-12-01",
        "2026-12-10",
    )
    assert ann["classes"] == [{"id": gid("SchoolClass", world.school_class.id)}]
    assert ann["author"] == {"id": gid("User", world.teacher.id)}
    # the class's families, its student and the school's admin are told once; not the
    # author, not another class's parent or teacher, not a colleague outside the class
    assert await _noticed(session) == {world.parent.id, world.other_parent.id, world.student.id, world.admin.id}
    for reader in (world.parent, world.student, world.admin, world.teacher):
        assert await _seen(gql, world, reader) == [ann["id"]]
    for outsider in (other.parent, other.teacher, world.other_teacher, world.foreign_admin, world.operator):
        assert await _seen(gql, world, outsider) == []
        data = await gql.data(NODE, {"id": ann["id"]}, token=await world.token(gql, outsider))
        assert data["node"] is None
    data = await gql.data(NODE, {"id": ann["id"]}, token=await world.token(gql, world.parent))
    assert data["node"] == {"id": ann["id"], "title": "Родительское собрание"}


async def test_staff_only_is_not_for_a_student_or_a_parent(
    gql: GraphQLClient, session: AsyncSession, world: World, other: Other
) -> None:
    payload = await _publish(gql, world, world.admin, audience="STAFF", classIds=[], kind="GENERAL")
    assert payload["userErrors"] == []
    ann = payload["announcement"]["id"]
    assert await _noticed(session) == {world.teacher.id, world.other_teacher.id, other.teacher.id}
    for staff in (world.teacher, world.other_teacher, world.admin):
        assert await _seen(gql, world, staff) == [ann]
    for family in (world.student, world.parent, other.parent, world.foreign_teacher):
        assert await _seen(gql, world, family) == []


async def test_a_school_announcement_reaches_the_whole_school_only(
    gql: GraphQLClient, session: AsyncSession, world: World, other: Other
) -> None:
    payload = await _publish(gql, world, world.admin, audience="SCHOOL", classIds=[], kind="HOLIDAY")
    ann = payload["announcement"]["id"]
    everyone = {
        world.teacher.id,
        world.other_teacher.id,
        other.teacher.id,
        world.parent.id,
        world.student.id,
        world.other_parent.id,
        other.parent.id,
    }
    assert await _noticed(session) == everyone  # the author (admin) is not told
    for reader in (world.parent, other.parent, world.other_teacher):
        assert await _seen(gql, world, reader) == [ann]
    for outsider in (world.foreign_teacher, world.foreign_admin, world.operator):
        assert await _seen(gql, world, outsider) == []
    # a class filter shows what reaches that class, the school's own announcements too
    assert await _seen(gql, world, world.admin, {"classId": gid("SchoolClass", other.school_class.id)}) == [ann]


async def test_a_teacher_publishes_only_to_their_own_classes(
    gql: GraphQLClient, session: AsyncSession, world: World, other: Other
) -> None:
    other_class = [gid("SchoolClass", other.school_class.id)]
    refused: list[tuple[User, dict[str, Any]]] = [
        (world.teacher, {"classIds": other_class}),  # another class of the school
        (world.teacher, {"audience": "SCHOOL", "classIds": []}),  # the whole school
        (world.teacher, {"audience": "STAFF", "classIds": []}),
        (world.foreign_teacher, {}),  # another school's teacher
        (world.parent, {}),
        (world.operator, {}),
    ]
    for user, overrides in refused:
        body = await gql.post(PUBLISH, _input(world, **overrides), token=await world.token(gql, user))
        assert error_codes(body) == ["FORBIDDEN"], (user.id, overrides)
    assert await _noticed(session) == set()
    # a homeroom teacher may, though they teach no subject there
    await session.execute(
        update(SchoolClass)
        .where(SchoolClass.id == other.school_class.id)
        .values(homeroom_teacher_id=world.other_teacher.id)
    )
    await session.commit()
    payload = await _publish(gql, world, world.other_teacher, classIds=other_class)
    assert payload["userErrors"] == []


async def test_problems_are_told_at_once(gql: GraphQLClient, session: AsyncSession, world: World) -> None:
    foreign = await make_school_class(session)  # of another school
    await session.commit()
    payload = await _publish(
        gql,
        world,
        world.admin,
        title=" ",
        endsOn="2026-11-01",
        classIds=[gid("SchoolClass", world.school_class.id), gid("SchoolClass", foreign.id)],
    )
    assert sorted(codes(payload)) == [
        ("INVALID", ["endsOn"]),
        ("NOT_FOUND", ["classIds", "1"]),
        ("REQUIRED", ["title"]),
    ]
    payload = await _publish(gql, world, world.admin, classIds=[])
    assert codes(payload) == [("REQUIRED", ["classIds"])]
    payload = await _publish(gql, world, world.admin, audience="SCHOOL")
    assert codes(payload) == [("INVALID", ["classIds"])]


async def _school_of(session: AsyncSession, world: World) -> int:
    """The foreign teacher's school (another school than the world's)."""
    found = await session.scalar(
        select(StaffMembership.school_id).where(StaffMembership.user_id == world.foreign_teacher.id)
    )
    assert found is not None
    return found


async def test_update_and_withdraw_by_the_author_or_the_admin(
    gql: GraphQLClient, session: AsyncSession, world: World, other: Other
) -> None:
    ann = (await _publish(gql, world, world.teacher))["announcement"]["id"]
    update = {"i": {"announcementId": ann, "title": "Собрание переносится", "openEnded": True}}

    # a colleague it is not addressed to finds nothing; one it is addressed to may not change it
    data = await gql.data(UPDATE, update, token=await world.token(gql, other.teacher))
    assert codes(data["updateAnnouncement"]) == [("NOT_FOUND", ["announcementId"])]
    body = await gql.post(UPDATE, update, token=await world.token(gql, world.parent))
    assert error_codes(body) == ["FORBIDDEN"]

    data = await gql.data(UPDATE, update, token=await world.token(gql, world.teacher))
    assert data["updateAnnouncement"] == {
        "announcement": {"id": ann, "title": "Собрание переносится", "endsOn": None},
        "userErrors": [],
    }

    # the admin takes it down: gone from the list, the author still reaches it by ID
    data = await gql.data(WITHDRAW, {"i": {"announcementId": ann}}, token=await world.token(gql, world.admin))
    assert data["withdrawAnnouncement"]["announcement"]["withdrawnAt"] is not None
    assert await _seen(gql, world, world.parent) == []
    assert await _seen(gql, world, world.teacher) == []
    parent_node = await gql.data(NODE, {"id": ann}, token=await world.token(gql, world.parent))
    author_node = await gql.data(NODE, {"id": ann}, token=await world.token(gql, world.teacher))
    assert parent_node["node"] is None
    assert author_node["node"] == {"id": ann, "title": "Собрание переносится"}
    data = await gql.data(UPDATE, update, token=await world.token(gql, world.teacher))
    assert codes(data["updateAnnouncement"]) == [("INVALID_STATE", ["announcementId"])]


async def test_filters_by_kind_and_dates(gql: GraphQLClient, session: AsyncSession, world: World) -> None:
    meeting = (await _publish(gql, world, world.admin, startsOn="2026-12-01", endsOn="2026-12-05"))["announcement"]
    holiday = (await _publish(gql, world, world.admin, kind="HOLIDAY", startsOn="2026-12-20", endsOn=None))[
        "announcement"
    ]
    assert await _seen(gql, world, world.parent) == [holiday["id"], meeting["id"]]  # the latest start first
    assert await _seen(gql, world, world.parent, {"kind": "HOLIDAY"}) == [holiday["id"]]
    assert await _seen(gql, world, world.parent, {"from": "2026-12-06", "to": "2026-12-19"}) == []
    assert await _seen(gql, world, world.parent, {"from": "2026-12-05", "to": "2026-12-05"}) == [meeting["id"]]
    assert await _seen(gql, world, world.parent, {"from": "2027-03-01"}) == [holiday["id"]]  # open-ended
    foreign_school = gid("School", await _school_of(session, world))
    assert await _seen(gql, world, world.parent, {"schoolId": foreign_school}) == []


async def test_the_list_takes_the_same_statements_for_more_announcements(
    gql: GraphQLClient, session: AsyncSession, world: World, other: Other, sql_counter: StatementCounter
) -> None:
    token = await world.token(gql, world.admin)
    counts = []
    for total in (2, 6):
        while len(await _seen(gql, world, world.admin)) < total:
            row = await make_announcement(
                session, school_id=world.school.id, author_id=world.teacher.id, audience=AnnouncementAudience.CLASSES
            )
            await make_announcement_class(session, announcement_id=row.id, class_id=world.school_class.id)
            await make_announcement_class(session, announcement_id=row.id, class_id=other.school_class.id)
            await session.commit()
        with sql_counter:
            data = await gql.data(LIST, {"f": None}, token=token)
        assert len(data["announcements"]["edges"]) == total
        assert all(len(e["node"]["classes"]) == 2 for e in data["announcements"]["edges"])
        counts.append(sql_counter.count)
    assert counts[0] == counts[1], sql_counter.statements


async def test_events_reach_only_those_addressed(
    gql: GraphQLClient, session: AsyncSession, world: World, other: Other, app_services: AppServices, ws_url: str
) -> None:
    school = gid("School", world.school.id)
    parent, stranger = await world.token(gql, world.parent), await world.token(gql, other.parent)
    async with ws_connect(ws_url) as ws, ws_connect(ws_url) as other_ws:
        await ws.init(parent)
        await ws.subscribe(EVENTS, {"s": school})
        await other_ws.init(stranger)
        await other_ws.subscribe(EVENTS, {"s": school})
        await wait_subscribed(app_services, channels.school_announcements(world.school.id), 2)

        ann = (await _publish(gql, world, world.teacher))["announcement"]["id"]
        heard = data_of(await ws.receive())
        assert heard == {"action": "published", "announcement": {"id": ann, "title": "Родительское собрание"}}
        await gql.data(WITHDRAW, {"i": {"announcementId": ann}}, token=await world.token(gql, world.teacher))
        assert data_of(await ws.receive())["action"] == "withdrawn"
        # the other class's parent follows the school but hears neither
        assert await other_ws.no_message(within=0.3)


@pytest.mark.parametrize("who", ["operator", "foreign_teacher"])
async def test_events_refuse_those_outside_the_school(who: str, gql: GraphQLClient, world: World, ws_url: str) -> None:
    token = await world.token(gql, getattr(world, who))
    async with ws_connect(ws_url) as ws:
        await ws.init(token)
        await ws.subscribe(EVENTS, {"s": gid("School", world.school.id)})
        assert refusal_code(await ws.receive()) == "FORBIDDEN"


FILES = """
mutation($i: PublishAnnouncementInput!) {
  publishAnnouncement(input: $i) {
    announcement { id attachments { fileName url } }
    userErrors { field code message }
  }
}"""


async def test_its_files_are_for_those_it_addresses(
    gql: GraphQLClient, session: AsyncSession, world: World, other: Other
) -> None:
    files = {"i.files.0": ("план.pdf", tiny_pdf(), "application/pdf")}
    token = await world.token(gql, world.teacher)
    response = await gql.upload(FILES, _input(world, files=[None]), files, token=token)
    payload = response.json()["data"]["publishAnnouncement"]
    assert payload["userErrors"] == []
    [attached] = payload["announcement"]["attachments"]
    assert attached["fileName"] == "план.pdf"
    async with httpx.AsyncClient() as http:
        for user, status in ((world.parent, 200), (world.student, 200), (other.parent, 404), (world.operator, 404)):
            headers = {"Authorization": f"Bearer {await world.token(gql, user)}"}
            got = await http.get(attached["url"], headers=headers)
            assert got.status_code == status, user.id
    # a refused file is named with the other problems, and no announcement is kept
    bad = {"i.files.0": ("x.pdf", windows_exe(), "application/pdf")}
    response = await gql.upload(FILES, _input(world, title="", files=[None]), bad, token=token)
    assert sorted(codes(response.json()["data"]["publishAnnouncement"])) == [
        ("FILE_TYPE_NOT_ALLOWED", ["files", "0"]),
        ("REQUIRED", ["title"]),
    ]
    assert len(await _seen(gql, world, world.parent)) == 1


async def test_a_teacher_may_not_move_their_announcement_to_another_class(
    gql: GraphQLClient, session: AsyncSession, world: World, other: Other
) -> None:
    ann = (await _publish(gql, world, world.teacher))["announcement"]["id"]
    moved = {"i": {"announcementId": ann, "classIds": [gid("SchoolClass", other.school_class.id)]}}
    body = await gql.post(UPDATE, moved, token=await world.token(gql, world.teacher))
    assert error_codes(body) == ["FORBIDDEN"]
    widened = {"i": {"announcementId": ann, "audience": "SCHOOL", "classIds": []}}
    body = await gql.post(UPDATE, widened, token=await world.token(gql, world.teacher))
    assert error_codes(body) == ["FORBIDDEN"]
    # the admin may
    data = await gql.data(UPDATE, widened, token=await world.token(gql, world.admin))
    assert data["updateAnnouncement"]["userErrors"] == []
    assert await _seen(gql, world, other.parent) == [ann]


async def test_staff_whose_membership_ended_stop_hearing(
    gql: GraphQLClient, session: AsyncSession, world: World, app_services: AppServices, ws_url: str
) -> None:
    token = await world.token(gql, world.other_teacher)
    async with ws_connect(ws_url) as ws:
        await ws.init(token)
        await ws.subscribe(EVENTS, {"s": gid("School", world.school.id)})
        await wait_subscribed(app_services, channels.school_announcements(world.school.id))
        await _publish(gql, world, world.admin, audience="STAFF", classIds=[])
        assert data_of(await ws.receive())["action"] == "published"
        await session.execute(
            update(StaffMembership).where(StaffMembership.user_id == world.other_teacher.id).values(active=False)
        )
        await session.commit()
        await _publish(gql, world, world.admin, audience="STAFF", classIds=[])
        assert error_code(await ws.receive()) == "FORBIDDEN"  # the stream ends
