"""The User type. Contacts are guarded per field by the policy."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.auth import personal_fields, policy
from ediary_gql.db.models.enums import StaffRole as StaffRoleEnum
from ediary_gql.db.models.enums import UserStatus as UserStatusEnum
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import delivery, identities, messages, sync, user_fields
from ediary_gql.schema.enums import StaffRole, UserStatus
from ediary_gql.schema.ids import pk_or_none
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.delivery import NotificationPreference
from ediary_gql.schema.types.identity import ConsentRecord, ConsentState, UserIdentity

if TYPE_CHECKING:
    from ediary_gql.context import Context


# how contacts are masked is the registry's (auth/personal_fields.py)
mask_phone = personal_fields.mask_phone
mask_email = personal_fields.mask_email


@strawberry.type(description="A school role the user holds")
class Membership:
    school_id: relay.GlobalID = strawberry.field(description="The school")
    role: StaffRole = strawberry.field(description="The role held at the school")  # type: ignore[valid-type]


@strawberry.type(name="User", description="A person with an account")
class User(EntityNode):
    model = UserRow

    id: relay.NodeID[int]
    last_name: str = strawberry.field(description="Family name")
    first_name: str = strawberry.field(description="Given name")
    middle_name: str | None = strawberry.field(description="Patronymic, if any")
    status: UserStatus = strawberry.field(description="Where the user is in its life cycle")  # type: ignore[valid-type]
    is_operator: bool = strawberry.field(description="Whether the user is one of the portal's operators")
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

    @strawberry.field(
        description="The sourcedId a school gave this person, as a teacher (else as a guardian); without "
        "schoolId, of the integration's own school or the one school you administer. Only for that school's "
        "admins and its integration with a roster scope (null for others)"
    )
    async def sourced_id(
        self,
        info: strawberry.Info[Context, None],
        school_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="The school whose external ID to give")
        ] = None,
    ) -> str | None:
        school = None if school_id is None else pk_or_none(school_id, "School")
        if school_id is not None and school is None:
            return None
        return await sync.person_sourced_id(info.context, self.id, school)

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

    @strawberry.field(description="Your accounts at the portal linked to this one; null for others")
    async def identities(self, info: strawberry.Info[Context, None]) -> list[UserIdentity] | None:
        rows = await identities.my_identities(info.context, self.id)
        return None if rows is None else [UserIdentity.from_row(r) for r in rows]

    @strawberry.field(description="Your consents to processing, newest first, withdrawn ones too; null for others")
    async def consents(self, info: strawberry.Info[Context, None]) -> list[ConsentRecord] | None:
        rows = await identities.my_consents(info.context, self.id)
        return None if rows is None else [ConsentRecord.from_row(r) for r in rows]

    @strawberry.field(description="Whether you are to consent to the text now in force; null for others")
    async def consent_state(self, info: strawberry.Info[Context, None]) -> ConsentState | None:
        found = await identities.consent_state(info.context, self.id)
        return None if found is None else ConsentState.of(found)
