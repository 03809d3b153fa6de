"""`ediary-gql migrate` loads the regions/settlements directory, idempotently."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from ediary_gql.cli import app
from ediary_gql.services.directory import shipped_settlements
from tests.test_cli import db_file

runner = CliRunner()
__all__ = ["db_file"]


def test_migrate_loads_the_directory_once(db_file: Path) -> None:
    # when migrate runs twice
    for _ in range(2):
        result = runner.invoke(app, ["migrate"])
        assert result.exit_code == 0, result.output
    # then the 89 regions and the shipped settlements are there, once each
    with sqlite3.connect(db_file) as db:
        assert db.execute("SELECT count(*) FROM regions").fetchone() == (89,)
        assert db.execute("SELECT count(*) FROM settlements").fetchone() == (len(shipped_settlements()),)
        assert db.execute("SELECT name FROM settlements WHERE name_normalized = 'королев'").fetchall() == [("Королёв",)]
