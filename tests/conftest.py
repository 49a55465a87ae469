"""Shared fixtures (the helpers they use are in tests/helpers.py): the validation cache, the sandbox
served on loopback, and a PostgreSQL database."""
from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PG_SCRIPT, Server, pg_unavailable, start_server, stop_server


@pytest.fixture(scope="session", autouse=True)
def validation_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The validation cache of every test (and the CLIs they start) in a temporary directory, not in
    the user's ~/.cache."""
    directory = tmp_path_factory.mktemp("validation-cache")
    before = os.environ.get("CAMPAIGNCTL_CACHE_DIR")
    os.environ["CAMPAIGNCTL_CACHE_DIR"] = str(directory)
    yield directory
    if before is None:
        del os.environ["CAMPAIGNCTL_CACHE_DIR"]
    else:
        os.environ["CAMPAIGNCTL_CACHE_DIR"] = before


@pytest.fixture
def sandbox_server(tmp_path: Path) -> Iterator[Server]:
    server = start_server(tmp_path)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def pg_dsn(request: pytest.FixtureRequest) -> str:
    """A connection string to a fresh database (one per test session, shared by every module)."""
    cached = getattr(request.config, "_campaignctl_pg_dsn", None)
    if cached:
        return str(cached)
    try:
        import psycopg
    except ImportError:
        pg_unavailable("psycopg is not installed (pip install -e '.[test]')")
    server = os.environ.get("CAMPAIGNCTL_TEST_PG_DSN", "")
    if not server:
        proc = subprocess.run(["bash", str(PG_SCRIPT), "start"], check=False, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            pg_unavailable(f"CAMPAIGNCTL_TEST_PG_DSN is not set and {PG_SCRIPT.name} could not start a cluster: {proc.stderr.strip()[-800:]}")
        values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
        server, directory = values["CAMPAIGNCTL_TEST_PG_DSN"], values["CAMPAIGNCTL_PG_DIR"]

        def stop_cluster() -> None:
            subprocess.run(["bash", str(PG_SCRIPT), "stop", directory], capture_output=True, timeout=60, check=False)

        request.config.add_cleanup(stop_cluster)
    name = f"campaignctl_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        pg_unavailable(f"cannot create a test database: {type(exc).__name__}")

    def drop() -> None:
        with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.config.add_cleanup(drop)  # cleanups run last-in first-out: before the cluster stops
    dsn = psycopg.conninfo.make_conninfo(server, dbname=name)
    request.config._campaignctl_pg_dsn = dsn  # type: ignore[attr-defined]
    return dsn
