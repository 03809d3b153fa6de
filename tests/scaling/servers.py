"""PostgreSQL clusters (a primary, its streaming replicas) and a pgbouncer of the test's own,
on free ports, in a temporary folder, stopped afterwards. PostgreSQL refuses to run as
root, so as root every command runs as the `postgres` OS user (`runuser`)."""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import free_port


@contextmanager
def running() -> Iterator[list[Cluster]]:
    """Clusters put in the list are stopped at the end (immediately: they are thrown away)."""
    started: list[Cluster] = []
    try:
        yield started
    finally:
        for cluster in started:
            cluster.stop("immediate", wait=False)
        deadline = time.monotonic() + 30
        while any(c.running for c in started) and time.monotonic() < deadline:
            time.sleep(0.02)


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


PG_BIN = _pg_bin()
PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
AS_ROOT = os.geteuid() == 0


def _missing(reason: str) -> None:
    """Skip, or, with REQUIRE_POSTGRES_SERVERS=1 (as CI sets it), fail."""
    if os.environ.get("REQUIRE_POSTGRES_SERVERS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def require_postgres_binaries() -> Path:
    if PG_BIN is None or not (PG_BIN / "pg_basebackup").exists():
        _missing("needs the PostgreSQL server binaries (Debian: apt-get install postgresql)")
    if AS_ROOT and shutil.which("runuser") is None:
        _missing("running as root needs runuser to start PostgreSQL as the postgres user")
    assert PG_BIN is not None
    return PG_BIN


def require_pgbouncer() -> str:
    if PGBOUNCER is None:
        _missing("needs pgbouncer (Debian: apt-get install pgbouncer)")
    assert PGBOUNCER is not None
    return PGBOUNCER


def _run(*command: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    argv = [str(c) for c in command]
    if AS_ROOT:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr or done.stdout}")
    return done


@contextmanager
def server_root() -> Iterator[Path]:
    """A temporary folder the postgres user may enter (pytest's own are root's alone)."""
    root = Path(tempfile.mkdtemp(prefix="ediary-servers-"))
    os.chmod(root, 0o755)  # noqa: S103 - the postgres user enters it; nothing secret in it
    _own(root)
    try:
        yield root
    finally:
        # the clusters' files take seconds to delete: done beside the rest of the run, waited for at its end
        removal = subprocess.Popen(["rm", "-rf", str(root)])
        atexit.register(removal.wait)


def _own(path: Path) -> None:
    if AS_ROOT:
        shutil.chown(path, "postgres", "postgres")


# a throw-away cluster: durability off, every statement in its log
_SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockets}'
port = {port}
fsync = off
full_page_writes = off
synchronous_commit = on
shared_buffers = 32MB
max_connections = 100
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
log_statement = 'all'
log_line_prefix = '%m [%p] '
"""


@dataclass
class Cluster:
    name: str
    data: Path
    port: int
    log: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        assert PG_BIN is not None
        _run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast", *, wait: bool = True) -> None:
        assert PG_BIN is not None
        _run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w" if wait else "-W", "stop", check=False)

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def psql(self, sql: str, database: str = "postgres") -> str:
        assert PG_BIN is not None
        done = _run(PG_BIN / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                    "-XAtqc", sql)  # fmt: skip
        return done.stdout.strip()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def set_option(self, line: str) -> None:
        """A line of postgresql.conf, in force after a reload."""
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(line + "\n")
        assert PG_BIN is not None
        _run(PG_BIN / "pg_ctl", "-D", self.data, "reload")


def _folder(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(mode=0o700)
    _own(path)
    return path


def start_primary(root: Path) -> Cluster:
    assert PG_BIN is not None
    _own(root)
    data = root / "primary"
    _run(PG_BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
    cluster = Cluster("primary", data, free_port(), root / "primary.log")
    sockets = _folder(root, "primary-sockets")
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(_SETTINGS.format(port=cluster.port, sockets=sockets))
    _touch(cluster.log)
    cluster.start()
    return cluster


def start_replica(root: Path, primary: Cluster, name: str = "replica") -> Cluster:
    """A hot standby streaming from `primary` (pg_basebackup -R)."""
    assert PG_BIN is not None
    data = root / name
    _run(PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
         "-D", data, "-R", "-X", "stream", "-c", "fast")  # fmt: skip
    cluster = Cluster(name, data, free_port(), root / f"{name}.log")
    sockets = _folder(root, f"{name}-sockets")
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(f"port = {cluster.port}\nunix_socket_directories = '{sockets}'\n")
    _touch(cluster.log)
    cluster.start()
    return cluster


def _touch(path: Path) -> None:
    path.touch()
    _own(path)


def wait_replayed(primary: Cluster, replica: Cluster, timeout: float = 20.0) -> None:
    """Until `replica` has replayed everything `primary` has written so far."""
    target = primary.psql("SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
            return
        time.sleep(0.02)
    raise AssertionError(f"{replica.name} did not replay up to {target}")


@dataclass
class Pgbouncer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_pgbouncer(root: Path, server: Cluster, database: str, *, server_pool_size: int = 3) -> Pgbouncer:
    """pgbouncer in transaction mode in front of `server`'s `database`, with fewer server
    connections than the app has clients, so transactions move between them."""
    binary, pg_bin = require_pgbouncer(), require_postgres_binaries()
    folder = _folder(root, "pgbouncer")
    port = free_port()
    log = folder / "pgbouncer.log"
    auth = folder / "users.txt"
    auth.write_text('"postgres" ""\n', encoding="utf-8")
    ini = folder / "pgbouncer.ini"
    ini.write_text(
        f"""[databases]
{database} = host=127.0.0.1 port={server.port} dbname={database} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {auth}
pool_mode = transaction
default_pool_size = {server_pool_size}
max_client_conn = 200
logfile = {log}
pidfile = {folder / "pgbouncer.pid"}
admin_users = postgres
ignore_startup_parameters = extra_float_digits
""",
        encoding="utf-8",
    )
    for path in (auth, ini):
        _own(path)
    # as root, pgbouncer drops to the postgres user itself (-u): its signals reach it directly
    argv = [binary, *(["-u", "postgres"] if AS_ROOT else []), str(ini)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    bouncer = Pgbouncer(process, port, log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "pgbouncer exited")
        try:
            done = subprocess.run(
                [
                    str(pg_bin / "psql"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    "-d",
                    database,
                    "-XAtqc",
                    "SELECT 1",
                ],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
            if done.stdout.strip() == "1":
                return bouncer
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.05)
    bouncer.stop()
    raise AssertionError("pgbouncer did not start")
