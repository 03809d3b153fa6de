"""Every ID a client can see is a global ID under a camelCase key: in notification payloads
(the inbox, `notificationReceived`) and in audit entries' before/after (`auditLog`).

The walks below drive every audited action and every notification kind the services
produce through the API (a CLI-only workflow through its service), then read back every row
they left, in the database and through the API, and find no row number and no snake_case
key. `test_the_walks_cover_every_action_and_kind` keeps them complete: an audited action or
a notification kind added to services/ fails it until a walk produces it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.relay import to_base64

import ediary_gql.services
from ediary_gql.auth.actor import SYSTEM_ACTOR
from ediary_gql.context import AppServices
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import Channel, NotificationKind
from ediary_gql.db.models.notifications import Notification
from ediary_gql.events import channels
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services import grades as grades_service
from ediary_gql.services import public_ids
from ediary_gql.services.applications.notices import notify_overdue
from ediary_gql.services.users import NewUser, create_user
from tests import application_support as apps
from tests import diary_writes_support as diary
from tests import registration_support as reg
from tests.factories import make_enrolled_child, make_guardianship, make_operator, make_user
from tests.graphql.test_child_transfers import CONFIRM, DECLINE, ENROLL, TRANSFERS, _school_a
from tests.graphql.test_register_school import register as register_school
from tests.graphql.test_register_school import school_input, settlement_id
from tests.graphql.test_request_staff_binding import request_binding
from tests.public_ids_support import leaks
from tests.roster_import_support import EXAMPLES, ORDER
from tests.sample_files import tiny_pdf
from tests.support import GraphQLClient, data_of, wait_subscribed, ws_connect

PASSWORD = "correct horse battery"
ERRORS = "userErrors { field code message }"
INBOX = """query($after: String) { notifications(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id kind payload } } } }"""
AUDIT_LOG = """query($after: String) { auditLog(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { action entityType entityId before after } } } }"""
MASK = "***"  # what an operator reads of diary values

# What each walk produces: every audited action and notification kind of services/ is in one.
ACCOUNT_ACTIONS = {
    "register", "confirmContact", "resendConfirmationCode", "signIn", "signInFailed", "signOut",
    "requestPasswordReset", "resetPassword", "rateLimited", "enableTwoFactor", "confirmTwoFactor",
    "disableTwoFactor", "updateNotificationPreferences", "createUser",
}  # fmt: skip
SCHOOL_ACTIONS = {
    "registerSchool", "storeAttachment", "reviewSchool", "openSchool", "requestStaffBinding",
    "reviewStaffBinding", "createAcademicYear", "createSubject", "createControlType", "createClass",
    "assignTeacher", "unassignTeacher", "inviteTeacher", "enrollChild", "moveChild", "importRoster",
}  # fmt: skip
APPLICATION_ACTIONS = {
    "createApplication", "updateApplication", "submitApplication", "reviewApplication",
    "confirmChildTransfer", "declineChildTransfer",
}  # fmt: skip
DIARY_ACTIONS = {
    "createLesson", "updateLesson", "createTimetableTemplate", "generateLessons", "assignHomework",
    "markHomeworkDone", "enterGrade", "correctGrade", "deleteGrade", "markAttendance",
    "markNotificationsRead", "createCalendarFeed", "revokeCalendarFeed",
}  # fmt: skip
ACCOUNT_KINDS = {NotificationKind.VERIFICATION_CODE, NotificationKind.SECURITY}
SCHOOL_KINDS = {NotificationKind.SCHOOL_STATUS, NotificationKind.STAFF_BINDING}
APPLICATION_KINDS = {NotificationKind.APPLICATION_STATUS, NotificationKind.SECURITY}
DIARY_KINDS = {
    NotificationKind.ATTENDANCE, NotificationKind.GRADE, NotificationKind.HOMEWORK, NotificationKind.LESSON,
}  # fmt: skip


def gid(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["userErrors"] == [], payload
    return payload


async def _answer(gql: GraphQLClient, token: str | None, name: str, fields: str, /, **i: Any) -> Any:
    """The payload of mutation `name` (its input type is `<Name>Input`), `fields` and userErrors."""
    query = f"mutation($i: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $i) {{ {fields} {ERRORS} }} }}"
    return (await gql.data(query, {"i": i}, token=token))[name]


async def _do(gql: GraphQLClient, token: str | None, name: str, fields: str = "", /, **i: Any) -> Any:
    """Mutation `name`, which must succeed; its payload."""
    return ok(await _answer(gql, token, name, fields, **i))


async def _pages(gql: GraphQLClient, query: str, field: str, token: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql.data(query, {"after": after}, token=token))[field]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def _inbox(gql: GraphQLClient, token: str) -> list[dict[str, Any]]:
    return await _pages(gql, INBOX, "notifications", token)


async def _assert_public_everywhere(
    gql: GraphQLClient,
    services: AppServices,
    *,
    actions: set[str],
    kinds: set[NotificationKind],
    inbox_readers: Sequence[str] = (),
    operator: str,
    admins: Sequence[str] = (),
) -> None:
    """Every row the walk left, in the database and through the API, names rows by global ID."""
    async with services.session_factory() as s:
        notes = (await s.execute(select(Notification.kind, Notification.payload))).all()
        entries = (
            await s.execute(select(AuditEntry.action, AuditEntry.entity_type, AuditEntry.before, AuditEntry.after))
        ).all()
    # the walk did what it is there for
    assert actions <= {action for action, *_ in entries}, sorted(actions - {a for a, *_ in entries})
    assert kinds <= {NotificationKind(kind) for kind, _ in notes}
    # in the database: every payload, before and after
    found = [f"{kind} payload{p}" for kind, payload in notes for p in leaks(payload)]
    for action, entity_type, before, after in entries:
        for side, values in (("before", before), ("after", after)):
            found += [f"{action} {side}{p}" for p in leaks(values, entity_type=entity_type)]
    # through the API: the inboxes (notifications' payload) and the audit log (its before/after)
    for token in inbox_readers:
        found += [f"inbox {n['kind']} payload{p}" for n in await _inbox(gql, token) for p in leaks(n["payload"])]
    seen = 0
    for token in [operator, *admins]:
        log = await _pages(gql, AUDIT_LOG, "auditLog", token)
        seen = max(seen, len(log))
        for entry in log:
            for side in ("before", "after"):
                values = entry[side]
                masked = values is not None and MASK in str(values)  # diary values an operator does not read
                if not masked:
                    found += [
                        f"auditLog {entry['action']} {side}{p}" for p in leaks(values, entity_type=entry["entityType"])
                    ]
    assert seen == len(entries)  # the operator read every entry
    assert found == []


def test_the_walks_cover_every_action_and_kind() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(ediary_gql.services.__file__).parent.rglob("*.py"))
    actions = {a for pair in re.findall(r'\baction="(\w+)"(?: if [^"]* else "(\w+)")?', source) for a in pair if a}
    actions |= set(re.findall(r'_audit\(session, actor, "(\w+)"', source))  # two_factor
    actions |= set(grades_service._AUDIT_ACTIONS.values())
    kinds = {NotificationKind(k) for k in re.findall(r"kind=NotificationKind\.([A-Z_]+)", source)}
    walked_actions = ACCOUNT_ACTIONS | SCHOOL_ACTIONS | APPLICATION_ACTIONS | DIARY_ACTIONS
    walked_kinds = ACCOUNT_KINDS | SCHOOL_KINDS | APPLICATION_KINDS | DIARY_KINDS
    # Areas walk in modules of their own beside this one (test_public_ids_<area>.py),
    # each naming what its walk produces as ACTIONS and KINDS.
    for module in sorted(Path(__file__).parent.glob("test_public_ids_*.py")):
        area = importlib.import_module(f"tests.graphql.{module.stem}")
        walked_actions |= area.ACTIONS
        walked_kinds |= area.KINDS
    assert actions == walked_actions, (sorted(actions - walked_actions), sorted(walked_actions - actions))
    assert kinds == walked_kinds, (sorted(kinds - walked_kinds), sorted(walked_kinds - kinds))


def test_public_ids_turn_row_ids_into_global_ids() -> None:
    # the examples
    assert public_ids.public({"child_id": 4, "lesson_id": 13, "minutes_late": None}) == {
        "childId": gid("Child", 4),
        "lessonId": gid("Lesson", 13),
        "minutesLate": None,
    }
    assert public_ids.public({"settlementId": 232, "documentId": 2, "applicationIds": [5, 6]}) == {
        "settlementId": gid("Settlement", 232),
        "documentId": gid("Attachment", 2),
        "applicationIds": [gid("Application", 5), gid("Application", 6)],
    }
    # nested values too; `ids` name the entry's own type; data keys and values stay
    nested = {"changes": [{"child_id": 7, "from": None, "to": "ABSENT"}], "ids": [3], "prefs": {"GRADE": ["SMS"]}}
    assert public_ids.public(nested, entity_type="Notification") == {
        "changes": [{"childId": gid("Child", 7), "from": None, "to": "ABSENT"}],
        "ids": [gid("Notification", 3)],
        "prefs": {"GRADE": ["SMS"]},
    }
    # applying it again changes nothing; one encoder, strawberry's
    once = public_ids.public({"schoolId": 3, "sourcedId": "t-1"})
    assert public_ids.public(once) == once == {"schoolId": gid("School", 3), "sourcedId": "t-1"}
    assert public_ids.global_id("Lesson", 13) == to_base64("Lesson", 13)
    # a key that looks like an ID but names no known type fails loudly (an error under pytest)
    with pytest.warns(public_ids.UnknownIdKey, match="wombatId"):
        public_ids.public({"wombatId": 5})


async def test_account_workflows(gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    await make_operator(session, email="operator@example.ru", password=PASSWORD)
    await session.commit()
    op = await gql.sign_in("operator@example.ru", PASSWORD)
    # register, confirm both contacts (one code sent again), sign in, once with a wrong password
    registered = await reg.register(gql)
    token, uid = registered["accessToken"], reg.user_pk(registered["user"]["id"])
    code = await reg.latest_code(app_services, uid, Channel.EMAIL)
    await _do(gql, token, "confirmContact", channel="EMAIL", code=code)
    await reg.move_codes_back(app_services, uid, dt.timedelta(minutes=5))
    await _do(gql, token, "resendConfirmationCode", "sent", channel="SMS")
    code = await reg.latest_code(app_services, uid, Channel.SMS)
    await _do(gql, token, "confirmContact", channel="SMS", code=code)
    refused = await _answer(gql, None, "signIn", "accessToken", login=reg.EMAIL, password="не тот пароль")
    assert refused["accessToken"] is None
    token = await gql.sign_in(reg.EMAIL, reg.PASSWORD)
    prefs = [{"kind": "GRADE", "channels": ["SMS", "EMAIL"]}]
    await _do(gql, token, "updateNotificationPreferences", preferences=prefs)
    # the second factor on and off
    totp = pyotp.TOTP((await _do(gql, token, "enableTwoFactor", "secret", password=reg.PASSWORD))["secret"])
    await _do(gql, token, "confirmTwoFactor", code=totp.now())
    await _do(gql, token, "disableTwoFactor", code=totp.at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)))
    # a password reset; then resets asked for a login nobody has, until throttled
    await reg.move_codes_back(app_services, uid, dt.timedelta(minutes=5))
    await _do(gql, None, "requestPasswordReset", login=reg.EMAIL)
    code = await reg.latest_code(app_services, uid, Channel.EMAIL)
    await _do(gql, None, "resetPassword", login=reg.EMAIL, code=code, newPassword=reg.NEW_PASSWORD)
    for _ in range(10):
        answer = await _answer(gql, None, "requestPasswordReset", "retryAfterSeconds", login="nobody@example.ru")
        if answer["retryAfterSeconds"]:
            break
    # an account made from the command line (`ediary-gql users create`)
    async with unit_of_work(app_services.session_factory, app_services.bus) as s:
        data = NewUser(last_name="Орлова", first_name="Ирина", password=PASSWORD, email="irina@example.ru")
        await create_user(s, actor=SYSTEM_ACTOR, data=data)
    # and signing out, once the inbox is read
    token = await gql.sign_in(reg.EMAIL, reg.NEW_PASSWORD)
    inbox = await _inbox(gql, token)
    await gql.data("mutation { signOut { revokedSessions } }", token=token)
    assert [p for n in inbox for p in leaks(n["payload"])] == []
    await _assert_public_everywhere(gql, app_services, actions=ACCOUNT_ACTIONS, kinds=ACCOUNT_KINDS, operator=op)


async def test_school_workflows(gql: GraphQLClient, session: AsyncSession, app_services: AppServices) -> None:
    await make_operator(session, email="operator@example.ru", password=PASSWORD)
    for email in ("director@example.ru", "olga@example.ru", "invited@example.ru"):
        await make_user(session, email=email, password=PASSWORD)
    await session.commit()
    op = await gql.sign_in("operator@example.ru", PASSWORD)
    director = await gql.sign_in("director@example.ru", PASSWORD)
    # a school registered (with the appointment order), approved and opened
    values = school_input(await settlement_id(session))
    school = ok((await register_school(gql, director, values)).json()["data"]["registerSchool"])["school"]["id"]
    await _do(gql, op, "reviewSchool", schoolId=school, decision="APPROVE")
    await _do(gql, director, "openSchool", schoolId=school)
    # a teacher's request, approved; another teacher invited
    olga = await gql.sign_in("olga@example.ru", PASSWORD)
    binding = ok((await request_binding(gql, olga, values["inn"])).json()["data"]["requestStaffBinding"])
    decided = await _do(
        gql, director, "reviewStaffBinding", "staffBinding { user { id } }",
        bindingId=binding["staffBinding"]["id"], decision="APPROVE",
    )  # fmt: skip
    teacher = decided["staffBinding"]["user"]["id"]
    await _do(gql, director, "inviteTeacher", schoolId=school, email="invited@example.ru")
    # the year, a subject, a control type, two classes, a teacher assigned and unassigned
    halves = [
        {"name": "1 полугодие", "startsOn": "2026-09-01", "endsOn": "2026-12-27"},
        {"name": "2 полугодие", "startsOn": "2027-01-11", "endsOn": "2027-05-31"},
    ]
    year = await _do(
        gql, director, "createAcademicYear", "academicYear { id }", schoolId=school, name="2026/2027",
        startsOn="2026-09-01", endsOn="2027-05-31", periodKind="SEMESTER", periods=halves,
    )  # fmt: skip
    subject = await _do(gql, director, "createSubject", "subject { id }", schoolId=school, name="Химия")
    await _do(gql, director, "createControlType", schoolId=school, code="LAB", name="Лабораторная", weight="1.5")
    classes = []
    for letter in ("А", "Б"):
        made = await _do(
            gql, director, "createClass", "schoolClass { id }", schoolId=school,
            academicYearId=year["academicYear"]["id"], level=8, letter=letter, homeroomTeacherId=teacher,
        )  # fmt: skip
        classes.append(made["schoolClass"]["id"])
    assigned = await _do(
        gql, director, "assignTeacher", "assignment { id }",
        teacherId=teacher, classId=classes[0], subjectId=subject["subject"]["id"],
    )  # fmt: skip
    await _do(gql, director, "unassignTeacher", assignmentId=assigned["assignment"]["id"])
    # a child enrolled, then moved to the other class
    child = {
        "lastName": "Соколов",
        "firstName": "Пётр",
        "birthDate": "2012-04-02",
        "sex": "MALE",
        "snils": "111-222-333 72",
    }
    enrolled = await _do(
        gql, director, "enrollChild", "child { id }", classId=classes[0], child=child, startsOn="2026-09-01"
    )
    await _do(gql, director, "moveChild", childId=enrolled["child"]["id"], toClassId=classes[1], on="2026-10-01")
    # the example roster imported
    files = [(f"{n}.csv", (EXAMPLES / f"{n}.csv").read_bytes(), "text/csv") for n in ORDER if n != "timetable"]
    query = f"mutation($i: ImportRosterInput!) {{ importRoster(input: $i) {{ applied {ERRORS} }} }}"
    variables = {"i": {"schoolId": school, "files": [None] * len(files), "dryRun": False}}
    imported = await gql.upload(query, variables, {f"i.files.{n}": f for n, f in enumerate(files)}, token=director)
    assert ok(imported.json()["data"]["importRoster"])["applied"] is True
    # then the notices name the school and the request as node(id:) and reviewStaffBinding take them
    invited = await gql.sign_in("invited@example.ru", PASSWORD)
    [invitation] = await _inbox(gql, invited)
    assert invitation["payload"]["schoolId"] == school
    [approved] = [n for n in await _inbox(gql, olga) if n["kind"] == "STAFF_BINDING"]
    assert approved["payload"]["staffBindingId"] == binding["staffBinding"]["id"]
    await _assert_public_everywhere(
        gql, app_services, actions=SCHOOL_ACTIONS, kinds=SCHOOL_KINDS,
        inbox_readers=[director, olga, invited], operator=op, admins=[director],
    )  # fmt: skip


async def test_applications_and_child_transfers(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices
) -> None:
    await make_operator(session, email="operator@example.ru", password=PASSWORD)
    await session.commit()
    op = await gql.sign_in("operator@example.ru", PASSWORD)
    # school A holds two children; school B takes applications
    a = await _school_a(session, gql)
    second = await make_enrolled_child(
        session, class_id=a.class_id, last_name="Смирнова", first_name="Ольга", birth_date=dt.date(2019, 3, 3),
        snils="12345678964",
    )  # fmt: skip
    await make_guardianship(session, parent_id=a.guardian.user_id, child_id=second.id)
    await session.commit()
    b = await apps.make_world(session, gql)
    # when B's parent applies (a draft, corrected, submitted) and B's admin approves: A's
    # record of that child is asked for
    data = await apps.with_place(session, b, apps.form(b))
    draft = ok(await apps.create(gql, b.parent.token, data, [("BIRTH_CERTIFICATE", apps.SCAN)]))["application"]["id"]
    await _do(gql, b.parent.token, "updateApplication", applicationId=draft, **data)
    ok(await apps.submit(gql, b.parent.token, draft))
    for action in ("ACCEPT", "START_REVIEW", "APPROVE"):
        ok(await apps.review(gql, b.admin.token, draft, action))
    # and B's admin enrols A's other child: asked for too
    child = {
        "lastName": "Смирнова",
        "firstName": "Ольга",
        "birthDate": "2019-03-03",
        "sex": "FEMALE",
        "snils": "123-456-789 64",
    }
    enrol = {"classId": b.class_gid, "child": child, "startsOn": "2026-09-01"}
    ok((await gql.data(ENROLL, {"i": enrol}, token=b.admin.token))["enrollChild"])
    # and A's guardian confirms the first request while A's admin declines the second
    pending = (await gql.data(TRANSFERS, {"status": "PENDING"}, token=a.admin.token))["childTransfers"]["edges"]
    transfers = {edge["node"]["child"]["id"]: edge["node"]["id"] for edge in pending}
    first, other = transfers[gid("Child", a.child_id)], transfers[gid("Child", second.id)]
    ok((await gql.data(CONFIRM, {"i": {"transferId": first}}, token=a.guardian.token))["confirmChildTransfer"])
    ok((await gql.data(DECLINE, {"i": {"transferId": other}}, token=a.admin.token))["declineChildTransfer"])
    # and another application waits past its due date: B's admins hear of it (a daily job)
    late_parent = await apps.person(session, gql, "papa-b@example.ru")
    late = await apps.with_place(session, b, apps.form(b, lastName="Кузнецов", sex="MALE", snils="987-654-321 83"))
    late_app = ok(await apps.create(gql, late_parent.token, late, [("BIRTH_CERTIFICATE", apps.SCAN)]))["application"]
    ok(await apps.submit(gql, late_parent.token, late_app["id"]))
    async with unit_of_work(app_services.session_factory, app_services.bus) as s:
        assert await notify_overdue(s, now=utcnow() + dt.timedelta(days=30)) == 1
    # then the parent's notices name the application as application(id:) takes it
    notices = [n for n in await _inbox(gql, b.parent.token) if n["kind"] == "APPLICATION_STATUS"]
    assert {n["payload"]["applicationId"] for n in notices} == {draft}
    read = await gql.data("query($id: ID!) { application(id: $id) { id } }", {"id": draft}, token=b.parent.token)
    assert read["application"] == {"id": draft}
    # and the overdue notice lists the late one; A's admin's the transfers, as confirmChildTransfer takes them
    [overdue] = [n["payload"] for n in await _inbox(gql, b.admin.token) if "applicationIds" in n["payload"]]
    assert overdue == {"schoolId": b.school_gid, "applicationIds": [late_app["id"]]}
    asked = {n["payload"].get("childTransferId") for n in await _inbox(gql, a.admin.token)}
    assert {first, other} <= asked
    await _assert_public_everywhere(
        gql, app_services, actions=APPLICATION_ACTIONS, kinds=APPLICATION_KINDS,
        inbox_readers=[b.parent.token, b.admin.token, a.admin.token, a.guardian.token, late_parent.token],
        operator=op, admins=[a.admin.token, b.admin.token],
    )  # fmt: skip


async def test_diary_workflows(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, ws_url: str
) -> None:
    world = await diary.make_world(session)
    teacher, admin = await world.token(gql, world.teacher), await world.token(gql, world.admin)
    parent, op = await world.token(gql, world.parent), await world.token(gql, world.operator)
    ids = {
        "classId": gid("SchoolClass", world.school_class.id),
        "subjectId": gid("Subject", world.subject.id),
        "teacherId": gid("User", world.teacher.id),
    }
    child = gid("Child", world.child.id)
    # a lesson by hand, changed; a timetable, generated
    tuesday = (diary.MONDAY + dt.timedelta(days=1)).isoformat()
    made = await _do(
        gql, teacher, "createLesson", "lesson { id }", **ids, date=tuesday, startTime="10:00:00", endTime="10:45:00"
    )
    lesson = made["lesson"]["id"]
    await _do(gql, teacher, "updateLesson", lessonId=lesson, topic="Дроби")
    slot = {"weekday": 3, "startTime": "12:00:00", "endTime": "12:45:00", "lessonNumber": 5, **ids}
    del slot["classId"]
    template = await _do(
        gql, teacher, "createTimetableTemplate", "template { id }", classId=ids["classId"],
        periodId=gid("Period", world.period.id), name="Основное", slots=[slot],
    )  # fmt: skip
    week = {"from": diary.MONDAY.isoformat(), "to": (diary.MONDAY + dt.timedelta(days=6)).isoformat()}
    await _do(gql, teacher, "generateLessons", templateId=template["template"]["id"], **week)
    # homework with a file, done by the child's parent
    query = f"mutation($i: AssignHomeworkInput!) {{ assignHomework(input: $i) {{ homework {{ id }} {ERRORS} }} }}"
    variables = {"i": {"lessonId": lesson, "text": "№ 12, 14", "dueOn": "2026-09-10", "files": [None]}}
    upload = {"i.files.0": ("Задачи.pdf", tiny_pdf("Задачи"), "application/pdf")}
    sent = (await gql.upload(query, variables, upload, token=teacher)).json()
    homework = ok(sent["data"]["assignHomework"])["homework"]["id"]
    await _do(gql, parent, "markHomeworkDone", homeworkId=homework, childId=child)
    # a grade entered, corrected and deleted
    control = gid("ControlType", world.control_type.id)
    entered = await _do(
        gql, teacher, "enterGrade", "grade { id }", childId=child, lessonId=lesson, value="4", controlTypeId=control
    )
    grade = entered["grade"]["id"]
    await _do(gql, teacher, "correctGrade", gradeId=grade, value="5", reason="Пересчёт")
    await _do(gql, teacher, "deleteGrade", gradeId=grade, reason="Ошибка")
    # the teacher's calendar feed, made and revoked
    await _do(gql, teacher, "createCalendarFeed", "url")
    await gql.data("mutation { revokeCalendarFeed { revoked } }", token=teacher)
    # an absence: the parent hears of it live and in the inbox, and marks it read
    async with ws_connect(ws_url) as ws:
        await ws.start("subscription { notificationReceived { id kind payload } }", token=parent)
        await wait_subscribed(app_services, channels.user_notifications(world.parent.id))
        await _do(gql, teacher, "markAttendance", lessonId=lesson, marks=[{"childId": child, "status": "ABSENT"}])
        live = data_of(await ws.receive())
    assert (live["kind"], live["payload"]["childId"], live["payload"]["lessonId"]) == ("ATTENDANCE", child, lesson)
    [stored] = [n for n in await _inbox(gql, parent) if n["kind"] == "ATTENDANCE"]
    assert stored == live
    await _do(gql, parent, "markNotificationsRead", ids=[stored["id"]])
    # the IDs in the payload are the ones the API takes
    seen = await gql.data("query($id: ID!) { child(id: $id) { id } }", {"id": child}, token=parent)
    assert seen == {"child": {"id": child}}
    assert (await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": lesson}, token=parent))["node"] == {
        "id": lesson
    }
    async with app_services.session_factory() as s:
        read = await s.scalar(select(AuditEntry.after).where(AuditEntry.action == "markNotificationsRead"))
    assert read == {"ids": [stored["id"]], "marked": 1}
    await _assert_public_everywhere(
        gql, app_services, actions=DIARY_ACTIONS, kinds=DIARY_KINDS,
        inbox_readers=[parent, teacher], operator=op, admins=[admin],
    )  # fmt: skip
