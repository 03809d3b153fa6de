"""The teachers and guardians files: a person found by sourcedId, else by phone or
email, else a new TEMPORARY account; teachers become the school's staff, guardians
are linked to their children."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.children import Child, Guardianship
from ediary_gql.db.models.enums import StaffRole, UserStatus
from ediary_gql.db.models.school_setup import RosterLink
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import User
from ediary_gql.errors import ErrorCode
from ediary_gql.services import person_names
from ediary_gql.services.roster_import.cells import contacts, name_value, referenced, sourced_ids
from ediary_gql.services.roster_import.lookup import assign, by_ids, chunks, roster_links, users_by_contacts
from ediary_gql.services.roster_import.run import Row, Run


@dataclass(slots=True)
class _People:
    """A teachers or guardians file: its well-formed rows (with their clean contacts) and
    the accounts they may be, linked by sourcedId or holding the same phone or email."""

    entity: str
    kind: str  # of the roster links
    checked: dict[str, tuple[Row, str | None, str | None]]
    links: dict[str, RosterLink]
    linked: dict[int, User]
    by_phone: dict[str, User]
    by_email: dict[str, User]


async def _read_people(session: AsyncSession, run: Run, entity: str, kind: str) -> _People:
    rows = sourced_ids(run, entity)
    checked: dict[str, tuple[Row, str | None, str | None]] = {}
    for sid, row in rows.items():
        bad_before = len(run.problems)
        name_value(run, row, "lastName", required=True)
        name_value(run, row, "firstName", required=True)
        name_value(run, row, "middleName", required=False)
        phone, email = contacts(run, row)
        if len(run.problems) == bad_before:
            checked[sid] = (row, phone, email)
    links = await roster_links(session, run.school_id, kind, rows)
    linked = await by_ids(session, User, (link.target_id for link in links.values()))
    by_phone, by_email = await users_by_contacts(
        session, (p for _, p, _ in checked.values() if p), (e for _, _, e in checked.values() if e)
    )
    return _People(entity, kind, checked, links, linked, by_phone, by_email)


async def _match_people(session: AsyncSession, run: Run, people: _People) -> dict[str, User]:
    """The user of each checked row, by sourcedId, linked to it once every new account has its id."""
    result: dict[str, User] = {}
    claimed: dict[int, int] = {}
    for sid, (row, phone, email) in people.checked.items():
        user = _person(session, run, people, claimed, sid, row, phone, email)
        if user is not None:
            result[sid] = user
    await session.flush()
    for sid, user in result.items():
        link = people.links.get(sid)
        if link is None:
            session.add(RosterLink(school_id=run.school_id, kind=people.kind, external_id=sid, target_id=user.id))
        elif link.target_id != user.id:
            link.target_id = user.id
    return result


def _person(
    session: AsyncSession,
    run: Run,
    people: _People,
    claimed: dict[int, int],
    sid: str,
    row: Row,
    phone: str | None,
    email: str | None,
) -> User | None:
    """The user of a teachers/guardians row: linked by sourcedId, else found by contact, else new."""
    link = people.links.get(sid)
    user = people.linked.get(link.target_id) if link is not None else None
    found = (people.by_phone.get(phone) if phone else None) or (people.by_email.get(email) if email else None)
    if user is None:
        user = found
    elif found is not None and found is not user:
        run.bad(
            row, "email" if email else "phone", ErrorCode.CONFLICT, "Этот контакт принадлежит другой учётной записи"
        )
        return None
    if user is not None and claimed.get(id(user), row.line) != row.line:
        run.bad(row, "sourcedId", ErrorCode.DUPLICATE, f"Тот же человек, что в строке {claimed[id(user)]}")
        return None
    names = {  # as the rule tidies them (_read_people checked them)
        "last_name": person_names.tidy(row.get("lastName")),
        "first_name": person_names.tidy(row.get("firstName")),
        "middle_name": person_names.tidy(row.get("middleName")) or None,
    }
    tally = run.tally(people.entity)
    if user is None:
        # A new account: no usable password until the person sets one with requestPasswordReset.
        user = User(
            phone=phone,
            email=email,
            password_hash="!" + secrets.token_hex(16),
            status=UserStatus.TEMPORARY,
            **names,
        )
        session.add(user)
        tally.created += 1
    else:
        # Contacts and names of an account of its own are the person's: only a
        # TEMPORARY account made by an import is brought up to date.
        changed = assign(user, names) if user.status == UserStatus.TEMPORARY else False
        if link is None or link.external_id != sid:
            changed = True
        tally.updated += int(changed)
        tally.unchanged += int(not changed)
    if phone:
        people.by_phone[phone] = user
    if email:
        people.by_email[email] = user
    claimed[id(user)] = row.line  # by object: a new account has no id yet
    return user


async def import_teachers(session: AsyncSession, run: Run) -> dict[str, User]:
    if "teachers" not in run.rows:
        links = await roster_links(
            session,
            run.school_id,
            "TEACHER",
            referenced(run, ("classes", "homeroomTeacherSourcedId"), ("timetable", "teacherSourcedId")),
        )
        users = await by_ids(session, User, (link.target_id for link in links.values()))
        return {sid: users[link.target_id] for sid, link in links.items() if link.target_id in users}
    run.tally("teachers")
    result = await _match_people(session, run, await _read_people(session, run, "teachers", "TEACHER"))
    # Teachers the school's admin lists are the school's teachers.
    ids = [u.id for u in result.values()]
    members: dict[int, StaffMembership] = {}
    for chunk in chunks(ids):
        rows = await session.scalars(
            select(StaffMembership).where(
                StaffMembership.school_id == run.school_id,
                StaffMembership.role == StaffRole.TEACHER,
                StaffMembership.user_id.in_(chunk),
            )
        )
        members.update({m.user_id: m for m in rows})
    for user_id in ids:
        member = members.get(user_id)
        if member is None:
            session.add(StaffMembership(user_id=user_id, school_id=run.school_id, role=StaffRole.TEACHER, active=True))
        elif not member.active:
            member.active = True
    return result


async def import_guardians(session: AsyncSession, run: Run, children: dict[str, Child]) -> None:
    if "guardians" not in run.rows:
        return
    run.tally("guardians")
    people = await _read_people(session, run, "guardians", "GUARDIAN")
    wards: dict[str, list[Child]] = {}
    for sid, (row, _, _) in list(people.checked.items()):
        ids = [s.strip() for s in row.get("childSourcedIds").split(";") if s.strip()]
        missing = [s for s in ids if s not in children]
        if not ids:
            run.bad(row, "childSourcedIds", ErrorCode.REQUIRED, "Укажите sourcedId детей через ;")
        elif missing:
            run.missing(row, "childSourcedIds", "children", missing, f"Нет детей с sourcedId: {', '.join(missing)}")
        if not ids or missing:
            del people.checked[sid]
            continue
        wards[sid] = [children[s] for s in ids]
    result = await _match_people(session, run, people)
    pairs = {(result[sid].id, child.id) for sid in result for child in wards[sid]}
    have: set[tuple[int, int]] = set()
    for chunk in chunks(pairs):
        rows = await session.execute(
            select(Guardianship.parent_id, Guardianship.child_id).where(
                tuple_(Guardianship.parent_id, Guardianship.child_id).in_(chunk)
            )
        )
        have.update((p, c) for p, c in rows.all())
    for parent_id, child_id in sorted(pairs - have):
        session.add(Guardianship(parent_id=parent_id, child_id=child_id))
