"""X-Ediary-Signature: `t=<unix>,sha256=<hex HMAC-SHA256 of "<t>.<raw body>">`, checked by
a receiver as documented (the same body, the same secret, a timestamp near its clock)."""

from __future__ import annotations

import hashlib
import hmac

from ediary_gql.services.webhooks import signing

SECRET = "whsec-0123456789abcdef"
BODY = b'{"id":"42","type":"grade.created"}'


def test_the_signature_is_an_hmac_of_the_timestamp_and_the_raw_body() -> None:
    header = signing.signature(SECRET, 1_700_000_000, BODY)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,sha256={expected}"


def test_a_receiver_accepts_it_only_for_that_body_secret_and_time() -> None:
    header = signing.signature(SECRET, 1_700_000_000, BODY)
    assert signing.verify(SECRET, header, BODY, now=1_700_000_100)
    assert not signing.verify(SECRET, header, BODY + b"\n", now=1_700_000_100)
    assert not signing.verify("another-secret-000000", header, BODY, now=1_700_000_100)
    assert not signing.verify(SECRET, header, BODY, now=1_700_000_000 + signing.TOLERANCE_SECONDS + 1)
    # a timestamp changed to pass the clock check breaks the signature
    moved = header.replace("t=1700000000", "t=1700003600")
    assert not signing.verify(SECRET, moved, BODY, now=1_700_003_600)
    for broken in ("", "sha256=abc", "t=x,sha256=abc", "t=1,t=2,sha256=abc"):
        assert not signing.verify(SECRET, broken, BODY, now=1)
