"""Signing in and out: sessions, access and refresh tokens, authentication."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, bindparam, literal, null, select, type_coerce, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import tokens
from ediary_gql.auth.actor import Actor
from ediary_gql.auth.passwords import hash_password, needs_rehash, verify_password
from ediary_gql.db import replicas
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.children import Child, Guardianship
from ediary_gql.db.models.enums import NotificationKind, StaffRole, UserStatus
from ediary_gql.db.models.schools import StaffMembership
from ediary_gql.db.models.users import AuthSession, User
from ediary_gql.db.reads import Reads, ReadStatement
from ediary_gql.errors import DomainError, ErrorCode, RecordedRefusal
from ediary_gql.events.publish import queue_event
from ediary_gql.events.types import SessionRevoked
from ediary_gql.services import audit, consents, sign_in_guard, two_factor
from ediary_gql.services.contacts import looks_like_email, normalize_email, normalize_phone
from ediary_gql.services.notifications import notify
from ediary_gql.settings import Settings


@dataclass(frozen=True, slots=True)
class TokenPair:
    user: User
    session_id: int
    access_token: str
    access_expires_at: dt.datetime
    refresh_token: str
    refresh_expires_at: dt.datetime


def _bad_credentials() -> DomainError:
    return DomainError(ErrorCode.INVALID_CREDENTIALS, "Неверный логин или пароль", field="password")


async def find_by_login(session: AsyncSession, login: str, *, for_update: bool = False) -> User | None:
    """A user by email or phone, as typed; None if the login is not a valid contact.

    `for_update` locks the row, so concurrent attempts on one account are counted one by one.
    """
    try:
        if looks_like_email(login):
            stmt = select(User).where(User.email == normalize_email(login))
        else:
            stmt = select(User).where(User.phone == normalize_phone(login))
    except DomainError:
        return None
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


def _issue(settings: Settings, user: User, auth: AuthSession, secret: str, now: dt.datetime) -> TokenPair:
    access, access_exp = tokens.issue_access_token(
        secret_key=settings.secret_key,
        user_id=user.id,
        session_id=auth.id,
        ttl=dt.timedelta(seconds=settings.access_token_ttl_seconds),
        now=now,
    )
    return TokenPair(
        user=user,
        session_id=auth.id,
        access_token=access,
        access_expires_at=access_exp,
        refresh_token=tokens.format_refresh_token(auth.id, secret),
        refresh_expires_at=auth.expires_at,
    )


async def sign_in(
    session: AsyncSession,
    *,
    settings: Settings,
    login: str,
    password: str,
    user_agent: str | None = None,
    ip: str | None = None,
    totp_code: str | None = None,
) -> TokenPair:
    """Check the credentials (and the TOTP code once the second factor is on) and open a session.

    Throttled per account and per client address (services/sign_in_guard.py).
    Refusals that must be kept (a counted failure, its audit entry) are raised
    as RecordedRefusal: the caller commits, then reports them.
    """
    now = utcnow()
    blocked_until = await sign_in_guard.address_blocked_until(session, ip=ip, now=now)
    if blocked_until is not None:
        raise _refused(session, None, "ADDRESS_BLOCKED", sign_in_guard.address_blocked(blocked_until, now))
    user = await find_by_login(session, login.strip(), for_update=True)
    if user is not None:
        locked_until = await sign_in_guard.account_locked_until(session, user_id=user.id, now=now)
        if locked_until is not None:
            raise _refused(session, user, "ACCOUNT_LOCKED", sign_in_guard.account_locked(locked_until, now))
    # verify even for an unknown login, so timing does not tell which logins exist
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise await _failed(session, user, ip, now, "INVALID_CREDENTIALS", _bad_credentials())
    if user.status == UserStatus.BLOCKED:
        raise _refused(
            session, user, "BLOCKED", DomainError(ErrorCode.FORBIDDEN, "Учётная запись заблокирована", field="login")
        )
    if user.totp_enabled:
        if not (totp_code or "").strip():
            raise DomainError(
                ErrorCode.TWO_FACTOR_REQUIRED,
                "Включён вход с кодом: введите код из приложения-аутентификатора",
                field="totpCode",
            )
        checked = two_factor.check_code(user, totp_code or "", now)
        if checked is two_factor.CodeCheck.REUSED:
            # still a failed attempt (counted like any other), but the message says to wait for the next code
            reused = DomainError(ErrorCode.INVALID_CREDENTIALS, two_factor.REUSED_CODE_MESSAGE, field="totpCode")
            raise await _failed(session, user, ip, now, "REUSED_TOTP_CODE", reused)
        if checked is not two_factor.CodeCheck.ACCEPTED:
            wrong = DomainError(ErrorCode.INVALID_CREDENTIALS, two_factor.WRONG_CODE_MESSAGE, field="totpCode")
            raise await _failed(session, user, ip, now, "WRONG_TOTP_CODE", wrong)
    await sign_in_guard.reset_account(session, user_id=user.id)
    # no session without consent to the text in force (withdrawn, or a new version): CONSENT_REQUIRED
    await consents.require(session, user=user, settings=settings)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return await open_session(
        session, settings=settings, user=user, user_agent=user_agent, ip=ip, now=now, action="signIn"
    )


def _refused(session: AsyncSession, user: User | None, reason: str, error: DomainError) -> RecordedRefusal:
    """Audit a refused sign-in; the refusal is committed with its audit entry."""
    audit.record(
        session,
        actor=None,
        action="signInFailed",
        entity_type="User",
        entity_id=user.id if user else None,
        after={"reason": reason},
    )
    return RecordedRefusal(error)


async def _failed(
    session: AsyncSession, user: User | None, ip: str | None, now: dt.datetime, reason: str, error: DomainError
) -> RecordedRefusal:
    """Count a failed attempt; tell the person when it locks their account."""
    locked = await sign_in_guard.record_failure(session, user_id=user.id if user else None, ip=ip, now=now)
    if locked and user is not None:
        await notify(
            session,
            user=user,
            kind=NotificationKind.SECURITY,
            title="Вход в учётную запись временно заблокирован",
            body=(
                f"{sign_in_guard.ACCOUNT_MAX_FAILURES} неудачных попыток входа за "
                f"{int(sign_in_guard.ACCOUNT_WINDOW.total_seconds() // 60)} минут: вход заблокирован на "
                f"{int(sign_in_guard.ACCOUNT_LOCK.total_seconds() // 60)} минут. Если это были не вы, "
                "смените пароль."
            ),
        )
    return _refused(session, user, reason, error)


async def open_session(
    session: AsyncSession,
    *,
    settings: Settings,
    user: User,
    user_agent: str | None = None,
    ip: str | None = None,
    now: dt.datetime | None = None,
    action: str,
) -> TokenPair:
    """A new signed-in session of `user` (the credentials were checked by the caller); audited
    as `action`, the mutation that signed in (signIn, signInWithProvider, …)."""
    now = now or utcnow()
    secret = tokens.new_secret()
    auth = AuthSession(
        user_id=user.id,
        refresh_hash=tokens.hash_secret(secret),
        created_at=now,
        last_used_at=now,
        expires_at=now + dt.timedelta(seconds=settings.refresh_token_ttl_seconds),
        user_agent=(user_agent or "")[:300] or None,
        ip=ip,
    )
    session.add(auth)
    await session.flush()
    actor = Actor(user_id=user.id, session_id=auth.id, status=user.status)
    audit.record(session, actor=actor, action=action, entity_type="AuthSession", entity_id=auth.id)
    return _issue(settings, user, auth, secret, now)


async def refresh(session: AsyncSession, *, settings: Settings, refresh_token: str) -> TokenPair | None:
    """Rotate a refresh token.

    A reused (already rotated) token means someone else holds a copy: the
    session is revoked and None returned, so the caller commits the revocation
    and refuses the request.
    """
    session_id, secret = tokens.parse_refresh_token(refresh_token)
    auth = await session.get(AuthSession, session_id, with_for_update=True)
    now = utcnow()
    invalid = DomainError(ErrorCode.TOKEN_INVALID, "Недействительный токен обновления", field="refreshToken")
    if auth is None:
        raise invalid
    if auth.revoked_at is not None:
        raise DomainError(ErrorCode.TOKEN_REVOKED, "Сеанс завершён, войдите снова", field="refreshToken")
    if auth.expires_at <= now:
        raise DomainError(ErrorCode.TOKEN_EXPIRED, "Срок действия сеанса истёк, войдите снова", field="refreshToken")
    if not tokens.secrets_match(secret, auth.refresh_hash):
        auth.revoked_at = now
        queue_event(session, SessionRevoked(user_id=auth.user_id, session_id=auth.id))
        return None
    user = await session.get(User, auth.user_id)
    if user is None or user.status == UserStatus.BLOCKED:
        raise invalid
    new_secret = tokens.new_secret()
    auth.refresh_hash = tokens.hash_secret(new_secret)
    auth.last_used_at = now
    return _issue(settings, user, auth, new_secret, now)


async def sign_out(session: AsyncSession, *, actor: Actor, all_devices: bool = False) -> int:
    """Revoke this session (or all of the user's); returns how many were revoked."""
    now = utcnow()
    stmt = update(AuthSession).where(AuthSession.user_id == actor.user_id, AuthSession.revoked_at.is_(None))
    if not all_devices:
        stmt = stmt.where(AuthSession.id == actor.session_id)
    result = await session.execute(stmt.values(revoked_at=now))
    revoked = int(result.rowcount or 0)  # type: ignore[attr-defined]
    queue_event(
        session,
        SessionRevoked(user_id=actor.user_id, session_id=None if all_devices else actor.session_id),
    )
    audit.record(
        session,
        actor=actor,
        action="signOut",
        entity_type="AuthSession",
        entity_id=None if all_devices else actor.session_id,
        after={"allDevices": all_devices, "revoked": revoked},
    )
    return revoked


# Every request authenticates: its statements are built once, for one user, with bound
# parameters (building them and rendering IN lists per request cost more than running them).
_users = User.__table__
_sessions = AuthSession.__table__
_USER = bindparam("user", type_=Integer)


def _roles_branches(users: ColumnElement[bool], wards: ColumnElement[bool], own: ColumnElement[bool]) -> list[Any]:
    """(kind, user id, ref, role): "M" a staff membership (school, role), "G" a ward
    (child), "S" the user's own child record."""
    memberships = StaffMembership.__table__.c
    guardianships = Guardianship.__table__.c
    children = Child.__table__.c
    return [
        select(literal("M"), memberships.user_id, memberships.school_id, memberships.role).where(
            users, memberships.active.is_(True)
        ),
        select(literal("G"), guardianships.parent_id, guardianships.child_id, literal(None)).where(wards),
        select(literal("S"), children.user_id, children.id, literal(None)).where(own),
    ]


def _roles_query(users: ColumnElement[bool], wards: ColumnElement[bool], own: ColumnElement[bool]) -> Any:
    return union_all(*_roles_branches(users, wards, own))


_ROLES_OF_USER_BRANCHES = _roles_branches(
    StaffMembership.__table__.c.user_id == _USER,
    Guardianship.__table__.c.parent_id == _USER,
    Child.__table__.c.user_id == _USER,
)
_ROLES_OF_USER = union_all(*_ROLES_OF_USER_BRANCHES)
# A request's authentication in one round trip: a "U" row with the session's facts (the
# user's status and operator flag, the session's revocation and expiry), then the roles.
_AUTHENTICATION = ReadStatement(
    union_all(
        select(
            literal("U"),
            _users.c.id,
            null(),
            type_coerce(_users.c.status, String),  # a plain string column: the roles' rows share it
            _users.c.is_operator,
            _sessions.c.revoked_at,
            _sessions.c.expires_at,
            _sessions.c.wrote_lsn,
        )
        .select_from(_users.join(_sessions, _sessions.c.user_id == _users.c.id))
        .where(_users.c.id == _USER, _sessions.c.id == bindparam("session", type_=Integer)),
        *(branch.add_columns(null(), null(), null(), null()) for branch in _ROLES_OF_USER_BRANCHES),
    )
)


async def authenticate(reads: Reads, *, settings: Settings, token: str) -> Actor:
    """The actor behind an access token; expired, revoked and forged tokens are refused."""
    claims = tokens.decode_access_token(token, secret_key=settings.secret_key)
    # with read replicas: the caller's own writes are read on the primary. A person's session
    # keeps its last write position on its row (read below, in every process); an integration's
    # one session is shared by all its parallel clients, so its position stays in this process
    replicas.reading_as(claims.user_id, session_id=claims.session_id if claims.integration_id is None else None)
    params = {"user": claims.user_id, "session": claims.session_id}
    # Always on the primary: a replica that lags would still show a session revoked (sign-out,
    # password reset, a revoked integration), a blocked account or an ended role as in force.
    with replicas.on_primary():
        rows = await reads.rows(_AUTHENTICATION, params)
    facts = next((row for row in rows if row[0] == "U"), None)
    if facts is None:
        raise DomainError(ErrorCode.TOKEN_INVALID, "Недействительный токен")
    status, is_operator, revoked_at, expires_at = UserStatus(facts[3]), bool(facts[4]), facts[5], facts[6]
    replicas.session_wrote_at(int(facts[7] or 0))
    if revoked_at is not None or expires_at <= utcnow():
        raise DomainError(ErrorCode.TOKEN_REVOKED, "Сеанс завершён, войдите снова")
    if status == UserStatus.BLOCKED:
        raise DomainError(ErrorCode.TOKEN_REVOKED, "Учётная запись заблокирована")
    if claims.integration_id is not None:
        # an integration (client credentials): its scopes at its school, and no person's roles;
        # revoking it revokes its session, refused above like a signed-out one
        return Actor(
            user_id=claims.user_id,
            session_id=claims.session_id,
            status=status,
            integration_id=claims.integration_id,
            integration_school_id=claims.school_id,
            scopes=claims.scopes,
        )
    roles = _collect_roles(tuple(row)[:4] for row in rows if row[0] != "U").get(claims.user_id, _Roles())
    return roles.actor(user_id=claims.user_id, session_id=claims.session_id, status=status, is_operator=is_operator)


async def load_actor(
    session: AsyncSession, *, user_id: int, session_id: int | None, status: UserStatus, is_operator: bool
) -> Actor:
    """The actor's roles in one statement: memberships, wards, own child record."""
    found = _collect_roles((await session.execute(_ROLES_OF_USER, {"user": user_id})).all())
    roles = found.get(user_id, _Roles())
    return roles.actor(user_id=user_id, session_id=session_id, status=status, is_operator=is_operator)


async def load_actors(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, Actor]:
    """The current facts of several users, by id, in two statements; users that do not
    exist are left out. Their `session_id` is None: the caller knows which session acts."""
    ids = list(user_ids)
    if not ids:
        return {}
    users = (await session.execute(select(User.id, User.status, User.is_operator).where(User.id.in_(ids)))).all()
    roles = await _roles(session, ids)
    return {
        user_id: roles.get(user_id, _Roles()).actor(
            user_id=user_id, session_id=None, status=status, is_operator=is_operator
        )
        for user_id, status, is_operator in users
    }


@dataclass(slots=True)
class _Roles:
    memberships: set[tuple[int, StaffRole]] = field(default_factory=set)
    wards: set[int] = field(default_factory=set)
    student_child: int | None = None

    def actor(self, *, user_id: int, session_id: int | None, status: UserStatus, is_operator: bool) -> Actor:
        return Actor(
            user_id=user_id,
            session_id=session_id,
            status=status,
            is_operator=is_operator,
            memberships=frozenset(self.memberships),
            guardian_of=frozenset(self.wards),
            student_child_id=self.student_child,
        )


async def _roles(session: AsyncSession, user_ids: list[int]) -> dict[int, _Roles]:
    """Memberships, wards and own child record of each user, in one statement."""
    query = _roles_query(
        StaffMembership.__table__.c.user_id.in_(user_ids),
        Guardianship.__table__.c.parent_id.in_(user_ids),
        Child.__table__.c.user_id.in_(user_ids),
    )
    return _collect_roles((await session.execute(query)).all())


def _collect_roles(rows: Iterable[Any]) -> dict[int, _Roles]:
    found: dict[int, _Roles] = {}
    for kind, user_id, ref, role in rows:
        roles = found.setdefault(int(user_id), _Roles())
        if kind == "M":
            roles.memberships.add((int(ref), StaffRole(role)))
        elif kind == "G":
            roles.wards.add(int(ref))
        else:
            roles.student_child = int(ref)
    return found


async def is_session_active(session: AsyncSession, session_id: int) -> bool:
    return session_id in await active_sessions(session, [session_id])


async def active_sessions(session: AsyncSession, session_ids: Iterable[int]) -> set[int]:
    """Those of `session_ids` that are neither revoked nor expired, in one statement."""
    ids = list(session_ids)
    if not ids:
        return set()
    found = await session.scalars(
        select(AuthSession.id).where(
            AuthSession.id.in_(ids), AuthSession.revoked_at.is_(None), AuthSession.expires_at > utcnow()
        )
    )
    return set(found)
