"""The events query over real HTTP: the live streams' twin for clients that poll. Paging
by cursor gives every event once, in order; each event is shown only to whom its
subscription would send it, and each change once; expired and bad cursors are refused;
a page's statements do not grow with its events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.children import Guardianship
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.notifications import Notification
from ediary_gql.events import cursors
from ediary_gql.events import log as event_log
from ediary_gql.events.types import NotificationCreated
from tests import application_support as apps
from tests.diary_writes_support import MONDAY, PASSWORD, World, gid
from tests.factories import make_notification, make_operator, make_school, make_school_class, make_user
from tests.graphql.test_announcements import PUBLISH, WITHDRAW
from tests.graphql.test_feedback import ok as feedback_ok
from tests.graphql.test_feedback import step as feedback_step
from tests.graphql.test_feedback import submit as submit_feedback
from tests.support import GraphQLClient, StatementCounter

EVENTS = """query($after: String, $first: Int, $types: [EventType!]) {
  events(after: $after, first: $first, types: $types) {
    cursor hasMore
    events {
      cursor type action occurredAt subjectId
      subject { id ... on Grade { value } ... on Notification { kind } ... on Lesson { id } }
    }
  }
}"""
ENTER = "mutation($i: EnterGradeInput!) { enterGrade(input: $i) { grade { id } userErrors { code } } }"
MARK = "mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { code } } }"
START = """mutation($i: StartThreadInput!) { startThread(input: $i) {
  thread { id } message { id } userErrors { code } } }"""
READ = "mutation($i: MarkThreadReadInput!) { markThreadRead(input: $i) { userErrors { code } } }"


async def _page(
    gql: GraphQLClient,
    token: str,
    *,
    after: str | None = None,
    first: int | None = None,
    types: list[str] | None = None,
) -> dict[str, Any]:
    data = await gql.data(EVENTS, {"after": after, "first": first, "types": types}, token=token)
    page: dict[str, Any] = data["events"]
    return page


async def _all(gql: GraphQLClient, token: str, *, first: int, types: list[str] | None = None) -> list[dict[str, Any]]:
    """Every event, page by page; each page but the last full and saying there is more."""
    found: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        page = await _page(gql, token, after=after, first=first, types=types)
        found += page["events"]
        if page["events"]:
            assert page["cursor"] == page["events"][-1]["cursor"]
        if not page["hasMore"]:
            return found
        assert len(page["events"]) == first
        after = page["cursor"]
    raise AssertionError("the pages did not end")


async def _enter(gql: GraphQLClient, token: str, child_id: int, lesson: Lesson, value: str) -> str:
    data = await gql.data(
        ENTER,
        {"i": {"childId": gid("Child", child_id), "lessonId": gid("Lesson", lesson.id), "value": value}},
        token=token,
    )
    assert data["enterGrade"]["userErrors"] == []
    grade_id: str = data["enterGrade"]["grade"]["id"]
    return grade_id


def _position(cursor: str) -> int:
    return cursors.decode(cursor)


async def test_paging_through_gives_every_event_once_in_order(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    # given five grades of the child, each with a notice to the parent
    teacher = await world.token(gql, world.teacher)
    grades = [await _enter(gql, teacher, world.child.id, lesson, value) for value in "12345"]
    parent = await world.token(gql, world.parent)

    # when the parent reads their grade events two at a time
    events = await _all(gql, parent, first=2, types=["GRADE"])
    # then each grade comes once, in order, created, with the grade as it is
    assert [(e["type"], e["action"], e["subjectId"]) for e in events] == [("GRADE", "CREATED", g) for g in grades]
    assert [e["subject"]["value"] for e in events] == list("12345")
    positions = [_position(e["cursor"]) for e in events]
    assert positions == sorted(set(positions))

    # and every kind together: the grades and the parent's notices, once each, in log order
    everything = await _all(gql, parent, first=3)
    notices = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == world.parent.id, Notification.kind != NotificationKind.VERIFICATION_CODE)
    )
    assert notices
    assert sorted(e["type"] for e in everything) == ["GRADE"] * 5 + ["NOTIFICATION"] * notices
    assert len({e["cursor"] for e in everything}) == len(everything)
    assert [_position(e["cursor"]) for e in everything] == sorted(_position(e["cursor"]) for e in everything)
    assert all(e["subject"]["id"] == e["subjectId"] for e in everything)
    assert all(e["occurredAt"].endswith("+00:00") for e in everything)

    # when nothing more happens, then the last cursor gives nothing and stays where it is
    last = everything[-1]["cursor"]
    page = await _page(gql, parent, after=last)
    assert (page["events"], page["hasMore"]) == ([], False)
    # a new grade comes after it, alone
    newer = await _enter(gql, teacher, world.child.id, lesson, "4")
    page = await _page(gql, parent, after=page["cursor"], types=["GRADE"])
    assert [e["subjectId"] for e in page["events"]] == [newer]


async def test_types_filter_the_kinds(gql: GraphQLClient, world: World, lesson: Lesson) -> None:
    await _enter(gql, await world.token(gql, world.teacher), world.child.id, lesson, "5")
    parent = await world.token(gql, world.parent)
    notices = (await _page(gql, parent, types=["NOTIFICATION"]))["events"]
    assert notices
    assert {(e["type"], e["action"], e["subject"]["kind"]) for e in notices} == {("NOTIFICATION", None, "GRADE")}
    assert {e["type"] for e in (await _page(gql, parent, types=["GRADE", "ATTENDANCE"]))["events"]} == {"GRADE"}
    empty = await _page(gql, parent, types=[])
    assert (empty["events"], empty["hasMore"]) == ([], False)


async def test_a_parent_sees_their_childs_grades_and_not_another_childs(
    gql: GraphQLClient, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    mine = await _enter(gql, teacher, world.child.id, lesson, "5")
    theirs = await _enter(gql, teacher, world.other_child.id, lesson, "3")
    parent = (await _page(gql, await world.token(gql, world.parent), types=["GRADE"]))["events"]
    assert [e["subjectId"] for e in parent] == [mine]
    other = (await _page(gql, await world.token(gql, world.other_parent), types=["GRADE"]))["events"]
    assert [e["subjectId"] for e in other] == [theirs]
    # the child's own login sees their own grade too
    student = (await _page(gql, await world.token(gql, world.student), types=["GRADE"]))["events"]
    assert [e["subjectId"] for e in student] == [mine]


@pytest.mark.parametrize("who", ["stranger", "foreign_teacher", "foreign_admin", "operator"])
async def test_outsiders_see_nothing(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson, who: str
) -> None:
    # given grades, notices and attendance at the school
    teacher = await world.token(gql, world.teacher)
    await _enter(gql, teacher, world.child.id, lesson, "5")
    await _mark(gql, teacher, lesson, world.child.id)
    if who == "stranger":
        user = await make_user(session, password=PASSWORD)
        await session.commit()
    else:
        user = getattr(world, who)
    # then someone with no tie to them sees none of it, and is told where the log ends
    page = await _page(gql, await world.token(gql, user))
    assert (page["events"], page["hasMore"]) == ([], False)
    everything = await _all(gql, teacher, first=50)
    assert _position(page["cursor"]) >= max(_position(e["cursor"]) for e in everything)


async def test_anonymous_is_refused(gql: GraphQLClient) -> None:
    body = await gql.post(EVENTS, {})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_parent_whose_guardianship_ended_sees_nothing_after_it(
    gql: GraphQLClient, session: AsyncSession, world: World, lesson: Lesson
) -> None:
    # given a parent who has read the child's first grade
    teacher = await world.token(gql, world.teacher)
    await _enter(gql, teacher, world.child.id, lesson, "5")
    parent = await world.token(gql, world.parent)
    first = await _page(gql, parent, types=["GRADE"])
    assert len(first["events"]) == 1
    # when the guardianship ends, and the child gets more grades
    await session.execute(delete(Guardianship).where(Guardianship.parent_id == world.parent.id))
    await session.commit()
    await _enter(gql, teacher, world.child.id, lesson, "2")
    await _enter(gql, teacher, world.child.id, lesson, "3")
    # then the parent sees none of them (nor, now, the earlier one)
    after = await _page(gql, parent, after=first["cursor"], types=["GRADE"])
    assert (after["events"], after["hasMore"]) == ([], False)
    assert (await _page(gql, parent, types=["GRADE"]))["events"] == []
    # while the child's own login still does
    assert len((await _page(gql, await world.token(gql, world.student), types=["GRADE"]))["events"]) == 3


async def test_an_expired_cursor_is_refused(
    gql: GraphQLClient, app_services: AppServices, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    await _enter(gql, teacher, world.child.id, lesson, "5")
    await _enter(gql, teacher, world.child.id, lesson, "4")
    parent = await world.token(gql, world.parent)
    events = (await _page(gql, parent, types=["GRADE"]))["events"]
    old, newest = events[0]["cursor"], events[-1]["cursor"]
    # when every event so far is pruned
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert await event_log.prune(app_services.session_factory, older_than=future) > 0
    # then a cursor from before the end of the log is expired; the log's end is not
    body = await gql.post(EVENTS, {"after": old}, token=parent)
    assert body["errors"][0]["extensions"]["code"] == "CURSOR_EXPIRED"
    end = await _page(gql, parent)
    assert end["events"] == []
    # and once newer events are kept, a cursor before the pruned ones stays expired
    fresh = await _enter(gql, teacher, world.child.id, lesson, "3")
    body = await gql.post(EVENTS, {"after": old}, token=parent)
    assert body["errors"][0]["extensions"]["code"] == "CURSOR_EXPIRED"
    assert _position(newest) <= _position(end["cursor"])
    resumed = await _page(gql, parent, after=end["cursor"], types=["GRADE"])
    assert [e["subjectId"] for e in resumed["events"]] == [fresh]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"after": "not a cursor"}, "after"),
        ({"after": "ZTE6LTE"}, "after"),  # "e1:-1"
        ({"first": 0}, "first"),
        ({"first": 201}, "first"),
    ],
)
async def test_bad_arguments_name_the_field(
    gql: GraphQLClient, world: World, variables: dict[str, Any], field: str
) -> None:
    body = await gql.post(EVENTS, variables, token=await world.token(gql, world.parent))
    (error,) = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("INVALID", [field])
    assert body["data"] is None


async def test_the_largest_page_is_allowed(gql: GraphQLClient, world: World) -> None:
    page = await _page(gql, await world.token(gql, world.parent), first=200)
    assert page["hasMore"] is False


async def _mark(gql: GraphQLClient, token: str, lesson: Lesson, *children: int, status: str = "ABSENT") -> None:
    marks = [{"childId": gid("Child", c), "status": status} for c in children]
    data = await gql.data(MARK, {"i": {"lessonId": gid("Lesson", lesson.id), "marks": marks}}, token=token)
    assert data["markAttendance"]["userErrors"] == []


async def test_attendance_is_shown_once_to_the_teacher_and_the_admin(
    gql: GraphQLClient, world: World, lesson: Lesson
) -> None:
    # given a mark published on the class's channel and again on the school's
    teacher = await world.token(gql, world.teacher)
    await _mark(gql, teacher, lesson, world.child.id)
    # then the class's teacher and the school's admin each see it once; the parent not at all
    for user in (world.teacher, world.admin):
        events = (await _page(gql, await world.token(gql, user), types=["ATTENDANCE"]))["events"]
        assert [(e["type"], e["action"], e["subjectId"]) for e in events] == [
            ("ATTENDANCE", None, gid("Lesson", lesson.id))
        ], user.id
        assert events[0]["subject"]["id"] == gid("Lesson", lesson.id)
    assert (await _page(gql, await world.token(gql, world.parent), types=["ATTENDANCE"]))["events"] == []
    # nor a teacher of the school who does not teach the class
    other = await world.token(gql, world.other_teacher)
    assert (await _page(gql, other, types=["ATTENDANCE"]))["events"] == []


async def test_a_message_is_shown_once_to_each_participant(gql: GraphQLClient, world: World) -> None:
    # given a thread started by the teacher with the parent (published on the thread's channel
    # and once per participant on their own), and read by the parent
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)
    started = (
        await gql.data(
            START,
            {
                "i": {
                    "subject": "Об успеваемости",
                    "childId": gid("Child", world.child.id),
                    "participantIds": [gid("User", world.parent.id)],
                    "text": "Здравствуйте!",
                }
            },
            token=teacher,
        )
    )["startThread"]
    assert started["userErrors"] == []
    read = await gql.data(READ, {"i": {"threadId": started["thread"]["id"]}}, token=parent)
    assert read["markThreadRead"]["userErrors"] == []
    # then each sees the message once, then the read mark (about the thread)
    expected = [("message", started["message"]["id"]), ("read", started["thread"]["id"])]
    for token in (teacher, parent):
        events = (await _page(gql, token, types=["MESSAGE"]))["events"]
        assert [(e["action"], e["subjectId"]) for e in events] == expected
    # and nobody else does
    assert (await _page(gql, await world.token(gql, world.other_parent), types=["MESSAGE"]))["events"] == []


async def test_paging_goes_on_past_what_the_viewer_may_not_see(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a notice of the parent's, then many events on their channel that are never shown
    # (verification codes are read where they were sent, not in the inbox), then another notice
    async def notice(kind: NotificationKind, count: int = 1) -> str:
        row = await make_notification(session, user_id=world.parent.id, kind=kind)
        await event_log.append(session, [NotificationCreated(user_id=world.parent.id, notification_id=row.id)] * count)
        await session.commit()
        return gid("Notification", row.id)

    first = await notice(NotificationKind.SYSTEM)
    await notice(NotificationKind.VERIFICATION_CODE, count=25)
    last = await notice(NotificationKind.SYSTEM)
    parent = await world.token(gql, world.parent)

    # when the parent reads two at a time (at most 20 rows a page), then the pages move on
    # over the hidden ones, saying there is more, and reach the last notice
    pages = []
    after = None
    while True:
        page = await _page(gql, parent, after=after, first=2)
        pages.append([e["subjectId"] for e in page["events"]])
        if after is not None:
            assert _position(page["cursor"]) > _position(after)
        if not page["hasMore"]:
            break
        after = page["cursor"]
        assert len(pages) < 10
    assert pages == [[first], [], [last]]


async def test_a_pages_statements_do_not_grow_with_its_events(
    gql: GraphQLClient, sql_counter: StatementCounter, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    parent = await world.token(gql, world.parent)

    async def counted() -> tuple[int, int]:
        await _page(gql, parent)  # places whatever waits for a position
        with sql_counter:
            page = await _page(gql, parent)
        return len(page["events"]), sql_counter.count

    await _enter(gql, teacher, world.child.id, lesson, "5")
    few, few_statements = await counted()
    for value in "1234512345":
        await _enter(gql, teacher, world.child.id, lesson, value)
    many, many_statements = await counted()
    assert many > 4 * few
    assert many_statements == few_statements, sql_counter.statements


async def test_an_application_is_shown_once_to_its_applicant_and_the_schools_admin(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # given an application submitted, then accepted by the school's admin (each change published
    # on the application's channel and again on the school's)
    world = await apps.make_world(session, gql)
    application = await apps.submitted(session, gql, world)
    assert (await apps.review(gql, world.admin.token, application["id"], "ACCEPT"))["userErrors"] == []
    # then the applicant and the admin each see both changes once, with the status as the action
    expected = [("SUBMITTED", application["id"]), ("ACCEPTED", application["id"])]
    for token in (world.parent.token, world.admin.token):
        events = (await _page(gql, token, types=["APPLICATION"]))["events"]
        assert [(e["action"], e["subjectId"]) for e in events] == expected
        assert {e["subject"]["id"] for e in events} == {application["id"]}
    # and the admin of another school, an operator (they follow applications one by one) and
    # someone else do not
    other_school = await make_school(session)
    await session.commit()
    other_admin = await apps.staff(session, gql, "admin@other.example.ru", other_school)
    await make_operator(session, password=PASSWORD, email="operator@portal.example.ru")
    await session.commit()
    stranger = await apps.person(session, gql, "papa@example.ru")
    for token in (other_admin.token, await gql.sign_in("operator@portal.example.ru", PASSWORD), stranger.token):
        assert (await _page(gql, token, types=["APPLICATION"]))["events"] == []


async def test_announcements_are_shown_to_those_they_are_addressed_to(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    # given a school-wide announcement, one for the child's class and one for another class
    other_class = await make_school_class(
        session, school_id=world.school.id, academic_year_id=world.year.id, level=6, letter="Б"
    )
    await session.commit()
    admin = await world.token(gql, world.admin)

    async def publish(audience: str, *classes: int) -> str:
        data = await gql.data(
            PUBLISH,
            {
                "i": {
                    "schoolId": gid("School", world.school.id),
                    "audience": audience,
                    "classIds": [gid("SchoolClass", c) for c in classes],
                    "kind": "MEETING",
                    "title": "Собрание",
                    "text": "В четверг в 18:00.",
                    "startsOn": "2026-12-01",
                }
            },
            token=admin,
        )
        assert data["publishAnnouncement"]["userErrors"] == []
        announcement_id: str = data["publishAnnouncement"]["announcement"]["id"]
        return announcement_id

    school = await publish("SCHOOL")
    ours = await publish("CLASSES", world.school_class.id)
    theirs = await publish("CLASSES", other_class.id)

    async def seen(user: Any) -> list[tuple[str, str]]:
        events = (await _page(gql, await world.token(gql, user), types=["ANNOUNCEMENT"]))["events"]
        return [(e["action"], e["subjectId"]) for e in events]

    # then the admin sees all three; the child's family and teacher the school's and their class's;
    # a teacher of no class the school's; another school's admin none
    assert await seen(world.admin) == [("published", school), ("published", ours), ("published", theirs)]
    for user in (world.parent, world.student, world.teacher):
        assert await seen(user) == [("published", school), ("published", ours)], user.id
    assert await seen(world.other_teacher) == [("published", school)]
    assert await seen(world.foreign_admin) == []
    # when the class's announcement is withdrawn, then the parent hears of it, with the
    # announcement itself no longer theirs to read
    withdrawn = await gql.data(WITHDRAW, {"i": {"announcementId": ours}}, token=admin)
    assert withdrawn["withdrawAnnouncement"]["userErrors"] == []
    last = (await _page(gql, await world.token(gql, world.parent), types=["ANNOUNCEMENT"]))["events"][-1]
    assert (last["action"], last["subjectId"], last["subject"]) == ("withdrawn", ours, None)


async def test_feedback_is_shown_to_its_author_and_the_operators(gql: GraphQLClient, world: World) -> None:
    # given a ticket submitted by the parent and taken by an operator
    parent = await world.token(gql, world.parent)
    operator = await world.token(gql, world.operator)
    ticket = feedback_ok(await submit_feedback(gql, parent))
    feedback_ok(await feedback_step(gql, operator, "takeFeedbackTicket", ticketId=ticket["id"]))
    # then the author and the operator see both changes; another parent and a school's admin
    # (a technical ticket is not their school's) do not
    for token in (parent, operator):
        events = (await _page(gql, token, types=["FEEDBACK"]))["events"]
        assert [(e["action"], e["subjectId"]) for e in events] == [("submitted", ticket["id"]), ("taken", ticket["id"])]
    for user in (world.other_parent, world.admin):
        assert (await _page(gql, await world.token(gql, user), types=["FEEDBACK"]))["events"] == []


async def test_a_staff_pages_statements_do_not_grow_either(
    gql: GraphQLClient, session: AsyncSession, sql_counter: StatementCounter, world: World
) -> None:
    # given attendance of distinct lessons and announcements, which the school's admin all sees
    teacher = await world.token(gql, world.teacher)
    admin = await world.token(gql, world.admin)

    async def some(count: int) -> None:
        for n in range(count):
            lesson = await world.lesson(session, date=MONDAY + dt.timedelta(days=7 * (n + 1)))
            await session.commit()
            await _mark(gql, teacher, lesson, world.child.id)
            data = await gql.data(
                PUBLISH,
                {
                    "i": {
                        "schoolId": gid("School", world.school.id),
                        "audience": "CLASSES",
                        "classIds": [gid("SchoolClass", world.school_class.id)],
                        "kind": "MEETING",
                        "title": f"Собрание {n}",
                        "text": "В четверг в 18:00.",
                        "startsOn": "2026-12-01",
                    }
                },
                token=admin,
            )
            assert data["publishAnnouncement"]["userErrors"] == []

    async def counted() -> tuple[int, int]:
        await _page(gql, admin)
        with sql_counter:
            page = await _page(gql, admin, types=["ATTENDANCE", "ANNOUNCEMENT"])
        return len(page["events"]), sql_counter.count

    await some(1)
    few, few_statements = await counted()
    await some(4)
    many, many_statements = await counted()
    assert (few, many) == (2, 10)
    assert many_statements == few_statements, sql_counter.statements
