"""The API contract: breaking changes between the released schema and the current one must
each be listed as intended in CHANGELOG.md ("## Unreleased", lines with "Breaking:")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from graphql import build_schema, find_breaking_changes

ROOT = Path(__file__).resolve().parent.parent
RELEASED = ROOT / "docs" / "schema-released.graphql"
CHANGELOG = ROOT / "CHANGELOG.md"

# graphql-core's descriptions of a breaking change, to the schema coordinate each names
# ("Field User.email was removed.", "Argument Query.school(year:) was removed.", "Foo was removed.")
_COORDINATES = [
    (re.compile(r"(?<![\w@])([A-Za-z_]\w*)\.([A-Za-z_]\w*)"), r"\1.\2"),
    (re.compile(r"(?:was removed from union type|no longer implements interface) "), None),
    (re.compile(r"@(\w+)"), r"@\1"),
    (re.compile(r"^([A-Za-z_]\w*)"), r"\1"),
]


@dataclass(frozen=True)
class Change:
    coordinate: str  # Type or Type.field (Enum.VALUE, Input.field)
    description: str


def breaking_changes(released_sdl: str, current_sdl: str) -> list[Change]:
    found = find_breaking_changes(build_schema(released_sdl), build_schema(current_sdl))
    return [Change(_coordinate(c.description), c.description) for c in found]


def _coordinate(description: str) -> str:
    for pattern, template in _COORDINATES:
        match = pattern.search(description)
        if match and template is None:  # "Member was removed from union type U": the member's type
            return description.split(" ", 1)[0]
        if match and template is not None:
            return match.expand(template)
    return description


def intended(changelog: str) -> list[str]:
    """The "Breaking:" lines of the Unreleased section."""
    section = re.search(r"^## Unreleased\b(.*?)(?=^## |\Z)", changelog, re.M | re.S)
    if section is None:
        return []
    return [line for line in section.group(1).splitlines() if "Breaking:" in line]


def unlisted(changes: list[Change], changelog: str) -> list[Change]:
    """The breaking changes no "Breaking:" line names (by its coordinate, as a whole word)."""
    lines = intended(changelog)

    def listed(change: Change) -> bool:
        name = re.compile(rf"(?<![\w.]){re.escape(change.coordinate)}(?![\w.])")
        return any(name.search(line) for line in lines)

    return [c for c in changes if not listed(c)]
