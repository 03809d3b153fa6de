"""Stream cursors: opaque to clients, a position in the event log to us.

A cursor is "where this client has got to" in the log (events/log.py): resuming after
it replays what came later. The text is versioned (`e1:`) so its form may change
without old cursors being taken for something else."""

from __future__ import annotations

import base64
import binascii

from ediary_gql.errors import DomainError, ErrorCode

_PREFIX = "e1:"
_MAX_LENGTH = 64


def encode(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode().rstrip("=")


def expired() -> DomainError:
    """A cursor the log no longer covers: the client reloads, then follows without one."""
    return DomainError(
        ErrorCode.CURSOR_EXPIRED, "Курсор устарел: события после него уже удалены, загрузите данные заново"
    )


def decode(cursor: str, *, field: str = "after") -> int:
    """The position of `cursor`; INVALID (at `field`) for anything we did not give out."""
    if len(cursor) <= _MAX_LENGTH:
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = ""
        number = text.removeprefix(_PREFIX)
        if text.startswith(_PREFIX) and number.isascii() and number.isdigit():
            return int(number)
    raise DomainError(ErrorCode.INVALID, "Неизвестный курсор потока событий", field=field)
