"""What every factory shares: Faker, counters, parent handling, valid-looking ids."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any, TypeVar

from faker import Faker
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.base import Base, utcnow
from ediary_gql.db.models.enums import Sex

fake = Faker("ru_RU")

# Users made by factories cannot sign in unless a test passes a real hash.
FAKE_PASSWORD_HASH = "not-a-real-hash"

# The school year most factory data lives in.
SCHOOL_YEAR_START = dt.date(2026, 9, 1)

_counter = itertools.count(1)

M = TypeVar("M", bound=Base)

# Override keys whose column is not simply "<key>_id".
_COLUMN_FOR_KEY = {"school_class": "class_id", "region": "region_code"}


def seq() -> int:
    """A number never returned before in this process: makes unique fields unique."""
    return next(_counter)


def now() -> dt.datetime:
    return utcnow()


def take_parents(overrides: dict[str, Any]) -> dict[str, Any]:
    """Turn `school=<School>` style overrides into `school_id=<id>`.

    Any override whose value is a model row stands for its foreign key:
    `teacher=user` → `teacher_id=user.id`, `school_class=cls` → `class_id`,
    `region=r` → `region_code=r.code`.
    """
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, Base):
            column = _COLUMN_FOR_KEY.get(key, f"{key}_id")
            out[column] = getattr(value, "code" if key == "region" else "id")
        else:
            out[key] = value
    return out


async def persist(session: AsyncSession, row: M) -> M:
    session.add(row)
    await session.flush()
    return row


def random_sex() -> Sex:
    return random.choice([Sex.MALE, Sex.FEMALE])


def person_name(sex: Sex) -> dict[str, str]:
    if sex is Sex.MALE:
        return {
            "last_name": fake.last_name_male(),
            "first_name": fake.first_name_male(),
            "middle_name": fake.middle_name_male(),
        }
    return {
        "last_name": fake.last_name_female(),
        "first_name": fake.first_name_female(),
        "middle_name": fake.middle_name_female(),
    }


# --- identifiers with valid check digits --------------------------------------


def inn10(n: int) -> str:
    """A legal entity's INN (10 digits) with a correct check digit."""
    base = f"7701{n % 100000:05d}"
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(int(d) * w for d, w in zip(base, weights, strict=True)) % 11 % 10
    return f"{base}{check}"


def okpo8(n: int) -> str:
    """An OKPO code (8 digits) with a correct check digit."""
    base = f"5{n % 1000000:06d}"
    digits = [int(d) for d in base]
    check = sum(d * w for d, w in zip(digits, range(1, 8), strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, range(3, 10), strict=True)) % 11
        check = 0 if check == 10 else check
    return f"{base}{check}"


def snils11(n: int) -> str:
    """A SNILS (11 digits, no separators) with a correct checksum."""
    base = f"{2_000_000 + n % 900_000_000:09d}"  # above 001-001-998, where checks start
    total = sum(int(d) * w for d, w in zip(base, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    check = 0 if total in (100, 101) else total
    return f"{base}{check:02d}"


def birth_certificate(n: int) -> tuple[str, str]:
    """Series ("IV-МЮ": roman numerals, dash, two Cyrillic letters) and 6-digit number."""
    roman = random.choice(["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"])
    letters = "".join(random.choices("АБВГДЕЖИКЛМНОПРСТУФХЦЧШЭЮЯ", k=2))
    return f"{roman}-{letters}", f"{n % 1_000_000:06d}"


def phone(n: int) -> str:
    return f"+79{n % 1_000_000_000:09d}"
