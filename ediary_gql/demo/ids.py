"""Identifiers with valid check digits: INN, OKPO, SNILS, birth certificates."""

from __future__ import annotations

import random

from stdnum.ru import inn as stdnum_inn

from ediary_gql.text import is_digits

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
_CERT_LETTERS = "АБВГДЕЖИКЛМНОПРСТУФХЦЧШЭЮЯ"


def company_inn(first_nine: str) -> str:
    """A legal entity's INN: nine digits and the check digit (python-stdnum computes it)."""
    if len(first_nine) != 9 or not is_digits(first_nine):
        raise ValueError("an organisation's INN starts with nine digits")
    number = first_nine + str(stdnum_inn.calc_company_check_digit(first_nine))
    if not stdnum_inn.is_valid(number):  # pragma: no cover - the library computed the digit
        raise ValueError(f"invalid INN {number}")
    return number


def okpo(first_seven: str) -> str:
    """An 8-digit OKPO code: weights 1…7 modulo 11; on 10, weights 3…9; on 10 again, 0."""
    if len(first_seven) != 7 or not is_digits(first_seven):
        raise ValueError("an organisation's OKPO starts with seven digits")
    digits = [int(d) for d in first_seven]
    check = sum(d * w for d, w in zip(digits, range(1, 8), strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, range(3, 10), strict=True)) % 11
        check = 0 if check == 10 else check
    return f"{first_seven}{check}"


def okpo_is_valid(number: str) -> bool:
    return len(number) == 8 and is_digits(number) and okpo(number[:7]) == number


def snils(n: int) -> str:
    """A SNILS (11 digits, no separators) with a correct checksum, numbered by `n`.

    The checksum: digits weighted 9…1; below 100 it is the sum itself, 100 and
    101 give 00, above that the sum modulo 101 (and 100 again gives 00).
    """
    base = f"{2_000_000 + n % 990_000_000:09d}"  # above 001-001-998, where the checks start
    total = sum(int(d) * w for d, w in zip(base, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    check = 0 if total in (100, 101) else total
    return f"{base}{check:02d}"


def snils_is_valid(number: str) -> bool:
    if len(number) != 11 or not is_digits(number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:9], range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    check = 0 if total in (100, 101) else total
    return int(number[9:]) == check


def birth_certificate(rng: random.Random, n: int) -> tuple[str, str]:
    """Series ("IV-МЮ": roman numeral, dash, two Cyrillic letters) and a 6-digit number.

    `n` goes into the number, so certificates numbered differently never clash.
    """
    series = f"{rng.choice(_ROMAN)}-{rng.choice(_CERT_LETTERS)}{rng.choice(_CERT_LETTERS)}"
    return series, f"{n % 1_000_000:06d}"


def numbered_birth_certificate(block: int, n: int) -> tuple[str, str]:
    """A certificate unique by construction: the series names the block (a school), the number the child.

    Numbers stay below 900000, which the demo data keeps for itself.
    """
    if not 0 <= n < 900_000:
        raise ValueError("a block holds at most 900000 certificates")
    roman, rest = block % len(_ROMAN), block // len(_ROMAN)
    first, second = (
        _CERT_LETTERS[rest % len(_CERT_LETTERS)],
        _CERT_LETTERS[(rest // len(_CERT_LETTERS)) % len(_CERT_LETTERS)],
    )
    return f"{_ROMAN[roman]}-{first}{second}", f"{n:06d}"
