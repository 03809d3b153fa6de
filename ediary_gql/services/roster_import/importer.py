"""The import: every file read and checked, then applied in dependency order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services import audit
from ediary_gql.services.roster_import.children import import_children
from ediary_gql.services.roster_import.classes import import_classes
from ediary_gql.services.roster_import.files import ENTITIES, read_file
from ediary_gql.services.roster_import.people import import_guardians, import_teachers
from ediary_gql.services.roster_import.run import ImportFile, ImportResult, Run
from ediary_gql.services.roster_import.subjects import import_subjects
from ediary_gql.services.roster_import.timetable import import_timetable
from ediary_gql.services.school_time import school_today


async def import_roster(
    session: AsyncSession,
    *,
    actor: Actor,
    school_id: int,
    files: Sequence[ImportFile],
    dry_run: bool = True,
    today: dt.date | None = None,
) -> ImportResult:
    """Check every row of `files`; unless `dry_run`, apply them when there is no problem.

    The summary says, per entity, how many rows would be (or were) created,
    updated or left unchanged. Nothing is written on a dry run or when there is
    a problem: rows are staged in the session and the caller rolls it back
    (raise `RosterRejected`)."""
    policy.require_confirmed(actor)
    policy.ensure(
        policy.can_import_roster(actor, school_id),
        "Импортировать данные может ответственный за дневник школы или её интеграция",
    )
    if not files:
        raise DomainError(ErrorCode.REQUIRED, "Приложите хотя бы один файл", field="files")
    run = Run(school_id=school_id, actor=actor, today=today or await school_today(session, school_id))
    for file in files:
        read_file(run, file)
    # In dependency order: later files refer to earlier ones by sourcedId.
    subjects = await import_subjects(session, run)
    teachers = await import_teachers(session, run)
    classes = await import_classes(session, run, teachers)
    children = await import_children(session, run, classes)
    await import_guardians(session, run, children)
    await import_timetable(session, run, classes, subjects, teachers)
    await session.flush()
    summary = [run.tallies[e] for e in ENTITIES if e in run.tallies]
    applied = not dry_run and not run.problems
    if applied:
        audit.record(
            session,
            actor=actor,
            action="importRoster",
            entity_type="School",
            entity_id=school_id,
            school_id=school_id,
            after={t.entity: {"created": t.created, "updated": t.updated, "unchanged": t.unchanged} for t in summary},
        )
    return ImportResult(applied=applied, summary=summary, problems=run.problems)
