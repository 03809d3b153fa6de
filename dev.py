#!/usr/bin/env python3
"""Developer entry point: sets up .venv by itself, then runs what you ask.

    python3 dev.py setup     only create .venv and install
    python3 dev.py serve     install, migrate, load demo data, serve the API (GraphiQL, /dashboard)
    python3 dev.py test      install, run the whole test suite (pytest arguments pass through)
    python3 dev.py lint      ruff (lint + format check) and mypy --strict
    python3 dev.py bench     benchmarks over real HTTP, printed as a table (see bench/README.md)
    python3 dev.py bench diary   the diary reads, markAttendance and the subscription fan-out
    python3 dev.py bench streams live events: fan-out on one and two processes, resume after a cursor
    python3 dev.py bench sync    syncLessons, syncGrades, syncAttendance: 1,000 items a call, items per second
    python3 dev.py bench reports class progress in each format, a school's attendance XLSX at two sizes
    python3 dev.py schema    write schema.graphql from the code (commit it with API changes)

Only the standard library is used here, so it runs on a bare Python >= 3.11.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def _run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def ensure_venv() -> None:
    """Create .venv and install the project with its dev tools, when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must explain itself on an older Python
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]})")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing ediary-gql and its dependencies into .venv …", flush=True)
    quiet = [] if os.environ.get("CI") else ["--quiet"]
    steps = [
        [PYTHON, "-m", "pip", "install", *quiet, "--upgrade", "pip"],
        [PYTHON, "-m", "pip", "install", *quiet, "-e", ".[dev]"],
    ]
    for step in steps:
        if _run(*step) != 0:
            sys.exit("Installation failed (see the messages above).")
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command in ("help", "-h", "--help"):
        print(__doc__)
        return 0
    ensure_venv()
    env = dict(os.environ)
    if command == "setup":
        return 0
    if command == "serve":
        return _run(BIN / "ediary-gql", "serve", "--demo", *rest, env=env)
    if command == "test":
        return _run(PYTHON, "-m", "pytest", *rest, env=env)
    if command == "lint":
        code = _run(PYTHON, "-m", "ruff", "check", "ediary_gql", "tests", "bench", "dev.py")
        code |= _run(PYTHON, "-m", "ruff", "format", "--check", "ediary_gql", "tests", "bench", "dev.py")
        code |= _run(PYTHON, "-m", "mypy", "ediary_gql")
        code |= _run(PYTHON, "-m", "ediary_gql.schema.export", "--check")
        return code
    if command == "bench":
        if rest[:1] == ["diary"]:  # python3 dev.py bench diary: the diary reads, markAttendance, fan-out
            return _run(PYTHON, "bench/diary.py", *rest[1:], env=env)
        if rest[:1] == ["reports"]:  # python3 dev.py bench reports: build and render reports, time and memory
            return _run(PYTHON, "bench/reports.py", *rest[1:], env=env)
        if rest[:1] == ["sync"]:  # python3 dev.py bench sync: syncLessons/Grades/Attendance, items per second
            return _run(PYTHON, "bench/sync.py", *rest[1:], env=env)
        if rest[:1] == ["streams"]:  # python3 dev.py bench streams: live events, fan-out and resume
            return _run(PYTHON, "bench/streams.py", *rest[1:], env=env)
        return _run(PYTHON, "bench/api.py", *rest, env=env)
    if command == "schema":
        return _run(PYTHON, "-m", "ediary_gql.schema.export")
    # anything else goes to the CLI: python3 dev.py seed --scale 1
    return _run(BIN / "ediary-gql", command, *rest, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
