"""Channel names: one place, so publishers and subscribers agree."""

from __future__ import annotations


def user_notifications(user_id: int) -> str:
    return f"user.{user_id}.notifications"


def user_sessions(user_id: int) -> str:
    """Sign-outs: open WebSocket connections of a revoked session close on it."""
    return f"user.{user_id}.sessions"
