"""CI's contract check: no breaking change to the released schema unless CHANGELOG.md lists it."""

from __future__ import annotations

from ediary_gql.schema.export import sdl
from tests.schema_contract import CHANGELOG, RELEASED, breaking_changes, unlisted

RELEASED_SDL = """
type Query { me: User, school(id: ID!): School }
type User { id: ID!, name: String, email: String }
type School { id: ID! }
enum Role { PARENT TEACHER }
input SignInInput { login: String! }
type Mutation { signIn(input: SignInInput!): User, role: Role }
"""

CHANGED_SDL = """
type Query { me: User, school(id: ID!, year: Int!): School }
type User { id: ID!, name: String }
type School { id: ID! }
enum Role { PARENT }
input SignInInput { login: String!, password: String! }
type Mutation { signIn(input: SignInInput!): User, role: Role }
"""


def test_the_current_schema_keeps_the_released_contract_or_says_so() -> None:
    changes = breaking_changes(RELEASED.read_text(encoding="utf-8"), sdl())
    missing = unlisted(changes, CHANGELOG.read_text(encoding="utf-8"))
    assert missing == [], "breaking changes not listed under «## Unreleased» as «Breaking: Type.field — why»:\n" + (
        "\n".join(f"{c.coordinate}: {c.description}" for c in missing)
    )


def test_a_made_up_breaking_change_is_caught() -> None:
    changes = breaking_changes(RELEASED_SDL, CHANGED_SDL)
    assert sorted(c.coordinate for c in changes) == [
        "Query.school",  # a required argument added
        "Role.TEACHER",  # an enum value removed
        "SignInInput.password",  # a required input field added
        "User.email",  # a field removed
    ]
    assert unlisted(changes, "# Changelog\n\n## Unreleased\n\n- Added a field\n") == changes


def test_listed_changes_pass_and_only_under_unreleased() -> None:
    changes = breaking_changes(RELEASED_SDL, CHANGED_SDL)
    changelog = """# Changelog

## Unreleased

- Breaking: `User.email` removed: read it from `me.contacts`.
- Breaking: `Query.school` takes the `year`; `Role.TEACHER` is gone; `SignInInput.password` is required.

## 1.0.0

- Breaking: `User.emailAddress` (an older change, and not this one)
"""
    assert unlisted(changes, changelog) == []
    # an entry of a released version, or a name that only starts like the changed one, does not count
    old_only = (
        "# Changelog\n\n## Unreleased\n\n- Breaking: `User.emailAddress`\n\n## 1.0.0\n\n- Breaking: `User.email`\n"
    )
    assert [c.coordinate for c in unlisted(changes, old_only)] == [c.coordinate for c in changes]
