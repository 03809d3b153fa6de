"""The one rule for people's names (services/person_names.py), case by case."""

from __future__ import annotations

import pytest

from ediary_gql.errors import ErrorCode, ErrorCollector
from ediary_gql.services import person_names


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Петрова", "Петрова"),
        ("Салтыков-Щедрин", "Салтыков-Щедрин"),
        ("Ван Гог", "Ван Гог"),
        ("Д'Артаньян", "Д'Артаньян"),
        ("Д’Артаньян", "Д'Артаньян"),  # the typographic apostrophe
        ("Войтюкʼ", None),  # an apostrophe ends nothing
        ("Пʼять", "П'ять"),  # the modifier letter apostrophe (Ukrainian)
        ("Римский–Корсаков", "Римский-Корсаков"),  # en dash
        ("Римский—Корсаков", "Римский-Корсаков"),  # em dash
        ("  Ван \t\u00a0 Гог ", "Ван Гог"),  # tabs, no-break spaces, runs of spaces
        ("Семёнова", "Семёнова"),  # Ё is kept, never folded to Е
        ("СЕМЁНОВА", "СЕМЁНОВА"),  # case as typed
        ("Іваненко", "Іваненко"),  # Cyrillic beyond the Russian alphabet
        ("Гәрәева", "Гәрәева"),
        ("Андреи\u0306", "Андрей"),  # й typed as и + combining breve: one letter (NFC)
    ],
)
def test_names_are_tidied(typed: str, stored: str | None) -> None:
    checked = person_names.check(typed, required=True)
    if stored is None:
        assert checked.problem is not None
    else:
        assert checked == person_names.NameCheck(stored)


@pytest.mark.parametrize(
    "typed",
    [
        "Smith",
        "Smith John",
        "Петроva",  # Latin letters among Cyrillic ones
        "Пeтрова",  # one Latin "e" that looks Cyrillic
        "-Петрова",
        "Петрова-",
        "Петрова'",
        "Салтыков--Щедрин",
        "Анна - Мария",  # a space and a hyphen in a row
        "Петров2",
        "Петрова!",
        "Пет_рова",
        "Ива́нов",  # a stress mark is not a letter
    ],
)
def test_other_names_are_refused_alike(typed: str) -> None:
    assert person_names.check(typed, required=True).problem == (ErrorCode.INVALID, person_names.INVALID_MESSAGE)


def test_empty_and_long_names() -> None:
    assert person_names.check("  ", required=True).problem == (ErrorCode.REQUIRED, person_names.REQUIRED_MESSAGE)
    assert person_names.check(None, required=False) == person_names.NameCheck(None)
    assert person_names.check("Ы" * 100, required=True).problem is None
    assert person_names.check("Ы" * 101, required=True).problem == (ErrorCode.TOO_LONG, person_names.TOO_LONG_MESSAGE)


def test_check_name_adds_the_problem_at_the_field() -> None:
    errors = ErrorCollector()
    assert person_names.check_name(errors, ("child", "lastName"), " Smith ", required=True) == "Smith"
    assert [(e.field, e.code) for e in errors.errors] == [(("child", "lastName"), ErrorCode.INVALID)]
