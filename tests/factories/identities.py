"""Identities at outside providers, consent records and one-use login states."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.identities import ConsentMethod, ConsentRecord, OidcLogin, UserIdentity
from tests.factories._base import now, persist, seq, take_parents
from tests.factories.users import make_user


async def make_user_identity(session: AsyncSession, **overrides: Any) -> UserIdentity:
    o = take_parents(overrides)
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {
        "provider": "https://esia.example.org",
        "subject": f"sub-{seq()}-{secrets.token_hex(4)}",
        "claims": {},
        "last_sign_in_at": now(),
    }
    fields.update(o)
    return await persist(session, UserIdentity(**fields))


async def make_consent_record(session: AsyncSession, **overrides: Any) -> ConsentRecord:
    o = take_parents(overrides)
    if "user_id" not in o:
        o["user_id"] = (await make_user(session)).id
    fields: dict[str, Any] = {"text_version": "2026-01", "method": ConsentMethod.FORM, "address": "127.0.0.1"}
    fields.update(o)
    return await persist(session, ConsentRecord(**fields))


async def make_oidc_login(session: AsyncSession, **overrides: Any) -> OidcLogin:
    fields: dict[str, Any] = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "code_verifier": secrets.token_urlsafe(48),
        "expires_at": now() + dt.timedelta(minutes=10),
    }
    fields.update(overrides)
    return await persist(session, OidcLogin(**fields))
