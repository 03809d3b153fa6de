"""Backends a fault test owns: a Redis and a PostgreSQL cluster of its own, on free ports
in temp folders, which the test may stop and start again (never the shared ones).

    async with own_redis() as redis, own_postgres() as pg:
        ...  # redis.url, pg.url
        await redis.restart(down_for=1.0)
        await pg.restart()

Both are always stopped (and their folders removed) on the way out, also on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ediary_gql.db.migrate import upgrade
from tests.support import free_port

REDIS_SERVER = "/usr/bin/redis-server"
PG_USER = "postgres"  # the OS user the cluster runs as: postgres refuses to run as root
START_TIMEOUT = 10.0


async def _accepts(port: int) -> bool:
    """Something on 127.0.0.1:`port` accepts a connection."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class OwnRedis:
    """A `redis-server` of the test's own, persisting nothing."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def _log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    async def start(self) -> None:
        if self.running:
            return
        # ports are reused over a restart: stdout/stderr into the log, nothing persisted
        self._proc = await asyncio.create_subprocess_exec(
            REDIS_SERVER,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.folder),
            "--daemonize", "no",
            "--logfile", str(self.folder / "redis.log"),
            "--loglevel", "warning",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while not await self._answers_ping():
            if self._proc.returncode is not None:
                raise RuntimeError(f"redis-server exited ({self._proc.returncode}): {self._log()}")
            if asyncio.get_running_loop().time() > deadline:
                await self.stop()
                raise RuntimeError(f"redis-server did not start on {self.port}: {self._log()}")
            await asyncio.sleep(0.02)

    async def _answers_ping(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        try:
            writer.write(b"PING\r\n")
            await writer.drain()
            return (await asyncio.wait_for(reader.readline(), 1.0)).startswith(b"+PONG")
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGTERM (it closes every client), or SIGKILL (`kill`)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 5.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        # the port is free again before `stop` returns
        for _ in range(250):
            if not await _accepts(self.port):
                break
            await asyncio.sleep(0.02)

    async def restart(self, down_for: float = 0.5, *, kill: bool = False) -> None:
        """Stop it, stay down `down_for` seconds, start it again on the same port (empty:
        nothing is persisted, as after a crash of a cache)."""
        await self.stop(kill=kill)
        await asyncio.sleep(down_for)
        await self.start()


@asynccontextmanager
async def own_redis() -> AsyncIterator[OwnRedis]:
    """A Redis of the test's own on a free port; stopped at the end, whatever happens."""
    with tempfile.TemporaryDirectory(prefix="ediary-redis-") as folder:
        server = OwnRedis(Path(folder), free_port())
        try:
            await server.start()
            yield server
        finally:
            await server.stop(kill=True)


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


def _as_pg_user(*command: str) -> tuple[str, ...]:
    """`command` as the postgres OS user: through runuser when we are root."""
    return ("runuser", "-u", PG_USER, "--", *command) if os.geteuid() == 0 else command


class OwnPostgres:
    """A throw-away PostgreSQL cluster: trust auth, no fsync, a few MB of buffers."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder  # the socket too
        self.data = folder / "data"
        self.port = port
        self.bin = _pg_bin()
        self.database = "postgres"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def dsn(self) -> str:
        """The same database for asyncpg itself (no SQLAlchemy dialect in the scheme)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def log(self) -> str:
        path = self.folder / "postgres.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    async def _run(self, *command: str, limit: float = 30.0) -> None:
        """Run a PostgreSQL tool as the postgres user; RuntimeError with its output if it fails.
        Its output goes to a file: the postmaster pg_ctl leaves running must not hold a pipe."""
        out = self.folder / "command.out"
        with out.open("wb") as sink:
            proc = await asyncio.create_subprocess_exec(
                *_as_pg_user(str(self.bin / command[0]), *command[1:]),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
            )
            try:
                await asyncio.wait_for(proc.wait(), limit)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise RuntimeError(f"{command[0]} took over {limit} s: {out.read_text(errors='replace')}") from None
        if proc.returncode != 0:
            raise RuntimeError(
                f"{command[0]} failed ({proc.returncode}): {out.read_text(errors='replace')}\n{self.log()}"
            )

    async def init(self) -> None:
        await self._run(
            "initdb",
            "-D", str(self.data),
            "-U", "postgres",
            "-A", "trust",
            "-E", "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )  # fmt: skip

    async def start(self) -> None:
        options = " ".join(
            (
                f"-p {self.port}",
                f"-k {self.folder}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c shared_buffers=16MB",
                "-c max_connections=100",
            )
        )
        await self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "postgres.log"), "-w", "-t", "20",
            "-o", options, "start",
        )  # fmt: skip

    async def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: `fast` ends every session and shuts down cleanly, `immediate` as
        a crash would (recovery at the next start)."""
        await self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "20", "stop")

    async def restart(self, down_for: float = 0.5, *, mode: str = "fast") -> None:
        """Stop it (every connection to it is cut), stay down `down_for` seconds, start
        it again on the same port with the same data."""
        await self.stop(mode)
        await asyncio.sleep(down_for)
        await self.start()

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    async def destroy(self) -> None:
        """Stop it however it can be stopped; the folder is removed by the caller."""
        if self._postmaster_pid() is None:
            return
        try:
            await self.stop("immediate")
        except RuntimeError:
            pid = self._postmaster_pid()
            if pid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)  # the postmaster; its backends follow it


@asynccontextmanager
async def own_postgres(*, migrate: bool = True) -> AsyncIterator[OwnPostgres]:
    """A PostgreSQL cluster of the test's own (initdb, started on a free port), brought up
    to the newest migration unless `migrate` is false; stopped and deleted at the end."""
    folder = Path(tempfile.mkdtemp(prefix="ediary-pg-"))
    try:
        if os.geteuid() == 0:
            user = pwd.getpwnam(PG_USER)
            os.chown(folder, user.pw_uid, user.pw_gid)
        cluster = OwnPostgres(folder, free_port())
        try:
            await cluster.init()
            await cluster.start()
            if migrate:
                await asyncio.to_thread(upgrade, cluster.url)
            yield cluster
        finally:
            await cluster.destroy()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
