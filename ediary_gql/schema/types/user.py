"""The User type. Contacts are guarded per field by the policy."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.db.models.enums import StaffRole as StaffRoleEnum
from ediary_gql.db.models.enums import UserStatus as UserStatusEnum
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import delivery, messages, user_fields
from ediary_gql.schema.enums import StaffRole, UserStatus
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.delivery import NotificationPreference

if TYPE_CHECKING:
    from ediary_gql.context import Context


def mask_phone(phone: str) -> str:
    return phone[:2] + " *** ***-" + phone[-4:-2] + "-" + phone[-2:] if len(phone) >= 6 else "***"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


@strawberry.type(description="A school role the user holds")
class Membership:
    school_id: relay.GlobalID
    role: StaffRole  # type: ignore[valid-type]


@strawberry.type(name="User", description="A person with an account")
class User(EntityNode):
    model = UserRow

    id: relay.NodeID[int]
    last_name: str
    first_name: str
    middle_name: str | None
    status: UserStatus  # type: ignore[valid-type]
    is_operator: bool
    _birth_date: strawberry.Private[dt.date | None]
    _phone: strawberry.Private[str | None]
    _email: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            last_name=row.last_name,
            first_name=row.first_name,
            middle_name=row.middle_name,
            _birth_date=row.birth_date,
            status=UserStatusEnum(row.status),
            is_operator=row.is_operator,
            _phone=row.phone,
            _email=row.email,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        schools = await user_fields.school_ids(context, row.id)
        return policy.can_view_user(context.actor, row.id, user_school_ids=schools)

    @strawberry.field(description="Last, first and middle name")
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @strawberry.field(
        description="For the person and the admins of their schools; operators see it only for non-staff users"
    )
    async def birth_date(self, info: strawberry.Info[Context, None]) -> dt.date | None:
        if self._birth_date is None or not await user_fields.may_see_birth_date(info.context, self.id):
            return None
        return self._birth_date

    @strawberry.field(
        description="Phone in E.164; masked unless you are the person, an operator or their school's admin"
    )
    async def phone(self, info: strawberry.Info[Context, None]) -> str | None:
        if self._phone is None:
            return None
        if await user_fields.may_see_contacts(info.context, self.id):
            return self._phone
        return mask_phone(self._phone)

    @strawberry.field(description="Email; masked unless you are the person, an operator or their school's admin")
    async def email(self, info: strawberry.Info[Context, None]) -> str | None:
        if self._email is None:
            return None
        if await user_fields.may_see_contacts(info.context, self.id):
            return self._email
        return mask_email(self._email)

    @strawberry.field(description="School roles; visible to the person and operators")
    async def memberships(self, info: strawberry.Info[Context, None]) -> list[Membership]:
        rows = await user_fields.memberships(info.context, self.id)
        return [
            Membership(school_id=relay.GlobalID("School", str(school_id)), role=StaffRoleEnum(role))
            for school_id, role in rows
        ]

    @strawberry.field(description="Channels per kind of notification; seen only by the user themself, null for others")
    async def notification_preferences(
        self, info: strawberry.Info[Context, None]
    ) -> list[NotificationPreference] | None:
        found = await delivery.notification_preferences(info.context, self.id)
        return None if found is None else [NotificationPreference.from_row(p) for p in found]

    @strawberry.field(
        description="Unread messages in all your threads; seen only by the user themself, null for others"
    )
    async def unread_message_count(self, info: strawberry.Info[Context, None]) -> int | None:
        return await messages.unread_total(info.context, self.id)
