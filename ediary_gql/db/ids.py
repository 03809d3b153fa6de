"""Database ids written as text (inside global IDs, paths, tokens, cursors): decimal digits
within the signed 64-bit range every id column (BIGINT, SQLite's INTEGER) holds.

A number beyond it is no row's id: it answers as "not found" or "invalid", like any
other id that names nothing, instead of failing in the driver (OverflowError, asyncpg's
DataError) as an internal error.
"""

from __future__ import annotations

from ediary_gql.text import is_digits

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MAX_DIGITS = len(str(INT64_MAX))  # 19


def parse_id(text: str) -> int | None:
    """The id written in `text` (ASCII digits only); None for anything else or out of range."""
    if not 0 < len(text) <= _MAX_DIGITS or not is_digits(text):
        return None
    value = int(text)
    return value if value <= INT64_MAX else None


def in_range(value: int) -> bool:
    """Whether a decoded integer fits a BIGINT parameter."""
    return INT64_MIN <= value <= INT64_MAX
