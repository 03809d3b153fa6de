"""The servers of the scaling tests, started once for the package: a PostgreSQL primary
with the app's schema, two hot standbys streaming from it, and a pgbouncer in front of
it in transaction mode."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from ediary_gql.db.migrate import upgrade
from tests.scaling import servers
from tests.scaling.servers import Cluster, Pgbouncer

DATABASE = "ediary"


@dataclass
class Servers:
    root: Path
    primary: Cluster
    replicas: list[Cluster]
    bouncer: Pgbouncer


@pytest.fixture(scope="package")
def scaling_servers() -> Iterator[Servers]:
    servers.require_postgres_binaries()
    servers.require_pgbouncer()
    with servers.server_root() as root, servers.running() as started:
        primary = servers.start_primary(root)
        started.append(primary)
        primary.psql(f"CREATE DATABASE {DATABASE}")
        upgrade(primary.url(DATABASE))  # before the base backups: the replicas start with the schema
        with ThreadPoolExecutor(2) as pool:
            replicas = list(pool.map(lambda n: servers.start_replica(root, primary, f"replica{n}"), (1, 2)))
        started += replicas
        bouncer = servers.start_pgbouncer(root, primary, DATABASE)
        try:
            yield Servers(root, primary, replicas, bouncer)
        finally:
            bouncer.stop()
