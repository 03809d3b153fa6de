"""Webhook signatures, as Stripe signs its own.

Every delivery is a POST whose body is the event as JSON (UTF-8), with

    X-Ediary-Signature: t=<unix seconds>,sha256=<hex HMAC-SHA256>
    X-Ediary-Event-Id: <the event's ID: the same for a retry and a redelivery>
    X-Ediary-Event-Type: <type.action, e.g. grade.created>
    X-Ediary-Delivery: <the delivery attempt's row, a global ID>

where the HMAC is keyed by the webhook's secret over the bytes `<t>.<raw body>`. A
receiver recomputes it over the body exactly as received (before parsing it), compares in
constant time, and refuses a `t` more than a few minutes from its clock (a replayed
request keeps its old `t`, and changing `t` breaks the signature). It deduplicates by
X-Ediary-Event-Id: delivery is at least once. `verify` is that check.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Ediary-Signature"
EVENT_ID_HEADER = "X-Ediary-Event-Id"
EVENT_TYPE_HEADER = "X-Ediary-Event-Type"
DELIVERY_HEADER = "X-Ediary-Delivery"
TOLERANCE_SECONDS = 300


def digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Ediary-Signature value of `body` sent at `timestamp`."""
    return f"t={timestamp},sha256={digest(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """A receiver's check of X-Ediary-Signature: signed with `secret` over this very body,
    at a time within `tolerance` seconds of `now`."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get("sha256", []))
