"""The access policy: every "may this actor see or do this" is answered here.

Pure functions over the actor's facts and the object in question; services
and GraphQL permission classes both call them, nothing else decides.
"""

from __future__ import annotations

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import NotificationKind, StaffRole
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


# A verification code proves a phone or email only if it is read there: its
# inbox entry is never shown through the API (inbox, node, notificationReceived).
HIDDEN_NOTIFICATION_KINDS = frozenset({NotificationKind.VERIFICATION_CODE})


def shows_in_inbox(kind: NotificationKind) -> bool:
    return kind not in HIDDEN_NOTIFICATION_KINDS


def can_manage_notification_preferences(actor: Actor | None, user_id: int) -> bool:
    """Which channels a user is notified by: theirs alone to see and change, not
    even operators' (nobody else needs to know how a person is reached)."""
    return actor is not None and (actor.is_system or actor.user_id == user_id)


def ensure(allowed: bool, message: str = "Недостаточно прав для этого действия") -> None:
    if not allowed:
        raise forbidden(message)


# --- own account: registration, contacts, password, second factor ----------


def can_register(actor: Actor | None) -> bool:
    """Anyone may register: the new account proves its contacts with codes."""
    return True


def can_reset_password(actor: Actor | None) -> bool:
    """Anyone may ask for a reset: only the code sent to the account's contact lets it through."""
    return True


def can_manage_own_account(actor: Actor) -> bool:
    """Contacts and the second factor are the person's own, changed through their own session."""
    return not actor.is_system and actor.session_id is not None


# --- attachments ---------------------------------------------------------


def can_view_attachment(
    actor: Actor | None, owner_id: int, *, staff_binding_schools: frozenset[int] = frozenset()
) -> bool:
    """A file: its owner; for a staff-binding document (`staff_binding_schools`: the
    schools of the bindings it supports) also those who review those bindings."""
    if actor is None:
        return False
    if actor.is_system or actor.user_id == owner_id:
        return True
    if not staff_binding_schools:
        return False
    return actor.is_operator or bool(actor.schools_with(StaffRole.SCHOOL_ADMIN) & staff_binding_schools)


# --- schools and staff bindings ------------------------------------------


def can_view_school(actor: Actor | None, school_id: int, *, is_active: bool, registered_by_id: int | None) -> bool:
    """Active schools are a public directory; others: operators, the registrant, the school's staff."""
    if is_active:
        return True
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == registered_by_id:
        return True
    return any(school == school_id for school, _ in actor.memberships)


def require_may_request_staff_binding(actor: Actor) -> None:
    """Only a confirmed account may ask to act for a school (ACCOUNT_NOT_CONFIRMED otherwise)."""
    require_confirmed(actor)


def can_view_staff_binding(actor: Actor | None, *, requester_id: int, school_id: int) -> bool:
    """A staff-binding request: the requester, operators, and the school's admins."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == requester_id:
        return True
    return actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def can_decide_staff_binding(actor: Actor | None, *, requester_id: int, school_id: int, role: StaffRole) -> bool:
    """Operators decide SCHOOL_ADMIN requests (a school's first admin among them); the
    school's admin decides TEACHER and INTEGRATOR requests; nobody decides their own."""
    if actor is None:
        return False
    if actor.is_system:
        return True
    if actor.user_id == requester_id:
        return False
    if role == StaffRole.SCHOOL_ADMIN:
        return actor.is_operator
    return actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def staff_binding_review_scope(actor: Actor) -> frozenset[int] | None:
    """Schools whose staff-binding requests the actor may list: None means every
    school (operators); an empty set means none."""
    if actor.is_system or actor.is_operator:
        return None
    return actor.schools_with(StaffRole.SCHOOL_ADMIN)


# --- audit trail ---------------------------------------------------------


def audit_scope(actor: Actor | None) -> frozenset[int] | None:
    """Schools whose audit trail the actor may read; None means every entry (operators)."""
    actor = require_actor(actor)
    if actor.is_operator or actor.is_system:
        return None
    schools = actor.schools_with(StaffRole.SCHOOL_ADMIN)
    if not schools:
        raise forbidden("Журнал изменений доступен операторам и ответственным за дневник школы")
    return schools
