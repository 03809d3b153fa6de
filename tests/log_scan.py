"""Scan log lines for personal data and secrets: SNILS (formatted or as 11 digits alone),
JWTs, bearer tokens, verification codes in messages, and values of keys that name
secrets (passwords, tokens, codes) left unredacted.

    python tests/log_scan.py LOGFILE [--needle VALUE …]

exits 1 and prints where (file:line) and what kind was found, never the value. The suite
writes every log line to LOGFILE when run with LOG_SCAN_FILE=LOGFILE (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ediary_gql.auth import personal_fields

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("SNILS", personal_fields.SNILS_PATTERN),
    ("JWT", personal_fields.JWT_PATTERN),
    ("bearer token", personal_fields.BEARER_PATTERN),
    ("birth certificate", personal_fields.BIRTH_CERTIFICATE_PATTERN),
    ("code", re.compile(r"(?i)\b(код|code)\b[^\d\n\"]{0,30}?\d{4,8}\b")),
)


def _secret_values(value: Any, found: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if personal_fields.is_secret_key(str(key)) and item not in (None, personal_fields.REDACTED, ""):
                found.append(f"{key}={str(item)[:12]}…")
            else:
                _secret_values(item, found)
    elif isinstance(value, list):
        for item in value:
            _secret_values(item, found)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def problems(line: str, needles: Iterable[str] = ()) -> list[str]:
    """What is wrong with one log line (empty: nothing). A JSON line is read as JSON and its
    values scanned as the text they hold (its \\u escapes would read as digits otherwise)."""
    found: list[str] = []
    text = line
    stripped = line.strip()
    if stripped.startswith("{"):
        with contextlib.suppress(ValueError):
            event = json.loads(stripped)
            _secret_values(event, found)
            text = "\n".join(_strings(event))
    found += [name for name, pattern in PATTERNS if pattern.search(text)]
    found += [f"needle {n[:4]}…" for n in needles if n and n in text]
    return found


def scan(lines: Iterable[str], needles: Iterable[str] = ()) -> list[tuple[int, list[str], str]]:
    kept = [n for n in needles if n]
    return [(number, found, line) for number, line in enumerate(lines, 1) if (found := problems(line, kept))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logfile", type=Path)
    parser.add_argument("--needle", action="append", default=[], help="a value that must not appear")
    args = parser.parse_args(argv)
    if not args.logfile.exists():
        print(f"{args.logfile}: no log lines were written", file=sys.stderr)
        return 0
    text = args.logfile.read_text(encoding="utf-8", errors="replace").splitlines()
    hits = scan(text, args.needle)
    kinds: dict[str, int] = {}
    for _, found, _ in hits:
        for kind in found:
            kinds[kind.split("=")[0]] = kinds.get(kind.split("=")[0], 0) + 1
    for number, found, _ in hits[:50]:
        # what was found and where, never the line itself: it holds what must not be shown
        print(f"{args.logfile}:{number}: {', '.join(found)}")
    print(f"{len(text)} lines scanned, {len(hits)} with personal data or secrets", kinds or "")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
