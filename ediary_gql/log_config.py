"""Structured logging (structlog), as JSON in production or readable in a terminal.

No personal data and no secret reaches a log line, at any level: `redact` (the last
processor before rendering, and a filter on the standard library's handlers) blanks the
values of keys that name secrets (passwords, tokens, codes, SNILS, …) and every SNILS,
birth certificate, JWT, bearer token and code found in any text (auth/personal_fields)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from ediary_gql.auth import personal_fields

# With LOG_SCAN_FILE set, every rendered line is also appended there (the test suite's
# log scan reads it: tests/log_scan.py).
SCAN_FILE_ENV = "LOG_SCAN_FILE"


def _redacted(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return personal_fields.REDACTED
    if isinstance(value, str):
        return personal_fields.redact_text(value)
    if isinstance(value, MutableMapping | dict):
        return {
            k: personal_fields.REDACTED
            if isinstance(k, str) and personal_fields.is_secret_key(k) and v is not None
            else _redacted(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_redacted(v, depth + 1) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return personal_fields.redact_text(str(value))


def redact(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: the event with secrets and personal data blanked."""
    for key in list(event_dict):
        value = event_dict[key]
        if key not in ("event", "level", "timestamp", "logger") and personal_fields.is_secret_key(key):
            event_dict[key] = personal_fields.REDACTED if value is not None else None
        else:
            event_dict[key] = _redacted(value)
    return event_dict


class RedactingFilter(logging.Filter):
    """The same for records of the standard library's loggers (uvicorn, SQLAlchemy, …)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep it as given
            return True
        record.msg = personal_fields.redact_text(message)
        record.args = None
        return True


class AccessQueryFilter(logging.Filter):
    """uvicorn's access lines without query strings: a portal callback's `code` and `state`
    (and any other one-time value in a URL) stay out of the log; the path is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?[omitted]", *args[3:])
        return True


class _Tee:
    """Writes each line to the terminal and appends it to the scan file."""

    def __init__(self, stream: TextIO, path: str) -> None:
        self._stream = stream
        self._path = path

    def write(self, text: str) -> int:
        with open(self._path, "a", encoding="utf-8") as scan:
            scan.write(text)
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()


_LINE_LOCK = threading.Lock()


class _WholeLines:
    """The log stream, written a whole line at a time under one lock. structlog prints a
    line and its newline as two writes, and the standard library's handlers (fed from other
    threads too, such as aiosqlite's) have locks of their own: unguarded, one thread's line
    could land inside another's and break the one-JSON-object-a-line format."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._pending = threading.local()

    def write(self, text: str) -> int:
        buffered = getattr(self._pending, "text", "") + text
        head, newline, tail = buffered.rpartition("\n")
        self._pending.text = tail
        if newline:
            with _LINE_LOCK:
                self._stream.write(head + newline)
        return len(text)

    def flush(self) -> None:
        with _LINE_LOCK:
            self._stream.flush()


def _output() -> TextIO:
    path = os.environ.get(SCAN_FILE_ENV)
    return _WholeLines(_Tee(sys.stderr, path) if path else sys.stderr)  # type: ignore[return-value]


class _JSONHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root's handler in JSON mode (one, however often logging is configured)."""


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    output = _output()
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, redact, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(output),
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    text_format = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    if json:
        # the standard library's records (uvicorn's, Strawberry's, SQLAlchemy's, …) rendered
        # by the same processors: one JSON object a line, the request ID with them
        formatter: logging.Formatter = structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact,
                structlog.processors.JSONRenderer(),
            ],
        )
        for stale in [h for h in root.handlers if isinstance(h, _JSONHandler)]:
            root.removeHandler(stale)
        json_handler = _JSONHandler(output)
        json_handler.setFormatter(formatter)
        root.addHandler(json_handler)
        root.setLevel(level)
        # uvicorn's loggers keep handlers of their own (its text format): theirs go to the root's
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "strawberry", "alembic"):
            named = logging.getLogger(name)
            named.handlers.clear()
            named.propagate = True
    else:
        logging.basicConfig(level=level, stream=output, format="%(levelname)s %(name)s: %(message)s")
    scan_path = os.environ.get(SCAN_FILE_ENV)
    known = any(getattr(h, "baseFilename", None) == os.path.abspath(scan_path or "") for h in root.handlers)
    if scan_path and not json and not known:
        # basicConfig does nothing where handlers exist already (a test runner's): the
        # standard library's records reach the scan file through a handler of its own
        scan_handler = logging.FileHandler(scan_path, encoding="utf-8")
        scan_handler.setFormatter(text_format)
        root.addHandler(scan_handler)
        root.setLevel(level)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessQueryFilter) for f in access.filters):
        access.addFilter(AccessQueryFilter())
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
