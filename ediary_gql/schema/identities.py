"""Sign-in with the portal, linked identities and consent: signInWithProvider,
linkIdentity, unlinkIdentity, giveConsent, withdrawConsent."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

import strawberry
from strawberry import relay

from ediary_gql.errors import DomainError
from ediary_gql.resolvers import identities
from ediary_gql.schema.errors import UserError, input_errors
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload, mutation
from ediary_gql.schema.types.identity import ConsentRecord, ConsentRequired, UserIdentity
from ediary_gql.schema.types.user import User
from ediary_gql.services.consents import WITHDRAWAL_CONSEQUENCE
from ediary_gql.services.sessions import TokenPair


def _credential_errors(error: DomainError) -> list[UserError]:
    """A refused credential of the input (the code, the consent token) is data; a refusal of
    who asks (not signed in, not allowed) stays a GraphQL error."""
    if error.is_auth and not any(e.field for e in error.errors):
        raise error
    return input_errors(error)


@strawberry.input(description="The portal's answer to an app's authorization request (code flow with PKCE)")
class SignInWithProviderInput:
    code: str = strawberry.field(description="The authorization code the portal returned")
    code_verifier: str = strawberry.field(description="The PKCE verifier whose S256 challenge the request carried")
    redirect_uri: str = strawberry.field(description="The redirect_uri of the authorization request")
    consent_text_version: str | None = strawberry.field(
        default=None, description="Give consent to this version of the text (the one in force) as you sign in"
    )


@strawberry.input(description="Link the portal's account to the signed-in one (code flow with PKCE)")
class LinkIdentityInput:
    code: str = strawberry.field(description="The authorization code the portal returned")
    code_verifier: str = strawberry.field(description="The PKCE code verifier of the sign-in")
    redirect_uri: str = strawberry.field(description="The redirect URI the code was issued for")


@strawberry.input(description="The portal identity to unlink from the account")
class UnlinkIdentityInput:
    identity_id: relay.GlobalID = node_id("UserIdentity")


@strawberry.input(
    description="Consent to the processing of personal data, to the version of the text in force; signed in, "
    "or with the consentToken of a sign-in answered CONSENT_REQUIRED (which then signs you in)"
)
class GiveConsentInput:
    text_version: str = strawberry.field(description="Version of the consent text")
    consent_token: str | None = strawberry.field(
        default=None, description="The token a sign-in answered with CONSENT_REQUIRED"
    )


@strawberry.type(description="Tokens of a new session, issued as signIn issues them")
class SignInWithProviderPayload(Payload):
    access_token: str | None = strawberry.field(default=None, description="Bearer token for the Authorization header")
    access_token_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the access token expires"
    )
    refresh_token: str | None = strawberry.field(default=None, description="Token to get a new pair of tokens with")
    refresh_token_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the refresh token expires"
    )
    user: User | None = strawberry.field(
        default=None, description="The user as it now is; null when the input was refused"
    )
    consent_required: ConsentRequired | None = strawberry.field(
        default=None, description="With a CONSENT_REQUIRED error: how to give it"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: TokenPair) -> Self:
        return cls(
            access_token=result.access_token,
            access_token_expires_at=result.access_expires_at,
            refresh_token=result.refresh_token,
            refresh_token_expires_at=result.refresh_expires_at,
            user=User.from_row(result.user),
        )

    @classmethod
    def refused(cls, error: DomainError) -> Self:
        # the input is a credential (the code): its refusals are data
        return cls(user_errors=_credential_errors(error), consent_required=ConsentRequired.of_error(error))


@strawberry.type(description="The portal identity linked to the account, or why the link was refused")
class LinkIdentityPayload(Payload):
    identity: UserIdentity | None = strawberry.field(
        default=None, description="The identity as it now is; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def refused(cls, error: DomainError) -> Self:
        return cls(user_errors=_credential_errors(error))


@strawberry.type(description="The ID of the identity unlinked from the account, or why it was refused")
class UnlinkIdentityPayload(Payload):
    unlinked_identity_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Global ID of the identity unlinked; null when the input was refused"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls(unlinked_identity_id=relay.GlobalID("UserIdentity", str(result.id)))


@strawberry.type(description="The consent given, with the tokens of the sign-in it completes, or why it was refused")
class GiveConsentPayload(Payload):
    consent: ConsentRecord | None = strawberry.field(
        default=None, description="The consent as it now is; null when the input was refused"
    )
    access_token: str | None = strawberry.field(default=None, description="With a consentToken: the new session")
    access_token_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the access token expires"
    )
    refresh_token: str | None = strawberry.field(default=None, description="Token to get a new pair of tokens with")
    refresh_token_expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the refresh token expires"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: Any) -> Self:
        record, pair = result
        if pair is None:
            return cls(consent=ConsentRecord.from_row(record))
        return cls(
            consent=ConsentRecord.from_row(record),
            access_token=pair.access_token,
            access_token_expires_at=pair.access_expires_at,
            refresh_token=pair.refresh_token,
            refresh_token_expires_at=pair.refresh_expires_at,
        )

    @classmethod
    def refused(cls, error: DomainError) -> Self:
        return cls(user_errors=_credential_errors(error))


@strawberry.type(description="The consent record after it was withdrawn, or why it was refused")
class WithdrawConsentPayload(Payload):
    withdrawn: list[ConsentRecord] = strawberry.field(default_factory=list, description="Whether consent was withdrawn")
    consequence: str | None = strawberry.field(default=None, description="What withdrawing has done")
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls(withdrawn=[ConsentRecord.from_row(r) for r in result], consequence=WITHDRAWAL_CONSEQUENCE)


@strawberry.type
class IdentitiesMutation:
    sign_in_with_provider: SignInWithProviderPayload = mutation(
        identities.sign_in_with_provider,
        SignInWithProviderInput,
        SignInWithProviderPayload,
        description="Sign in with the portal (OpenID Connect): exchange the app's code for our tokens. The first "
        "sign-in links to the account of a contact the portal asserts verified, or makes a confirmed one",
        actor="optional",
        records_refusals=True,  # a link made before CONSENT_REQUIRED stands, and a spent nonce stays spent
    )
    link_identity: LinkIdentityPayload = mutation(
        identities.link_identity,
        LinkIdentityInput,
        LinkIdentityPayload,
        description="Link your account at the portal to this one, to sign in with it",
    )
    unlink_identity: UnlinkIdentityPayload = mutation(
        identities.unlink_identity,
        UnlinkIdentityInput,
        UnlinkIdentityPayload,
        description="Unlink one of your portal accounts; refused for the last way to sign in (no password set)",
    )
    give_consent: GiveConsentPayload = mutation(
        identities.give_consent,
        GiveConsentInput,
        GiveConsentPayload,
        description="Consent to the processing of personal data (the text's version in force, the time, your "
        "address and how are recorded)",
        actor="optional",
    )
    withdraw_consent: WithdrawConsentPayload = mutation(
        identities.withdraw_consent,
        None,
        WithdrawConsentPayload,
        description="Withdraw your consent to processing. Your diary access ends and every session of yours is "
        "signed out; the records the school must keep (grades, attendance, applications) stay",
    )
