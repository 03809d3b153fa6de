"""Announcements over real HTTP and WebSocket: who an announcement reaches (its notices, the
list, node(id:), announcementEvents) and who may publish, change or withdraw it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.children import Child, Guardianship
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.events import channels
from tests.diary_writes_support import PASSWORD, World, codes, error_codes, gid
from tests.factories import (
    make_child,
    make_enrollment,
    make_guardianship,
    make_school_class,
    make_user,
)
from tests.sample_files import tiny_pdf
from tests.support import (
    GraphQLClient,
    StatementCounter,
    data_of,
    error_code,
    refusal_code,
    wait_subscribed,
    ws_connect,
)

PUBLISH = """mutation($i: PublishAnnouncementInput!) {
  publishAnnouncement(input: $i) {
    announcement { id audience kind title text startsOn endsOn withdrawnAt classes { id } author { id } }
    userErrors { field code message }
  }
}"""
UPDATE = """mutation($i: UpdateAnnouncementInput!) {
  updateAnnouncement(input: $i) { announcement { id title kind } userErrors { field code message } }
}"""
WITHDRAW = """mutation($i: WithdrawAnnouncementInput!) {
  withdrawAnnouncement(input: $i) { announcement { id withdrawnAt } userErrors { field code message } }
}"""
LIST = """query($f: AnnouncementFilter, $first: Int) {
  announcements(filter: $f, first: $first) {
    totalCount
    edges { node { id title audience classes { id } author { id } attachments { id } } }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Announcement { id title withdrawnAt } } }"
EVENTS = """subscription($s: ID!) {
  announcementEvents(schoolId: $s) { action announcement { id title } }
}"""


@dataclass
class Classes:
    """The world's class, and a second class of the same school with a family of its own."""

    other_class: SchoolClass
    other_class_child: Child
    other_class_parent: User


@pytest.fixture
async def classes(session: AsyncSession, world: World) -> Classes:
    other_class = await make_school_class(
        session, school_id=world.school.id, academic_year_id=world.year.id, level=6, letter="Б"
    )
    child = await make_child(session)
    await make_enrollment(session, child_id=child.id, class_id=other_class.id)
    parent = await make_user(session, password=PASSWORD)
    await make_guardianship(session, parent_id=parent.id, child_id=child.id)
    await session.commit()
    return Classes(other_class=other_class, other_class_child=child, other_class_parent=parent)


def _input(world: World, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schoolId": gid("School", world.school.id),
        "audience": "CLASSES",
        "classIds": [gid("SchoolClass", world.school_class.id)],
        "kind": "MEETING",
        "title": "Родительское собрание",
        "text": "Собрание в четверг в 18:00, кабинет 101.",
    }
    base.update(fields)
    return base


async def _publish(gql: GraphQLClient, token: str, world: World, **fields: Any) -> dict[str, Any]:
    data = await gql.data(PUBLISH, {"i": _input(world, **fields)}, token=token)
    payload: dict[str, Any] = data["publishAnnouncement"]
    assert payload["userErrors"] == [], payload
    return payload["announcement"]  # type: ignore[no-any-return]


async def _announcement_notices(services: AppServices) -> dict[int, int]:
    """user id -> how many ANNOUNCEMENT notices they got."""
    async with services.session_factory() as s:
        rows = (
            await s.scalars(select(Notification.user_id).where(Notification.kind == NotificationKind.ANNOUNCEMENT))
        ).all()
    found: dict[int, int] = {}
    for user_id in rows:
        found[user_id] = found.get(user_id, 0) + 1
    return found


async def _titles(gql: GraphQLClient, token: str, **flt: Any) -> list[str]:
    data = await gql.data(LIST, {"f": flt or None}, token=token)
    return [e["node"]["title"] for e in data["announcements"]["edges"]]


async def test_a_class_announcement_reaches_the_class_families_and_no_one_else(
    gql: GraphQLClient, app_services: AppServices, world: World, classes: Classes
) -> None:
    # given the class's teacher publishing to their class
    teacher = await world.token(gql, world.teacher)
    published = await _publish(gql, teacher, world)
    assert published["audience"] == "CLASSES"
    assert published["classes"] == [{"id": gid("SchoolClass", world.school_class.id)}]
    assert published["author"] == {"id": gid("User", world.teacher.id)}

    # then the class's guardians, the child's own login and the school's admin get one notice
    # each; not the author, not another teacher, not another class's family, no outsider
    notices = await _announcement_notices(app_services)
    assert notices == {world.parent.id: 1, world.other_parent.id: 1, world.student.id: 1, world.admin.id: 1}

    # and the list shows it to exactly those (and its author, who teaches the class)
    for user in (world.parent, world.other_parent, world.student, world.admin, world.teacher):
        assert await _titles(gql, await world.token(gql, user)) == ["Родительское собрание"], user.id
    for user in (
        classes.other_class_parent,
        world.other_teacher,
        world.foreign_admin,
        world.foreign_teacher,
        world.operator,
    ):
        assert await _titles(gql, await world.token(gql, user)) == [], user.id
        # nor does node(id:) answer it to them
        node = await gql.data(NODE, {"id": published["id"]}, token=await world.token(gql, user))
        assert node["node"] is None
    node = await gql.data(NODE, {"id": published["id"]}, token=await world.token(gql, world.parent))
    assert node["node"]["title"] == "Родительское собрание"


async def test_staff_only_and_school_wide(
    gql: GraphQLClient, app_services: AppServices, world: World, classes: Classes
) -> None:
    admin = await world.token(gql, world.admin)
    staff = await _publish(gql, admin, world, audience="STAFF", classIds=[], title="Педсовет")
    await _publish(gql, admin, world, audience="SCHOOL", classIds=[], title="Каникулы", kind="HOLIDAY")

    # staff-only: the school's teachers; no student, no parent, no other school
    notices = await _announcement_notices(app_services)
    for user in (world.teacher, world.other_teacher):
        assert await _titles(gql, await world.token(gql, user)) == ["Каникулы", "Педсовет"]
    for user in (world.student, world.parent, classes.other_class_parent):
        assert await _titles(gql, await world.token(gql, user)) == ["Каникулы"]
        node = await gql.data(NODE, {"id": staff["id"]}, token=await world.token(gql, user))
        assert node["node"] is None
    for user in (world.foreign_admin, world.foreign_teacher, world.operator):
        assert await _titles(gql, await world.token(gql, user)) == []
    # the school-wide one notified every family of the school, the staff one only the staff
    assert notices[world.teacher.id] == notices[world.other_teacher.id] == 2
    assert notices[world.parent.id] == notices[classes.other_class_parent.id] == notices[world.student.id] == 1
    assert world.admin.id not in notices  # the author
    assert world.foreign_admin.id not in notices
    assert world.operator.id not in notices
    # by kind
    assert await _titles(gql, await world.token(gql, world.teacher), kind="HOLIDAY") == ["Каникулы"]


async def test_a_teacher_publishes_only_to_their_own_classes(
    gql: GraphQLClient, world: World, classes: Classes
) -> None:
    teacher = await world.token(gql, world.teacher)
    refusals = [
        # another class of the school
        _input(world, classIds=[gid("SchoolClass", classes.other_class.id)]),
        # the whole school, or its staff
        _input(world, audience="SCHOOL", classIds=[]),
        _input(world, audience="STAFF", classIds=[]),
    ]
    for i in refusals:
        body = await gql.post(PUBLISH, {"i": i}, token=teacher)
        assert error_codes(body) == ["FORBIDDEN"], body
    # a teacher of another school, to this school's class
    body = await gql.post(PUBLISH, {"i": _input(world)}, token=await world.token(gql, world.foreign_teacher))
    assert error_codes(body) == ["FORBIDDEN"]
    # a parent; an operator
    for user in (world.parent, world.operator):
        body = await gql.post(PUBLISH, {"i": _input(world)}, token=await world.token(gql, user))
        assert error_codes(body) == ["FORBIDDEN"]


async def test_the_homeroom_teacher_publishes_to_their_class(
    gql: GraphQLClient, session: AsyncSession, world: World, classes: Classes
) -> None:
    # given the other teacher, no lessons there, made homeroom teacher of the other class
    other_class = await session.get(SchoolClass, classes.other_class.id)
    assert other_class is not None
    other_class.homeroom_teacher_id = world.other_teacher.id
    await session.commit()
    token = await world.token(gql, world.other_teacher)
    await _publish(gql, token, world, classIds=[gid("SchoolClass", classes.other_class.id)], title="Экскурсия")
    # then that class's family sees it, the world's class does not
    assert await _titles(gql, await world.token(gql, classes.other_class_parent)) == ["Экскурсия"]
    assert await _titles(gql, await world.token(gql, world.parent)) == []
    # and still not the world's class, which they neither teach nor lead
    body = await gql.post(PUBLISH, {"i": _input(world)}, token=token)
    assert error_codes(body) == ["FORBIDDEN"]


async def test_bad_input_is_told_field_by_field(gql: GraphQLClient, session: AsyncSession, world: World) -> None:
    admin = await world.token(gql, world.admin)
    foreign_class = await make_school_class(session)
    await session.commit()
    cases = [
        (_input(world, classIds=[]), [("REQUIRED", ["classIds"])]),
        (
            _input(world, classIds=[gid("SchoolClass", foreign_class.id)]),
            [("NOT_FOUND", ["classIds", "0"])],
        ),
        (_input(world, audience="STAFF"), [("INVALID", ["classIds"])]),
        (
            _input(world, title=" ", text="", startsOn="2026-12-10", endsOn="2026-12-01"),
            [("REQUIRED", ["title"]), ("REQUIRED", ["text"]), ("INVALID", ["endsOn"])],
        ),
        (_input(world, title="Я" * 201), [("TOO_LONG", ["title"])]),
    ]
    for i, expected in cases:
        payload = (await gql.data(PUBLISH, {"i": i}, token=admin))["publishAnnouncement"]
        assert payload["announcement"] is None
        assert sorted(codes(payload)) == sorted(expected), payload
        assert all(e["message"] for e in payload["userErrors"])


async def test_dates_and_class_filters(gql: GraphQLClient, world: World, classes: Classes) -> None:
    admin = await world.token(gql, world.admin)
    await _publish(gql, admin, world, title="Неделя", startsOn="2026-12-07", endsOn="2026-12-11")
    await _publish(gql, admin, world, title="С понедельника", startsOn="2026-12-14")
    await _publish(gql, admin, world, audience="SCHOOL", classIds=[], title="Вся школа", startsOn="2026-12-01")
    await _publish(
        gql, admin, world, classIds=[gid("SchoolClass", classes.other_class.id)], title="6Б", startsOn="2026-12-01"
    )
    # overlapping [from, to]: the latest start first
    assert await _titles(gql, admin, **{"from": "2026-12-10", "to": "2026-12-12"}) == ["Неделя", "6Б", "Вся школа"]
    assert await _titles(gql, admin, **{"from": "2026-12-12"}) == ["С понедельника", "6Б", "Вся школа"]
    assert await _titles(gql, admin, to="2026-12-06") == ["6Б", "Вся школа"]
    # a class: what is addressed to it, and what to its whole school
    world_class = gid("SchoolClass", world.school_class.id)
    assert await _titles(gql, admin, classId=world_class) == ["С понедельника", "Неделя", "Вся школа"]
    # a school's filter: another school's is empty
    assert len(await _titles(gql, admin, schoolId=gid("School", world.school.id))) == 4


async def test_update_and_withdraw(gql: GraphQLClient, world: World, classes: Classes) -> None:
    teacher, admin = await world.token(gql, world.teacher), await world.token(gql, world.admin)
    published = await _publish(gql, teacher, world)
    ann = published["id"]

    # the author changes it
    payload = (await gql.data(UPDATE, {"i": {"announcementId": ann, "title": "Собрание переносится"}}, token=teacher))[
        "updateAnnouncement"
    ]
    assert payload["userErrors"] == []
    assert payload["announcement"]["title"] == "Собрание переносится"
    # nor may they widen it beyond their classes
    body = await gql.post(UPDATE, {"i": {"announcementId": ann, "audience": "SCHOOL"}}, token=teacher)
    assert error_codes(body) == ["FORBIDDEN"]
    # a parent it is addressed to may read it, not change it
    body = await gql.post(
        UPDATE, {"i": {"announcementId": ann, "title": "x"}}, token=await world.token(gql, world.parent)
    )
    assert error_codes(body) == ["FORBIDDEN"]
    # those who may not even see it learn nothing of it
    for user in (world.other_teacher, world.foreign_admin, classes.other_class_parent):
        payload = (
            await gql.data(UPDATE, {"i": {"announcementId": ann, "title": "x"}}, token=await world.token(gql, user))
        )["updateAnnouncement"]
        assert codes(payload) == [("NOT_FOUND", ["announcementId"])]
        body = await gql.post(WITHDRAW, {"i": {"announcementId": ann}}, token=await world.token(gql, user))
        assert codes(body["data"]["withdrawAnnouncement"]) == [("NOT_FOUND", ["announcementId"])]

    # the school's admin withdraws it: gone from the list, node(id:) null for its audience,
    # still there for its author and the admins
    payload = (await gql.data(WITHDRAW, {"i": {"announcementId": ann}}, token=admin))["withdrawAnnouncement"]
    assert payload["userErrors"] == []
    assert payload["announcement"]["withdrawnAt"] is not None
    parent = await world.token(gql, world.parent)
    assert await _titles(gql, parent) == []
    assert (await gql.data(NODE, {"id": ann}, token=parent))["node"] is None
    for token in (teacher, admin):
        assert (await gql.data(NODE, {"id": ann}, token=token))["node"]["withdrawnAt"] is not None
        assert await _titles(gql, token) == []
    # a withdrawn announcement is not changed any more
    payload = (await gql.data(UPDATE, {"i": {"announcementId": ann, "title": "Снова"}}, token=teacher))[
        "updateAnnouncement"
    ]
    assert [c for c, _ in codes(payload)] == ["INVALID_STATE"]


async def test_files_attached_reach_the_list(gql: GraphQLClient, world: World) -> None:
    admin = await world.token(gql, world.admin)
    variables = {"i": _input(world, files=[None])}
    sent = await gql.upload(
        PUBLISH, variables, {"i.files.0": ("приглашение.pdf", tiny_pdf(), "application/pdf")}, token=admin
    )
    payload = sent.json()["data"]["publishAnnouncement"]
    assert payload["userErrors"] == []
    data = await gql.data(LIST, {}, token=await world.token(gql, world.parent))
    (node,) = [e["node"] for e in data["announcements"]["edges"]]
    assert len(node["attachments"]) == 1


async def test_the_list_statement_count_does_not_grow_with_its_rows(
    gql: GraphQLClient, session: AsyncSession, world: World, classes: Classes, sql_counter: StatementCounter
) -> None:
    admin = await world.token(gql, world.admin)
    parent = await world.token(gql, world.parent)

    async def count() -> tuple[int, int]:
        with sql_counter:
            data = await gql.data(LIST, {"first": 50}, token=parent)
        return data["announcements"]["totalCount"], sql_counter.count

    await _publish(gql, admin, world, title="Первое")
    await _publish(gql, admin, world, audience="SCHOOL", classIds=[], title="Второе")
    two, for_two = await count()
    for n in range(6):
        await _publish(
            gql,
            admin,
            world,
            title=f"Ещё {n}",
            classIds=[gid("SchoolClass", world.school_class.id), gid("SchoolClass", classes.other_class.id)],
        )
    eight, for_eight = await count()
    assert (two, eight) == (2, 8)
    assert for_two == for_eight, sql_counter.statements


async def test_announcement_events_reach_only_the_addressed(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World, classes: Classes
) -> None:
    admin = await world.token(gql, world.admin)
    school = gid("School", world.school.id)
    async with ws_connect(ws_url) as parent_ws, ws_connect(ws_url) as other_ws:
        await parent_ws.start(EVENTS, {"s": school}, token=await world.token(gql, world.parent))
        await other_ws.start(EVENTS, {"s": school}, token=await world.token(gql, classes.other_class_parent))
        await wait_subscribed(app_services, channels.school_announcements(world.school.id), 2)

        # a staff-only one reaches neither; the class's one only the class's parent
        await _publish(gql, admin, world, audience="STAFF", classIds=[], title="Педсовет")
        published = await _publish(gql, admin, world, title="Собрание 5А")
        event = data_of(await parent_ws.receive(within=2.0))
        assert event == {"action": "published", "announcement": {"id": published["id"], "title": "Собрание 5А"}}
        # withdrawn: those it was addressed to hear it, to drop it
        await gql.data(WITHDRAW, {"i": {"announcementId": published["id"]}}, token=admin)
        event = data_of(await parent_ws.receive(within=2.0))
        assert event["action"] == "withdrawn"
        # a school-wide one reaches both
        await _publish(gql, admin, world, audience="SCHOOL", classIds=[], title="Каникулы")
        assert data_of(await parent_ws.receive(within=2.0))["announcement"]["title"] == "Каникулы"
        assert data_of(await other_ws.receive(within=2.0))["announcement"]["title"] == "Каникулы"
        assert await parent_ws.no_message()
        assert await other_ws.no_message()


async def test_announcement_events_refuse_outsiders(gql: GraphQLClient, ws_url: str, world: World) -> None:
    school = gid("School", world.school.id)
    for user in (world.operator, world.foreign_admin, world.foreign_teacher):
        async with ws_connect(ws_url) as ws:
            await ws.start(EVENTS, {"s": school}, token=await world.token(gql, user))
            assert refusal_code(await ws.receive()) == "FORBIDDEN"
    # signed out: refused too
    async with ws_connect(ws_url) as ws:
        await ws.start(EVENTS, {"s": school})
        assert refusal_code(await ws.receive()) == "UNAUTHENTICATED"
    # the list and node(id:) need a signed-in user
    body = await gql.post(LIST, {})
    assert error_codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("who", ["parent", "teacher"])
async def test_a_stream_ends_once_the_reader_leaves_the_school(
    who: str, gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str, world: World
) -> None:
    # given a parent and a teacher of the school following its announcements
    admin = await world.token(gql, world.admin)
    user = getattr(world, who)
    async with ws_connect(ws_url) as ws:
        await ws.start(EVENTS, {"s": gid("School", world.school.id)}, token=await world.token(gql, user))
        await wait_subscribed(app_services, channels.school_announcements(world.school.id))
        await _publish(gql, admin, world, audience="SCHOOL", classIds=[], title="Каникулы")
        assert data_of(await ws.receive(within=2.0))["announcement"]["title"] == "Каникулы"

        # when the parent is no longer the child's guardian, or the teacher's membership ends
        if who == "parent":
            await session.execute(delete(Guardianship).where(Guardianship.parent_id == user.id))
        else:
            await session.execute(
                update(StaffMembership).where(StaffMembership.user_id == user.id).values(active=False)
            )
        await session.commit()
        await _publish(gql, admin, world, audience="SCHOOL", classIds=[], title="Ещё одно")

        # then the next announcement is not delivered: the stream ends, refused
        assert error_code(await ws.receive(within=2.0)) == "FORBIDDEN"
        assert (await ws.receive(within=2.0))["type"] == "complete"
    # and the list no longer shows the school's announcements to them
    assert await _titles(gql, await world.token(gql, user)) == []


NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Announcement { id title classes { id } } } }"


async def test_nodes_read_the_viewer_once(
    gql: GraphQLClient, world: World, classes: Classes, sql_counter: StatementCounter
) -> None:
    admin = await world.token(gql, world.admin)
    parent = await world.token(gql, world.parent)
    ids = [(await _publish(gql, admin, world, title=f"Объявление {n}"))["id"] for n in range(6)]
    # one the parent may not see, among them: answered null
    hidden = await _publish(gql, admin, world, audience="STAFF", classIds=[], title="Педсовет")

    async def count(wanted: list[str]) -> int:
        with sql_counter:
            data = await gql.data(NODES, {"ids": wanted}, token=parent)
        assert [n and n["id"] for n in data["nodes"]] == [i if i != hidden["id"] else None for i in wanted]
        return sql_counter.count

    # the viewer's facts are read once per request, not per announcement; node.resolve_nodes
    # checks rows one after another, so each more row costs its classes' read at most
    three, seven = await count([*ids[:2], hidden["id"]]), await count([*ids, hidden["id"]])
    assert seven - three <= 4, sql_counter.statements


async def test_each_addressee_is_notified_once_whatever_their_ties(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, world: World, classes: Classes
) -> None:
    # given a parent with a second child in the class, and the class's teacher also the
    # guardian of a child there
    second = await make_child(session)
    await make_enrollment(session, child_id=second.id, class_id=world.school_class.id)
    await make_guardianship(session, parent_id=world.parent.id, child_id=second.id)
    teachers_child = await make_child(session)
    await make_enrollment(session, child_id=teachers_child.id, class_id=world.school_class.id)
    await make_guardianship(session, parent_id=world.teacher.id, child_id=teachers_child.id)
    await session.commit()
    # when the admin publishes to the whole school
    await _publish(gql, await world.token(gql, world.admin), world, audience="SCHOOL", classIds=[], title="Каникулы")
    # then everyone once
    notices = await _announcement_notices(app_services)
    assert notices[world.parent.id] == notices[world.teacher.id] == 1
    assert set(notices.values()) == {1}
    expected = {
        world.parent.id,
        world.other_parent.id,
        world.student.id,
        world.teacher.id,
        world.other_teacher.id,
        classes.other_class_parent.id,
    }
    assert set(notices) == expected
