"""Checks of plain text shared by every layer."""

from __future__ import annotations


def is_digits(text: str) -> bool:
    """Only the ASCII digits 0–9, at least one. `str.isdigit` also takes "²" and
    Arabic-Indic digits, which `int()` or a database check then refuses: a fault, not
    bad input."""
    return text.isascii() and text.isdigit()
