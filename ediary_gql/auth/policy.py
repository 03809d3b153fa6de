"""The access policy: every "may this actor see or do this" is answered here.

Pure functions over the actor's facts and the object in question; services
and GraphQL permission classes both call them, nothing else decides.
"""

from __future__ import annotations

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import StaffRole
from ediary_gql.errors import DomainError, ErrorCode, forbidden, unauthenticated


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise unauthenticated()
    return actor


def require_confirmed(actor: Actor) -> None:
    if not (actor.is_confirmed or actor.is_system):
        raise DomainError(
            ErrorCode.ACCOUNT_NOT_CONFIRMED,
            "Учётная запись не подтверждена: подтвердите телефон и электронную почту",
        )


# --- users ---------------------------------------------------------------


def can_view_user(actor: Actor | None, user_id: int, *, user_school_ids: frozenset[int] = frozenset()) -> bool:
    """A user's card: the person, operators, and staff of a school the user belongs to."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == user_id:
        return True
    return bool(actor.schools_with(StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER) & user_school_ids)


def can_view_contacts(actor: Actor | None, user_id: int, *, user_school_ids: frozenset[int] = frozenset()) -> bool:
    """Phone and email: the person, operators, and admins of the user's schools."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == user_id:
        return True
    return bool(actor.schools_with(StaffRole.SCHOOL_ADMIN) & user_school_ids)


def can_manage_users(actor: Actor) -> bool:
    return actor.is_system or actor.is_operator


# --- notifications -------------------------------------------------------


def can_view_notification(actor: Actor | None, owner_user_id: int) -> bool:
    """A notification is private to its recipient."""
    return actor is not None and (actor.is_system or actor.user_id == owner_user_id)


def ensure(allowed: bool, message: str = "Недостаточно прав для этого действия") -> None:
    if not allowed:
        raise forbidden(message)
