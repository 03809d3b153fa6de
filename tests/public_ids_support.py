"""What a client may see in a notification's payload or an audit entry's before/after:
camelCase keys, and every row named by its global ID, never by its row number."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ediary_gql.services import public_ids

CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*")
# keys that are data, not field names: enum values (notificationPrefs' "GRADE")
DATA_KEY = re.compile(r"[A-Z][A-Z0-9_]*")


def _names_row(value: object, type_name: str) -> bool:
    if not isinstance(value, str):
        return False
    try:
        kind, _, pk = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return kind == type_name and pk.isdigit()


def leaks(value: Any, *, entity_type: str | None = None, path: str = "") -> list[str]:
    """Every place of `value` a client would read a row number or a snake_case key at."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            at = f"{path}.{key}"
            if not (CAMEL.fullmatch(key) or DATA_KEY.fullmatch(key)):
                found.append(f"{at}: not a camelCase key")
            if public_ids.looks_like_id(key) or key in public_ids.ID_LIST_KEYS:
                items = item if isinstance(item, list) else [item]
                for n, one in enumerate(items):
                    if isinstance(one, int) and not isinstance(one, bool):
                        found.append(f"{at}[{n}]: a bare row number {one}")
                    named = public_ids.type_of(key, entity_type=entity_type)
                    if one is not None and named is not None and not _names_row(one, named):
                        found.append(f"{at}[{n}]: {one!r} is not a global ID of a {named}")
                continue
            found += leaks(item, entity_type=entity_type, path=at)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += leaks(item, entity_type=entity_type, path=f"{path}[{n}]")
    return found
