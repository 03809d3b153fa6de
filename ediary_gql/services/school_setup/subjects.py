"""Subjects and control types (виды работ) with their weights."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.classes import Subject
from ediary_gql.db.models.grades import ControlType
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector
from ediary_gql.services import audit
from ediary_gql.services.school_setup.checks import clean_text, require_setup, required_text

CONTROL_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
MAX_WEIGHT = Decimal("99.99")


@dataclass(frozen=True, slots=True)
class ControlTypeDef:
    code: str
    name: str
    weight: Decimal


# What every school starts with (made with the school, see `add_default_control_types`);
# the demo adds its own on top of these.
DEFAULT_CONTROL_TYPES: tuple[ControlTypeDef, ...] = (
    ControlTypeDef("TEST", "Контрольная работа", Decimal("2.00")),
    ControlTypeDef("QUIZ", "Самостоятельная работа", Decimal("1.50")),
    ControlTypeDef("CHECK", "Проверочная работа", Decimal("1.50")),
    ControlTypeDef("ORAL", "Устный ответ", Decimal("1.00")),
    ControlTypeDef("HOMEWORK", "Домашняя работа", Decimal("1.00")),
)
DEFAULT_CONTROL_CODES = frozenset(d.code for d in DEFAULT_CONTROL_TYPES)


async def add_default_control_types(session: AsyncSession, *, school_id: int) -> list[ControlType]:
    """A row of the school's own per default, like those it adds; in the caller's transaction."""
    rows = [ControlType(school_id=school_id, code=d.code, name=d.name, weight=d.weight) for d in DEFAULT_CONTROL_TYPES]
    session.add_all(rows)
    await session.flush()
    return rows


async def create_subject(
    session: AsyncSession, *, actor: Actor, school_id: int, name: str, short_name: str | None = None
) -> Subject:
    require_setup(actor, school_id)
    errors = ErrorCollector()
    clean = required_text(errors, "name", name, 200)
    short = clean_text(short_name)
    if short is not None and len(short) > 50:
        errors.add("shortName", ErrorCode.TOO_LONG, "Не длиннее 50 символов")
    if clean is not None:
        taken = await session.scalar(select(Subject.id).where(Subject.school_id == school_id, Subject.name == clean))
        if taken is not None:
            errors.add("name", ErrorCode.DUPLICATE, "Такой предмет уже есть")
    errors.raise_if_any()
    assert clean is not None  # noqa: S101 - checked above
    subject = Subject(school_id=school_id, name=clean, short_name=short)
    session.add(subject)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createSubject",
        entity_type="Subject",
        entity_id=subject.id,
        school_id=school_id,
        after={"name": clean, "shortName": short},
    )
    return subject


def parse_weight(raw: str | float | Decimal, *, field: str | Sequence[str] = "weight") -> Decimal:
    try:
        weight = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise DomainError(ErrorCode.INVALID, "Вес — число, например 1.5", field=field) from None
    if not weight.is_finite() or weight <= 0 or weight > MAX_WEIGHT or weight != weight.quantize(Decimal("0.01")):
        raise DomainError(ErrorCode.INVALID, "Вес — положительное число до 99.99 с двумя знаками", field=field)
    return weight.quantize(Decimal("0.01"))


async def create_control_type(
    session: AsyncSession, *, actor: Actor, school_id: int, code: str, name: str, weight: str | float | Decimal
) -> ControlType:
    require_setup(actor, school_id)
    errors = ErrorCollector()
    clean_code = (code or "").strip().upper()
    if not CONTROL_CODE.match(clean_code):
        errors.add("code", ErrorCode.INVALID, "Код — латинские заглавные буквы, цифры и _, например TEST")
    clean_name = required_text(errors, "name", name, 100)
    clean_weight = errors.check(lambda: parse_weight(weight))
    if CONTROL_CODE.match(clean_code):
        taken = await session.scalar(
            select(ControlType.id).where(ControlType.school_id == school_id, ControlType.code == clean_code)
        )
        if taken is not None:
            errors.add("code", ErrorCode.DUPLICATE, "Вид работы с таким кодом уже есть")
    errors.raise_if_any()
    assert clean_name is not None  # noqa: S101 - checked above
    assert clean_weight is not None  # noqa: S101 - checked above
    row = ControlType(school_id=school_id, code=clean_code, name=clean_name, weight=clean_weight)
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="createControlType",
        entity_type="ControlType",
        entity_id=row.id,
        school_id=school_id,
        after={"code": clean_code, "name": clean_name, "weight": str(clean_weight)},
    )
    return row
