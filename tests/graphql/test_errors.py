"""GraphQL errors are logged by kind: an expected one (the client's doing) in one INFO line
with its code, path and message, a fault at ERROR with its traceback; neither echoes the
document, whose literals may be personal data.

The live server runs in this process, so what it logs is captured here: structlog's
entries (the project's logs) and the standard library's records (Strawberry's own logger).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import pytest
import strawberry
import structlog
from strawberry.extensions import MaskErrors, SchemaExtension

from ediary_gql.schema.errors import ErrorLoggingSchema, should_mask_error
from tests.support import GraphQLClient

SNILS = "123-456-789 64"
SNILS_DIGITS = "12345678964"

Entries = list[MutableMapping[str, Any]]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[Entries]:
    """structlog's entries from INFO up while the test runs, tracebacks rendered; the
    standard library's records go to `caplog` meanwhile."""
    wrapper = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        with (
            caplog.at_level(logging.INFO),
            structlog.testing.capture_logs(processors=[structlog.processors.format_exc_info]) as entries,
        ):
            yield entries
    finally:
        structlog.configure(wrapper_class=wrapper)


def _graphql_errors(entries: Entries) -> Entries:
    return [e for e in entries if e["event"] in ("graphql_error", "unexpected_error")]


def _assert_no_error_logged(entries: Entries, caplog: pytest.LogCaptureFixture) -> None:
    assert [e for e in entries if e["log_level"] in ("error", "critical")] == []
    assert [e for e in entries if "exception" in e or "exc_info" in e] == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r for r in caplog.records if r.exc_info] == []


def _document_hash(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    ("query", "code", "path", "logged"),
    [
        # the ID the client sent is not echoed (it might be anything)
        (
            'query Lookup { node(id: "garbage") { id } }',
            "INVALID_ID",
            "node",
            'Value cannot represent a GlobalID: "…".',
        ),
        ("query Lookup { myChildren { id } }", "UNAUTHENTICATED", "myChildren", None),
        ("query Lookup { schools(first: -1) { totalCount } }", "INVALID", "schools", None),
    ],
)
async def test_an_expected_error_is_one_info_line(
    gql: GraphQLClient,
    logs: Entries,
    caplog: pytest.LogCaptureFixture,
    query: str,
    code: str,
    path: str,
    logged: str | None,
) -> None:
    # when a request fails in an expected way
    body = await gql.post(query)
    # then the client is told (not masked)
    assert body["errors"][0]["message"] != "Внутренняя ошибка сервера"
    # and the log has one INFO line for it: code, path, message, operation, document hash
    (entry,) = _graphql_errors(logs)
    assert entry["log_level"] == "info"
    assert (entry["error_code"], entry["path"], entry["operation"]) == (code, path, "Lookup")
    assert entry["message"] == (logged or body["errors"][0]["message"])
    assert "\n" not in entry["message"]
    assert entry["document"] == _document_hash(query)
    # and nothing at ERROR, no traceback, here or from Strawberry's own logger
    _assert_no_error_logged(logs, caplog)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        # a string where a number goes
        (f'query Enrol {{ schools(first: "{SNILS}") {{ totalCount }} }}', {}),
        # the SNILS as a number, too large for an Int
        (f"query Enrol {{ schools(first: {SNILS_DIGITS}) {{ totalCount }} }}", {}),
        # an input object with a field it does not have, printed whole in the message
        (f'query Enrol {{ schools(filter: {{snils: "{SNILS}"}}) {{ totalCount }} }}', {}),
        # a variable's value
        ("query Enrol($n: Int) { schools(first: $n) { totalCount } }", {"n": SNILS}),
        # a document that does not parse
        (f"query Enrol {{ schools {{ {SNILS_DIGITS} }} }}", {}),
    ],
)
async def test_a_document_that_fails_validation_is_logged_without_its_literals(
    gql: GraphQLClient,
    logs: Entries,
    caplog: pytest.LogCaptureFixture,
    query: str,
    variables: dict[str, Any],
) -> None:
    body = await gql.post(query, variables)
    # the client sees what it sent wrong (its own data, back to it), not a masked fault
    assert body["errors"]
    assert all(error["message"] != "Внутренняя ошибка сервера" for error in body["errors"])
    # the log says which document failed (by hash) and why, without the SNILS
    entries = _graphql_errors(logs)
    assert entries
    for entry in entries:
        assert entry["log_level"] == "info"
        assert entry["error_code"] in ("GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "BAD_USER_INPUT")
        assert entry["document"] == _document_hash(query)
    logged = repr(logs) + "".join(record.getMessage() for record in caplog.records)
    assert SNILS not in logged
    assert SNILS_DIGITS not in logged
    assert query not in logged
    assert "GraphQL request:" not in logged  # graphql-core's excerpt of the document's source lines
    _assert_no_error_logged(logs, caplog)


@strawberry.type
class FaultyQuery:
    @strawberry.field
    def fine(self) -> str:
        return "ok"

    @strawberry.field
    def fault(self) -> str:
        raise RuntimeError("the disk is on fire")


def _faulty_schema() -> ErrorLoggingSchema:
    """A schema of its own with a field that fails unexpectedly, masked as the app's is."""
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaskErrors(should_mask_error=should_mask_error, error_message="Внутренняя ошибка сервера"),
    ]
    return ErrorLoggingSchema(query=FaultyQuery, extensions=extensions)


async def test_an_unexpected_fault_is_logged_at_error_with_its_traceback(
    logs: Entries, caplog: pytest.LogCaptureFixture
) -> None:
    query = "query Broken { fine fault }"
    result = await _faulty_schema().execute(query)
    # the client gets the mask, not the fault
    assert result.data is None or result.data.get("fine") == "ok"
    assert result.errors is not None
    assert [error.message for error in result.errors] == ["Внутренняя ошибка сервера"]
    # the log gets the fault once, at ERROR, with the traceback, the path, the operation
    (entry,) = _graphql_errors(logs)
    assert entry["event"] == "unexpected_error"
    assert entry["log_level"] == "error"
    assert (entry["path"], entry["operation"], entry["document"]) == ("fault", "Broken", _document_hash(query))
    assert "Traceback" in entry["exception"]
    assert "RuntimeError: the disk is on fire" in entry["exception"]
    # and Strawberry's own logger stays quiet: one record of it, not two
    assert [r for r in caplog.records if r.name == "strawberry.execution"] == []
