"""userErrors: expected refusals come back as data in the mutation payload."""

from __future__ import annotations

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.relay.types import GlobalIDValueError

from ediary_gql.errors import DomainError, ErrorCode

log = structlog.get_logger(__name__)

UserErrorCode = strawberry.enum(ErrorCode, name="UserErrorCode", description="Machine-readable error code")


@strawberry.type(description="A problem with the input or a business rule, tied to a field")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path of the input field at fault, e.g. ["child", "snils"]; null for the whole input'
    )
    code: UserErrorCode  # type: ignore[valid-type]
    message: str = strawberry.field(description="Human-readable explanation, in Russian")


def user_errors(exc: DomainError) -> list[UserError]:
    """The payload form of a refusal; authentication and access errors stay GraphQL errors."""
    if exc.is_auth:
        raise exc
    return [UserError(field=list(e.field) or None, code=e.code, message=e.message) for e in exc.errors]


def input_errors(exc: DomainError) -> list[UserError]:
    """Like user_errors, for mutations whose input is a credential (sign-in, refresh):
    a bad token there is the input's fault, reported as data."""
    return [UserError(field=list(e.field) or None, code=e.code, message=e.message) for e in exc.errors]


def should_mask_error(error: GraphQLError) -> bool:
    """Mask everything unexpected; let coded domain errors and GraphQL's own
    syntax/validation errors through. Masked ones are logged in full."""
    original = error.original_error
    if original is None or isinstance(original, (DomainError, GlobalIDValueError)):
        return False
    log.error("unexpected_error", path=error.path, exc_info=original)
    return True
