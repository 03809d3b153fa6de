"""The query parameters of OneRoster's collection endpoints (§3.4 of the REST binding):
`limit`/`offset` paging, `sort` with `orderBy`, `filter` and `fields`."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ediary_gql.services.oneroster.reads import OPERATORS, Comparison, Filter, ListQuery, Minor, QueryError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

_OPERATOR = "|".join(re.escape(op) for op in sorted(OPERATORS, key=len, reverse=True))
_TERM = rf"\s*([A-Za-z][A-Za-z0-9.]*)\s*({_OPERATOR})\s*'([^']*)'\s*"
# one comparison, or two joined by AND or OR: as far as the spec's filters go
_FILTER = re.compile(rf"^{_TERM}(?:\s(AND|OR)\s{_TERM})?$")


def _number(params: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise QueryError(Minor.INVALID_DATA, f"{name} must be an integer of at least {minimum}")
    return int(raw)


def parse_filter(raw: str) -> Filter:
    """`familyName='Иванова'`, or two such joined by ` AND ` / ` OR `."""
    found = _FILTER.match(raw)
    if found is None:
        raise QueryError(Minor.INVALID_DATA, f"Malformed filter: {raw!r}")
    field, op, value, conjunction, *second = found.groups()
    terms = [Comparison(field, op, value)]
    if conjunction is not None:
        terms.append(Comparison(second[0], second[1], second[2]))
    return Filter(terms=tuple(terms), conjunction=conjunction or "AND")


def list_query(params: Mapping[str, str]) -> ListQuery:
    order = params.get("orderBy", "asc").lower()
    if order not in ("asc", "desc"):
        raise QueryError(Minor.INVALID_DATA, "orderBy must be asc or desc")
    raw_filter = params.get("filter")
    return ListQuery(
        # a larger limit than the server gives is answered with its largest page (X-Total-Count tells the rest)
        limit=min(_number(params, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT),
        offset=_number(params, "offset", 0, 0),
        sort=params.get("sort") or None,
        descending=order == "desc",
        filter=parse_filter(raw_filter) if raw_filter else None,
    )


def selected_fields(params: Mapping[str, str], known: tuple[str, ...]) -> tuple[str, ...] | None:
    """The fields asked for (`fields=givenName,familyName`), None for all of them."""
    raw = params.get("fields")
    if raw is None:
        return None
    names = tuple(name.strip() for name in raw.split(","))
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        raise QueryError(Minor.INVALID_SELECTION_FIELD, f"Unknown selection field: {', '.join(unknown) or raw!r}")
    return names
