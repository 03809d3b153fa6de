"""Channel names: one place, so publishers and subscribers agree."""

from __future__ import annotations


def user_notifications(user_id: int) -> str:
    return f"user.{user_id}.notifications"


def deliveries() -> str:
    """New notification deliveries were committed: delivery dispatchers wake on it."""
    return "notifications.deliveries"


def user_sessions(user_id: int) -> str:
    """Sign-outs: open WebSocket connections of a revoked session close on it."""
    return f"user.{user_id}.sessions"
