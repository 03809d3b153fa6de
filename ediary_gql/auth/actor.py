"""Who is acting: the authenticated user and the facts the policy decides on."""

from __future__ import annotations

from dataclasses import dataclass, field

from ediary_gql.db.models.enums import StaffRole, UserStatus


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    session_id: int | None
    status: UserStatus
    is_operator: bool = False
    # (school_id, role) for each active staff membership
    memberships: frozenset[tuple[int, StaffRole]] = field(default_factory=frozenset)
    # children this user is a legal representative of
    guardian_of: frozenset[int] = field(default_factory=frozenset)
    # the child record of a student's own login
    student_child_id: int | None = None
    # a trusted in-process caller (CLI, seeding): passes every check
    is_system: bool = False
    # An integration (a service account): acts at `integration_school_id` only, within
    # its scopes (IntegrationScope values), through its own user row (`user_id`).
    integration_id: int | None = None
    integration_school_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_confirmed(self) -> bool:
        return self.status == UserStatus.CONFIRMED

    def schools_with(self, *roles: StaffRole) -> frozenset[int]:
        return frozenset(school for school, role in self.memberships if role in roles)

    def has_role(self, school_id: int, *roles: StaffRole) -> bool:
        return any((school_id, role) in self.memberships for role in roles)

    @property
    def is_integration(self) -> bool:
        return self.integration_id is not None

    def has_scope(self, school_id: int, scope: str) -> bool:
        """An integration's scope at its school (never at another)."""
        return self.integration_id is not None and self.integration_school_id == school_id and scope in self.scopes


SYSTEM_ACTOR = Actor(user_id=0, session_id=None, status=UserStatus.CONFIRMED, is_operator=True, is_system=True)
