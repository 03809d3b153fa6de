"""Writes the schema's SDL to schema.graphql, or checks it has not drifted.

python -m ediary_gql.schema.export [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

from ediary_gql.schema.root import build_schema
from ediary_gql.settings import load_settings

TARGET = Path("schema.graphql")


def sdl() -> str:
    return build_schema(load_settings(secret_key="x" * 32)).as_str() + "\n"


def main(argv: list[str]) -> int:
    current = sdl()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != current:
            print("schema.graphql is out of date: run `python3 dev.py schema` and commit it", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(current, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
