"""Values of the request that field descriptions read, by the `:name` they bind as.

A statement's text is the same for every request (the statement caches key on it), so
what depends on the request (the server's address) is a bound parameter, never text.
schema/execution.py gives each rendered statement those of these it names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ediary_gql.resolvers import attachments

if TYPE_CHECKING:
    from ediary_gql.context import Context

REQUEST_VALUES: dict[str, Callable[[Context], Any]] = {
    "attachment_url": attachments.download_url_prefix,
}

_NAMED = {name: re.compile(rf"(?<![:\w]):{name}\b") for name in REQUEST_VALUES}


def named_in(sql: str) -> tuple[str, ...]:
    """The request's values `sql` binds."""
    return tuple(name for name, pattern in _NAMED.items() if pattern.search(sql))


def values(names: tuple[str, ...], context: Context) -> dict[str, Any]:
    return {name: REQUEST_VALUES[name](context) for name in names}
