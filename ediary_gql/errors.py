"""Domain errors: what a workflow refuses, with a machine code and a field path.

Services raise these; the GraphQL layer turns them into `userErrors` (for
validation and business rules) or into coded GraphQL errors (for auth).
Messages are in Russian by default: they are shown to people.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class ErrorCode(enum.StrEnum):
    # input and rules
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    CONFLICT = "CONFLICT"
    INVALID_STATE = "INVALID_STATE"
    # uploaded files
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FILE_TYPE_NOT_ALLOWED = "FILE_TYPE_NOT_ALLOWED"
    # authentication and access
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    FORBIDDEN = "FORBIDDEN"
    ACCOUNT_NOT_CONFIRMED = "ACCOUNT_NOT_CONFIRMED"
    RATE_LIMITED = "RATE_LIMITED"
    # passwords, one-time codes, second factor
    WEAK_PASSWORD = "WEAK_PASSWORD"
    CODE_EXPIRED = "CODE_EXPIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    TWO_FACTOR_REQUIRED = "TWO_FACTOR_REQUIRED"
    # consent to processing of the text now in force is missing: give it (giveConsent)
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    # live streams
    STREAM_INTERRUPTED = "STREAM_INTERRUPTED"
    CURSOR_EXPIRED = "CURSOR_EXPIRED"
    SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"


# Codes that mean "who are you / you may not": reported as GraphQL errors, not userErrors.
AUTH_CODES = frozenset(
    {
        ErrorCode.UNAUTHENTICATED,
        ErrorCode.TOKEN_EXPIRED,
        ErrorCode.TOKEN_INVALID,
        ErrorCode.TOKEN_REVOKED,
        ErrorCode.FORBIDDEN,
    }
)


@dataclass(frozen=True, slots=True)
class FieldError:
    code: ErrorCode
    message: str
    field: tuple[str, ...] = ()


class DomainError(Exception):
    """One or more refusals of a workflow; the transaction is rolled back."""

    errors: list[FieldError]

    def __init__(
        self,
        code: ErrorCode | None = None,
        message: str = "",
        *,
        field: Sequence[str] | str = (),
        errors: Sequence[FieldError] = (),
        extra: Mapping[str, object] | None = None,
    ) -> None:
        self.extra = dict(extra or {})
        path = (field,) if isinstance(field, str) else tuple(field)
        collected = list(errors)
        if code is not None:
            collected.insert(0, FieldError(code, message, path))
        if not collected:
            raise ValueError("DomainError needs at least one error")
        self.errors = collected
        super().__init__("; ".join(e.message for e in collected))

    @property
    def extensions(self) -> dict[str, object]:
        """Read by graphql-core when this error becomes a GraphQL error."""
        first = self.errors[0]
        return {"code": first.code.value, "field": list(first.field) or None, **self.extra}

    @property
    def code(self) -> ErrorCode:
        return self.errors[0].code

    @property
    def is_auth(self) -> bool:
        return self.code in AUTH_CODES


class ErrorCollector:
    """Gathers every problem of an input, so a client sees them all at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: Sequence[str] | str, code: ErrorCode, message: str) -> None:
        path = (field,) if isinstance(field, str) else tuple(field)
        self.errors.append(FieldError(code, message, path))

    def check(self, fn: Callable[[], T]) -> T | None:
        """Run a validator; keep its DomainError instead of stopping at it."""
        try:
            return fn()
        except DomainError as exc:
            self.errors.extend(exc.errors)
            return None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise DomainError(errors=self.errors)


def forbidden(message: str = "Недостаточно прав для этого действия") -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, message)


def unauthenticated(message: str = "Требуется вход в систему") -> DomainError:
    return DomainError(ErrorCode.UNAUTHENTICATED, message)


def not_found(field: str, message: str = "Объект не найден") -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, message, field=field)


class RateLimited(DomainError):
    """RATE_LIMITED, with the number of seconds after which to try again."""

    def __init__(self, message: str, *, retry_after_seconds: int, field: Sequence[str] | str = ()) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, message, field=field)
        self.retry_after_seconds = max(1, retry_after_seconds)


class RecordedRefusal(DomainError):
    """A refusal whose record must stand: a counted failed attempt, a spent code.

    The service has changed nothing but that record; the caller commits the
    transaction and then reports `refusal` (see resolvers/transaction.py).
    """

    def __init__(self, refusal: DomainError) -> None:
        super().__init__(errors=refusal.errors)
        self.refusal = refusal


def retry_after_seconds(exc: DomainError) -> int | None:
    """Seconds to wait before trying again, when the refusal is a rate limit."""
    inner = exc.refusal if isinstance(exc, RecordedRefusal) else exc
    return inner.retry_after_seconds if isinstance(inner, RateLimited) else None
