"""Revision 6d8f2e3b0c12: notification payloads and audit entries stored with row ids are
rewritten with global IDs under camelCase keys, as services/public_ids writes them now."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa

from ediary_gql.db.engine import create_engine, create_session_factory
from ediary_gql.db.migrate import MIGRATIONS, downgrade, upgrade
from ediary_gql.db.models.audit import AuditEntry
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.notifications import Notification
from ediary_gql.services import public_ids
from ediary_gql.services.public_ids import global_id as gid
from tests.db.test_migrations import scratch_url  # noqa: F401 - the fixture
from tests.factories import make_audit_entry, make_notification

REVISION, BEFORE = "6d8f2e3b0c12", "5c7e1d2a9b01"

# What the code wrote before this revision (one of each shape): (entity_type, values).
LEGACY_PAYLOADS: list[dict[str, Any]] = [
    {"applicationId": 5, "number": "ED-2026-000005", "status": "SUBMITTED"},
    {"child_id": 4, "lesson_id": 13, "status": "ABSENT", "minutes_late": None},
    {"schoolId": 3, "applicationIds": [5, 6]},
    {"childTransferId": 2, "childId": 4},
    {"staffBindingId": 7, "schoolId": 3, "status": "ACTIVE"},
    {"schoolId": 3, "invitationId": 1},
    {"childIds": [4, 9]},
    {"childId": 4, "gradeId": 11},
    {"purpose": "EMAIL", "channel": "EMAIL"},
    {},
]
LEGACY_AUDIT: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = [
    ("registerSchool", "School", None, {"inn": "7707083893", "settlementId": 232, "appointmentDocumentId": 2}),
    ("requestStaffBinding", "StaffBinding", None, {"role": "TEACHER", "documentId": 2, "comment": None}),
    ("markNotificationsRead", "Notification", None, {"ids": [1, 2], "marked": 2}),
    ("markNotificationsRead", "Notification", None, {"ids": None, "marked": 3}),
    ("markAttendance", "Lesson", None, {"changes": [{"child_id": 4, "from": None, "to": "ABSENT"}]}),
    (
        "updateLesson",
        "Lesson",
        {"class_id": 8, "teacher_id": 21, "substitute_teacher_id": None, "start_time": "09:00"},
        {"class_id": 8, "teacher_id": 21, "substitute_teacher_id": 22, "start_time": "09:10"},
    ),
    ("assignHomework", "Homework", None, {"lesson_id": 13, "due_on": "2026-09-09", "attachments": [3, 4]}),
    ("moveChild", "Child", {"classId": 8, "startsOn": "2026-09-01"}, {"fromClassId": 8, "toClassId": 9}),
    ("reviewApplication", "Application", {"status": "IN_REVIEW"}, {"status": "APPROVED", "child_id": 4}),
    ("updateNotificationPreferences", "User", {"notificationPrefs": {}}, {"notificationPrefs": {"GRADE": ["SMS"]}}),
    ("signIn", "AuthSession", None, None),
]


def _migration() -> ModuleType:
    [path] = (MIGRATIONS / "versions").glob(f"*_{REVISION}_*.py")
    spec = importlib.util.spec_from_file_location(f"migration_{REVISION}", Path(path))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_converts_as_the_code_writes() -> None:
    migration = _migration()
    # its own copy of the table agrees with the code's
    for key, type_name in migration.ID_KEYS.items():
        assert public_ids.ID_KEYS[key] == type_name, key
    assert migration.ID_LIST_KEYS.items() <= public_ids.ID_LIST_KEYS.items()
    # and every shape stored so far comes out as public_ids makes it now
    for payload in LEGACY_PAYLOADS:
        assert migration.convert(payload) == public_ids.public(payload)
    for _, entity_type, before, after in LEGACY_AUDIT:
        for values in (before, after):
            assert migration.convert(values, entity_type) == public_ids.public(values, entity_type=entity_type)


async def test_stored_payloads_and_audit_entries_get_global_ids(scratch_url: str) -> None:  # noqa: F811
    # given notifications and audit entries stored as the code wrote them before
    await asyncio.to_thread(upgrade, scratch_url)
    engine = create_engine(scratch_url)
    try:
        async with create_session_factory(engine)() as session:
            for payload in LEGACY_PAYLOADS:
                await make_notification(session, kind=NotificationKind.APPLICATION_STATUS, payload=payload)
            for action, entity_type, before, after in LEGACY_AUDIT:
                await make_audit_entry(session, action=action, entity_type=entity_type, before=before, after=after)
            await session.commit()
        await asyncio.to_thread(downgrade, scratch_url, BEFORE)
        # when the migration runs (twice: it changes nothing the second time)
        await asyncio.to_thread(upgrade, scratch_url)
        await asyncio.to_thread(downgrade, scratch_url, BEFORE)
        await asyncio.to_thread(upgrade, scratch_url)
        async with create_session_factory(engine)() as session:
            payloads = list(await session.scalars(sa.select(Notification.payload).order_by(Notification.id)))
            entries = (await session.execute(sa.select(AuditEntry).order_by(AuditEntry.id))).scalars().all()
        # then the examples name their rows by global ID, under camelCase keys
        assert payloads[0] == {
            "applicationId": gid("Application", 5),
            "number": "ED-2026-000005",
            "status": "SUBMITTED",
        }
        assert payloads[1] == {
            "childId": gid("Child", 4),
            "lessonId": gid("Lesson", 13),
            "status": "ABSENT",
            "minutesLate": None,
        }
        assert payloads[2] == {
            "schoolId": gid("School", 3),
            "applicationIds": [gid("Application", 5), gid("Application", 6)],
        }
        assert entries[0].after == {
            "inn": "7707083893",
            "settlementId": gid("Settlement", 232),
            "appointmentDocumentId": gid("Attachment", 2),
        }
        assert entries[1].after is not None
        assert entries[1].after["documentId"] == gid("Attachment", 2)
        assert entries[2].after == {"ids": [gid("Notification", 1), gid("Notification", 2)], "marked": 2}
        # and every row as the code writes it now
        assert payloads == [public_ids.public(p) for p in LEGACY_PAYLOADS]
        assert [(e.before, e.after) for e in entries] == [
            (public_ids.public(b, entity_type=t), public_ids.public(a, entity_type=t)) for _, t, b, a in LEGACY_AUDIT
        ]
    finally:
        await engine.dispose()
