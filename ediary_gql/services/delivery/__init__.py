"""Notification delivery: channels (SMTP email, the development outbox), the
dispatcher that works the outbox table with retries, and users' channel preferences."""

from ediary_gql.services.delivery.channels import (
    DeliveryChannel,
    DeliveryError,
    DevOutboxChannel,
    PermanentDeliveryError,
    RetryableDeliveryError,
    SmtpChannel,
    build_channels,
)
from ediary_gql.services.delivery.dispatcher import (
    ClaimedDelivery,
    Dispatcher,
    DispatchReport,
    RetryPolicy,
    claim_due,
)
from ediary_gql.services.delivery.preferences import (
    CONFIGURABLE_KINDS,
    Preference,
    PreferenceChange,
    preferences_of,
    update_preferences,
)

__all__ = [
    "CONFIGURABLE_KINDS",
    "ClaimedDelivery",
    "DeliveryChannel",
    "DeliveryError",
    "DevOutboxChannel",
    "DispatchReport",
    "Dispatcher",
    "PermanentDeliveryError",
    "Preference",
    "PreferenceChange",
    "RetryPolicy",
    "RetryableDeliveryError",
    "SmtpChannel",
    "build_channels",
    "claim_due",
    "preferences_of",
    "update_preferences",
]
