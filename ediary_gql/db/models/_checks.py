"""Portable CHECK expressions (the same SQL runs on SQLite and PostgreSQL)."""

from __future__ import annotations

DIGITS = "0123456789"
HEX_LOWER = "0123456789abcdef"


def only_chars(column: str, length: int, chars: str = DIGITS) -> str:
    """`column` is exactly `length` characters, all from `chars`.

    `trim(x, chars)` strips the given characters from both ends on both
    backends, so an empty result means nothing else was there.
    """
    return f"length({column}) = {length} AND trim({column}, '{chars}') = ''"


def nullable_only_chars(column: str, length: int, chars: str = DIGITS) -> str:
    return f"{column} IS NULL OR ({only_chars(column, length, chars)})"
