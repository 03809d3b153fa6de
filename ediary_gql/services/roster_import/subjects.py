"""The subjects file: a subject found by sourcedId, else by name (made by hand), else new."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.classes import Subject
from ediary_gql.services.roster_import.cells import optional_text, required_text, sourced_ids
from ediary_gql.services.roster_import.lookup import assign, by_external_id, chunks
from ediary_gql.services.roster_import.run import Run


async def import_subjects(session: AsyncSession, run: Run) -> dict[str, Subject]:
    rows = sourced_ids(run, "subjects")
    existing = await by_external_id(session, Subject, run.school_id, rows)
    names = {r.get("name") for r in rows.values() if r.get("name")}
    by_name: dict[str, Subject] = {}
    for chunk in chunks(names):
        by_name.update(
            {
                s.name: s
                for s in await session.scalars(
                    select(Subject).where(Subject.school_id == run.school_id, Subject.name.in_(chunk))
                )
            }
        )
    result: dict[str, Subject] = {}
    seen_names: dict[str, int] = {}
    if not rows:
        return {}
    tally = run.tally("subjects")
    for sid, row in rows.items():
        name = required_text(run, row, "name")
        short = optional_text(run, row, "shortName", 50)
        if name is None:
            continue
        ok, subject = run.claim(
            row,
            "name",
            sid=sid,
            key=name,
            seen=seen_names,
            own=existing.get(sid),
            by_key=by_name,
            again="Такой предмет уже в строке",
            taken="Предмет с таким названием уже есть у другого sourcedId",
        )
        if not ok:
            continue
        if subject is None:
            subject = Subject(school_id=run.school_id, name=name, short_name=short, external_id=sid)
            session.add(subject)
            tally.created += 1
        elif assign(subject, {"name": name, "short_name": short, "external_id": sid}):
            tally.updated += 1
        else:
            tally.unchanged += 1
        result[sid] = subject
    return result
