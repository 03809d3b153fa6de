"""graphql-http's server audit (GraphQL over HTTP conformance), run by its pinned npm package
(tests/http_audit: `npm ci` there; .ci/run does) against the live server."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

AUDIT = Path(__file__).parent / "http_audit"
EXPECTED_OK = 61  # every audit of graphql-http 1.23.1


async def test_graphql_http_server_audit_passes(server: str) -> None:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for graphql-http's audit (apt-get install nodejs npm)")
    if not (AUDIT / "node_modules" / "graphql-http").is_dir():
        pytest.skip("graphql-http is not installed: run `npm ci` in tests/http_audit")
    proc = await asyncio.create_subprocess_exec(
        node,
        str(AUDIT / "audit.mjs"),
        f"{server}/graphql",
        cwd=AUDIT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    counts = json.loads(out.decode().strip().splitlines()[-1])
    assert counts == {"ok": EXPECTED_OK, "warn": 0, "error": 0}, err.decode()
