"""Russian names that match sex, with patronymics taken from the father's name.

Surnames come from Faker's ru_RU provider (seeded, so the same run gives the
same people); first names are today's common names rather than Faker's
archaic ones, and patronymics are built from the father's name as Russian
grammar requires (Дмитрий → Дмитриевич / Дмитриевна, Илья → Ильич / Ильинична).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from faker import Faker

from ediary_gql.db.models.enums import Sex

# (name, patronymic of a son, patronymic of a daughter)
MALE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("Александр", "Александрович", "Александровна"),
    ("Алексей", "Алексеевич", "Алексеевна"),
    ("Андрей", "Андреевич", "Андреевна"),
    ("Антон", "Антонович", "Антоновна"),
    ("Артём", "Артёмович", "Артёмовна"),
    ("Борис", "Борисович", "Борисовна"),
    ("Вадим", "Вадимович", "Вадимовна"),
    ("Валерий", "Валерьевич", "Валерьевна"),
    ("Виктор", "Викторович", "Викторовна"),
    ("Виталий", "Витальевич", "Витальевна"),
    ("Владимир", "Владимирович", "Владимировна"),
    ("Владислав", "Владиславович", "Владиславовна"),
    ("Вячеслав", "Вячеславович", "Вячеславовна"),
    ("Георгий", "Георгиевич", "Георгиевна"),
    ("Денис", "Денисович", "Денисовна"),
    ("Дмитрий", "Дмитриевич", "Дмитриевна"),
    ("Евгений", "Евгеньевич", "Евгеньевна"),
    ("Егор", "Егорович", "Егоровна"),
    ("Иван", "Иванович", "Ивановна"),
    ("Игорь", "Игоревич", "Игоревна"),
    ("Илья", "Ильич", "Ильинична"),
    ("Кирилл", "Кириллович", "Кирилловна"),
    ("Константин", "Константинович", "Константиновна"),
    ("Максим", "Максимович", "Максимовна"),
    ("Михаил", "Михайлович", "Михайловна"),
    ("Никита", "Никитич", "Никитична"),
    ("Николай", "Николаевич", "Николаевна"),
    ("Олег", "Олегович", "Олеговна"),
    ("Павел", "Павлович", "Павловна"),
    ("Пётр", "Петрович", "Петровна"),
    ("Роман", "Романович", "Романовна"),
    ("Руслан", "Русланович", "Руслановна"),
    ("Сергей", "Сергеевич", "Сергеевна"),
    ("Станислав", "Станиславович", "Станиславовна"),
    ("Юрий", "Юрьевич", "Юрьевна"),
    ("Ярослав", "Ярославович", "Ярославовна"),
)

ADULT_FEMALE_NAMES: tuple[str, ...] = (
    "Анастасия", "Анна", "Валентина", "Вера", "Виктория", "Галина", "Дарья", "Евгения",
    "Екатерина", "Елена", "Жанна", "Ирина", "Кристина", "Ксения", "Лариса", "Любовь",
    "Людмила", "Марина", "Мария", "Надежда", "Наталья", "Оксана", "Ольга", "Светлана",
    "Татьяна", "Юлия", "Яна",
)  # fmt: skip

BOY_NAMES: tuple[str, ...] = (
    "Александр", "Алексей", "Андрей", "Арсений", "Артём", "Богдан", "Владимир", "Георгий",
    "Глеб", "Даниил", "Денис", "Дмитрий", "Егор", "Иван", "Илья", "Кирилл", "Константин",
    "Лев", "Марк", "Матвей", "Максим", "Михаил", "Никита", "Павел", "Роман", "Степан",
    "Тимофей", "Тимур", "Фёдор", "Ярослав",
)  # fmt: skip

GIRL_NAMES: tuple[str, ...] = (
    "Александра", "Алиса", "Алёна", "Анастасия", "Ангелина", "Анна", "Арина", "Валерия",
    "Варвара", "Василиса", "Вероника", "Виктория", "Дарья", "Диана", "Ева", "Екатерина",
    "Елизавета", "Злата", "Кира", "Ксения", "Маргарита", "Мария", "Милана", "Полина",
    "Софья", "Таисия", "Ульяна", "Юлия",
)  # fmt: skip


def feminine_surname(male: str) -> str:
    """Смирнов → Смирнова, Белкин → Белкина, Вишневский → Вишневская, Толстой → Толстая."""
    for ending, female in (("ский", "ская"), ("цкий", "цкая"), ("ой", "ая"), ("ый", "ая")):
        if male.endswith(ending):
            return male[: -len(ending)] + female
    if male.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return male + "а"
    return male  # Ковальчук, Шевченко, Седых: the same for both


@dataclass(frozen=True, slots=True)
class Person:
    last_name: str
    first_name: str
    middle_name: str
    sex: Sex

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name} {self.middle_name}"

    @property
    def short_name(self) -> str:
        """Фамилия И. О."""
        return f"{self.last_name} {self.first_name[0]}. {self.middle_name[0]}."


@dataclass(frozen=True, slots=True)
class Family:
    surname: str  # the masculine form
    father: tuple[str, str, str]  # one of MALE_NAMES

    def surname_for(self, sex: Sex) -> str:
        return self.surname if sex is Sex.MALE else feminine_surname(self.surname)

    def patronymic_for(self, sex: Sex) -> str:
        return self.father[1] if sex is Sex.MALE else self.father[2]


class NameMaker:
    """Deterministic Russian people: the same seed gives the same names."""

    def __init__(self, seed: int) -> None:
        self.fake = Faker("ru_RU")
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets

    def sex(self) -> Sex:
        return Sex.MALE if self.rng.random() < 0.5 else Sex.FEMALE

    def family(self) -> Family:
        return Family(surname=str(self.fake.last_name_male()), father=self.rng.choice(MALE_NAMES))

    def adult(self, sex: Sex, family: Family | None = None) -> Person:
        """A grown-up; with a family, one of its parents (the father's name is the family's)."""
        own_father = self.rng.choice(MALE_NAMES)  # the adult's own father: their patronymic
        if family is None:
            family = self.family()
        if sex is Sex.MALE:
            return Person(family.surname, family.father[0], own_father[1], sex)
        return Person(feminine_surname(family.surname), self.rng.choice(ADULT_FEMALE_NAMES), own_father[2], sex)

    def child(self, sex: Sex, family: Family) -> Person:
        first = self.rng.choice(BOY_NAMES if sex is Sex.MALE else GIRL_NAMES)
        return Person(family.surname_for(sex), first, family.patronymic_for(sex), sex)

    def birth_date(self, level: int, year_start: dt.date) -> dt.date:
        """A birth date that fits `level` in the school year starting at `year_start`.

        Children start school at 6½–7½, so a first-grader of 2026 was born between
        March 2019 and February 2020; one child in twenty is half a year older.
        """
        first = dt.date(year_start.year - 6 - level, 3, 1)
        if self.rng.random() < 0.05:
            first -= dt.timedelta(days=180)
        return first + dt.timedelta(days=self.rng.randrange(365))
