"""Registering a new person: validation of every field at once, the TEMPORARY
account, confirmation codes to both contacts, and a first session.

The rules for a new password (here too: `check_new_password`) are shared with
the password reset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from zxcvbn import zxcvbn

from ediary_gql.auth import policy
from ediary_gql.auth.actor import Actor
from ediary_gql.auth.passwords import hash_password
from ediary_gql.db.base import utcnow
from ediary_gql.db.models.enums import UserStatus
from ediary_gql.db.models.identities import ConsentMethod, ConsentRecord
from ediary_gql.db.models.users import User
from ediary_gql.errors import DomainError, ErrorCode, ErrorCollector, RateLimited
from ediary_gql.services import audit, rate_limits, sessions, verification
from ediary_gql.services.contacts import normalize_email, normalize_phone
from ediary_gql.services.person_names import check_name  # names: the one rule of every workflow
from ediary_gql.settings import Settings

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
MIN_PASSWORD_SCORE = 2  # zxcvbn: 0 too guessable … 4 very unguessable
# zxcvbn refuses longer input (its matching slows down fast with length): a longer
# password is scored by its first this many characters
ZXCVBN_MAX_LENGTH = 72
MIN_AGE = 14
MAX_AGE = 120


@dataclass(frozen=True, slots=True)
class Registration:
    phone: str
    email: str
    password: str
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: dt.date | None
    consent_to_processing: bool


@dataclass(frozen=True, slots=True)
class Registered:
    user: User
    tokens: sessions.TokenPair
    codes_sent: tuple[verification.ContactChannel, ...]


# --- birth date -------------------------------------------------------------


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def check_birth_date(errors: ErrorCollector, field: str, birth_date: dt.date | None, today: dt.date) -> None:
    if birth_date is None:
        errors.add(field, ErrorCode.REQUIRED, "Обязательное поле")
    elif birth_date >= today:
        errors.add(field, ErrorCode.INVALID, "Дата рождения должна быть в прошлом")
    elif age_on(birth_date, today) < MIN_AGE:
        errors.add(field, ErrorCode.INVALID, f"Зарегистрироваться самостоятельно можно с {MIN_AGE} лет")
    elif age_on(birth_date, today) > MAX_AGE:
        errors.add(field, ErrorCode.INVALID, "Проверьте дату рождения")


# --- passwords --------------------------------------------------------------

# A password typed on the Russian layout is the Latin one typed on the same keys
# ("пароль" is "gfhjkm", "йцукен" is "qwerty"): both are judged, the weaker wins.
_RU = "ёйцукенгшщзхъфывапролджэячсмитьбюЁЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ"
_EN = "`qwertyuiop[]asdfghjkl;'zxcvbnm,.~QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>"
_LAYOUT = str.maketrans(_RU, _EN)


def _weakness(sequence: Iterable[Mapping[str, object]]) -> str:
    """Why zxcvbn found a password guessable, from the patterns it matched."""
    patterns = [(m.get("pattern"), m.get("dictionary_name")) for m in sequence]
    if any(name == "user_inputs" for _, name in patterns):
        return "он содержит ваше имя, телефон, адрес почты или дату рождения"
    if any(name == "passwords" for _, name in patterns):
        return "он входит в список самых распространённых паролей"
    if any(p == "spatial" for p, _ in patterns):
        return "это соседние клавиши клавиатуры (вроде qwerty или йцукен)"
    if any(p == "repeat" for p, _ in patterns):
        return "в нём повторяются одни и те же символы"
    if any(p == "sequence" for p, _ in patterns):
        return "это последовательность символов (вроде abcd или 1234)"
    if any(p in ("date", "regex") for p, _ in patterns):
        return "он похож на дату или год"
    if any(p == "dictionary" for p, _ in patterns):
        return "он состоит из распространённых слов или имён"
    return "его легко подобрать"


def check_new_password(errors: ErrorCollector, field: str, password: str, *, personal: Iterable[str] = ()) -> None:
    """At least 8 characters and not guessable (zxcvbn score >= 2, also on the other keyboard layout)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(field, ErrorCode.WEAK_PASSWORD, f"Пароль должен быть не короче {MIN_PASSWORD_LENGTH} символов")
        return
    if len(password) > MAX_PASSWORD_LENGTH:
        errors.add(field, ErrorCode.TOO_LONG, f"Пароль не длиннее {MAX_PASSWORD_LENGTH} символов")
        return
    inputs = [p for p in personal if p]
    candidates = {password[:ZXCVBN_MAX_LENGTH], password.translate(_LAYOUT)[:ZXCVBN_MAX_LENGTH]}
    weakest = min((zxcvbn(c, user_inputs=inputs) for c in candidates), key=lambda r: int(r["score"]))
    if int(weakest["score"]) < MIN_PASSWORD_SCORE:
        errors.add(
            field,
            ErrorCode.WEAK_PASSWORD,
            f"Слишком простой пароль: {_weakness(weakest['sequence'])}. "
            "Добавьте ещё слово или несколько необычных символов",
        )


def personal_words(
    *, phone: str | None, email: str | None, names: Iterable[str | None], birth_date: dt.date | None
) -> list[str]:
    """What a password should not be made of: the person's own data."""
    words = [n for n in names if n]
    if phone:
        words += [phone, phone.lstrip("+"), phone[-10:]]
    if email:
        words += [email, email.partition("@")[0]]
    if birth_date:
        words += [f"{birth_date:%d%m%Y}", f"{birth_date:%d.%m.%Y}", f"{birth_date:%Y}"]
    return words


# --- the workflow -------------------------------------------------------------


async def register(
    session: AsyncSession,
    *,
    settings: Settings,
    actor: Actor | None,
    data: Registration,
    user_agent: str | None = None,
    ip: str | None = None,
) -> Registered:
    """A new TEMPORARY account, signed in, with codes sent to its phone and email.

    Accounts made from one client address are limited (services/rate_limits.py):
    over the limit the request is refused before anything is checked."""
    policy.ensure(policy.can_register(actor))
    now = utcnow()
    by_address = [rate_limits.Counter(rate_limits.register_per_address(settings), ip)]
    await rate_limits.check(session, settings=settings, counters=by_address, now=now)
    errors = ErrorCollector()
    phone = errors.check(lambda: normalize_phone(data.phone)) if data.phone.strip() else None
    if not data.phone.strip():
        errors.add("phone", ErrorCode.REQUIRED, "Обязательное поле")
    email = errors.check(lambda: normalize_email(data.email)) if data.email.strip() else None
    if not data.email.strip():
        errors.add("email", ErrorCode.REQUIRED, "Обязательное поле")
    last = check_name(errors, "lastName", data.last_name, required=True)
    first = check_name(errors, "firstName", data.first_name, required=True)
    middle = check_name(errors, "middleName", data.middle_name, required=False)
    check_birth_date(errors, "birthDate", data.birth_date, now.date())
    personal = personal_words(phone=phone, email=email, names=(last, first, middle), birth_date=data.birth_date)
    check_new_password(errors, "password", data.password, personal=personal)
    if not data.consent_to_processing:
        errors.add("consentToProcessing", ErrorCode.REQUIRED, "Нужно согласие на обработку персональных данных")
    for field, message in await _taken(session, phone=phone, email=email):
        errors.add(field, ErrorCode.DUPLICATE, message)
    errors.raise_if_any()
    if phone is None or email is None or last is None or first is None:  # each was reported above
        raise DomainError(ErrorCode.INVALID, "Проверьте введённые данные")

    user = User(
        phone=phone,
        email=email,
        password_hash=hash_password(data.password),
        last_name=last,
        first_name=first,
        middle_name=middle,
        birth_date=data.birth_date,
        status=UserStatus.TEMPORARY,
        consent_at=now,
        notification_prefs={},
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # registered by someone else a moment ago
        raise DomainError(
            ErrorCode.DUPLICATE, "Учётная запись с таким телефоном или адресом почты уже есть", field="phone"
        ) from None
    await rate_limits.count(session, settings=settings, counters=by_address, now=now)
    # the consent ticked in the form, kept with the text's version, the address and how
    session.add(
        ConsentRecord(
            user_id=user.id,
            text_version=settings.consent_text_version,
            given_at=now,
            address=ip,
            method=ConsentMethod.FORM,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="register",
        entity_type="User",
        entity_id=user.id,
        after={"phone": phone, "email": email, "status": user.status.value, "consent": True},
    )
    sent: list[verification.ContactChannel] = []
    for channel in verification.ContactChannel:
        try:
            await verification.send_code(
                session, settings=settings, user=user, purpose=channel.purpose, channel=channel, now=now
            )
            sent.append(channel)
        except RateLimited:  # codes went to this contact lately: the person asks again later
            pass
    tokens = await sessions.open_session(
        session, settings=settings, user=user, user_agent=user_agent, ip=ip, now=now, action="signIn"
    )
    return Registered(user=user, tokens=tokens, codes_sent=tuple(sent))


async def _taken(session: AsyncSession, *, phone: str | None, email: str | None) -> list[tuple[str, str]]:
    conditions = []
    if phone:
        conditions.append(User.phone == phone)
    if email:
        conditions.append(User.email == email)
    if not conditions:
        return []
    rows = (await session.execute(select(User.phone, User.email).where(or_(*conditions)))).all()
    taken: list[tuple[str, str]] = []
    if phone and any(row.phone == phone for row in rows):
        taken.append(("phone", "Этот номер телефона уже зарегистрирован"))
    if email and any(row.email == email for row in rows):
        taken.append(("email", "Этот адрес электронной почты уже зарегистрирован"))
    return taken
