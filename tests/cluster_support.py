"""A Redis Cluster a test owns: 3 masters with one replica each, 6 `redis-server`
processes on free ports in a temp folder, made with `redis-cli --cluster create`.

    async with own_redis_cluster() as cluster:
        cluster.url                      # redis-cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3
        node = await cluster.owner(ch)   # the master serving the channel's slot
        await cluster.kill(node)         # SIGKILL; its replica takes over
        await cluster.wait_promoted(ch, old=node)

Every process is killed and the folder removed on the way out, also on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.crc import key_slot

from tests.support import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
NODE_TIMEOUT_MS = 1000  # how soon a dead master is failed over (production: 15 s)
START_TIMEOUT = 15.0


async def _command(client: Redis, *args: str) -> Any:
    return await client.execute_command(*args)  # type: ignore[no-untyped-call]


def cluster_unsupported() -> str | None:
    """Why a cluster cannot be made here (None if it can): redis-server >= 7 and redis-cli."""
    if not Path(REDIS_SERVER).exists() or not Path(REDIS_CLI).exists():
        return "redis-server and redis-cli are not installed"
    version = subprocess.run([REDIS_SERVER, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"v=(\d+)\.", version)
    if found is None or int(found.group(1)) < 7:
        return f"sharded pub/sub needs Redis >= 7 with cluster support (found: {version.strip() or 'nothing'})"
    return None


class OwnRedisCluster:
    def __init__(self, folder: Path, ports: list[int]) -> None:
        self.folder = folder
        self.ports = ports
        self.procs: dict[int, asyncio.subprocess.Process] = {}

    @property
    def url(self) -> str:
        return "redis-cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports[:3])

    def client(self, port: int) -> Redis:
        return Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=2)

    async def start(self) -> None:
        for port in self.ports:
            folder = self.folder / str(port)
            folder.mkdir()
            self.procs[port] = await asyncio.create_subprocess_exec(
                REDIS_SERVER,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(folder / "nodes.conf"),
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(folder),
                "--logfile", str(folder / "redis.log"),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        for port in self.ports:
            await self._wait(functools.partial(self._answers, port), f"redis-server on {port} did not start")
        create = await asyncio.create_subprocess_exec(
            REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{port}" for port in self.ports),
            "--cluster-replicas", "1", "--cluster-yes",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(create.communicate(), START_TIMEOUT)
        if create.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {output.decode(errors='replace')[-2000:]}")
        for port in self.ports:
            await self._wait(functools.partial(self._state_ok, port), f"the cluster is not ok on {port}")
        # and every replica is attached to its master (a failover needs one)
        await self._wait(self._replicas_in_sync, "the replicas did not sync")

    async def stop(self) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5.0)
        self.procs.clear()

    async def kill(self, port: int) -> None:
        """SIGKILL the node on `port` (a crash: no goodbye to clients or to the cluster)."""
        proc = self.procs[port]
        proc.send_signal(signal.SIGKILL)
        await proc.wait()

    async def replica_of(self, master: int) -> int:
        """Port of a replica of the master on `master`."""
        client = self.client(master)
        try:
            info = await client.info("replication")
        finally:
            await client.aclose()
        return int(info["slave0"]["port"])

    async def hand_over(self, channel: str) -> int:
        """`CLUSTER FAILOVER` on a replica of `channel`'s master (a planned switch: the old
        master becomes its replica); the new owner's port once the cluster agrees."""
        old = await self.owner(channel)
        replica = await self.replica_of(old)
        client = self.client(replica)
        try:
            await _command(client, "CLUSTER", "FAILOVER")
        finally:
            await client.aclose()
        return await self.wait_promoted(channel, old=old)

    async def owner(self, channel: str) -> int:
        """Port of the master that owns `channel`'s slot now."""
        slot = key_slot(channel.encode())
        for port in self.ports:
            if self.procs[port].returncode is not None:
                continue
            client = self.client(port)
            try:
                for first, last, master, *_ in await _command(client, "CLUSTER", "SLOTS"):
                    if int(first) <= slot <= int(last):
                        return int(master[1])
            except OSError:
                continue
            finally:
                await client.aclose()
        raise AssertionError(f"no live node knows the owner of slot {slot}")

    async def shard_channels(self, port: int) -> list[str]:
        """`PUBSUB SHARDCHANNELS` on the node: the channels it has SSUBSCRIBE-rs of."""
        client = self.client(port)
        try:
            return sorted(c.decode() for c in await _command(client, "PUBSUB", "SHARDCHANNELS"))
        finally:
            await client.aclose()

    async def wait_promoted(self, channel: str, *, old: int) -> int:
        """Until a node other than `old` owns `channel`'s slot and the cluster is ok; its port."""
        owner: list[int] = []

        async def moved() -> bool:
            port = await self.owner(channel)
            if port == old or not await self._state_ok(port):
                return False
            owner.append(port)
            return True

        await self._wait(moved, f"no replica took over {channel!r} from {old}")
        return owner[-1]

    async def _answers(self, port: int) -> bool:
        client = self.client(port)
        try:
            return bool(await client.ping())  # type: ignore[misc]
        except Exception:
            return False
        finally:
            await client.aclose()

    async def _state_ok(self, port: int) -> bool:
        client = self.client(port)
        try:
            info = (await _command(client, "CLUSTER", "INFO")).decode()
            return "cluster_state:ok" in info
        except Exception:
            return False
        finally:
            await client.aclose()

    async def _replicas_in_sync(self) -> bool:
        for port in self.ports:
            client = self.client(port)
            try:
                info = await client.info("replication")
            finally:
                await client.aclose()
            if info.get("role") == "slave" and info.get("master_link_status") != "up":
                return False
        return True

    async def _wait(self, check: Callable[[], Awaitable[bool]], message: str) -> None:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(message)
            await asyncio.sleep(0.05)


def _free_pair() -> int:
    """A free port whose cluster-bus port (+10000) is free too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


@asynccontextmanager
async def own_redis_cluster() -> AsyncIterator[OwnRedisCluster]:
    """A 3-master, 3-replica Redis Cluster of the test's own; killed at the end."""
    with tempfile.TemporaryDirectory(prefix="ediary-redis-cluster-") as folder:
        ports: list[int] = []
        while len(ports) < 6:
            port = _free_pair()
            if port not in ports and port + 10000 not in ports and port - 10000 not in ports:
                ports.append(port)
        cluster = OwnRedisCluster(Path(folder), ports)
        try:
            await cluster.start()
            yield cluster
        finally:
            await cluster.stop()
