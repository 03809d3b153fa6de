"""Notices of new records over HTTP: a grade, homework, a changed lesson and a generated
timetable tell the child's guardians and the child, by the channels they chose, in one
grouped notice per person for a bulk change; never the teacher who made it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import Channel, NotificationKind
from ediary_gql.db.models.lessons import Lesson
from ediary_gql.db.models.notifications import Notification, NotificationDelivery
from tests.diary_writes_support import World, gid
from tests.factories.children import make_guardianship
from tests.support import GraphQLClient, StatementCounter

ERRORS = "userErrors { field code message }"
INBOX = "{ notifications(first: 50) { edges { node { kind title body payload } } } }"
PREFERENCES = f"""mutation($i: UpdateNotificationPreferencesInput!) {{
  updateNotificationPreferences(input: $i) {{ {ERRORS} }} }}"""


async def _do(gql: GraphQLClient, token: str, name: str, fields: str = "", /, **i: Any) -> Any:
    query = f"mutation($i: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $i) {{ {fields} {ERRORS} }} }}"
    payload = (await gql.data(query, {"i": i}, token=token))[name]
    assert payload["userErrors"] == [], payload
    return payload


async def _inbox(gql: GraphQLClient, token: str, kind: NotificationKind) -> list[dict[str, Any]]:
    edges = (await gql.data(INBOX, token=token))["notifications"]["edges"]
    return [e["node"] for e in edges if e["node"]["kind"] == kind.value]


async def test_a_new_grade_tells_the_guardian_by_the_channel_they_chose(
    gql: GraphQLClient, world: World, lesson: Lesson, app_services: AppServices
) -> None:
    parent = await world.token(gql, world.parent)
    await _do(gql, parent, "updateNotificationPreferences", preferences=[{"kind": "GRADE", "channels": ["EMAIL"]}])
    teacher = await world.token(gql, world.teacher)
    entered = await _do(
        gql, teacher, "enterGrade", "grade { id }", childId=gid("Child", world.child.id),
        lessonId=gid("Lesson", lesson.id), value="5", controlTypeId=gid("ControlType", world.control_type.id),
    )  # fmt: skip

    (notice,) = await _inbox(gql, parent, NotificationKind.GRADE)
    assert notice["title"] == "Новая оценка"
    assert notice["body"] == f"«Математика»: 5 за {lesson.date:%d.%m.%Y} (Контрольная)"
    assert notice["payload"]["gradeId"] == entered["grade"]["id"]
    assert notice["payload"]["childId"] == gid("Child", world.child.id)
    # the child's own login is told too, by its defaults (push)
    (own,) = await _inbox(gql, await world.token(gql, world.student), NotificationKind.GRADE)
    assert own["body"] == notice["body"]
    # by the channels chosen: email only for the parent
    async with app_services.session_factory() as s:
        deliveries = (
            await s.execute(
                select(Notification.user_id, NotificationDelivery.channel, NotificationDelivery.address)
                .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
                .where(Notification.kind == NotificationKind.GRADE)
            )
        ).all()
    assert (world.parent.id, Channel.EMAIL, world.parent.email) in deliveries
    assert {c for u, c, _ in deliveries if u == world.parent.id} == {Channel.EMAIL}
    assert {c for u, c, _ in deliveries if u == world.student.id} == {Channel.PUSH}
    # nobody else: not the teacher, not a classmate's parent
    assert await _inbox(gql, teacher, NotificationKind.GRADE) == []
    assert await _inbox(gql, await world.token(gql, world.other_parent), NotificationKind.GRADE) == []

    # a correction says what changed
    await _do(gql, teacher, "correctGrade", gradeId=entered["grade"]["id"], value="4", reason="Ошибка ввода")
    corrected = (await _inbox(gql, parent, NotificationKind.GRADE))[0]
    assert corrected["body"] == f"Исправлена оценка — «Математика»: 5 → 4 за {lesson.date:%d.%m.%Y} (Контрольная)"


async def test_homework_and_a_cancelled_lesson_tell_the_class_families(
    gql: GraphQLClient, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    due = lesson.date + dt.timedelta(days=2)
    await _do(gql, teacher, "assignHomework", "homework { id }", lessonId=gid("Lesson", lesson.id),
              text="№ 12, 14", dueOn=due.isoformat())  # fmt: skip
    await _do(gql, teacher, "updateLesson", lessonId=gid("Lesson", lesson.id), topic="Дроби")  # not news
    await _do(gql, teacher, "updateLesson", lessonId=gid("Lesson", lesson.id), status="CANCELLED")

    for who in (world.parent, world.other_parent, world.student):
        token = await world.token(gql, who)
        (homework,) = await _inbox(gql, token, NotificationKind.HOMEWORK)
        assert homework["body"] == (f"«Математика», урок {lesson.date:%d.%m.%Y}: № 12, 14 — сдать до {due:%d.%m.%Y}")
        (cancelled,) = await _inbox(gql, token, NotificationKind.LESSON)
        assert cancelled["title"] == "Изменение в расписании"
        assert cancelled["body"] == (f"«Математика»: урок {lesson.date:%d.%m.%Y} в {lesson.start_time:%H:%M} отменён")
    assert await _inbox(gql, teacher, NotificationKind.LESSON) == []
    assert await _inbox(gql, await world.token(gql, world.foreign_admin), NotificationKind.HOMEWORK) == []


async def test_a_generated_timetable_sends_one_grouped_notice_per_person(
    gql: GraphQLClient, world: World, session: AsyncSession, app_services: AppServices, sql_counter: StatementCounter
) -> None:
    teacher = await world.token(gql, world.teacher)
    ids = {"subjectId": gid("Subject", world.subject.id), "teacherId": gid("User", world.teacher.id)}
    slots = [
        {"weekday": day, "startTime": "09:00:00", "endTime": "09:45:00", "lessonNumber": 1, **ids}
        for day in (1, 2, 3, 4, 5)
    ]
    template = await _do(
        gql, teacher, "createTimetableTemplate", "template { id }", classId=gid("SchoolClass", world.school_class.id),
        periodId=gid("Period", world.period.id), name="Основное", slots=slots,
    )  # fmt: skip
    monday = world.period.starts_on + dt.timedelta(days=(7 - world.period.starts_on.weekday()) % 7)

    async def generate(first: dt.date, weeks: int) -> int:
        last = first + dt.timedelta(days=7 * weeks - 1)
        with sql_counter:
            made = await _do(
                gql, teacher, "generateLessons", "lessons { id }", templateId=template["template"]["id"],
                **{"from": first.isoformat(), "to": last.isoformat()},
            )  # fmt: skip
        assert len(made["lessons"]) == 5 * weeks
        return sum(1 for s in sql_counter.statements if "notification" in s.lower())

    # two weeks (10 lessons) and then three weeks (15): the notices cost the same statements
    assert await generate(monday, 2) == await generate(monday + dt.timedelta(days=14), 3)

    for who in (world.parent, world.other_parent, world.student):
        notices = await _inbox(gql, await world.token(gql, who), NotificationKind.LESSON)
        assert [n["title"] for n in notices] == ["Изменения в расписании (15)", "Изменения в расписании (10)"]
        latest = notices[0]
        lines = latest["body"].split("\n")
        assert len(lines) == 6
        assert lines[-1] == "… и ещё 10"
        assert lines[0].startswith("Новый урок — «Математика»: ")
        assert latest["payload"]["count"] == 15
    assert await _inbox(gql, teacher, NotificationKind.LESSON) == []


async def test_a_moved_substituted_and_restored_lesson_each_say_what_changed(
    gql: GraphQLClient, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    lesson_id = gid("Lesson", lesson.id)
    day = f"{lesson.date:%d.%m.%Y}"
    await _do(gql, teacher, "updateLesson", lessonId=lesson_id, startTime="15:00:00", endTime="15:45:00")
    await _do(gql, teacher, "updateLesson", lessonId=lesson_id, substituteTeacherId=gid("User", world.other_teacher.id))
    await _do(gql, teacher, "updateLesson", lessonId=lesson_id, status="CANCELLED")
    await _do(gql, teacher, "updateLesson", lessonId=lesson_id, status="SCHEDULED")

    for who in (world.parent, world.student):
        bodies = [n["body"] for n in await _inbox(gql, await world.token(gql, who), NotificationKind.LESSON)]
        assert bodies == [  # newest first
            f"«Математика»: урок {day} в 15:00 снова в расписании",
            f"«Математика»: урок {day} в 15:00 отменён",
            f"«Математика»: урок {day} в 15:00 проведёт учитель на замене",
            f"«Математика»: урок {day} в {lesson.start_time:%H:%M} перенесён на {day} в 15:00",
        ]
    # the teacher who made the changes, and the substitute, are not families
    for who in (world.teacher, world.other_teacher):
        assert await _inbox(gql, await world.token(gql, who), NotificationKind.LESSON) == []


async def test_an_extra_lesson_and_a_deleted_grade_are_news_too(
    gql: GraphQLClient, world: World, lesson: Lesson
) -> None:
    teacher = await world.token(gql, world.teacher)
    extra = dt.date(2026, 9, 8)
    made = await _do(
        gql, teacher, "createLesson", "lesson { id }", classId=gid("SchoolClass", world.school_class.id),
        subjectId=gid("Subject", world.subject.id), date=extra.isoformat(), startTime="14:00:00",
        endTime="14:45:00", lessonNumber=7,
    )  # fmt: skip
    (added,) = await _inbox(gql, await world.token(gql, world.other_parent), NotificationKind.LESSON)
    assert added["body"] == f"Новый урок — «Математика»: {extra:%d.%m.%Y} в 14:00"
    assert added["payload"]["lessonId"] == made["lesson"]["id"]

    entered = await _do(
        gql, teacher, "enterGrade", "grade { id }", childId=gid("Child", world.child.id),
        lessonId=gid("Lesson", lesson.id), value="3",
    )  # fmt: skip
    await _do(gql, teacher, "deleteGrade", gradeId=entered["grade"]["id"], reason="Не тот ученик")
    deleted, new = await _inbox(gql, await world.token(gql, world.parent), NotificationKind.GRADE)
    assert new["body"] == f"«Математика»: 3 за {lesson.date:%d.%m.%Y}"
    assert deleted["body"] == f"Удалена оценка — «Математика»: 3 за {lesson.date:%d.%m.%Y}"
    # the classmate's family hears of neither grade
    assert await _inbox(gql, await world.token(gql, world.other_parent), NotificationKind.GRADE) == []


async def test_a_parent_of_two_children_hears_once_and_whose_record_it_is(
    gql: GraphQLClient, world: World, lesson: Lesson, session: AsyncSession
) -> None:
    await make_guardianship(session, parent_id=world.parent.id, child_id=world.other_child.id)
    await session.commit()
    teacher = await world.token(gql, world.teacher)
    due = lesson.date + dt.timedelta(days=1)
    await _do(gql, teacher, "assignHomework", "homework { id }", lessonId=gid("Lesson", lesson.id),
              text="Стр. 5", dueOn=due.isoformat())  # fmt: skip
    text = f"«Математика», урок {lesson.date:%d.%m.%Y}: Стр. 5 — сдать до {due:%d.%m.%Y}"

    # one notice for the class's homework, naming both children
    (both,) = await _inbox(gql, await world.token(gql, world.parent), NotificationKind.HOMEWORK)
    assert both["title"] == "Новое домашнее задание"
    assert both["body"] == f"{world.child.first_name}, {world.other_child.first_name}: {text}"
    assert sorted(both["payload"]["childIds"]) == sorted(
        [gid("Child", world.child.id), gid("Child", world.other_child.id)]
    )
    # a parent of one child is told plainly
    (plain,) = await _inbox(gql, await world.token(gql, world.other_parent), NotificationKind.HOMEWORK)
    assert plain["body"] == text

    # a grade of one of the two children names that child
    await _do(gql, teacher, "enterGrade", childId=gid("Child", world.other_child.id),
              lessonId=gid("Lesson", lesson.id), value="4")  # fmt: skip
    (grade,) = await _inbox(gql, await world.token(gql, world.parent), NotificationKind.GRADE)
    assert grade["body"] == f"{world.other_child.first_name}: «Математика»: 4 за {lesson.date:%d.%m.%Y}"
