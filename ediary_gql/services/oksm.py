"""The OKSM (Общероссийский классификатор стран мира): countries by their three-digit
codes, with their Russian short names. Citizenship is stored as such a code.

The list ships with the package (`ediary_gql/data/oksm.csv`, 251 countries and
territories, ISO 3166-1 numeric codes plus 895 Абхазия and 896 Южная Осетия).
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """Short name by code ("643": "РОССИЯ"), read once."""
    text = resources.files("ediary_gql.data").joinpath("oksm.csv").read_text(encoding="utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(io.StringIO(text))}


def is_code(value: str) -> bool:
    """Whether `value` is exactly an OKSM code: three digits naming a country."""
    return value in countries()


def name_of(code: str) -> str | None:
    return countries().get(code)
