"""Notification preferences: which channels each kind of notification goes by.

Stored on the user as `notification_prefs` ({kind: [channels]}); a kind the
user has not chosen for uses `services.notifications.DEFAULT_CHANNELS`. The
inbox entry is written whatever the channels: they only decide deliveries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import Channel, NotificationKind
from ediary_gql.db.models.users import User
from ediary_gql.errors import ErrorCode, ErrorCollector, not_found
from ediary_gql.services import audit
from ediary_gql.services.notifications import FIXED_KINDS, chosen_channels, default_channels

# Kinds shown and settable, in a stable order.
CONFIGURABLE_KINDS: tuple[NotificationKind, ...] = tuple(k for k in NotificationKind if k not in FIXED_KINDS)
# Kinds that must keep at least one channel: the person has to learn of them.
MANDATORY_KINDS: frozenset[NotificationKind] = frozenset({NotificationKind.SECURITY})


@dataclass(frozen=True, slots=True)
class Preference:
    kind: NotificationKind
    channels: tuple[Channel, ...]
    is_default: bool


@dataclass(frozen=True, slots=True)
class PreferenceChange:
    kind: NotificationKind
    channels: Sequence[Channel]


def preferences_of(user: User) -> list[Preference]:
    """Every configurable kind with the channels in force for it."""
    result = []
    for kind in CONFIGURABLE_KINDS:
        chosen = chosen_channels(user, kind)
        channels = default_channels(kind) if chosen is None else chosen
        result.append(Preference(kind=kind, channels=channels, is_default=chosen is None))
    return result


def _check(errors: ErrorCollector, user: User, changes: Sequence[PreferenceChange]) -> None:
    first_at: dict[NotificationKind, int] = {}
    for i, change in enumerate(changes):
        path = ("preferences", str(i))
        if change.kind in FIXED_KINDS:
            errors.add(
                (*path, "kind"),
                ErrorCode.INVALID,
                "Коды подтверждения приходят туда, куда их запросили: способ их получения не настраивается",
            )
        elif change.kind in first_at:
            errors.add(
                (*path, "kind"),
                ErrorCode.DUPLICATE,
                f"Этот вид уведомлений уже указан в элементе {first_at[change.kind] + 1}",
            )
        else:
            first_at[change.kind] = i
        for j, channel in enumerate(change.channels):
            if channel == Channel.EMAIL and not user.email:
                errors.add(
                    (*path, "channels", str(j)),
                    ErrorCode.INVALID,
                    "В профиле нет адреса электронной почты: укажите его, чтобы получать письма",
                )
            elif channel == Channel.SMS and not user.phone:
                errors.add(
                    (*path, "channels", str(j)),
                    ErrorCode.INVALID,
                    "В профиле нет номера телефона: укажите его, чтобы получать СМС",
                )
        if change.kind in MANDATORY_KINDS and not change.channels:
            errors.add(
                (*path, "channels"),
                ErrorCode.REQUIRED,
                "Уведомления о безопасности нельзя отключить: оставьте хотя бы один способ получения",
            )


async def update_preferences(
    session: AsyncSession, *, actor: Actor, user_id: int, changes: Sequence[PreferenceChange]
) -> list[Preference]:
    """Set the channels of the kinds given (the others keep theirs); returns every kind's
    channels after the change. An empty list of channels turns a kind's deliveries off."""
    policy.ensure(policy.can_manage_notification_preferences(actor, user_id))
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise not_found("userId", "Пользователь не найден")
    errors = ErrorCollector()
    _check(errors, user, changes)
    errors.raise_if_any()

    before = dict(user.notification_prefs or {})
    after = dict(before)
    for change in changes:
        after[change.kind.value] = [c.value for c in dict.fromkeys(change.channels)]
    if after != before:
        user.notification_prefs = after  # a new dict: JSON columns do not track changes in place
        audit.record(
            session,
            actor=actor,
            action="updateNotificationPreferences",
            entity_type="User",
            entity_id=user.id,
            before={"notificationPrefs": before},
            after={"notificationPrefs": after},
        )
    return preferences_of(user)
