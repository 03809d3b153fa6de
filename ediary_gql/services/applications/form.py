"""The application form: what a parent fills in, and the checks of each field.

A draft keeps whatever well-formed fields it is given; submission then requires
what is still missing (`check_complete`). Every problem is added to an
ErrorCollector with its field path, so the parent hears of all of them at once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.applications import Application
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import ApplicationAttachmentKind, LaunchMode, SchoolStatus, Sex
from ediary_gql.db.models.geo import Region, Settlement
from ediary_gql.db.models.schools import School
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import oksm, person_names, requisites
from ediary_gql.services.attachments import UploadedFile
from ediary_gql.settings import Settings
from ediary_gql.storage import Storage
from ediary_gql.text import is_digits

MAX_ATTACHMENTS = 10
RUSSIA = "643"

# A valid Roman numeral (1–3999), not empty.
_ROMAN = re.compile(r"^(?=[IVXLCM])M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_CERT_LETTERS = re.compile(r"^[А-ЯЁ]{2}$")
# Letters people type by mistake: Cyrillic look-alikes in the numeral, Latin ones in the letters.
_ROMAN_LOOKALIKES = str.maketrans({"Х": "X", "С": "C", "М": "M", "І": "I", "Ӏ": "I", "1": "I"})
_LETTER_LOOKALIKES = str.maketrans(
    {
        "A": "А",
        "B": "В",
        "E": "Е",
        "K": "К",
        "M": "М",
        "H": "Н",
        "O": "О",
        "P": "Р",
        "C": "С",
        "T": "Т",
        "X": "Х",
        "Y": "У",
    }
)
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})


def normalize_snils(raw: str, *, field: Sequence[str] = ("child", "snils")) -> str:
    """11 digits ("112-233-445 95" accepted) with a valid check number (services/requisites)."""
    return requisites.normalize_snils(raw, field=field)


def normalize_birth_cert_series(raw: str, *, field: Sequence[str] = ("child", "birthCertificate", "series")) -> str:
    """ "IV-АБ": a Roman numeral, a hyphen, two Cyrillic capitals. Look-alike letters typed
    in the wrong alphabet (Cyrillic Х/С/М/І in the numeral, Latin A/B/E/… in the letters),
    lower case, spaces and other dashes are corrected rather than refused."""
    value = "".join(raw.split()).translate(_DASHES).upper()
    numeral, dash, letters = value.partition("-")
    numeral = numeral.translate(_ROMAN_LOOKALIKES)
    letters = letters.translate(_LETTER_LOOKALIKES)
    if not dash or not _ROMAN.match(numeral) or not _CERT_LETTERS.match(letters):
        raise DomainError(
            ErrorCode.INVALID,
            "Серия свидетельства: римское число, дефис и две русские буквы, например IV-АБ",
            field=field,
        )
    return f"{numeral}-{letters}"


def normalize_birth_cert_number(raw: str, *, field: Sequence[str] = ("child", "birthCertificate", "number")) -> str:
    value = "".join(raw.split())
    if len(value) != 6 or not is_digits(value):
        raise DomainError(ErrorCode.INVALID, "Номер свидетельства: 6 цифр", field=field)
    return value


def normalize_citizenship(raw: str, *, field: Sequence[str] = ("child", "citizenship")) -> str:
    """A country by its OKSM digital code ("643" is Russia)."""
    value = raw.strip()
    if not (len(value) == 3 and is_digits(value) and oksm.is_code(value)):
        raise DomainError(ErrorCode.INVALID, "Гражданство: трёхзначный код страны по ОКСМ, например 643", field=field)
    return value


def clean_text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


@dataclass(frozen=True, slots=True)
class ChildData:
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    birth_date: dt.date | None = None
    sex: Sex | None = None
    snils: str | None = None
    birth_cert_series: str | None = None
    birth_cert_number: str | None = None
    birth_cert_issued_on: dt.date | None = None
    citizenship: str | None = None


@dataclass(frozen=True, slots=True)
class NewFile:
    kind: ApplicationAttachmentKind
    file: UploadedFile


@dataclass(frozen=True, slots=True)
class ApplicationData:
    """The whole form: a draft is saved as given (each field's format is checked when it
    is filled); `submit` requires what is still missing."""

    child: ChildData = field(default_factory=ChildData)
    region_code: str | None = None
    settlement_id: int | None = None
    school_id: int | None = None
    class_id: int | None = None


@dataclass(frozen=True, slots=True)
class Files:
    """What to do with the application's files in the same request."""

    add: Sequence[NewFile] = ()
    remove: Sequence[int] = ()  # attachment ids
    storage: Storage | None = None
    settings: Settings | None = None


NO_FILES = Files()


async def check_form(
    session: AsyncSession, errors: ErrorCollector, data: ApplicationData, today: dt.date
) -> dict[str, Any]:
    """Column values of the whole form, with every problem added to `errors`."""
    return _check_child(errors, data.child, today) | await _check_place(session, errors, data)


def _check_child(errors: ErrorCollector, data: ChildData, today: dt.date) -> dict[str, Any]:
    """Column values of the child data, with every format problem added to `errors`."""
    c = ("child",)
    cert = ("child", "birthCertificate")
    # names may wait in a draft (check_complete requires them at submission)
    values: dict[str, Any] = {
        "child_last_name": person_names.check_name(errors, (*c, "lastName"), data.last_name, required=False),
        "child_first_name": person_names.check_name(errors, (*c, "firstName"), data.first_name, required=False),
        "child_middle_name": person_names.check_name(errors, (*c, "middleName"), data.middle_name, required=False),
        "child_birth_date": data.birth_date,
        "child_sex": data.sex,
        "child_snils": None,
        "birth_cert_series": None,
        "birth_cert_number": None,
        "birth_cert_issued_on": data.birth_cert_issued_on,
        "citizenship": RUSSIA,
    }
    if data.birth_date is not None:
        if data.birth_date > today:
            errors.add((*c, "birthDate"), ErrorCode.INVALID, "Дата рождения не может быть в будущем")
        elif data.birth_date < today.replace(year=today.year - 21, day=min(today.day, 28)):
            errors.add((*c, "birthDate"), ErrorCode.INVALID, "Ребёнку не может быть больше 20 лет")
    if data.birth_cert_issued_on is not None:
        if data.birth_cert_issued_on > today:
            errors.add((*cert, "issuedOn"), ErrorCode.INVALID, "Дата выдачи не может быть в будущем")
        elif data.birth_date is not None and data.birth_cert_issued_on < data.birth_date:
            errors.add((*cert, "issuedOn"), ErrorCode.INVALID, "Свидетельство не может быть выдано до рождения")
    if clean_text(data.snils):
        values["child_snils"] = errors.check(lambda: normalize_snils(data.snils or ""))
    if clean_text(data.birth_cert_series):
        values["birth_cert_series"] = errors.check(lambda: normalize_birth_cert_series(data.birth_cert_series or ""))
    if clean_text(data.birth_cert_number):
        values["birth_cert_number"] = errors.check(lambda: normalize_birth_cert_number(data.birth_cert_number or ""))
    if clean_text(data.citizenship):
        values["citizenship"] = errors.check(lambda: normalize_citizenship(data.citizenship or "")) or RUSSIA
    return values


def child_columns(app: Application) -> dict[str, Any]:
    """The child's data as stored on the application, by the names Child and ChildData share."""
    return {
        "last_name": app.child_last_name,
        "first_name": app.child_first_name,
        "middle_name": app.child_middle_name,
        "birth_date": app.child_birth_date,
        "sex": app.child_sex,
        "snils": app.child_snils,
        "birth_cert_series": app.birth_cert_series,
        "birth_cert_number": app.birth_cert_number,
        "birth_cert_issued_on": app.birth_cert_issued_on,
        "citizenship": app.citizenship,
    }


async def _check_place(session: AsyncSession, errors: ErrorCollector, data: ApplicationData) -> dict[str, Any]:
    """Region → settlement → school (active, open to parents) → class of that school."""
    values: dict[str, Any] = {
        "region_code": data.region_code,
        "settlement_id": data.settlement_id,
        "school_id": data.school_id,
        "class_id": data.class_id,
    }
    region = await session.get(Region, data.region_code) if data.region_code else None
    if data.region_code and region is None:
        errors.add("regionCode", ErrorCode.NOT_FOUND, "Регион не найден")
    settlement = await session.get(Settlement, data.settlement_id) if data.settlement_id is not None else None
    if data.settlement_id is not None and settlement is None:
        errors.add("settlementId", ErrorCode.NOT_FOUND, "Населённый пункт не найден")
    elif settlement is not None and region is not None and settlement.region_code != region.code:
        errors.add("settlementId", ErrorCode.INVALID, "Населённый пункт не в выбранном регионе")
    school = await session.get(School, data.school_id) if data.school_id is not None else None
    if data.school_id is not None and not _school_takes_applications(school):
        errors.add("schoolId", ErrorCode.NOT_FOUND, "Школа не найдена или не принимает заявки")
        school = None
    elif school is not None and settlement is not None and school.settlement_id != settlement.id:
        errors.add("schoolId", ErrorCode.INVALID, "Школа не в выбранном населённом пункте")
    if data.class_id is not None:
        school_class = await session.get(SchoolClass, data.class_id)
        if school_class is None or (data.school_id is not None and school_class.school_id != data.school_id):
            errors.add("classId", ErrorCode.NOT_FOUND, "Класс не найден в выбранной школе")
        elif data.school_id is None:
            errors.add("schoolId", ErrorCode.REQUIRED, "Выберите школу")
    return values


def _school_takes_applications(school: School | None) -> bool:
    """Only ACTIVE schools take applications, and only once launched for parents (OPEN)."""
    return school is not None and school.status == SchoolStatus.ACTIVE and school.launch_mode == LaunchMode.OPEN


def check_complete(errors: ErrorCollector, app: Application, kinds: set[ApplicationAttachmentKind]) -> None:
    """What submission needs beyond well-formed fields."""
    required = {
        ("child", "lastName"): app.child_last_name,
        ("child", "firstName"): app.child_first_name,
        ("child", "birthDate"): app.child_birth_date,
        ("child", "sex"): app.child_sex,
        ("child", "birthCertificate", "series"): app.birth_cert_series,
        ("child", "birthCertificate", "number"): app.birth_cert_number,
        ("child", "birthCertificate", "issuedOn"): app.birth_cert_issued_on,
        ("child", "citizenship"): app.citizenship,
        ("regionCode",): app.region_code,
        ("settlementId",): app.settlement_id,
        ("schoolId",): app.school_id,
        ("classId",): app.class_id,
    }
    for path, value in required.items():
        if value is None:
            errors.add(path, ErrorCode.REQUIRED, "Обязательное поле")
    if ApplicationAttachmentKind.BIRTH_CERTIFICATE not in kinds:
        errors.add("attachments", ErrorCode.REQUIRED, "Приложите скан свидетельства о рождении")
