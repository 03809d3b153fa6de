"""Russian requisites: INN, OKPO, KPP and SNILS, each checked by its published rule.

Every check takes what a person typed (spaces, dashes and the like are allowed
where people write them), and returns the canonical form or raises a
`DomainError(INVALID)` naming `field`, so callers can collect all problems at
once with `ErrorCollector.check`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.ru import inn as stdnum_inn

from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.text import is_digits

Field = Sequence[str] | str

_SEPARATORS = re.compile(r"[\s\-–—.]")
_KPP = re.compile(r"^\d{4}\d{2}\d{3}$")


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value or "")


def _invalid(field: Field, message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID, message, field=field)


# --- INN (ИНН) of an organisation -------------------------------------------------


def company_inn_is_valid(value: str) -> bool:
    number = _compact(value)
    return len(number) == 10 and is_digits(number) and bool(stdnum_inn.is_valid(number))


def normalize_company_inn(raw: str, *, field: Field = "inn", empty_code: ErrorCode = ErrorCode.REQUIRED) -> str:
    """A legal entity's INN: 10 digits, the last a check digit (python-stdnum computes it)."""
    number = _compact(raw)
    if not number:
        raise DomainError(empty_code, "Укажите ИНН организации", field=field)
    if len(number) != 10 or not is_digits(number):
        raise _invalid(field, "ИНН организации — 10 цифр")
    try:
        return str(stdnum_inn.validate(number))
    except StdnumValidationError:
        raise _invalid(field, "ИНН организации указан с ошибкой: не сходится контрольная цифра") from None


# --- OKPO (ОКПО) of an organisation ------------------------------------------------


def okpo_check_digit(first_seven: str) -> int:
    """The 8th digit of an organisation's OKPO code: the digits weighted 1…7, modulo 11;
    a remainder of 10 is recomputed with weights 3…9, and a second 10 gives 0."""
    digits = [int(d) for d in first_seven]
    check = sum(d * w for d, w in zip(digits, range(1, 8), strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, range(3, 10), strict=True)) % 11
        if check == 10:
            check = 0
    return check


def okpo_is_valid(value: str) -> bool:
    number = _compact(value)
    return len(number) == 8 and is_digits(number) and okpo_check_digit(number[:7]) == int(number[7])


def normalize_okpo(raw: str, *, field: Field = "okpo") -> str:
    number = _compact(raw)
    if not number:
        raise DomainError(ErrorCode.REQUIRED, "Укажите код ОКПО", field=field)
    if len(number) != 8 or not is_digits(number):
        raise _invalid(field, "Код ОКПО организации — 8 цифр")
    if not okpo_is_valid(number):
        raise _invalid(field, "Код ОКПО указан с ошибкой: не сходится контрольная цифра")
    return number


# --- KPP (КПП) ---------------------------------------------------------------------


def normalize_kpp(raw: str | None, *, field: Field = "kpp") -> str | None:
    """Optional KPP: 9 digits — tax office (4), reason (2), number (3); None when empty."""
    number = _compact(raw or "")
    if not number:
        return None
    if not _KPP.match(number) or number.startswith("0000"):
        raise _invalid(field, "КПП — 9 цифр: код налогового органа, причина постановки на учёт и номер")
    return number


# --- SNILS (СНИЛС) -----------------------------------------------------------------

# Numbers up to this one were issued without a meaningful checksum.
SNILS_CHECKED_FROM = 1_001_998


def snils_checksum(first_nine: str) -> int:
    """Digits weighted 9…1 (from the left); under 100 the sum is the checksum, 100 and
    101 give 00, larger sums are taken modulo 101 (where 100 again gives 00)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return 0 if total in (100, 101) else total


def snils_is_valid(value: str) -> bool:
    number = _compact(value)
    if len(number) != 11 or not is_digits(number):
        return False
    if int(number[:9]) <= SNILS_CHECKED_FROM:
        return True
    return snils_checksum(number[:9]) == int(number[9:])


def normalize_snils(raw: str, *, field: Field = "snils") -> str:
    """A SNILS as 11 digits (typed as «112-233-445 95» or without separators)."""
    number = _compact(raw)
    if not number:
        raise DomainError(ErrorCode.REQUIRED, "Укажите СНИЛС", field=field)
    if len(number) != 11 or not is_digits(number):
        raise _invalid(field, "СНИЛС — 11 цифр, например 112-233-445 95")
    if not snils_is_valid(number):
        raise _invalid(field, "СНИЛС указан с ошибкой: не сходится контрольное число")
    return number


def format_snils(number: str) -> str:
    """11 digits as people write them: 112-233-445 95."""
    return f"{number[:3]}-{number[3:6]}-{number[6:9]} {number[9:]}"
