"""The public-ID walk of feedback tickets: every action the feedback services audit and
every kind they notify, driven over HTTP, leaves only global IDs under camelCase keys."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from tests import diary_writes_support as diary
from tests.factories import make_grade
from tests.graphql.test_public_ids import _assert_public_everywhere, _do, gid
from tests.sample_files import tiny_png
from tests.support import GraphQLClient

ACTIONS: set[str] = {
    "submitFeedback", "takeFeedbackTicket", "answerFeedbackTicket", "reopenFeedbackTicket", "closeFeedbackTicket",
}  # fmt: skip
KINDS: set[NotificationKind] = {NotificationKind.FEEDBACK}

SUBMIT = """mutation($i: SubmitFeedbackInput!) {
  submitFeedback(input: $i) { ticket { id number } userErrors { field code message } } }"""


async def test_feedback_workflows(gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    world = await diary.make_world(session)
    lesson = await world.lesson(session)
    grade = await make_grade(session, lesson_id=lesson.id, child_id=world.child.id)
    await session.commit()
    parent, op = await world.token(gql, world.parent), await world.token(gql, world.operator)
    admin = await world.token(gql, world.admin)
    # a CONTENT_ERROR about the school's grade, with a screenshot and a contact email
    variables = {
        "i": {
            "category": "CONTENT_ERROR", "subject": "Неверная оценка", "description": "Должна быть 5",
            "contactEmail": "mama@example.ru", "linkIds": [gid("Grade", grade.id)], "files": [None],
        }
    }  # fmt: skip
    sent = await gql.upload(SUBMIT, variables, {"i.files.0": ("экран.png", tiny_png(), "image/png")}, token=parent)
    body = sent.json()["data"]["submitFeedback"]
    assert body["userErrors"] == []
    ticket = body["ticket"]["id"]
    # taken and answered by the school's admin; reopened by the author, answered and closed by an operator
    await _do(gql, admin, "takeFeedbackTicket", ticketId=ticket)
    await _do(gql, admin, "answerFeedbackTicket", ticketId=ticket, answer="Исправили")
    await _do(gql, parent, "reopenFeedbackTicket", ticketId=ticket)
    await _do(gql, op, "answerFeedbackTicket", ticketId=ticket, answer="Исправили на 5")
    await _do(gql, parent, "closeFeedbackTicket", ticketId=ticket)
    await _assert_public_everywhere(
        gql, app_services, actions=ACTIONS, kinds=KINDS, inbox_readers=[parent, admin], operator=op, admins=[admin]
    )
