"""Threads and messages, checked from outside over real HTTP and WebSocket: a teacher and a
parent exchanging messages live, unread counts and read marks, and the refusals the issue
names (another family, another school, an operator, a participant who left, staff whose
membership ended), with the statement counts of the lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.events import channels
from tests.diary_writes_support import PASSWORD, World, error_codes, gid
from tests.factories import make_child, make_enrollment, make_guardianship, make_school_class, make_user
from tests.sample_files import tiny_pdf
from tests.support import GraphQLClient, StatementCounter, data_of, refusal_code, wait_subscribed, ws_connect

START = """mutation($i: StartThreadInput!) {
  startThread(input: $i) {
    thread { id subject unreadCount participants { user { id } } }
    message { id text author { id } }
    userErrors { field code message }
  }
}"""
SEND = """mutation($i: SendMessageInput!) {
  sendMessage(input: $i) { message { id text } userErrors { field code message } }
}"""
READ = """mutation($i: MarkThreadReadInput!) {
  markThreadRead(input: $i) { thread { id unreadCount } userErrors { field code message } }
}"""
LEAVE = """mutation($i: LeaveThreadInput!) {
  leaveThread(input: $i) { thread { id } userErrors { field code message } }
}"""
LIST = """query($f: ThreadFilter, $first: Int) {
  threads(filter: $f, first: $first) {
    edges { node { id subject unreadCount participants { user { id } } } }
  }
}"""
THREAD = """query($id: ID!, $first: Int) {
  thread(id: $id) {
    id subject
    messages(first: $first) { edges { node { id text author { id } } } pageInfo { hasNextPage endCursor } }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
ME = "query { me { unreadMessageCount } }"
USER_UNREAD = "query($id: ID!) { node(id: $id) { ... on User { unreadMessageCount } } }"
MESSAGE_EVENTS = "subscription { messageEvents { action thread { id } message { id text } } }"
THREAD_EVENTS = "subscription($t: ID!) { threadEvents(threadId: $t) { action thread { id } message { id text } } }"


async def _start(gql: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"subject": "Домашнее задание", "text": "Добрый день!"}
    base.update(fields)
    return await gql.post(START, {"i": base}, token=token)


def _started(body: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = body["data"]["startThread"]
    assert payload["userErrors"] == [], payload
    return payload


def _refused(body: dict[str, Any], mutation: str) -> bool:
    """Refused either as a GraphQL error (FORBIDDEN, NOT_FOUND…) or as a userError."""
    if body.get("errors"):
        return True
    payload = body["data"][mutation]
    return bool(payload["userErrors"]) and all(v is None for k, v in payload.items() if k != "userErrors")


async def _message_notices(services: AppServices, user_id: int) -> int:
    async with services.session_factory() as s:
        found = await s.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.kind == NotificationKind.MESSAGE
            )
        )
    return int(found or 0)


async def test_a_teacher_and_a_parent_exchange_messages_live(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World
) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    async with ws_connect(ws_url) as parent_ws, ws_connect(ws_url) as teacher_ws:
        await parent_ws.start(MESSAGE_EVENTS, token=parent)
        await teacher_ws.start(MESSAGE_EVENTS, token=teacher)
        await wait_subscribed(app_services, channels.user_messages(world.parent.id))
        await wait_subscribed(app_services, channels.user_messages(world.teacher.id))

        # the child's teacher writes to the child's parent
        started = _started(
            await _start(
                gql,
                teacher,
                childId=gid("Child", world.child.id),
                participantIds=[gid("User", world.parent.id)],
                text="Артём забыл тетрадь",
            )
        )
        thread_id = started["thread"]["id"]
        event = data_of(await parent_ws.receive(within=3.0))
        assert event["action"] == "message"
        assert event["thread"] == {"id": thread_id}
        assert event["message"]["text"] == "Артём забыл тетрадь"
        assert await _message_notices(app_services, world.parent.id) == 1
        assert await _message_notices(app_services, world.teacher.id) == 0  # not the author

        # the parent sees one unread, in the list and on their own User
        listed = (await gql.data(LIST, {}, token=parent))["threads"]["edges"]
        assert [(e["node"]["id"], e["node"]["unreadCount"]) for e in listed] == [(thread_id, 1)]
        assert (await gql.data(ME, token=parent))["me"]["unreadMessageCount"] == 1
        assert (await gql.data(LIST, {"f": {"unread": True}}, token=parent))["threads"]["edges"]

        # the parent answers: the teacher hears it live
        async with ws_connect(ws_url) as thread_ws:
            await thread_ws.start(THREAD_EVENTS, {"t": thread_id}, token=teacher)
            await wait_subscribed(app_services, channels.thread_messages(int(_pk(thread_id))))
            sent = await gql.data(SEND, {"i": {"threadId": thread_id, "text": "Спасибо, принесёт"}}, token=parent)
            assert sent["sendMessage"]["userErrors"] == []
            heard = data_of(await thread_ws.receive(within=3.0))
            assert heard["action"] == "message"
            assert heard["message"]["text"] == "Спасибо, принесёт"
        # (the teacher's own messages feed hears their own thread too; skip whatever it has queued)
        mine = data_of(await teacher_ws.receive(within=3.0))
        assert mine["thread"] == {"id": thread_id}

        # read marks: the parent's unread goes to 0; the teacher has the reply unread
        read = await gql.data(READ, {"i": {"threadId": thread_id}}, token=parent)
        assert read["markThreadRead"]["thread"]["unreadCount"] == 0
        assert (await gql.data(ME, token=parent))["me"]["unreadMessageCount"] == 0
        assert (await gql.data(ME, token=teacher))["me"]["unreadMessageCount"] == 1
        # nobody else's unread count is shown to a viewer
        other = await gql.post(USER_UNREAD, {"id": gid("User", world.parent.id)}, token=teacher)
        node = (other.get("data") or {}).get("node")
        assert node is None or node["unreadMessageCount"] is None, other

        # the thread, newest message first
        thread = (await gql.data(THREAD, {"id": thread_id}, token=parent))["thread"]
        assert [e["node"]["text"] for e in thread["messages"]["edges"]] == ["Спасибо, принесёт", "Артём забыл тетрадь"]


def _pk(global_id: str) -> str:
    return relay.from_base64(global_id)[1]


async def test_who_may_not_write_or_read(gql: GraphQLClient, session: AsyncSession, world: World) -> None:
    parent = await world.token(gql, world.parent)
    # a parent writing to another family (the classmate's parent), about their own child
    body = await _start(
        gql, parent, childId=gid("Child", world.child.id), participantIds=[gid("User", world.other_parent.id)]
    )
    assert _refused(body, "startThread"), body
    # ...or about someone else's child
    body = await _start(
        gql, parent, childId=gid("Child", world.other_child.id), participantIds=[gid("User", world.teacher.id)]
    )
    assert _refused(body, "startThread"), body
    # a teacher of another school, about this school's child
    foreign = await world.token(gql, world.foreign_teacher)
    body = await _start(
        gql, foreign, childId=gid("Child", world.child.id), participantIds=[gid("User", world.parent.id)]
    )
    assert _refused(body, "startThread"), body
    # an operator starts nothing
    operator = await world.token(gql, world.operator)
    body = await _start(
        gql, operator, childId=gid("Child", world.child.id), participantIds=[gid("User", world.parent.id)]
    )
    assert _refused(body, "startThread"), body

    # a thread the parent may start: with the child's teacher
    started = _started(
        await _start(gql, parent, childId=gid("Child", world.child.id), participantIds=[gid("User", world.teacher.id)])
    )
    thread_id = started["thread"]["id"]
    participants = {p["user"]["id"] for p in started["thread"]["participants"]}
    assert participants == {gid("User", world.parent.id), gid("User", world.teacher.id)}

    # outsiders do not see it: the other parent, another school's teacher, an operator
    for user in (world.other_parent, world.foreign_teacher, world.operator, world.other_teacher):
        token = await world.token(gql, user)
        assert (await gql.data(THREAD, {"id": thread_id}, token=token))["thread"] is None, user.id
        assert (await gql.data(NODE, {"id": thread_id}, token=token))["node"] is None, user.id
        assert (await gql.data(LIST, {}, token=token))["threads"]["edges"] == [], user.id
        body = await gql.post(SEND, {"i": {"threadId": thread_id, "text": "Чужое"}}, token=token)
        assert _refused(body, "sendMessage"), (user.id, body)
    message_id = started["message"]["id"]
    token = await world.token(gql, world.operator)
    assert (await gql.data(NODE, {"id": message_id}, token=token))["node"] is None

    # signed out: refused
    assert error_codes(await gql.post(LIST, {})) == ["UNAUTHENTICATED"]

    # a participant who left no longer sees it nor writes to it
    teacher = await world.token(gql, world.teacher)
    left = await gql.data(LEAVE, {"i": {"threadId": thread_id}}, token=teacher)
    assert left["leaveThread"]["userErrors"] == []
    assert (await gql.data(THREAD, {"id": thread_id}, token=teacher))["thread"] is None
    assert (await gql.data(LIST, {}, token=teacher))["threads"]["edges"] == []
    body = await gql.post(SEND, {"i": {"threadId": thread_id, "text": "Я вернулся"}}, token=teacher)
    assert _refused(body, "sendMessage"), body
    # ...and the parent still does
    assert (await gql.data(THREAD, {"id": thread_id}, token=parent))["thread"]["id"] == thread_id


async def test_staff_whose_membership_ended_lose_the_school_threads(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    teacher = await world.token(gql, world.teacher)
    started = _started(
        await _start(gql, teacher, childId=gid("Child", world.child.id), participantIds=[gid("User", world.parent.id)])
    )
    thread_id = started["thread"]["id"]
    assert (await gql.data(THREAD, {"id": thread_id}, token=teacher))["thread"]["id"] == thread_id
    await session.execute(
        update(StaffMembership).where(StaffMembership.user_id == world.teacher.id).values(active=False)
    )
    await session.commit()
    assert (await gql.data(THREAD, {"id": thread_id}, token=teacher))["thread"] is None
    assert (await gql.data(LIST, {}, token=teacher))["threads"]["edges"] == []
    body = await gql.post(SEND, {"i": {"threadId": thread_id, "text": "Ещё одно"}}, token=teacher)
    assert _refused(body, "sendMessage"), body


async def test_operator_and_strangers_cannot_follow_a_thread(gql: GraphQLClient, ws_url: str, world: World) -> None:
    parent = await world.token(gql, world.parent)
    started = _started(
        await _start(gql, parent, childId=gid("Child", world.child.id), participantIds=[gid("User", world.teacher.id)])
    )
    for user in (world.operator, world.other_parent, world.foreign_teacher):
        async with ws_connect(ws_url) as ws:
            await ws.start(THREAD_EVENTS, {"t": started["thread"]["id"]}, token=await world.token(gql, user))
            assert refusal_code(await ws.receive()) in {"FORBIDDEN", "NOT_FOUND"}


async def test_statement_counts_do_not_grow_with_threads_or_messages(
    gql: GraphQLClient, world: World, sql_counter: StatementCounter
) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)

    async def start() -> str:
        started = _started(
            await _start(
                gql, teacher, childId=gid("Child", world.child.id), participantIds=[gid("User", world.parent.id)]
            )
        )
        return str(started["thread"]["id"])

    async def count_list() -> tuple[int, int]:
        with sql_counter:
            data = await gql.data(LIST, {"first": 50}, token=parent)
        return len(data["threads"]["edges"]), sql_counter.count

    first_id = await start()
    await start()
    two, for_two = await count_list()
    for _ in range(4):
        await start()
    six, for_six = await count_list()
    assert (two, six) == (2, 6)
    assert for_two == for_six, sql_counter.statements

    async def count_messages() -> tuple[int, int]:
        with sql_counter:
            data = await gql.data(THREAD, {"id": first_id, "first": 50}, token=parent)
        return len(data["thread"]["messages"]["edges"]), sql_counter.count

    await gql.data(SEND, {"i": {"threadId": first_id, "text": "Второе"}}, token=teacher)
    n_small, for_small = await count_messages()
    for i in range(6):
        await gql.data(SEND, {"i": {"threadId": first_id, "text": f"Ещё {i}"}}, token=parent)
    n_big, for_big = await count_messages()
    assert (n_small, n_big) == (2, 8)
    assert for_small == for_big, sql_counter.statements


async def test_messages_page_by_key_newest_first(gql: GraphQLClient, world: World) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    started = _started(
        await _start(
            gql,
            teacher,
            childId=gid("Child", world.child.id),
            participantIds=[gid("User", world.parent.id)],
            text="0",
        )
    )
    thread_id = started["thread"]["id"]
    for i in range(1, 5):
        await gql.data(SEND, {"i": {"threadId": thread_id, "text": str(i)}}, token=parent)
    page = (await gql.data(THREAD, {"id": thread_id, "first": 3}, token=parent))["thread"]["messages"]
    assert [e["node"]["text"] for e in page["edges"]] == ["4", "3", "2"]
    assert page["pageInfo"]["hasNextPage"] is True
    query = THREAD.replace("messages(first: $first)", "messages(first: $first, after: $after)").replace(
        "$first: Int)", "$first: Int, $after: String)"
    )
    rest = await gql.data(query, {"id": thread_id, "first": 3, "after": page["pageInfo"]["endCursor"]}, token=parent)
    assert [e["node"]["text"] for e in rest["thread"]["messages"]["edges"]] == ["1", "0"]


async def test_a_class_thread_reaches_the_guardians_of_the_class_now(
    gql: GraphQLClient, app_services: AppServices, session: AsyncSession, world: World
) -> None:
    # another class of the school, with a family of its own
    other_class = await make_school_class(
        session, school_id=world.school.id, academic_year_id=world.year.id, level=7, letter="В"
    )
    child = await make_child(session)
    await make_enrollment(session, child_id=child.id, class_id=other_class.id)
    other_family = await make_user(session, password=PASSWORD)
    await make_guardianship(session, parent_id=other_family.id, child_id=child.id)
    await session.commit()

    teacher = await world.token(gql, world.teacher)
    started = _started(await _start(gql, teacher, classId=gid("SchoolClass", world.school_class.id), text="Экскурсия"))
    members = {p["user"]["id"] for p in started["thread"]["participants"]}
    # the guardians of the class's children: both parents; no other class's family
    assert {gid("User", world.parent.id), gid("User", world.other_parent.id)} <= members
    assert gid("User", other_family.id) not in members
    assert await _message_notices(app_services, world.parent.id) == 1
    assert await _message_notices(app_services, world.other_parent.id) == 1
    assert await _message_notices(app_services, other_family.id) == 0
    thread_id = started["thread"]["id"]
    outsider = await gql.data(THREAD, {"id": thread_id}, token=await world.token(gql, other_family))
    assert outsider["thread"] is None
    # filter by class
    by_class = await gql.data(
        LIST, {"f": {"classId": gid("SchoolClass", world.school_class.id)}}, token=await world.token(gql, world.parent)
    )
    assert [e["node"]["id"] for e in by_class["threads"]["edges"]] == [thread_id]

    # a teacher who does not teach the other class may not start one with it; a parent never
    body = await _start(gql, teacher, classId=gid("SchoolClass", other_class.id))
    assert _refused(body, "startThread"), body
    body = await _start(gql, await world.token(gql, world.parent), classId=gid("SchoolClass", world.school_class.id))
    assert _refused(body, "startThread"), body
    # the school's admin may
    admin = await world.token(gql, world.admin)
    _started(await _start(gql, admin, classId=gid("SchoolClass", other_class.id)))
    # a foreign admin may not
    body = await _start(gql, await world.token(gql, world.foreign_admin), classId=gid("SchoolClass", other_class.id))
    assert _refused(body, "startThread"), body


async def test_a_parent_writes_to_the_school_admin_and_an_admin_to_any_family(
    gql: GraphQLClient, app_services: AppServices, world: World
) -> None:
    parent = await world.token(gql, world.parent)
    started = _started(
        await _start(gql, parent, childId=gid("Child", world.child.id), participantIds=[gid("User", world.admin.id)])
    )
    assert await _message_notices(app_services, world.admin.id) == 1
    admin = await world.token(gql, world.admin)
    assert (await gql.data(THREAD, {"id": started["thread"]["id"]}, token=admin))["thread"] is not None
    # the admin writes to a family of the school, about a child they do not teach
    _started(
        await _start(
            gql, admin, childId=gid("Child", world.other_child.id), participantIds=[gid("User", world.other_parent.id)]
        )
    )
    # a teacher who does not teach the child may not write to its family
    other_teacher = await world.token(gql, world.other_teacher)
    body = await _start(
        gql, other_teacher, childId=gid("Child", world.child.id), participantIds=[gid("User", world.parent.id)]
    )
    assert _refused(body, "startThread"), body
    # but may write to a colleague
    _started(await _start(gql, other_teacher, participantIds=[gid("User", world.teacher.id)]))


async def test_who_left_is_not_notified(gql: GraphQLClient, app_services: AppServices, world: World) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    started = _started(
        await _start(gql, teacher, childId=gid("Child", world.child.id), participantIds=[gid("User", world.parent.id)])
    )
    thread_id = started["thread"]["id"]
    await gql.data(LEAVE, {"i": {"threadId": thread_id}}, token=parent)
    before = await _message_notices(app_services, world.parent.id)
    await gql.data(SEND, {"i": {"threadId": thread_id, "text": "Ещё вопрос"}}, token=teacher)
    assert await _message_notices(app_services, world.parent.id) == before


async def test_a_message_file_is_for_the_threads_participants(gql: GraphQLClient, world: World) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    started = _started(
        await _start(gql, teacher, childId=gid("Child", world.child.id), participantIds=[gid("User", world.parent.id)])
    )
    response = await gql.upload(
        "mutation($i: SendMessageInput!) { sendMessage(input: $i) {"
        " message { id attachments { id url } } userErrors { field code message } } }",
        {"i": {"threadId": started["thread"]["id"], "text": "Справка во вложении", "files": [None]}},
        {"i.files.0": ("справка.pdf", tiny_pdf(), "application/pdf")},
        token=teacher,
    )
    payload = response.json()["data"]["sendMessage"]
    assert payload["userErrors"] == [], payload
    (file,) = payload["message"]["attachments"]
    got = await gql.http.get(file["url"], headers={"Authorization": f"Bearer {parent}"})
    assert got.status_code == 200
    assert got.content == tiny_pdf()
    for user in (world.other_parent, world.operator, world.foreign_teacher):
        token = await world.token(gql, user)
        refused = await gql.http.get(file["url"], headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code in {403, 404}, user.id


async def test_threads_list_newest_activity_first_and_by_unread(gql: GraphQLClient, world: World) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)

    async def start(subject: str) -> str:
        started = _started(
            await _start(
                gql,
                teacher,
                subject=subject,
                childId=gid("Child", world.child.id),
                participantIds=[gid("User", world.parent.id)],
            )
        )
        return str(started["thread"]["id"])

    older, newer = await start("Первая"), await start("Вторая")

    async def subjects(**flt: Any) -> list[str]:
        data = await gql.data(LIST, {"f": flt or None}, token=parent)
        return [e["node"]["subject"] for e in data["threads"]["edges"]]

    assert await subjects() == ["Вторая", "Первая"]
    # a new message in the older thread brings it to the top
    await gql.data(SEND, {"i": {"threadId": older, "text": "Ещё"}}, token=teacher)
    assert await subjects() == ["Первая", "Вторая"]
    # read the newer one: unread shows only the older
    await gql.data(READ, {"i": {"threadId": newer}}, token=parent)
    assert await subjects(unread=True) == ["Первая"]
    # by child: the classmate's child has none
    assert await subjects(childId=gid("Child", world.other_child.id)) == []
    assert await subjects(childId=gid("Child", world.child.id)) == ["Первая", "Вторая"]


async def test_a_parent_reaches_the_childs_teachers_and_family_only(gql: GraphQLClient, world: World) -> None:
    parent = await world.token(gql, world.parent)
    child = gid("Child", world.child.id)
    # the child's own login (the child's family) may be written to
    _started(await _start(gql, parent, childId=child, participantIds=[gid("User", world.student.id)]))
    # a teacher of the school who does not teach the child's class may not
    body = await _start(gql, parent, childId=child, participantIds=[gid("User", world.other_teacher.id)])
    assert _refused(body, "startThread"), body
    # nor another school's admin
    body = await _start(gql, parent, childId=child, participantIds=[gid("User", world.foreign_admin.id)])
    assert _refused(body, "startThread"), body
    # without a child, a parent writes to no one
    body = await _start(gql, parent, participantIds=[gid("User", world.teacher.id)])
    assert _refused(body, "startThread"), body
    # the student writes to their teacher about themself
    student = await world.token(gql, world.student)
    _started(await _start(gql, student, childId=child, participantIds=[gid("User", world.teacher.id)]))


async def test_who_leaves_stops_hearing_the_thread(
    gql: GraphQLClient, app_services: AppServices, ws_url: str, world: World
) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    started = _started(
        await _start(gql, teacher, childId=gid("Child", world.child.id), participantIds=[gid("User", world.parent.id)])
    )
    thread_id = started["thread"]["id"]
    async with ws_connect(ws_url) as thread_ws, ws_connect(ws_url) as mine_ws:
        await thread_ws.start(THREAD_EVENTS, {"t": thread_id}, token=parent)
        await mine_ws.start(MESSAGE_EVENTS, token=parent)
        await wait_subscribed(app_services, channels.thread_messages(int(_pk(thread_id))))
        await wait_subscribed(app_services, channels.user_messages(world.parent.id))
        await gql.data(LEAVE, {"i": {"threadId": thread_id}}, token=parent)
        await gql.data(SEND, {"i": {"threadId": thread_id, "text": "После ухода"}}, token=teacher)
        # the thread's stream ends (or stays silent); it never carries the new message
        seen: list[dict[str, Any]] = []
        try:
            while True:
                seen.append(await thread_ws.receive(within=1.0))
                if seen[-1]["type"] in ("error", "complete"):
                    break
        except TimeoutError:
            pass
        assert "После ухода" not in str(seen), seen
        assert await mine_ws.no_message(within=0.5)


async def test_threads_page_by_key(gql: GraphQLClient, world: World) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    for subject in ("1", "2", "3"):
        _started(
            await _start(
                gql,
                teacher,
                subject=subject,
                childId=gid("Child", world.child.id),
                participantIds=[gid("User", world.parent.id)],
            )
        )
    query = """query($first: Int, $after: String) {
      threads(first: $first, after: $after) { edges { node { subject } } pageInfo { hasNextPage endCursor } }
    }"""
    first = (await gql.data(query, {"first": 2}, token=parent))["threads"]
    assert [e["node"]["subject"] for e in first["edges"]] == ["3", "2"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await gql.data(query, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=parent))["threads"]
    assert [e["node"]["subject"] for e in rest["edges"]] == ["1"]
    assert rest["pageInfo"]["hasNextPage"] is False
