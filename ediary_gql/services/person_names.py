"""The one rule for people's names (last, first and middle name), used by every
workflow that takes one: registration, applications, enrolment and child records,
roster imports (children, teachers, guardians) and accounts made by an operator or
the command line.

A name part is Cyrillic letters, with a single hyphen, apostrophe or space between
two letters ("Салтыков-Щедрин", "Д'Артаньян", "Ван Гог"): none at the start or the
end, never two in a row. Any Cyrillic letter counts, not only the Russian alphabet's
33: the names of the peoples of Russia and of neighbouring countries use others
("Іваненко", "Гәрәева"). Ё and Е are different letters in a name and are kept as typed.

Before the check a value is tidied, and stored tidied: Unicode NFC (a "й" typed as
"и" + combining breve is one letter), runs of whitespace (tabs, no-break spaces)
as one space, none at the ends, typographic dashes as "-" and apostrophes (’ ʼ ‘ `)
as "'". Case is left as typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ediary_gql.errors import ErrorCode, ErrorCollector

MAX_LENGTH = 100  # the name columns are String(100)

REQUIRED_MESSAGE = "Обязательное поле"
TOO_LONG_MESSAGE = f"Не длиннее {MAX_LENGTH} символов"
INVALID_MESSAGE = "Допустимы только буквы кириллицы и, между ними, дефис, апостроф или пробел"

# letters, with one hyphen, space or apostrophe between two of them
_SHAPE = re.compile(r"[^\W\d_]+(?:[ '-][^\W\d_]+)*")
_SEPARATORS = str.maketrans(
    {
        "‐": "-",  # hyphen
        "‑": "-",  # non-breaking hyphen
        "‒": "-",  # figure dash
        "–": "-",  # en dash
        "—": "-",  # em dash
        "−": "-",  # minus sign
        "’": "'",  # right single quotation mark, the typographic apostrophe
        "‘": "'",
        "ʼ": "'",  # modifier letter apostrophe (Ukrainian, Belarusian)
        "`": "'",
    }
)


@dataclass(frozen=True, slots=True)
class NameCheck:
    """A checked name part: its tidied value (None if empty) and what is wrong with it, if anything."""

    value: str | None
    problem: tuple[ErrorCode, str] | None = None  # (code, message)


def tidy(raw: str | None) -> str:
    """The value as it is checked and stored (see the module's text)."""
    return " ".join(unicodedata.normalize("NFC", raw or "").split()).translate(_SEPARATORS)


def _is_cyrillic(ch: str) -> bool:
    return not ch.isalpha() or unicodedata.name(ch, "").startswith("CYRILLIC")


def check(raw: str | None, *, required: bool) -> NameCheck:
    value = tidy(raw)
    if not value:
        return NameCheck(None, (ErrorCode.REQUIRED, REQUIRED_MESSAGE) if required else None)
    if len(value) > MAX_LENGTH:
        return NameCheck(value, (ErrorCode.TOO_LONG, TOO_LONG_MESSAGE))
    if not _SHAPE.fullmatch(value) or not all(_is_cyrillic(ch) for ch in value):
        return NameCheck(value, (ErrorCode.INVALID, INVALID_MESSAGE))
    return NameCheck(value)


def check_name(errors: ErrorCollector, field: str | Sequence[str], raw: str | None, *, required: bool) -> str | None:
    """The tidied name part, its problem (if any) added to `errors` at `field`."""
    result = check(raw, required=required)
    if result.problem is not None:
        errors.add(field, *result.problem)
    return result.value
