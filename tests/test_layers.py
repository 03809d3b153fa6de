"""The arrows run one way: schema/ → resolvers/ → services/ → db/. Checked on the source,
every import (top level, in functions, under TYPE_CHECKING), so a shortcut cannot creep in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ediary_gql"

# floor → what it must never import
FORBIDDEN = {
    "resolvers": ("ediary_gql.schema",),
    "services": ("ediary_gql.schema", "ediary_gql.resolvers"),
    "db": ("ediary_gql.schema", "ediary_gql.resolvers", "ediary_gql.services"),
    "auth": ("ediary_gql.schema", "ediary_gql.resolvers", "ediary_gql.services"),
    "events": ("ediary_gql.schema", "ediary_gql.resolvers", "ediary_gql.services"),
}
# leaves: of ours, they import only these
LEAVES = {
    "reports": ("ediary_gql.reports", "ediary_gql.text"),
}
# modules that may import lazily, for start-up time (a command line run)
LAZY_ALLOWED = {"cli.py"}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, inside a function) for every import of the file."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module, in_function))
                found.extend((f"{child.module}.{alias.name}", in_function) for alias in child.names)
            visit(child, nested)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("floor", sorted(FORBIDDEN))
def test_no_floor_imports_what_is_above_it(floor: str) -> None:
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in sorted((PACKAGE / floor).rglob("*.py"))
        for module, _ in _imports(path)
        if module.startswith(FORBIDDEN[floor])
    ]
    assert wrong == []


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_a_leaf_imports_nothing_of_ours_but_what_it_may(leaf: str) -> None:
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in sorted((PACKAGE / leaf).rglob("*.py"))
        for module, _ in _imports(path)
        if module.startswith("ediary_gql")
        and not any(module == allowed or module.startswith(f"{allowed}.") for allowed in LEAVES[leaf])
    ]
    assert wrong == []


def test_no_import_hides_in_a_function() -> None:
    hidden = [
        f"{path.relative_to(PACKAGE)} imports {module} inside a function"
        for path in _sources()
        if path.name not in LAZY_ALLOWED
        for module, in_function in _imports(path)
        if in_function and module.startswith("ediary_gql")
    ]
    assert hidden == []
