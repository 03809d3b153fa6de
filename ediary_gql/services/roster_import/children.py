"""The children file: a child found by sourcedId, else by SNILS or birth certificate,
else new; enrolled in the class the row names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.calendar import AcademicYear
from ediary_gql.db.models.children import Child, Enrollment
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import Sex
from ediary_gql.errors import ErrorCode
from ediary_gql.services import changes as change_feed
from ediary_gql.services.changes import ChangeAction, ChangeType
from ediary_gql.services.child_transfers import offer_transfers
from ediary_gql.services.roster_import.cells import date_value, referenced, sourced_ids
from ediary_gql.services.roster_import.lookup import assign, by_external_id, by_ids, chunks
from ediary_gql.services.roster_import.run import Row, Run
from ediary_gql.services.school_setup.children import ChildData, CleanChild, clean_child

SEXES = {"m": Sex.MALE, "male": Sex.MALE, "м": Sex.MALE, "муж": Sex.MALE,
         "f": Sex.FEMALE, "female": Sex.FEMALE, "ж": Sex.FEMALE, "жен": Sex.FEMALE}  # fmt: skip


async def import_children(session: AsyncSession, run: Run, classes: dict[str, SchoolClass]) -> dict[str, Child]:
    rows = sourced_ids(run, "children")
    wanted = rows.keys() | referenced(run, ("guardians", "childSourcedIds"))
    # guardians name children as "a;b;c"
    wanted |= {
        s.strip() for row in run.rows.get("guardians", []) for s in row.get("childSourcedIds").split(";") if s.strip()
    }
    existing = await by_external_id(session, Child, run.school_id, wanted)
    result: dict[str, Child] = {sid: c for sid, c in existing.items() if sid not in rows}
    if not rows:
        return result
    tally = run.tally("children")
    years = await by_ids(session, AcademicYear, {c.academic_year_id for c in classes.values()})
    checked: dict[str, tuple[Row, CleanChild, SchoolClass, dt.date]] = {}
    seen_snils: dict[str, int] = {}
    seen_cert: dict[tuple[str, str], int] = {}
    for sid, row in rows.items():
        bad_before = len(run.problems)
        birth = date_value(run, row, "birthDate", required=True)
        issued = date_value(run, row, "birthCertIssuedOn", required=False)
        enrolled_on = date_value(run, row, "enrolledOn", required=False)
        sex = SEXES.get(row.get("sex").lower())
        if sex is None:
            run.bad(row, "sex", ErrorCode.INVALID if row.get("sex") else ErrorCode.REQUIRED, "Пол: М или Ж")
        klass = classes.get(row.get("classSourcedId"))
        if row.get("classSourcedId") and klass is None:
            run.missing(
                row, "classSourcedId", "classes", [row.get("classSourcedId")], "Класс с таким sourcedId не найден"
            )
        elif not row.get("classSourcedId"):
            run.bad(row, "classSourcedId", ErrorCode.REQUIRED, "Заполните ячейку")
        if birth is None or sex is None:
            continue
        clean = clean_child(
            ChildData(
                last_name=row.get("lastName"),
                first_name=row.get("firstName"),
                middle_name=row.get("middleName") or None,
                birth_date=birth,
                sex=sex,
                snils=row.get("snils") or None,
                cert_series=row.get("birthCertSeries") or None,
                cert_number=row.get("birthCertNumber") or None,
                cert_issued_on=issued,
                citizenship=row.get("citizenship") or "643",
            ),
            today=run.today,
        )
        for key, code, message in clean.problems:
            run.bad(row, _CHILD_COLUMNS.get(key, key), code, message)
        if clean.snils:
            if clean.snils in seen_snils:
                run.bad(row, "snils", ErrorCode.DUPLICATE, f"Этот СНИЛС уже в строке {seen_snils[clean.snils]}")
            seen_snils.setdefault(clean.snils, row.line)
        if clean.cert_series and clean.cert_number:
            cert = (clean.cert_series, clean.cert_number)
            if cert in seen_cert:
                run.bad(
                    row, "birthCertNumber", ErrorCode.DUPLICATE, f"Это свидетельство уже в строке {seen_cert[cert]}"
                )
            seen_cert.setdefault(cert, row.line)
        if klass is None or len(run.problems) != bad_before:
            continue
        year = years.get(klass.academic_year_id)
        starts = enrolled_on or (year.starts_on if year else run.today)
        if year is not None and not year.starts_on <= starts <= year.ends_on:
            run.bad(row, "enrolledOn", ErrorCode.INVALID, "Дата зачисления — внутри учебного года класса")
            continue
        checked[sid] = (row, clean, klass, starts)

    # Children not known by sourcedId may be known by SNILS or birth certificate, among the
    # school's own records only: another school's record is never read, updated or
    # enrolled here (a new record is made, and that school asked: services/child_transfers.py).
    snils = [c.snils for s, (_, c, _, _) in checked.items() if c.snils and s not in existing]
    certs = [
        (c.cert_series, c.cert_number) for s, (_, c, _, _) in checked.items() if c.cert_number and s not in existing
    ]
    held_here = Child.school_id == run.school_id
    by_snils: dict[str, Child] = {}
    by_cert: dict[tuple[str, str], Child] = {}
    for chunk in chunks(snils):
        by_snils.update(
            {
                c.snils: c
                for c in await session.scalars(select(Child).where(held_here, Child.snils.in_(chunk)))
                if c.snils
            }
        )
    for chunk in chunks(certs):
        found = await session.scalars(
            select(Child).where(held_here, tuple_(Child.birth_cert_series, Child.birth_cert_number).in_(chunk))
        )
        by_cert.update({(c.birth_cert_series or "", c.birth_cert_number or ""): c for c in found})
    # … and their identifiers must not belong to another child already.
    for sid, (row, clean, _, _) in list(checked.items()):
        own = existing.get(sid)
        other = by_snils.get(clean.snils or "") or by_cert.get((clean.cert_series or "", clean.cert_number or ""))
        if own is None:
            if other is not None and other.external_id not in (None, sid):
                run.bad(
                    row,
                    "snils" if clean.snils else "birthCertNumber",
                    ErrorCode.DUPLICATE,
                    "Этот ребёнок уже есть у другого sourcedId",
                )
                del checked[sid]
            continue
    # Conflicts of SNILS with other children known by sourcedId in this school.
    if checked:
        ids = {c.snils for _, c, _, _ in checked.values() if c.snils}
        for chunk in chunks(ids):
            for known in await session.scalars(select(Child).where(held_here, Child.snils.in_(chunk))):
                by_snils.setdefault(known.snils or "", known)
        for sid, (row, clean, _, _) in list(checked.items()):
            own = existing.get(sid)
            holder = by_snils.get(clean.snils or "")
            if own is not None and holder is not None and holder is not own:
                run.bad(row, "snils", ErrorCode.DUPLICATE, "Этот СНИЛС уже у другого ребёнка")
                del checked[sid]

    open_enrollments = await _open_enrollments(
        session,
        [c.id for c in existing.values()] + [c.id for c in by_snils.values()] + [c.id for c in by_cert.values()],
    )
    was = {e.id: (e.class_id, e.ends_on) for ones in open_enrollments.values() for e, _ in ones}
    new_rows: list[dict[str, Any]] = []
    new_enrolments: dict[str, tuple[SchoolClass, dt.date]] = {}
    for sid, (_row, clean, klass, starts) in checked.items():
        child = (
            existing.get(sid)
            or by_snils.get(clean.snils or "")
            or by_cert.get((clean.cert_series or "", clean.cert_number or ""))
        )
        values = {**clean.columns(), "school_id": run.school_id, "external_id": sid}
        if child is None:
            new_rows.append(values)
            new_enrolments[sid] = (klass, starts)
            tally.created += 1
            continue
        changed = assign(child, values)
        moved = _enrol_existing(run, child, klass, starts, open_enrollments.get(child.id, []))
        tally.updated += int(changed or moved)
        tally.unchanged += int(not (changed or moved))
        result[sid] = child
    await session.flush()
    # New children and enrolments go in as bulk inserts (a statement per batch, not per row).
    if new_rows:
        await session.execute(insert(Child), new_rows)
        made = await by_external_id(session, Child, run.school_id, new_enrolments)
        result.update(made)
        await offer_transfers(
            session,
            records=list(made.values()),
            school_id=run.school_id,
            requested_by_id=None if run.actor.is_system else run.actor.user_id,
        )
    enrolments = [
        {"child_id": result[sid].id, "class_id": klass.id, "starts_on": starts}
        for sid, (klass, starts) in new_enrolments.items()
    ]
    enrolments += [{"child_id": c.id, "class_id": k.id, "starts_on": d} for c, k, d in run.enrollments]
    started: list[int] = []
    if enrolments:
        started = list(await session.scalars(insert(Enrollment).returning(Enrollment.id), enrolments))
    # the school's change feed: enrolments started, and those ended or moved to another class
    altered = {e.id for ones in open_enrollments.values() for e, _ in ones if (e.class_id, e.ends_on) != was[e.id]}
    for change, enrolment_ids in ((ChangeAction.CREATED, started), (ChangeAction.UPDATED, sorted(altered))):
        change_feed.record(
            session, school_id=run.school_id, type=ChangeType.ENROLLMENT, ids=enrolment_ids, action=change
        )
    return result


_CHILD_COLUMNS = {
    "birthCertificate.series": "birthCertSeries",
    "birthCertificate.number": "birthCertNumber",
    "birthCertificate.issuedOn": "birthCertIssuedOn",
}


async def _open_enrollments(session: AsyncSession, child_ids: Iterable[int]) -> dict[int, list[tuple[Enrollment, int]]]:
    """Open enrolments of these children with the academic year of their class."""
    found: dict[int, list[tuple[Enrollment, int]]] = {}
    for chunk in chunks(set(child_ids)):
        rows = await session.execute(
            select(Enrollment, SchoolClass.academic_year_id)
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(Enrollment.child_id.in_(chunk), Enrollment.ends_on.is_(None))
        )
        for enrollment, year_id in rows.all():
            found.setdefault(enrollment.child_id, []).append((enrollment, year_id))
    return found


def _enrol_existing(
    run: Run,
    child: Child,
    klass: SchoolClass,
    starts: dt.date,
    open_ones: list[tuple[Enrollment, int]],
) -> bool:
    """Make the child's open enrolment of that year be in `klass`; True if it changed.

    A child already in another class of that year is moved on the import day
    (the old enrolment ends the day before and is kept)."""
    same_year = [e for e, year_id in open_ones if year_id == klass.academic_year_id]
    if any(e.class_id == klass.id for e in same_year):
        return False
    move_on = max(run.today, starts)
    for e in same_year:
        if e.starts_on >= move_on:
            e.class_id = klass.id
            return True
        e.ends_on = move_on - dt.timedelta(days=1)
    run.enrollments.append((child, klass, move_on if same_year else starts))
    return True
