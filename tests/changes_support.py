"""The change feed and webhooks in tests: a school's records changed over GraphQL as its
staff change them, the feed read back, a real HTTP receiver of webhooks on a free local
port (answering as scripted: fail once, then succeed), and a sender of the test server's
deliveries."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from ediary_gql.context import AppServices
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.services.delivery.dispatcher import RetryPolicy
from ediary_gql.services.webhooks.sender import WebhookSender
from tests.diary_writes_support import MONDAY, World, enter_grade, gid
from tests.support import GraphQLClient, free_port

CHANGES = """
query($school: ID, $after: String, $types: [ChangeType!], $first: Int) {
  changes(schoolId: $school, after: $after, types: $types, first: $first) {
    changes { eventId cursor type action eventType occurredAt schoolId recordId }
    cursor hasMore
  }
}"""
CHANGES_WITH_RECORDS = """
query($after: String) {
  changes(after: $after) {
    changes { type action recordId record { id __typename } }
    cursor hasMore
  }
}"""
CREATE_LESSON = """
mutation($i: CreateLessonInput!) { createLesson(input: $i) { lesson { id } userErrors { field code message } } }"""
UPDATE_LESSON = """
mutation($i: UpdateLessonInput!) { updateLesson(input: $i) { lesson { id } userErrors { field code message } } }"""
CORRECT = "mutation($i: CorrectGradeInput!) { correctGrade(input: $i) { grade { id } userErrors { code } } }"
DELETE = "mutation($i: DeleteGradeInput!) { deleteGrade(input: $i) { grade { id } userErrors { code } } }"
MARK = """
mutation($i: MarkAttendanceInput!) {
  markAttendance(input: $i) { marks { id child { id } } userErrors { field code message } }
}"""
HOMEWORK = """
mutation($i: AssignHomeworkInput!) { assignHomework(input: $i) { homework { id } userErrors { field code } } }"""
ENROL = """
mutation($i: EnrollChildInput!) { enrollChild(input: $i) { enrollment { id } userErrors { field code message } } }"""
CREATE_WEBHOOK = """
mutation($i: CreateWebhookInput!) {
  createWebhook(input: $i) { webhook { id url events status } userErrors { field code message } }
}"""
UPDATE_WEBHOOK = """
mutation($i: UpdateWebhookInput!) {
  updateWebhook(input: $i) { webhook { id url events status consecutiveFailures } userErrors { field code message } }
}"""
DELETE_WEBHOOK = """
mutation($i: WebhookInput!) { deleteWebhook(input: $i) { deletedWebhookId userErrors { field code message } } }"""
REDELIVER = """
mutation($i: RedeliverWebhookInput!) {
  redeliverWebhook(input: $i) { delivery { id eventId status redeliveryOf { id } } userErrors { field code message } }
}"""
SCHOOL_WEBHOOKS = """
query($id: ID!) {
  node(id: $id) {
    ... on School {
      webhooks {
        id url events status consecutiveFailures disabledAt
        deliveries(first: 20) {
          totalCount
          nodes { id eventId eventType status attempts responseStatus error durationMs sentAt payload
                  redeliveryOf { id } }
        }
      }
    }
  }
}"""
SECRET = "s3cret-of-the-receiver-0123456789"


def school_gid(world: World) -> str:
    return gid("School", world.school.id)


async def changes(
    gql: GraphQLClient, token: str, *, after: str | None = None, first: int = 100, **variables: Any
) -> dict[str, Any]:
    data = await gql.data(CHANGES, {"after": after, "first": first, **variables}, token=token)
    page: dict[str, Any] = data["changes"]
    return page


def kinds(page: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(type, action, record ID) of each change of a page, in its order."""
    return [(c["type"], c["action"], c["recordId"]) for c in page["changes"]]


async def create_lesson(gql: GraphQLClient, token: str, world: World, *, start: str = "12:00") -> str:
    hour, minute = map(int, start.split(":"))
    end = (dt.datetime(2000, 1, 1, hour, minute) + dt.timedelta(minutes=45)).time()
    data = await gql.data(
        CREATE_LESSON,
        {
            "i": {
                "classId": gid("SchoolClass", world.school_class.id),
                "subjectId": gid("Subject", world.subject.id),
                "date": MONDAY.isoformat(),
                "startTime": start,
                "endTime": end.strftime("%H:%M"),
                "room": "101",
            }
        },
        token=token,
    )
    assert data["createLesson"]["userErrors"] == [], data
    lesson_id: str = data["createLesson"]["lesson"]["id"]
    return lesson_id


async def grade(gql: GraphQLClient, token: str, world: World, lesson: Lesson, value: str = "5") -> str:
    return await enter_grade(gql, token, world, lesson, value)


async def correct(gql: GraphQLClient, token: str, grade_id: str, value: str) -> None:
    data = await gql.data(CORRECT, {"i": {"gradeId": grade_id, "value": value, "reason": "Опечатка"}}, token=token)
    assert data["correctGrade"]["userErrors"] == [], data


async def delete(gql: GraphQLClient, token: str, grade_id: str) -> None:
    data = await gql.data(DELETE, {"i": {"gradeId": grade_id, "reason": "Ошибка"}}, token=token)
    assert data["deleteGrade"]["userErrors"] == [], data


async def mark(gql: GraphQLClient, token: str, lesson_id: str, marks: dict[int, str]) -> dict[str, str]:
    """Marks of children (by row id) at the lesson; the marks' IDs by the children's IDs."""
    data = await gql.data(
        MARK,
        {
            "i": {
                "lessonId": lesson_id,
                "marks": [
                    {
                        "childId": gid("Child", child),
                        "status": status,
                        **({"minutesLate": 5} if status == "LATE" else {}),
                    }
                    for child, status in marks.items()
                ],
            }
        },
        token=token,
    )
    assert data["markAttendance"]["userErrors"] == [], data
    return {m["child"]["id"]: m["id"] for m in data["markAttendance"]["marks"]}


def _mark(child_id: int, status: str) -> dict[str, Any]:
    late = {"minutesLate": 5} if status == "LATE" else {}
    return {"childId": gid("Child", child_id), "status": status, **late}


async def homework(gql: GraphQLClient, token: str, lesson_id: str) -> str:
    data = await gql.data(
        HOMEWORK,
        {"i": {"lessonId": lesson_id, "text": "§ 12, № 3–5", "dueOn": (MONDAY + dt.timedelta(days=2)).isoformat()}},
        token=token,
    )
    assert data["assignHomework"]["userErrors"] == [], data
    homework_id: str = data["assignHomework"]["homework"]["id"]
    return homework_id


# --- a webhook receiver ----------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on a free local port that keeps what it is sent and answers with
    `statuses` in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/ediary"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = self.statuses.pop(0) if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok" if status < 300 else b"not now"})
        async with self._arrived:
            self.received.append(Received(scope["path"], headers, body))
            self._arrived.notify_all()

    async def wait_for(self, count: int, within: float = 10.0) -> list[Received]:
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return self.received


@asynccontextmanager
async def receiver(statuses: list[int] | None = None) -> AsyncIterator[Receiver]:
    got = Receiver(statuses=list(statuses or []))
    server = uvicorn.Server(uvicorn.Config(got, host="127.0.0.1", port=got.port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield got
    finally:
        server.should_exit = True
        await task


def sender(services: AppServices, **options: Any) -> WebhookSender:
    """A sender of the test server's deliveries, to loopback receivers, retrying soon."""
    defaults: dict[str, Any] = {
        "session_factory": services.session_factory,
        "allow_private": True,
        "timeout": 5.0,
        "retry": RetryPolicy(max_attempts=3, base_seconds=30.0),
        "disable_after": 2,
    }
    return WebhookSender(**(defaults | options))


LATER = dt.timedelta(hours=1)  # past any retry's delay in these tests
