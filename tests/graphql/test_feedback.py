"""Feedback tickets (обращения) over real HTTP: submitFeedback → takeFeedbackTicket →
answerFeedbackTicket with the number and the notices, the author's reopen window and
closing, the operators' queue (oldest deadline first, its filters, a flat statement
count), link summaries for operators without node(), files, and every refusal."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import Channel, FeedbackCategory, FeedbackStatus, NotificationKind
from ediary_gql.db.models.feedback import FeedbackTicket
from ediary_gql.db.models.notifications import Notification, NotificationDelivery
from tests.diary_writes_support import MONDAY, World, gid, make_world
from tests.factories import (
    make_academic_year,
    make_attendance,
    make_enrolled_child,
    make_feedback_ticket,
    make_grade,
    make_guardianship,
    make_homework,
    make_school,
    make_school_class,
)
from tests.sample_files import tiny_png
from tests.support import GraphQLClient, StatementCounter

ERRORS = "userErrors { field code message }"
TICKET = """id number category status subject description contactEmail answerDueAt takenAt answer answeredAt
  closedAt reopenedCount overdue reopenableUntil availableActions
  author { id } assignee { id } answeredBy { id } school { id }
  links { id typeName summary } attachments { id fileName url }"""
SUBMIT = f"mutation($i: SubmitFeedbackInput!) {{ submitFeedback(input: $i) {{ ticket {{ {TICKET} }} {ERRORS} }} }}"
STEP = "mutation($i: {Name}Input!) {{ {name}(input: $i) {{ ticket {{ {ticket} }} {errors} }} }}"
ONE = f"query($id: ID!) {{ feedbackTicket(id: $id) {{ {TICKET} }} }}"
QUEUE = """query($f: FeedbackTicketFilter, $first: Int, $after: String) {
  feedbackTickets(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id number status category overdue } } } }"""
MINE = "query { myFeedbackTickets(first: 20) { totalCount edges { node { id number status } } } }"
INBOX = "query { notifications(first: 50) { edges { node { kind title body payload } } } }"
NUMBER = re.compile(r"FB-\d{4}-\d{6}")


async def submit(gql: GraphQLClient, token: str | None, **i: Any) -> dict[str, Any]:
    fields = {"category": "TECHNICAL", "subject": "Не открывается дневник", "description": "Белый экран", **i}
    body = await gql.post(SUBMIT, {"i": fields}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitFeedback"]
    return payload


async def step(gql: GraphQLClient, token: str, name: str, **i: Any) -> dict[str, Any]:
    query = STEP.format(Name=name[0].upper() + name[1:], name=name, ticket=TICKET, errors=ERRORS)
    body = await gql.post(query, {"i": i}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    return payload


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["userErrors"] == [], payload
    ticket: dict[str, Any] = payload["ticket"]
    return ticket


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def inbox(gql: GraphQLClient, token: str) -> list[dict[str, Any]]:
    data = await gql.data(INBOX, token=token)
    return [e["node"] for e in data["notifications"]["edges"]]


async def a_grade(session: AsyncSession, world: World, value: str = "3") -> int:
    lesson = await world.lesson(session)
    grade = await make_grade(
        session, lesson_id=lesson.id, child_id=world.child.id, value=value, numeric_value=int(value),
        control_type_id=world.control_type.id,
    )  # fmt: skip
    await session.commit()
    return grade.id


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


# --- the workflow --------------------------------------------------------------------------


async def test_a_ticket_goes_from_submit_to_answer_with_its_number_and_notices(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, world: World
) -> None:
    grade = await a_grade(session, world)
    parent, op = await world.token(gql, world.parent), await world.token(gql, world.operator)
    admin = await world.token(gql, world.admin)

    # the parent reports a wrong grade of their child, with an address for the answer
    before = dt.datetime.now(dt.UTC)
    ticket = ok(
        await submit(
            gql, parent, category="CONTENT_ERROR", subject="Неверная оценка", description="Ставили 4, а не 3",
            contactEmail="Mama@Example.ru", linkIds=[gid("Grade", grade)],
        )
    )  # fmt: skip
    assert NUMBER.fullmatch(ticket["number"])
    assert ticket["number"].endswith("-000001")
    assert (ticket["status"], ticket["category"], ticket["contactEmail"]) == (
        "OPEN",
        "CONTENT_ERROR",
        "mama@example.ru",
    )
    due = dt.datetime.fromisoformat(ticket["answerDueAt"])
    assert dt.timedelta(hours=23, minutes=59) < due - before <= dt.timedelta(hours=24, seconds=5)
    assert ticket["school"] == {"id": gid("School", world.school.id)}  # a school's record: that school's too
    assert ticket["author"] == {"id": gid("User", world.parent.id)}
    [link] = ticket["links"]
    assert (link["id"], link["typeName"]) == (gid("Grade", grade), "Grade")
    assert link["summary"] == (
        f"Оценка 3 (контрольная), математика, {MONDAY:%d.%m.%Y}, {world.child.last_name} {world.child.first_name}"
    )
    assert ticket["availableActions"] == []  # the author waits

    # a confirmation naming the number; the school's admins are told of an error in their data
    [confirmation] = [n for n in await inbox(gql, parent) if n["kind"] == "FEEDBACK"]
    assert ticket["number"] in confirmation["title"]
    assert ticket["number"] in confirmation["body"]
    assert confirmation["payload"]["ticketId"] == ticket["id"]
    [told] = [n for n in await inbox(gql, admin) if n["kind"] == "FEEDBACK"]
    assert ticket["number"] in told["title"]

    # the operators' queue holds it; an operator reads what the link is, not the grade itself
    queue = (await gql.data(QUEUE, {"f": {"status": "OPEN"}}, token=op))["feedbackTickets"]
    assert [e["node"]["number"] for e in queue["edges"]] == [ticket["number"]]
    seen = (await gql.data(ONE, {"id": ticket["id"]}, token=op))["feedbackTicket"]
    assert seen["links"] == ticket["links"]
    assert seen["availableActions"] == ["TAKE", "ANSWER"]
    node = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Grade", grade)}, token=op)
    assert node == {"node": None}

    # taken into work, then answered
    taken = ok(await step(gql, op, "takeFeedbackTicket", ticketId=ticket["id"]))
    assert (taken["status"], taken["assignee"]) == ("IN_PROGRESS", {"id": gid("User", world.operator.id)})
    assert taken["takenAt"] is not None
    assert taken["availableActions"] == ["ANSWER"]
    again = await step(gql, op, "takeFeedbackTicket", ticketId=ticket["id"])
    assert codes(again) == [("INVALID_STATE", ["ticketId"])]
    answered = ok(await step(gql, op, "answerFeedbackTicket", ticketId=ticket["id"], answer="Оценку исправили на 4."))
    assert (answered["status"], answered["answer"]) == ("ANSWERED", "Оценку исправили на 4.")
    assert answered["answeredBy"] == {"id": gid("User", world.operator.id)}
    assert answered["availableActions"] == ["CLOSE"]
    twice = await step(gql, op, "answerFeedbackTicket", ticketId=ticket["id"], answer="Ещё раз")
    assert codes(twice) == [("INVALID_STATE", ["ticketId"])]

    # the author is told, in the app (the channels they chose) and at the contact email
    answers = [n for n in await inbox(gql, parent) if n["title"].startswith("Ответ")]
    assert len(answers) == 1
    assert "Оценку исправили на 4." in answers[0]["body"]
    assert ticket["number"] in answers[0]["title"]
    async with app_services.session_factory() as s:
        rows = (
            await s.execute(
                select(Notification.title, NotificationDelivery.channel, NotificationDelivery.address)
                .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
                .where(Notification.user_id == world.parent.id, Notification.kind == NotificationKind.FEEDBACK)
            )
        ).all()
    to_contact = {title for title, channel, address in rows if (channel, address) == (Channel.EMAIL, "mama@example.ru")}
    assert to_contact == {confirmation["title"], answers[0]["title"]}
    # the account's address gets no copy (the contact email stands in for it); the push goes as chosen
    assert not [r for r in rows if r[1] == Channel.EMAIL and r[2] != "mama@example.ru"]
    assert (answers[0]["title"], Channel.PUSH, f"user:{world.parent.id}") in rows

    # the author's own list and the ticket from their side
    mine = (await gql.data(MINE, token=parent))["myFeedbackTickets"]
    assert [(e["node"]["number"], e["node"]["status"]) for e in mine["edges"]] == [(ticket["number"], "ANSWERED")]
    theirs = (await gql.data(ONE, {"id": ticket["id"]}, token=parent))["feedbackTicket"]
    assert theirs["availableActions"] == ["REOPEN", "CLOSE"]
    until = dt.datetime.fromisoformat(theirs["reopenableUntil"])
    assert until == dt.datetime.fromisoformat(answered["answeredAt"]) + dt.timedelta(days=7)


async def test_numbers_count_up_and_each_submission_is_limited_per_user(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    parent = await world.token(gql, world.parent)
    numbers = [ok(await submit(gql, parent, subject=f"Вопрос {n}"))["number"] for n in range(10)]
    year = numbers[0][3:7]
    assert numbers == [f"FB-{year}-{n:06d}" for n in range(1, 11)]
    refused = await submit(gql, parent)
    assert codes(refused) == [("RATE_LIMITED", None)]
    assert refused["ticket"] is None
    assert "Слишком много обращений" in refused["userErrors"][0]["message"]
    # someone else is not held back by it
    other = await world.token(gql, world.other_parent)
    assert ok(await submit(gql, other))["number"] == f"FB-{year}-000011"


async def test_every_problem_of_a_submission_is_told_at_once(gql: GraphQLClient, world: World) -> None:
    parent = await world.token(gql, world.parent)
    refused = await submit(gql, parent, subject="  ", description="", contactEmail="не почта")
    assert codes(refused) == [("REQUIRED", ["subject"]), ("REQUIRED", ["description"]), ("INVALID", ["contactEmail"])]
    long = await submit(gql, parent, subject="Т" * 201)
    assert codes(long) == [("TOO_LONG", ["subject"])]
    # nothing was kept of a refused submission
    assert (await gql.data(MINE, token=parent))["myFeedbackTickets"]["totalCount"] == 0


async def test_the_author_reopens_within_seven_days_and_closes(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, world: World
) -> None:
    parent, op = await world.token(gql, world.parent), await world.token(gql, world.operator)
    ticket = ok(await submit(gql, parent))
    ok(await step(gql, op, "answerFeedbackTicket", ticketId=ticket["id"], answer="Очистите кэш браузера"))

    # not solved: reopened, back in the queue with a new deadline; whoever answered is told
    moment = dt.datetime.now(dt.UTC)
    reopened = ok(await step(gql, parent, "reopenFeedbackTicket", ticketId=ticket["id"]))
    assert (reopened["status"], reopened["reopenedCount"], reopened["assignee"]) == ("OPEN", 1, None)
    assert dt.datetime.fromisoformat(reopened["answerDueAt"]) - moment > dt.timedelta(hours=23, minutes=59)
    assert reopened["answer"] == "Очистите кэш браузера"  # kept until the next answer
    assert [n["title"] for n in await inbox(gql, op)] == [f"Обращение {ticket['number']} открыто снова"]
    queue = (await gql.data(QUEUE, {"f": {"status": "OPEN"}}, token=op))["feedbackTickets"]
    assert [e["node"]["id"] for e in queue["edges"]] == [ticket["id"]]
    for who in (parent, op):  # it waits for an answer again: nothing to close
        early = await step(gql, who, "closeFeedbackTicket", ticketId=ticket["id"])
        assert codes(early) == [("INVALID_STATE", ["ticketId"])]

    # answered again and closed by the author; still reopenable within the week
    ok(await step(gql, op, "answerFeedbackTicket", ticketId=ticket["id"], answer="Исправили на сервере"))
    closed = ok(await step(gql, parent, "closeFeedbackTicket", ticketId=ticket["id"]))
    assert closed["status"] == "CLOSED"
    assert closed["closedAt"] is not None
    assert closed["availableActions"] == ["REOPEN"]

    # eight days after the answer it is too late: a new ticket then
    async with app_services.session_factory() as s:
        await s.execute(
            update(FeedbackTicket)
            .where(FeedbackTicket.number == ticket["number"])
            .values(answered_at=utcnow() - dt.timedelta(days=8))
        )
        await s.commit()
    late = await step(gql, parent, "reopenFeedbackTicket", ticketId=ticket["id"])
    assert codes(late) == [("INVALID_STATE", ["ticketId"])]
    assert "7 дней" in late["userErrors"][0]["message"]
    assert (await gql.data(ONE, {"id": ticket["id"]}, token=parent))["feedbackTicket"]["availableActions"] == []


async def test_an_operator_closes_an_answered_ticket_but_only_the_author_reopens(
    gql: GraphQLClient, world: World
) -> None:
    parent, op = await world.token(gql, world.parent), await world.token(gql, world.operator)
    ticket = ok(await submit(gql, parent))
    not_yet = await step(gql, op, "closeFeedbackTicket", ticketId=ticket["id"])
    assert codes(not_yet) == [("INVALID_STATE", ["ticketId"])]
    ok(await step(gql, op, "answerFeedbackTicket", ticketId=ticket["id"], answer="Готово"))
    assert ok(await step(gql, op, "closeFeedbackTicket", ticketId=ticket["id"]))["status"] == "CLOSED"
    body = await gql.post(
        STEP.format(Name="ReopenFeedbackTicket", name="reopenFeedbackTicket", ticket="id", errors=ERRORS),
        {"i": {"ticketId": ticket["id"]}},
        token=op,
    )
    assert error_codes(body) == ["FORBIDDEN"]


# --- the school's admins and CONTENT_ERROR --------------------------------------------------


async def test_the_schools_admins_work_content_errors_about_their_school_only(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    grade = await a_grade(session, world)
    parent, admin = await world.token(gql, world.parent), await world.token(gql, world.admin)
    foreign = await world.token(gql, world.foreign_admin)
    content = ok(await submit(gql, parent, category="CONTENT_ERROR", linkIds=[gid("Grade", grade)]))
    technical = ok(await submit(gql, parent, category="TECHNICAL", linkIds=[gid("Grade", grade)]))

    # the school's admin: the CONTENT_ERROR ticket only, in the queue and by ID
    queue = (await gql.data(QUEUE, token=admin))["feedbackTickets"]
    assert [e["node"]["id"] for e in queue["edges"]] == [content["id"]]
    assert (await gql.data(QUEUE, {"f": {"category": "TECHNICAL"}}, token=admin))["feedbackTickets"]["edges"] == []
    assert (await gql.data(ONE, {"id": technical["id"]}, token=admin))["feedbackTicket"] is None
    answered = ok(await step(gql, admin, "answerFeedbackTicket", ticketId=content["id"], answer="Исправлено"))
    assert answered["status"] == "ANSWERED"
    assert answered["assignee"] == {"id": gid("User", world.admin.id)}

    # another school's admin sees neither, and may not work them
    assert (await gql.data(QUEUE, token=foreign))["feedbackTickets"]["totalCount"] == 0
    for ticket in (content, technical):
        assert (await gql.data(ONE, {"id": ticket["id"]}, token=foreign))["feedbackTicket"] is None
        node = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": ticket["id"]}, token=foreign)
        assert node == {"node": None}
    refused = await step(gql, foreign, "closeFeedbackTicket", ticketId=content["id"])
    assert codes(refused) == [("NOT_FOUND", ["ticketId"])]


async def test_a_content_error_is_about_one_schools_records(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    grade = await a_grade(session, world)
    # the parent's second child goes to another school
    year = await make_academic_year(session, school=await make_school(session))
    elsewhere = await make_school_class(session, school_id=year.school_id, academic_year_id=year.id)
    second = await make_enrolled_child(session, class_id=elsewhere.id)
    await make_guardianship(session, parent_id=world.parent.id, child_id=second.id)
    await session.commit()
    parent = await world.token(gql, world.parent)
    links = [gid("Child", world.child.id), gid("Grade", grade), gid("Child", second.id)]
    refused = await submit(gql, parent, category="CONTENT_ERROR", linkIds=links)
    assert codes(refused) == [("INVALID", ["linkIds", "2"])]
    # about one school: that school's; a technical question may name both
    one = ok(await submit(gql, parent, category="CONTENT_ERROR", linkIds=links[:2]))
    assert one["school"] == {"id": gid("School", world.school.id)}
    assert [link["typeName"] for link in one["links"]] == ["Child", "Grade"]
    assert one["links"][0]["summary"].startswith(f"Ученик: {world.child.last_name} {world.child.first_name}")
    both = ok(await submit(gql, parent, category="TECHNICAL", linkIds=links))
    assert both["school"] is None
    assert len(both["links"]) == 3


# --- refusals ------------------------------------------------------------------------------


async def test_someone_elses_ticket_is_not_there(gql: GraphQLClient, world: World) -> None:
    parent, other = await world.token(gql, world.parent), await world.token(gql, world.other_parent)
    teacher = await world.token(gql, world.teacher)
    ticket = ok(await submit(gql, parent))
    for token in (other, teacher):
        assert (await gql.data(ONE, {"id": ticket["id"]}, token=token))["feedbackTicket"] is None
        node = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": ticket["id"]}, token=token)
        assert node == {"node": None}
        assert (await gql.data(MINE, token=token))["myFeedbackTickets"]["totalCount"] == 0
        for name in ("takeFeedbackTicket", "reopenFeedbackTicket", "closeFeedbackTicket"):
            assert codes(await step(gql, token, name, ticketId=ticket["id"])) == [("NOT_FOUND", ["ticketId"])]
        answer = await step(gql, token, "answerFeedbackTicket", ticketId=ticket["id"], answer="Я отвечу")
        assert codes(answer) == [("NOT_FOUND", ["ticketId"])]
    # the author does not work their own ticket
    body = await gql.post(
        STEP.format(Name="TakeFeedbackTicket", name="takeFeedbackTicket", ticket="id", errors=ERRORS),
        {"i": {"ticketId": ticket["id"]}},
        token=parent,
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_link_the_author_may_not_see_is_refused(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    grade = await a_grade(session, world)
    lesson = await world.lesson(session, date=MONDAY + dt.timedelta(days=1))
    mark = await make_attendance(session, lesson_id=lesson.id, child_id=world.child.id)
    homework = await make_homework(session, lesson_id=lesson.id)
    await session.commit()
    other, foreign = await world.token(gql, world.other_parent), await world.token(gql, world.foreign_teacher)
    op = await world.token(gql, world.operator)
    links = [
        gid("Grade", grade),  # another family's child's grade
        gid("Attendance", mark.id),  # and their attendance
        gid("Lesson", lesson.id),  # the classmate's own lesson: theirs to see
        gid("Homework", homework.id),  # and its homework
        gid("Child", world.child.id),  # another family's child
        gid("School", world.school.id),  # not a record a ticket links
        gid("Grade", grade + 1000),  # nothing
    ]
    refused = await submit(gql, other, category="CONTENT_ERROR", linkIds=links)
    assert codes(refused) == [
        ("NOT_FOUND", ["linkIds", "0"]),
        ("NOT_FOUND", ["linkIds", "1"]),
        ("NOT_FOUND", ["linkIds", "4"]),
        ("INVALID", ["linkIds", "5"]),
        ("NOT_FOUND", ["linkIds", "6"]),
    ]
    # a teacher of another school sees nothing of this one
    refused = await submit(gql, foreign, linkIds=[gid("Lesson", lesson.id), gid("Homework", homework.id)])
    assert codes(refused) == [("NOT_FOUND", ["linkIds", "0"]), ("NOT_FOUND", ["linkIds", "1"])]
    # an operator sees no diary content, so links none of it (children's cards they do see)
    refused = await submit(gql, op, linkIds=[gid("Grade", grade), gid("Lesson", lesson.id)])
    assert codes(refused) == [("NOT_FOUND", ["linkIds", "0"]), ("NOT_FOUND", ["linkIds", "1"])]
    # the classmate's parent links what they do see
    fine = ok(await submit(gql, other, linkIds=[gid("Lesson", lesson.id), gid("Homework", homework.id)]))
    assert [link["typeName"] for link in fine["links"]] == ["Lesson", "Homework"]
    assert fine["links"][1]["summary"].startswith("Домашнее задание: математика")


async def test_the_queue_is_refused_to_families_and_teachers(gql: GraphQLClient, world: World) -> None:
    for user in (world.parent, world.student, world.teacher):
        body = await gql.post(QUEUE, token=await world.token(gql, user))
        assert error_codes(body) == ["FORBIDDEN"], user.email
        assert body["data"] is None
    for query in (QUEUE, MINE):
        anonymous = await gql.post(query)
        assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    one = await gql.post(ONE, {"id": gid("FeedbackTicket", 1)})
    assert error_codes(one) == ["UNAUTHENTICATED"]
    assert error_codes(
        await gql.post(SUBMIT, {"i": {"category": "TECHNICAL", "subject": "a", "description": "b"}})
    ) == ["UNAUTHENTICATED"]


# --- the queue -----------------------------------------------------------------------------


async def test_the_queue_is_oldest_deadline_first_with_filters(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    now = utcnow()
    made = {}
    for name, hours, status in (
        ("late", -2, FeedbackStatus.OPEN),
        ("soon", 3, FeedbackStatus.IN_PROGRESS),
        ("later", 20, FeedbackStatus.OPEN),
        ("done", -30, FeedbackStatus.ANSWERED),
    ):
        row = await make_feedback_ticket(
            session, author_id=world.parent.id, status=status, answer_due_at=now + dt.timedelta(hours=hours)
        )
        made[name] = gid("FeedbackTicket", row.id)
    await session.commit()
    op = await world.token(gql, world.operator)

    async def listed(flt: dict[str, Any] | None = None, **page: Any) -> list[str]:
        data = (await gql.data(QUEUE, {"f": flt, **page}, token=op))["feedbackTickets"]
        return [e["node"]["id"] for e in data["edges"]]

    assert await listed() == [made["done"], made["late"], made["soon"], made["later"]]
    assert await listed({"overdue": True}) == [made["late"]]
    assert await listed({"overdue": False}) == [made["done"], made["soon"], made["later"]]
    assert await listed({"status": "OPEN"}) == [made["late"], made["later"]]
    assert await listed({"category": "SUGGESTION"}) == []
    # paged by key
    first = (await gql.data(QUEUE, {"first": 2}, token=op))["feedbackTickets"]
    assert first["pageInfo"]["hasNextPage"]
    assert first["totalCount"] == 4
    rest = await listed(first=2, after=first["pageInfo"]["endCursor"])
    assert rest == [made["soon"], made["later"]]


async def test_the_queue_reads_a_constant_number_of_statements(
    gql: GraphQLClient, session: AsyncSession, world: World, sql_counter: StatementCounter
) -> None:
    async def tickets(n: int) -> None:
        for _ in range(n):
            grade = await make_grade(session, class_id=world.school_class.id, child_id=world.child.id)
            lesson = await world.lesson(session, date=MONDAY + dt.timedelta(days=7 + grade.id % 20))
            mark = await make_attendance(session, lesson_id=lesson.id, child_id=world.child.id)
            homework = await make_homework(session, lesson_id=lesson.id)
            row = await make_feedback_ticket(
                session,
                author_id=world.parent.id,
                category=FeedbackCategory.CONTENT_ERROR,
                school_id=world.school.id,
                links=[
                    gid("Grade", grade.id),
                    gid("Lesson", lesson.id),
                    gid("Attendance", mark.id),
                    gid("Homework", homework.id),
                    gid("Child", world.child.id),
                ],
            )
            assert row.id
        await session.commit()

    op = await world.token(gql, world.operator)
    every_field = QUEUE.replace("overdue }", f"{TICKET} }}")

    async def count(first: int) -> int:
        with sql_counter:
            data = await gql.data(every_field, {"first": first}, token=op)
        nodes = [e["node"] for e in data["feedbackTickets"]["edges"]]
        assert len(nodes) == first
        assert all(len(n["links"]) == 5 for n in nodes)
        assert all("Запись удалена" not in link["summary"] for n in nodes for link in n["links"])
        return sql_counter.count

    await tickets(2)
    few = await count(2)
    await tickets(6)
    many = await count(8)
    assert few == many, sql_counter.statements


# --- files ---------------------------------------------------------------------------------


async def test_screenshots_go_to_the_author_and_the_operators_only(
    gql: GraphQLClient, session: AsyncSession, world: World
) -> None:
    parent, op = await world.token(gql, world.parent), await world.token(gql, world.operator)
    other, admin = await world.token(gql, world.other_parent), await world.token(gql, world.admin)
    variables = {"i": {"category": "TECHNICAL", "subject": "Ошибка", "description": "См. снимок", "files": [None]}}
    sent = await gql.upload(SUBMIT, variables, {"i.files.0": ("экран.png", tiny_png(), "image/png")}, token=parent)
    ticket = ok(sent.json()["data"]["submitFeedback"])
    [shot] = ticket["attachments"]
    assert shot["fileName"] == "экран.png"

    async def download(token: str) -> int:
        response = await gql.http.get(f"/files/{shot['id']}", headers={"Authorization": f"Bearer {token}"})
        return response.status_code

    assert await download(parent) == 200
    assert await download(op) == 200
    assert await download(other) == 404
    assert await download(admin) == 404
    node = "query($id: ID!) { node(id: $id) { ... on Attachment { id } } }"
    assert (await gql.data(node, {"id": shot["id"]}, token=op))["node"] == {"id": shot["id"]}
    assert (await gql.data(node, {"id": shot["id"]}, token=other))["node"] is None
    # a file of the wrong type is told at its path
    bad = await gql.upload(
        SUBMIT, variables, {"i.files.0": ("a.png", b"not an image at all", "image/png")}, token=parent
    )
    assert codes(bad.json()["data"]["submitFeedback"]) == [("FILE_TYPE_NOT_ALLOWED", ["files", "0"])]


async def test_without_a_contact_email_the_answer_goes_by_the_chosen_channels(
    gql: GraphQLClient, app_services: AppServices, world: World
) -> None:
    parent, op = await world.token(gql, world.parent), await world.token(gql, world.operator)
    prefs = {"i": {"preferences": [{"kind": "FEEDBACK", "channels": ["SMS"]}]}}
    update_prefs = (
        "mutation($i: UpdateNotificationPreferencesInput!) "
        "{ updateNotificationPreferences(input: $i) { userErrors { code } } }"
    )
    assert (await gql.data(update_prefs, prefs, token=parent))["updateNotificationPreferences"]["userErrors"] == []
    ticket = ok(await submit(gql, parent))
    ok(await step(gql, op, "answerFeedbackTicket", ticketId=ticket["id"], answer="Готово"))
    async with app_services.session_factory() as s:
        rows = (
            await s.execute(
                select(Notification.title, NotificationDelivery.channel, NotificationDelivery.address)
                .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
                .where(Notification.user_id == world.parent.id, Notification.kind == NotificationKind.FEEDBACK)
            )
        ).all()
    assert sorted((channel, address) for _, channel, address in rows) == [
        (Channel.SMS, world.parent.phone),
        (Channel.SMS, world.parent.phone),
    ]
