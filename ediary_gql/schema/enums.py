"""Domain enums exposed in the schema."""

from __future__ import annotations

import strawberry

from ediary_gql.db.models import enums

UserStatus = strawberry.enum(enums.UserStatus, description="Account status: TEMPORARY until contacts are confirmed")
StaffRole = strawberry.enum(enums.StaffRole, description="A staff role at a school")
NotificationKind = strawberry.enum(enums.NotificationKind, description="What a notification is about")
Channel = strawberry.enum(enums.Channel, description="A delivery channel")
