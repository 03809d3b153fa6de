"""userErrors: expected refusals come back as data in the mutation payload."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncGenerator, Iterable
from typing import Any

import strawberry
import structlog
from graphql import DocumentNode, FloatValueNode, GraphQLError, IntValueNode, StringValueNode, Visitor, visit
from strawberry.relay.types import GlobalIDValueError
from strawberry.types import ExecutionContext

from ediary_gql import metrics
from ediary_gql.auth import personal_fields
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.schema.subscriptions import refusals_as_errors

# Not cached on first use: a logger cached so keeps the configuration of that moment
# (the level, the processors), and the configuration may change after (create_app, tests).
log = structlog.wrap_logger(None, cache_logger_on_first_use=False, logger_factory_args=(__name__,))

UserErrorCode = strawberry.enum(ErrorCode, name="UserErrorCode", description="Machine-readable error code")


@strawberry.type(description="A problem with the input or a business rule, tied to a field")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path of the input field at fault, e.g. ["child", "snils"]; null for the whole input'
    )
    code: UserErrorCode = strawberry.field(  # type: ignore[valid-type]
        description="Machine-readable code of the problem"
    )
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


def is_expected(error: GraphQLError) -> bool:
    """The client's own doing, not a fault: a coded refusal (a DomainError: UNAUTHENTICATED,
    FORBIDDEN, NOT_FOUND, a page size out of range, …), a malformed global ID, or a document
    that does not parse, validate or take its variables (graphql-core's own errors, with no
    cause or a GraphQLError for one). Expected errors reach the client as they are and are
    logged in one line at INFO; anything else is masked and logged at ERROR with its traceback."""
    original = error.original_error
    return original is None or isinstance(original, (DomainError, GlobalIDValueError, GraphQLError))


def should_mask_error(error: GraphQLError) -> bool:
    """Mask everything unexpected (ErrorLoggingSchema logs it in full)."""
    return not is_expected(error)


class ErrorLoggingSchema(strawberry.Schema):
    """Strawberry's schema, logging each error by kind (log_errors) instead of every one at
    ERROR with a traceback, the document's source lines included; and answering a refused
    subscription with the protocol's `error` message (schema/subscriptions.py)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        code_request_errors(errors)
        log_errors(errors, execution_context)
        redact_messages(errors, execution_context)

    async def stream(self, *args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
        # a subscription refused at subscribe time is answered with an `error` message
        return refusals_as_errors(await super().stream(*args, **kwargs))


# graphql-core's messages for a value that does not fit its type, as a variable or a literal
_BAD_INPUT = re.compile(
    r"^(Variable '\$|Argument '[^']*' of required type|Expected value of type|Field '[^']*' of required type)"
    r"|cannot represent"
)


def code_request_errors(errors: Iterable[GraphQLError]) -> None:
    """graphql-core's own errors get a code a client can branch on: values that do not fit
    their types (variables above all) are the client's input, BAD_USER_INPUT; documents that do
    not parse or validate, GRAPHQL_PARSE_FAILED and GRAPHQL_VALIDATION_FAILED."""
    for error in errors:
        if not is_expected(error) or isinstance(error.original_error, DomainError | GlobalIDValueError):
            continue
        if isinstance((error.extensions or {}).get("code"), str):
            continue
        if error.message.startswith("Syntax Error"):
            code = "GRAPHQL_PARSE_FAILED"
        elif _BAD_INPUT.search(error.message) or error.original_error is not None:
            code = "BAD_USER_INPUT"  # a value refused by its type (the cause: a scalar's GraphQLError)
        elif error.path is None:
            code = "GRAPHQL_VALIDATION_FAILED"
        else:
            continue  # raised while resolving, with nothing to say it is the input's: left as it is
        error.extensions = {**(error.extensions or {}), "code": code}


def log_errors(errors: Iterable[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """An expected error: one INFO line with its code, path and message; a fault: ERROR with
    the traceback. Either names the operation and a hash of the document, never the document:
    its literals may be personal data (a SNILS). So may the literals and variable values that
    graphql-core's messages quote: they are redacted from every message but a DomainError's."""
    query = execution_context.query if execution_context is not None else None
    where: dict[str, Any] = {
        "operation": _operation_name(execution_context),
        "document": hashlib.sha256(query.encode()).hexdigest()[:16] if query else None,
    }
    literals: list[str] | None = None
    for error in errors:
        path = ".".join(str(part) for part in error.path) if error.path else None
        if not is_expected(error):
            metrics.UNEXPECTED_ERRORS.inc()
            log.error("unexpected_error", path=path, **where, exc_info=error.original_error)
            continue
        message = error.message
        if not isinstance(error.original_error, DomainError):
            if literals is None:
                literals = _literals(execution_context)
            message = _redacted(message, literals)
        log.info("graphql_error", error_code=_code(error), path=path, message=" ".join(message.split()), **where)


def redact_messages(errors: Iterable[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """What the client reads back: graphql-core's messages quote the literals and variable
    values they refuse (a SNILS sent as an ID): those are redacted, as in the log. A
    DomainError's message is ours and names no value."""
    literals: list[str] | None = None
    for error in errors:
        if isinstance(error.original_error, DomainError) or not is_expected(error):
            continue
        if literals is None:
            literals = _literals(execution_context)
        error.message = personal_fields.redact_text(_redacted(error.message, literals))


_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


def _operation_name(execution_context: ExecutionContext | None) -> str | None:
    """The operation's name, if it is one: the client may send any text as operationName."""
    name = execution_context.operation_name if execution_context is not None else None
    return name if name is not None and _NAME.fullmatch(name) else None


def _code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code  # a DomainError's, or that of a refusal made with its code
    if isinstance(error.original_error, GlobalIDValueError):
        return "INVALID_ID"
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


REDACTED = "…"
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')  # a string as GraphQL prints it; never a name
_QUOTED_TOKEN = re.compile(r"'[^']{4,}'")  # a syntax error's token (names too: there is no document)


class _LiteralValues(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        self.values.append(node.value)

    def enter_int_value(self, node: IntValueNode, *_: object) -> None:
        self.values.append(node.value)

    def enter_float_value(self, node: FloatValueNode, *_: object) -> None:
        self.values.append(node.value)


def _literals(execution_context: ExecutionContext | None) -> list[str]:
    """The values a message may quote: the document's literals, the variables' values and the
    operation name asked for, as they are and as graphql-core prints them; longest first, too
    short ones left alone."""
    if execution_context is None:
        return []
    found: list[str] = [execution_context.operation_name or ""]
    document: DocumentNode | None = execution_context.graphql_document
    if document is not None:
        visitor = _LiteralValues()
        visit(document, visitor)
        found += visitor.values
    _leaves(execution_context.variables, found)
    forms = {form for value in found for form in (value, repr(value)[1:-1]) if len(form) >= 3}
    return sorted(forms, key=len, reverse=True)


def _leaves(value: object, into: list[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _leaves(item, into)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _leaves(item, into)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        into.append(str(value))


def _redacted(message: str, literals: list[str]) -> str:
    for value in literals:
        message = message.replace(value, REDACTED)
    message = _DOUBLE_QUOTED.sub(f'"{REDACTED}"', message)
    if message.startswith("Syntax Error"):
        message = _QUOTED_TOKEN.sub(f"'{REDACTED}'", message)
    return message
