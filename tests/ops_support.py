"""Server processes of the operations tests, started as an operator (or a container) would:
a command line, an environment, a free port; stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import SERVER_START_SECONDS

BIN = Path(sys.executable).parent


def command(argv: list[str]) -> list[str]:
    """`ediary-gql …` run from this environment's scripts."""
    return [str(BIN / argv[0]), *argv[1:]] if argv and (BIN / argv[0]).exists() else argv


@dataclass
class Running:
    url: str
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, as `docker stop` sends; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def lines(self) -> list[str]:
        return [
            line for path in (self.stdout, self.stderr) for line in path.read_text("utf-8").splitlines() if line.strip()
        ]


@asynccontextmanager
async def running(
    argv: list[str], env: dict[str, str], port: int, folder: Path, *, healthy: bool = True
) -> AsyncIterator[Running]:
    """Run `argv` until it answers at /healthz (200 with `healthy`, any status without)."""
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - a test's own folder, once
    stdout, stderr = folder / "stdout.log", folder / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(  # noqa: ASYNC220 - one per test
            command(argv), env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
    server = Running(f"http://127.0.0.1:{port}", proc, stdout, stderr)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise AssertionError(f"exited {proc.returncode}: {stderr.read_text()[-3000:]}")
                try:
                    answer = await client.get(f"{server.url}/healthz")
                    if answer.status_code == 200 or not healthy:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"{server.url} did not start: {stderr.read_text()[-3000:]}")
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
