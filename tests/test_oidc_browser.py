"""Sign-in with the portal in a browser: GET /auth/oidc/login → the provider → the
callback, followed with httpx against the real OpenID provider of tests/oidc_provider.py;
and each refusal: a replayed state, a bad signature, a wrong audience, an expired code."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import UserStatus
from ediary_gql.db.models.identities import ConsentRecord, OidcLogin, UserIdentity
from ediary_gql.db.models.users import User
from ediary_gql.services.public_ids import global_id
from tests.factories import make_user
from tests.oidc_provider import OidcApp
from tests.support import GraphQLClient

PASSWORD = "Correct-Horse-Battery-42"
ME = "{ me { id lastName status identities { provider } consents { textVersion method address } } }"
GIVE = """
mutation($i: GiveConsentInput!) {
  giveConsent(input: $i) { accessToken consent { textVersion method } userErrors { field code message } }
}"""


async def browser_sign_in(app: OidcApp) -> httpx.Response:
    """The whole browser flow, every redirect followed."""
    async with httpx.AsyncClient(base_url=app.url, follow_redirects=True) as browser:
        return await browser.get("/auth/oidc/login")


async def callback_url(app: OidcApp) -> tuple[str, httpx.Cookies]:
    """The provider's redirect back to us, not followed yet, and the cookies of the browser it is for."""
    async with httpx.AsyncClient(base_url=app.url) as browser:
        login = await browser.get("/auth/oidc/login")
        assert login.status_code == 302, login.text
        assert login.headers["location"].startswith(app.provider.issuer)
        query = parse_qs(urlsplit(login.headers["location"]).query)
        assert query["code_challenge_method"] == ["S256"]
        assert query["nonce"]
        assert query["state"]
        at_provider = await browser.get(login.headers["location"])
        assert at_provider.status_code == 302, at_provider.text
        return str(at_provider.headers["location"]), browser.cookies


async def me(app: OidcApp, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=app.url) as http:
        return await GraphQLClient(http).data(ME, token=token)


def person(**claims: Any) -> dict[str, Any]:
    return {"family_name": "Портальная", "given_name": "Анна", "middle_name": "Ивановна", **claims}


async def test_a_first_sign_in_makes_a_confirmed_account_that_consents_then_signs_in(
    oidc: OidcApp, session: AsyncSession
) -> None:
    oidc.provider.person |= person(email="anna.portal@example.ru", email_verified=True)
    first = await browser_sign_in(oidc)
    # no consent yet: the answer says so, with the way to give it
    assert first.status_code == 400, first.text
    body = first.json()
    assert body["error"] == "CONSENT_REQUIRED"
    assert body["text_version"] == "2026-01"
    user = (await session.scalars(select(User).where(User.email == "anna.portal@example.ru"))).one()
    assert user.status == UserStatus.CONFIRMED
    assert user.email_confirmed_at is not None
    assert user.password_hash.startswith("!")  # no password: the portal is its way in
    user_id = user.id
    async with httpx.AsyncClient(base_url=oidc.url) as http:
        given = await GraphQLClient(http).data(
            GIVE, {"i": {"textVersion": "2026-01", "consentToken": body["consent_token"]}}
        )
    assert given["giveConsent"]["userErrors"] == []
    assert given["giveConsent"]["consent"] == {"textVersion": "2026-01", "method": "FORM"}
    seen = await me(oidc, given["giveConsent"]["accessToken"])
    assert seen["me"]["lastName"] == "Портальная"
    assert seen["me"]["identities"] == [{"provider": oidc.provider.issuer}]
    assert seen["me"]["consents"][0]["address"] == "127.0.0.1"

    again = await browser_sign_in(oidc)
    assert again.status_code == 200, again.text
    tokens = again.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]
    assert (await me(oidc, tokens["access_token"]))["me"]["id"] == seen["me"]["id"]
    await session.rollback()
    count = await session.scalar(select(func.count()).select_from(UserIdentity).where(UserIdentity.user_id == user_id))
    assert count == 1


async def test_the_callback_can_send_the_tokens_to_the_configured_page(oidc: OidcApp, session: AsyncSession) -> None:
    user = await make_user(session, email="page@example.ru", email_confirmed_at=utcnow())
    await session.commit()
    oidc.provider.person |= person(email="page@example.ru", email_verified=True)
    oidc.settings.oidc_return_url = "http://127.0.0.1:1/signed-in"
    try:
        url, cookies = await callback_url(oidc)
        async with httpx.AsyncClient(cookies=cookies) as browser:
            answer = await browser.get(url)
    finally:
        oidc.settings.oidc_return_url = None
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert target.path == "/signed-in"
    assert not target.query
    fragment = parse_qs(target.fragment)
    assert (await me(oidc, fragment["access_token"][0]))["me"]["lastName"] == user.last_name


async def test_a_verified_email_links_to_the_existing_account(oidc: OidcApp, session: AsyncSession) -> None:
    user = await make_user(session, password=PASSWORD, email="known@example.ru", email_confirmed_at=utcnow())
    await session.commit()
    oidc.provider.person |= person(email="KNOWN@example.ru", email_verified=True)
    answer = await browser_sign_in(oidc)
    assert answer.status_code == 200, answer.text
    assert (await me(oidc, answer.json()["access_token"]))["me"]["id"] == _gid(user.id)


async def test_an_unverified_email_or_phone_links_nothing(oidc: OidcApp, session: AsyncSession) -> None:
    user = await make_user(session, email="taken@example.ru", phone="+79161234567")
    await session.commit()
    oidc.provider.person |= person(
        email="taken@example.ru", email_verified=False, phone_number="+79161234567", phone_number_verified=False
    )
    answer = await browser_sign_in(oidc)
    assert answer.json()["error"] == "CONSENT_REQUIRED"  # a new account, not the one holding those contacts
    linked = (
        await session.scalars(select(UserIdentity).where(UserIdentity.subject == oidc.provider.person["sub"]))
    ).one()
    assert linked.user_id != user.id
    made = await session.get(User, linked.user_id)
    assert made is not None
    assert made.email is None
    assert made.phone is None


async def test_an_email_unconfirmed_here_is_not_linked_to(oidc: OidcApp, session: AsyncSession) -> None:
    # someone typed the person's email into an account of their own and never confirmed it
    squatter = await make_user(session, password=PASSWORD, email="victim@example.ru", email_confirmed_at=None)
    await session.commit()
    squatter_id = squatter.id
    oidc.provider.person |= person(email="victim@example.ru", email_verified=True)
    answer = await browser_sign_in(oidc)
    assert answer.json()["error"] == "CONSENT_REQUIRED"  # a new account of the person's own
    linked = (
        await session.scalars(select(UserIdentity).where(UserIdentity.subject == oidc.provider.person["sub"]))
    ).one()
    assert linked.user_id != squatter_id
    made = await session.get(User, linked.user_id)
    assert made is not None
    assert made.email is None  # the address stays where it is, unconfirmed


async def test_a_snils_from_the_provider_links_to_the_account_it_was_seen_with(
    oidc: OidcApp, session: AsyncSession
) -> None:
    user = await make_user(session, password=PASSWORD)
    await session.commit()
    oidc.provider.person |= person(snils="112-233-445 95")
    first_sub = oidc.provider.person["sub"]
    # a sign-in that links by verified phone first
    oidc.provider.person |= {"phone_number": user.phone, "phone_number_verified": True}
    assert (await browser_sign_in(oidc)).status_code == 200
    # another identity at the provider, with only the SNILS in common
    oidc.provider.person = person(sub=first_sub + "-2", snils="11223344595")
    answer = await browser_sign_in(oidc)
    assert answer.status_code == 200, answer.text
    assert (await me(oidc, answer.json()["access_token"]))["me"]["id"] == _gid(user.id)


async def test_a_replayed_state_is_refused(oidc: OidcApp, session: AsyncSession) -> None:
    await make_user(session, email="replay@example.ru", email_confirmed_at=utcnow())
    await session.commit()
    oidc.provider.person |= person(email="replay@example.ru", email_verified=True)
    url, cookies = await callback_url(oidc)
    async with httpx.AsyncClient(cookies=cookies) as browser:
        assert (await browser.get(url)).status_code == 200
        replayed = await browser.get(url)
        unknown = await browser.get(url.replace("state=", "state=x"))
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "INVALID_CREDENTIALS"
    assert unknown.json()["error"] == "INVALID_CREDENTIALS"


async def test_sign_ins_started_from_one_address_are_limited(oidc: OidcApp, session: AsyncSession) -> None:
    oidc.settings.oidc_login_limit_per_address = 2
    try:
        async with httpx.AsyncClient(base_url=oidc.url) as browser:
            started = [await browser.get("/auth/oidc/login") for _ in range(3)]
    finally:
        oidc.settings.oidc_login_limit_per_address = 30
    assert [r.status_code for r in started] == [302, 302, 400]
    assert started[2].json()["error"] == "RATE_LIMITED"
    assert "set-cookie" not in started[2].headers
    await session.rollback()
    kept = await session.scalar(select(func.count()).select_from(OidcLogin))
    assert kept == 2  # the refused one left no login request behind


async def test_a_callback_link_opened_in_another_browser_is_refused(oidc: OidcApp, session: AsyncSession) -> None:
    # login CSRF: someone sends their own callback link to another person
    await make_user(session, email="csrf@example.ru", email_confirmed_at=utcnow())
    await session.commit()
    oidc.provider.person |= person(email="csrf@example.ru", email_verified=True)
    url, cookies = await callback_url(oidc)
    async with httpx.AsyncClient() as victim:
        refused = await victim.get(url)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "INVALID_CREDENTIALS"
    assert "access_token" not in refused.json()
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(UserIdentity)) == 0
    # the state was not spent: the browser that started the login still finishes it, and the cookie goes
    async with httpx.AsyncClient(cookies=cookies) as browser:
        answer = await browser.get(url)
        assert answer.status_code == 200, answer.text
        assert "access_token" in answer.json()
        assert not browser.cookies.get("ediary_oidc_login")
    # the binding cookie: for this path only, out of scripts' reach, not sent on cross-site requests
    async with httpx.AsyncClient(base_url=oidc.url) as browser:
        bound = (await browser.get("/auth/oidc/login")).headers["set-cookie"].lower()
    for attribute in ("httponly", "samesite=lax", "path=/auth/oidc/", "max-age=600"):
        assert attribute in bound, bound


async def test_an_id_token_signed_with_another_key_is_refused(oidc: OidcApp, session: AsyncSession) -> None:
    await _refused_without_a_session(
        oidc, session, lambda: setattr(oidc.provider, "sign_with", oidc.provider.other_key)
    )


async def test_an_id_token_for_another_audience_is_refused(oidc: OidcApp, session: AsyncSession) -> None:
    await _refused_without_a_session(oidc, session, lambda: setattr(oidc.provider, "audience", "someone-else"))


async def test_an_expired_code_is_refused(oidc: OidcApp, session: AsyncSession) -> None:
    await _refused_without_a_session(oidc, session, oidc.provider.expire_codes)


async def _refused_without_a_session(oidc: OidcApp, session: AsyncSession, spoil: Any) -> None:
    user = await make_user(session, email=f"{oidc.provider.person['sub']}@example.ru")
    await session.commit()
    oidc.provider.person |= person(email=user.email, email_verified=True)
    url, cookies = await callback_url(oidc)
    spoil()
    async with httpx.AsyncClient(cookies=cookies) as browser:
        answer = await browser.get(url)
    assert answer.status_code == 400
    assert answer.json()["error"] == "INVALID_CREDENTIALS", answer.json()
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(UserIdentity)) == 0
    assert await session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def _gid(pk: int) -> str:
    return global_id("User", pk)
