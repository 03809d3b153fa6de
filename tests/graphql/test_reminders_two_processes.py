"""A homework reminder is sent once and only once, though two server processes run the
scheduler every fraction of a second and cron runs `ediary-gql reminders run` after them."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from contextlib import AsyncExitStack

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.reminders import SentReminder
from ediary_gql.services.school_time import today_in
from ediary_gql.settings import Settings
from tests.factories import (
    make_enrolled_child,
    make_guardianship,
    make_homework,
    make_lesson,
    make_school_class,
    make_user,
)
from tests.support import server_process

SCHEDULER = {
    "REMINDERS_ENABLED": "true",
    "REMINDERS_INTERVAL_SECONDS": "0.1",
    "REMINDER_QUIET_HOURS": "00:00-00:00",  # none: the test runs at any hour
}


async def _count(services: AppServices) -> tuple[int, int]:
    async with services.session_factory() as s:
        notices = await s.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == NotificationKind.HOMEWORK)
        )
        rows = await s.scalar(select(func.count()).select_from(SentReminder))
    return int(notices or 0), int(rows or 0)


async def test_a_homework_reminder_is_sent_once_across_two_processes_and_cron(
    session: AsyncSession, app_services: AppServices, settings: Settings, server: str
) -> None:
    school_class = await make_school_class(session)
    today = today_in("Europe/Moscow")
    families = []
    for _ in range(3):
        child = await make_enrolled_child(session, class_id=school_class.id, user_id=(await make_user(session)).id)
        parent = await make_user(session)
        await make_guardianship(session, parent_id=parent.id, child_id=child.id)
        families.append((child, parent))
    lesson = await make_lesson(session, class_id=school_class.id, date=today)
    await make_homework(session, lesson_id=lesson.id, due_on=today + dt.timedelta(days=1))
    await session.commit()
    expected = 2 * len(families)  # each child's own login and its parent

    async with AsyncExitStack() as servers:
        for _ in range(2):
            await servers.enter_async_context(server_process(settings, **SCHEDULER))
        for _ in range(200):
            if (await _count(app_services))[0] >= expected:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # both schedulers run several more times
    assert await _count(app_services) == (expected, expected)

    cron = subprocess.run(  # noqa: ASYNC221 - the command line, as cron runs it
        [sys.executable, "-m", "ediary_gql.cli", "reminders", "run"],
        env={
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "BROADCAST_URL": settings.broadcast_url,
            "BROADCAST_NAMESPACE": settings.broadcast_namespace,
            "SECRET_KEY": settings.secret_key,
            "REMINDER_QUIET_HOURS": "00:00-00:00",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cron.returncode == 0, cron.stderr
    assert "Sent 0 reminder(s)" in cron.stdout
    assert await _count(app_services) == (expected, expected)
