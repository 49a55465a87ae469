"""The PostgreSQL state backend, and the contract every state backend keeps (run on local and postgres).

PostgreSQL comes from ``$CAMPAIGNCTL_TEST_PG_DSN`` (``.ci/run`` starts a cluster with
``.ci/postgres.sh``), else from a throwaway cluster this module starts itself when PostgreSQL's
binaries are installed. Without either the postgres tests fail in CI (``CI`` set) and are skipped,
with the reason, elsewhere. Each test session gets a fresh database; each test its own workspaces.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campaignctl.errors import ConfigError, LockError, StateError
from campaignctl.state import LocalBackend, State
from campaignctl.state.base import LockInfo
from tests.helpers import ROOT, pg_password


def sql(dsn: str, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


# -- backends of either kind -------------------------------------------------------------------
def entry(remote_id: object, name: str = "x") -> dict[str, object]:
    return {"provider": "swarms", "kind": "Task", "name": name, "id": remote_id, "attrs": None, "protect": False}


class Backends:
    """Makes backends of one kind over one store; closes them (as a process exit would) at teardown."""

    def __init__(self, kind: str, tmp_path: Path, dsn: str | None) -> None:
        self.kind = kind
        self.root = tmp_path / ".campaignctl"
        self.dsn = dsn
        self.prefix = f"t{uuid.uuid4().hex[:10]}"  # this test's workspaces in the shared database
        self.made: list[Any] = []

    def workspace(self, name: str = "default") -> str:
        return f"{self.prefix}-{name}" if self.kind == "postgres" else name

    def make(self, name: str = "default") -> Any:
        if self.kind == "postgres":
            from campaignctl.state.postgres import PostgresBackend

            backend: Any = PostgresBackend(str(self.dsn), self.workspace(name))
        else:
            backend = LocalBackend(self.root if name == "default" else self.root / "workspaces" / name)
        self.made.append(backend)
        return backend

    def holder(self, name: str = "default") -> dict[str, Any] | None:
        """The lock holder as stored."""
        if self.kind == "postgres":
            rows = sql(str(self.dsn), "SELECT lock_id, host, pid, started, command FROM campaignctl_locks WHERE workspace = %s", [self.workspace(name)])
            return dict(zip(["id", "host", "pid", "started", "command"], rows[0], strict=True)) if rows else None
        path = (self.root if name == "default" else self.root / "workspaces" / name) / "state.lock"
        return json.loads(path.read_text()) if path.exists() else None

    def argv(self, name: str = "default") -> list[str]:
        """How a child process builds the same backend (see CHILD)."""
        return [self.kind, self.workspace(name), str(self.root if name == "default" else self.root / "workspaces" / name)]

    def env(self) -> dict[str, str]:
        return {**os.environ, "CHILD_PG_DSN": self.dsn or "", "PYTHONWARNINGS": "error"}

    def close(self) -> None:
        for backend in self.made:
            if isinstance(backend, LocalBackend):
                if backend._journal_fh is not None:
                    backend._journal_fh.close()
            else:
                backend.close()


@pytest.fixture(params=["local", "postgres"])
def backends(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backends]:
    dsn = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    made = Backends(request.param, tmp_path, dsn)
    yield made
    made.close()


@pytest.fixture
def pg(request: pytest.FixtureRequest, tmp_path: Path, pg_dsn: str) -> Iterator[Backends]:
    made = Backends("postgres", tmp_path, pg_dsn)
    yield made
    made.close()


#: a second process: builds the backend from argv, then runs COMMANDs read from stdin, printing a
#: JSON line after each ("lock", "record N", "unlock", "exit")
CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    kind, workspace, directory = sys.argv[1:4]
    if kind == "postgres":
        from campaignctl.state.postgres import PostgresBackend
        backend = PostgresBackend(os.environ["CHILD_PG_DSN"], workspace)
    else:
        from campaignctl.state.local import LocalBackend
        backend = LocalBackend(Path(directory))
    for line in sys.stdin:
        command = line.split()
        if command[0] == "lock":
            print(json.dumps(backend.lock("apply").__dict__), flush=True)
        elif command[0] == "record":
            for i in range(int(command[1])):
                address = f"swarms/task/t{i}"
                backend.record(address, {"id": i, "name": f"t{i}"})
                print(json.dumps(address), flush=True)
        elif command[0] == "unlock":
            backend.unlock()
            print("{}", flush=True)
        else:
            break
    if kind == "postgres":
        backend.close()
    elif backend._journal_fh is not None:
        backend._journal_fh.close()
    """
)


class Child:
    def __init__(self, backends: Backends, name: str = "default") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, *backends.argv(name)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=backends.env(), cwd=ROOT,
        )

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def line(self) -> Any:
        assert self.proc.stdout is not None
        text = self.proc.stdout.readline()
        assert text, self.finish()
        return json.loads(text)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.finish()

    def finish(self) -> str:
        if self.proc.poll() is None and self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.send("exit")
            except BrokenPipeError:  # pragma: no cover
                pass
        _, err = self.proc.communicate(timeout=30)
        return err


# == the contract: every backend =================================================================
def test_missing_state_reads_as_empty(backends: Backends) -> None:
    state = backends.make().read()
    assert state.resources == {} and state.serial == 0


def test_commit_then_read_round_trips(backends: Backends) -> None:
    state = State(resources={"swarms/task/a": entry(1, "a"), "swarms/job/b": entry("j-2", "b"), "swarms/task/c": {**entry(3, "c"), "attrs": {"pay": 0.05, "n": [1, "x", None, True]}}})
    backends.make().commit(state)
    again = backends.make().read()
    assert again.resources == state.resources
    assert again.lineage == state.lineage
    assert again.serial == state.serial == 1


def test_commit_increments_the_serial_and_replaces_the_whole_state(backends: Backends) -> None:
    backend = backends.make()
    state = backend.read()
    state.resources = {"swarms/task/a": entry(1), "swarms/task/b": entry(2)}
    backend.commit(state)
    state.resources = {"swarms/task/b": entry(20), "swarms/task/c": entry(3)}
    backend.commit(state)
    again = backends.make().read()
    assert again.serial == 2
    assert again.resources == {"swarms/task/b": entry(20), "swarms/task/c": entry(3)}


def test_recorded_entries_survive_a_crash(backends: Backends) -> None:
    backends.make().commit(State(resources={"swarms/task/old": entry(1, "old"), "swarms/task/gone": entry(2, "gone")}))
    crashed = backends.make()
    crashed.record("swarms/task/new", entry(3, "new"))
    crashed.record("swarms/task/gone", None)
    crashed.record("swarms/task/old", entry(10, "old"))
    # no commit: the process died here; a new run reads the state
    assert backends.make().read().resources == {"swarms/task/old": entry(10, "old"), "swarms/task/new": entry(3, "new")}


def test_records_without_a_state_and_in_order(backends: Backends) -> None:
    crashed = backends.make()
    crashed.record("swarms/task/a", entry(1))
    crashed.record("swarms/task/a", None)
    crashed.record("swarms/task/a", entry(2))
    crashed.record("swarms/task/b", entry(3))
    first, second = backends.make().read(), backends.make().read()
    assert first.resources == {"swarms/task/a": entry(2), "swarms/task/b": entry(3)}
    if backends.kind == "postgres":  # the state exists from its first record: a stable lineage
        assert first.lineage == second.lineage


def test_commit_folds_records_in(backends: Backends) -> None:
    backend = backends.make()
    state = backend.read()
    state.resources["swarms/task/a"] = entry(1)
    backend.record("swarms/task/a", entry(1))
    backend.commit(state)
    assert backends.make().read().resources == {"swarms/task/a": entry(1)}
    backend.record("swarms/task/b", entry(2))  # a later run's record
    assert backends.make().read().resources == {"swarms/task/a": entry(1), "swarms/task/b": entry(2)}


def test_every_record_is_durable_when_the_process_is_killed(backends: Backends) -> None:
    """record() returns only once the entry is stored: kill -9 right after loses none of them."""
    child = Child(backends)
    child.send("record 200")
    seen = [child.line() for _ in range(25)]  # 25 records reported, more possibly in flight
    child.kill()
    stored = backends.make().read().resources
    assert set(seen) <= set(stored)
    assert all(stored[a]["id"] == int(a.rsplit("t", 1)[1]) for a in stored)


def test_lock_writes_who_holds_it(backends: Backends) -> None:
    backend = backends.make()
    info = backend.lock("apply")
    assert (info.host, info.pid, info.command) == (socket.gethostname(), os.getpid(), "apply")
    assert backends.holder() == info.__dict__
    backend.unlock()
    assert backends.holder() is None


def test_lock_is_exclusive_and_names_the_holder(backends: Backends) -> None:
    first = backends.make()
    info = first.lock("apply")
    with pytest.raises(LockError) as caught:
        backends.make().lock("plan")
    message = str(caught.value)
    for part in (info.host, str(info.pid), info.started, info.id, "apply"):
        assert part in message
    assert f"force-unlock {info.id}" in message
    assert backends.holder()["id"] == info.id  # type: ignore[index]
    first.unlock()
    second = backends.make()
    assert second.lock("plan").id != info.id
    second.unlock()


def test_lock_timeout_waits_then_fails(backends: Backends) -> None:
    backends.make().lock("apply")
    started = time.monotonic()
    with pytest.raises(LockError):
        backends.make().lock("plan", timeout=0.5)
    assert time.monotonic() - started >= 0.45


def test_lock_timeout_succeeds_when_the_holder_lets_go(backends: Backends) -> None:
    first = backends.make()
    first.lock("apply")
    timer = threading.Timer(0.3, first.unlock)
    timer.start()
    try:
        started = time.monotonic()
        info = backends.make().lock("plan", timeout=10)
        assert 0.25 <= time.monotonic() - started < 5
        assert info.command == "plan"
    finally:
        timer.join()


def test_force_unlock_checks_the_id_then_removes_the_lock(backends: Backends) -> None:
    holder = backends.make()
    info = holder.lock("apply")
    with pytest.raises(LockError) as caught:
        backends.make().force_unlock("not-the-id")
    assert "not-the-id" in str(caught.value) and info.id in str(caught.value)
    assert backends.holder()["id"] == info.id  # type: ignore[index]
    assert backends.make().force_unlock(info.id) == info
    assert backends.holder() is None
    with pytest.raises(LockError, match="not locked"):
        backends.make().force_unlock(info.id)
    taker = backends.make()
    taker.lock("apply")  # free for the next run
    taker.unlock()


def test_unlock_leaves_someone_elses_lock_alone(backends: Backends) -> None:
    first = backends.make()
    first_info = first.lock("apply")
    backends.make().force_unlock(first_info.id)  # the first run was presumed dead
    second = backends.make()
    second_info = second.lock("apply")
    first.unlock()  # the first run wakes up and finishes
    assert backends.holder()["id"] == second_info.id  # type: ignore[index]
    with pytest.raises(LockError):
        backends.make().lock("plan")
    second.unlock()
    assert backends.holder() is None


def test_unlock_without_a_lock_does_nothing(backends: Backends) -> None:
    holder = backends.make()
    info = holder.lock("apply")
    backends.make().unlock()
    assert backends.holder()["id"] == info.id  # type: ignore[index]


def test_lock_held_by_another_process_names_it(backends: Backends) -> None:
    child = Child(backends)
    child.send("lock")
    held = child.line()
    assert held["pid"] == child.proc.pid
    with pytest.raises(LockError) as caught:
        backends.make().lock("apply")
    assert f"pid {child.proc.pid} on {socket.gethostname()}" in str(caught.value)
    assert held["id"] in str(caught.value)
    child.send("unlock")
    child.line()
    info = backends.make().lock("apply")
    assert info.id != held["id"]
    assert child.finish() == ""  # no warning, no traceback


def test_kill_9_of_the_holder_releases_the_lock(backends: Backends) -> None:
    child = Child(backends)
    child.send("lock")
    held = child.line()
    child.kill()
    started = time.monotonic()
    info = backends.make().lock("apply", timeout=10)
    waited = time.monotonic() - started
    assert info.id != held["id"] and backends.holder()["id"] == info.id  # type: ignore[index]
    assert waited < 2, f"the next run waited {waited:.2f} s for the lock of a killed run"


def test_workspaces_are_independent(backends: Backends) -> None:
    prod, staging = backends.make("prod"), backends.make("staging")
    prod.commit(State(resources={"swarms/task/a": entry(1)}))
    staging.record("swarms/task/b", entry(2))
    prod_lock = prod.lock("apply")
    staging_lock = staging.lock("apply")  # a lock per workspace
    assert backends.make("prod").read().resources == {"swarms/task/a": entry(1)}
    assert backends.make("staging").read().resources == {"swarms/task/b": entry(2)}
    assert backends.make().read().resources == {}
    with pytest.raises(LockError, match=prod_lock.id):
        backends.make("prod").lock("plan")
    prod.unlock()
    assert backends.holder("staging")["id"] == staging_lock.id  # type: ignore[index]
    staging.unlock()


# == PostgreSQL only ============================================================================
def test_tables_are_created_on_first_use_with_a_schema_version(pg: Backends) -> None:
    import psycopg

    from campaignctl.state.postgres import SCHEMA_VERSION, PostgresBackend

    schema = f"s_{uuid.uuid4().hex[:10]}"
    sql(str(pg.dsn), f"CREATE SCHEMA {schema}")
    dsn = psycopg.conninfo.make_conninfo(str(pg.dsn), options=f"-csearch_path={schema}")
    with PostgresBackend(dsn, "w") as backend:
        assert backend.read().resources == {}
    tables = {r[0] for r in sql(str(pg.dsn), "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])}
    assert tables == {"campaignctl_meta", "campaignctl_states", "campaignctl_resources", "campaignctl_locks"}
    assert sql(str(pg.dsn), f"SELECT value FROM {schema}.campaignctl_meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]

    sql(str(pg.dsn), f"UPDATE {schema}.campaignctl_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StateError, match="schema version 99, made by a newer campaignctl"):
        PostgresBackend(dsn, "w").read()


def test_first_uses_in_parallel_create_the_tables_once(pg: Backends) -> None:
    import psycopg

    from campaignctl.state.postgres import PostgresBackend

    schema = f"s_{uuid.uuid4().hex[:10]}"
    sql(str(pg.dsn), f"CREATE SCHEMA {schema}")
    dsn = psycopg.conninfo.make_conninfo(str(pg.dsn), options=f"-csearch_path={schema}")
    errors: list[Exception] = []

    def first_use(i: int) -> None:
        try:
            with PostgresBackend(dsn, f"w{i}") as backend:
                backend.record("swarms/task/a", entry(i))
        except Exception as exc:  # pragma: no cover - the failure is asserted below
            errors.append(exc)

    threads = [threading.Thread(target=first_use, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sql(str(pg.dsn), f"SELECT count(*) FROM {schema}.campaignctl_resources") == [(6,)]


def test_a_row_whose_advisory_lock_is_free_is_stale_and_taken_over(pg: Backends, caplog: pytest.LogCaptureFixture) -> None:
    pg.make().read()  # tables
    sql(str(pg.dsn), "INSERT INTO campaignctl_locks (workspace, lock_id, host, pid, started, command, backend_pid) "
        "VALUES (%s, 'old-lock-id', 'some-ci-runner', 4242, '2020-01-01T00:00:00Z', 'apply', 1)", [pg.workspace()])
    with caplog.at_level(logging.WARNING, logger="campaignctl.state.postgres"):
        info = pg.make().lock("apply")
    assert pg.holder()["id"] == info.id  # type: ignore[index]
    assert "old-lock-id" in caplog.text and "some-ci-runner" in caplog.text


def test_a_lock_refused_in_the_winners_first_moments_names_the_winner(pg: Backends) -> None:
    """The winner writes its holder row just after taking the advisory lock. A loser that looks in
    between (here: a row left by a crashed run, then the winner's row 0.3 s later) names the winner."""
    import psycopg

    pg.make().read()  # tables
    workspace = pg.workspace()
    sql(str(pg.dsn), "INSERT INTO campaignctl_locks (workspace, lock_id, host, pid, started, command, backend_pid) "
        "VALUES (%s, 'crashed-run', 'old-host', 1, '2020-01-01T00:00:00Z', 'apply', 1)", [workspace])
    winner = psycopg.connect(str(pg.dsn), autocommit=True)
    try:
        probe = pg.make()
        probe.read()
        winner.execute("SELECT pg_advisory_lock(%s)", [probe._key])

        def record() -> None:
            time.sleep(0.3)
            winner.execute(
                "UPDATE campaignctl_locks SET lock_id = 'the-winner', host = 'ci-7', pid = 77, "
                "backend_pid = pg_backend_pid() WHERE workspace = %s", [workspace],
            )

        writer = threading.Thread(target=record)
        writer.start()
        with pytest.raises(LockError) as refused:
            pg.make().lock("apply")
        writer.join()
        assert "the-winner" in str(refused.value) and "ci-7" in str(refused.value)
        assert "crashed-run" not in str(refused.value)
    finally:
        winner.close()


def test_force_unlock_ends_a_live_holders_lock_session(pg: Backends) -> None:
    """A hung run still connected: force-unlock frees the lock; the run's own unlock is quiet."""
    child = Child(pg)
    child.send("lock")
    held = child.line()
    assert pg.make().force_unlock(held["id"]).id == held["id"]
    taker = pg.make()
    info = taker.lock("apply")  # at once: the advisory lock went with the holder's session
    child.send("unlock")
    child.line()
    assert child.finish() == ""
    assert pg.holder()["id"] == info.id  # type: ignore[index]
    taker.unlock()


def test_a_lock_is_not_taken_twice_by_one_backend(pg: Backends) -> None:
    backend = pg.make()
    backend.lock("apply")
    with pytest.raises(LockError, match="already locked by this run"):
        backend.lock("apply")


def test_a_lost_connection_is_reopened(pg: Backends) -> None:
    backend = pg.make()
    backend.record("swarms/task/a", entry(1))
    pid = backend._conns.data.info.backend_pid
    sql(str(pg.dsn), "SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.1)
    backend.record("swarms/task/b", entry(2))
    assert pg.make().read().resources == {"swarms/task/a": entry(1), "swarms/task/b": entry(2)}


def test_describe_and_errors_never_show_the_password(pg: Backends) -> None:
    import psycopg

    from campaignctl.state.postgres import PostgresBackend

    password = pg_password(str(pg.dsn))
    assert password, "the test cluster's connection string has a password"
    backend = pg.make()
    assert password not in backend.describe() and "@" in backend.describe()

    params = psycopg.conninfo.conninfo_to_dict(str(pg.dsn))
    url = f"postgresql://{params['user']}:{password}@{params['host']}:{params['port']}/{params['dbname']}"
    broken = [
        psycopg.conninfo.make_conninfo(str(pg.dsn), dbname="no_such_db_" + password),  # the password inside the message
        psycopg.conninfo.make_conninfo(str(pg.dsn), password=password + "-wrong"),
        f"postgresql://{params['user']}:{password}@{params['host']}:1/{params['dbname']}",  # nothing listens on port 1
        f"host=127.0.0.1 password={password} port=notanumber",
        f"garbage {password} =",  # does not even parse
    ]
    for dsn in broken:
        with pytest.raises(StateError) as caught:
            PostgresBackend(dsn, "w").read()
        assert password not in str(caught.value), str(caught.value)
        assert "***" in str(caught.value) or "not shown" in str(caught.value) or "failed" in str(caught.value)
    with PostgresBackend(url, "w") as ok:  # the URL form works and describes itself without the password
        assert ok.read().resources == {}
        assert password not in ok.describe()


# == selection: kind: Backend ===================================================================
def write_config(root: Path, backend: str | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "providers.yaml").write_text("kind: Provider\nname: swarms\nspec: {type: swarms, endpoint: sandbox}\n")
    if backend is not None:
        (root / "backend.yaml").write_text(backend)
    return root


def test_backend_for_selects_by_the_backend_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_dsn: str) -> None:
    from campaignctl.inputs import backend_for
    from campaignctl.state.postgres import PostgresBackend
    from campaignctl.validation import load_config

    monkeypatch.delenv("CAMPAIGNCTL_WORKSPACE", raising=False)
    local = backend_for(load_config(write_config(tmp_path / "a", None)))
    assert isinstance(local, LocalBackend) and local.dir == tmp_path / "a" / ".campaignctl"
    moved = backend_for(load_config(write_config(tmp_path / "b", "kind: Backend\nname: s\nspec: {type: local, path: state}\n")), "prod")
    assert isinstance(moved, LocalBackend) and moved.dir == tmp_path / "b" / "state" / "workspaces" / "prod"

    config = load_config(write_config(tmp_path / "c", "kind: Backend\nname: s\nspec: {type: postgres, dsnEnv: TEAM_PG, workspace: prod}\n"))
    monkeypatch.delenv("TEAM_PG", raising=False)
    with pytest.raises(StateError, match=r"\$TEAM_PG is not set"):
        backend_for(config)
    monkeypatch.setenv("TEAM_PG", pg_dsn)
    chosen = backend_for(config)
    assert isinstance(chosen, PostgresBackend) and chosen.workspace == "prod"
    monkeypatch.setenv("CAMPAIGNCTL_WORKSPACE", "staging")
    assert backend_for(config).workspace == "staging"  # type: ignore[attr-defined]
    assert backend_for(config, "dev").workspace == "dev"  # type: ignore[attr-defined]
    forced = backend_for(config, backend_type="local")  # state migrate: the other side
    assert isinstance(forced, LocalBackend) and forced.dir == tmp_path / "c" / ".campaignctl" / "workspaces" / "staging"
    with pytest.raises(StateError, match="invalid workspace name"):
        backend_for(config, "../etc")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Backend\nname: s\nspec: {type: postgres}\n", "missing required field 'dsnEnv'"),
        ("kind: Backend\nname: s\nspec: {type: postgres, dsnEnv: PG, path: x}\n", "path is for type local"),
        ("kind: Backend\nname: s\nspec: {type: local, dsnEnv: PG}\n", "dsnEnv is for type postgres"),
        ("kind: Backend\nname: s\nspec: {type: mysql}\n", "'mysql' is not one of local, postgres"),
        ("kind: Backend\nname: s\nspec: {type: postgres, dsnEnv: PG, workspace: 'a b'}\n", "workspace"),
        ("kind: Backend\nname: s\nprovider: swarms\nspec: {type: local}\n", "provider is only allowed on resources"),
    ],
    ids=["no-dsnEnv", "path-on-postgres", "dsnEnv-on-local", "unknown-type", "bad-workspace", "with-provider"],
)
def test_invalid_backend_documents(tmp_path: Path, text: str, message: str) -> None:
    from campaignctl.validation import load_config

    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, text))
    assert any(message in str(d) and d.file.endswith("backend.yaml") for d in caught.value.diagnostics), caught.value.diagnostics


def test_at_most_one_backend_document(tmp_path: Path) -> None:
    from campaignctl.validation import load_config

    root = write_config(tmp_path, "kind: Backend\nname: team\nspec: {type: postgres, dsnEnv: PG}\n")
    (root / "more.yaml").write_text("# another\nkind: Backend\nname: mine\nspec: {type: local}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    (diag,) = caught.value.diagnostics
    assert diag.file.endswith("more.yaml") and diag.line == 2
    assert "at most one Backend document" in diag.message and "backend.yaml:1" in diag.message


# == migrate ====================================================================================
def test_migrate_both_ways_keeps_serial_and_lineage(tmp_path: Path, pg: Backends) -> None:
    from campaignctl.state.migrate import migrate

    local = LocalBackend(tmp_path / "local")
    original = State(resources={"swarms/task/a": entry(1, "a"), "swarms/job/b": entry(2, "b")})
    local.commit(original)
    local.commit(original)  # serial 2
    local.record("swarms/task/c", entry(3, "c"))  # and a journal of an interrupted run
    remote = pg.make()
    copied = migrate(local, remote)
    assert copied.serial == 2
    back = remote.read()
    assert (back.resources, back.serial, back.lineage) == ({**original.resources, "swarms/task/c": entry(3, "c")}, 2, original.lineage)
    assert pg.holder() is None and not local.lock_path.exists()  # both locks released

    remote.commit(back)  # a run on PostgreSQL: serial 3
    home = LocalBackend(tmp_path / "local")
    migrate(remote, home)  # back: the same lineage, an older serial: fine
    again = LocalBackend(tmp_path / "local").read()
    assert (again.resources, again.serial, again.lineage) == (back.resources, 3, original.lineage)
    local._journal_fh.close()


def test_migrate_refuses_to_overwrite_another_state(tmp_path: Path, pg: Backends) -> None:
    from campaignctl.state.migrate import migrate

    local = LocalBackend(tmp_path / "local")
    local.commit(State(resources={"swarms/task/a": entry(1)}))
    remote = pg.make()
    remote.commit(State(resources={"swarms/task/z": entry(9)}))  # another lineage
    with pytest.raises(StateError, match="already holds another state"):
        migrate(local, remote)
    assert remote.read().resources == {"swarms/task/z": entry(9)}
    migrate(local, remote, force=True)
    assert remote.read().resources == {"swarms/task/a": entry(1)}
    with pytest.raises(StateError, match="holds no state"):
        migrate(pg.make("empty"), LocalBackend(tmp_path / "other"))


def test_migrate_waits_for_neither_lock_it_cannot_get(tmp_path: Path, pg: Backends) -> None:
    from campaignctl.state.migrate import migrate

    local = LocalBackend(tmp_path / "local")
    local.commit(State(resources={"swarms/task/a": entry(1)}))
    busy = pg.make()
    held: LockInfo = busy.lock("apply")
    with pytest.raises(LockError, match=held.id):
        migrate(local, pg.make())
    assert not local.lock_path.exists()  # the source's lock was let go
    busy.unlock()
