"""The real CLI with its state on PostgreSQL (``kind: Backend``): apply, two concurrent applies,
kill -9 mid-apply, and state migrate. The sandbox is served on loopback with slow writes (its
fault injection), and stopped with SIGSTOP to hold an apply in the middle of its calls."""
from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import (
    CANARY,
    Server,
    copy_example,
    edit_file,
    pg_password,
    point_at_server,
    run_cli,
)

PROGRESS = re.compile(r"^\[\s*\d+/\d+\] \S+ \S+\s+(\S+/\S+/\S+)\s")


def with_backend(config: Path, workspace: str) -> None:
    (config / "backend.yaml").write_text(
        "# yaml-language-server: $schema=../../schemas/campaignctl.json\n"
        f"kind: Backend\nname: team\nspec: {{type: postgres, dsnEnv: CAMPAIGNCTL_PG_DSN, workspace: {workspace}}}\n"
    )


@pytest.fixture
def team(tmp_path: Path, sandbox_server: Server, pg_dsn: str) -> tuple[Path, dict[str, str]]:
    """The quickstart against the served sandbox, its state in a fresh PostgreSQL workspace."""
    config = copy_example("quickstart", tmp_path)
    env = point_at_server(config, sandbox_server)
    with_backend(config, f"e2e-{uuid.uuid4().hex[:10]}")
    env["CAMPAIGNCTL_PG_DSN"] = pg_dsn
    return config, env


class Apply:
    """``campaignctl apply`` in the background, its stderr read line by line."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        full = {k: v for k, v in os.environ.items() if not k.startswith(("SWARMS_", "MICROWORKERS_"))}
        full.update({"NO_COLOR": "1", "PYTHONWARNINGS": "error", **env})
        self.out = config.parent / f"apply-{uuid.uuid4().hex[:6]}.out"
        self._out = open(self.out, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "campaignctl", "apply", str(config), "--auto-approve"],
            env=full, stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            assert line is not None, "apply ended early:\n" + "".join(self.err)
            self.err.append(line)
            if pattern.search(line):
                return line

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        while (line := self.lines.get(timeout=10)) is not None:
            self.err.append(line)
        self._out.close()
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        text = self.out.read_text() + "".join(self.err)
        assert "Traceback" not in text and CANARY not in text, text
        return code, text


@contextmanager
def frozen(server: Server) -> Iterator[None]:
    """The sandbox server stopped (SIGSTOP): every call in flight or to come waits."""
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


def slow_writes(server: Server, latency: str = "300ms") -> None:
    """Every write takes ``latency`` (when the sandbox injects faults): an apply runs long enough to
    be caught in the middle. Without fault injection the tests rely on SIGSTOP alone."""
    reply = httpx.post(f"{server.url}/_sandbox/faults", json={"latency": latency, "methods": "writes"}, headers=server.admin, timeout=10)
    assert reply.status_code in (200, 404, 405), reply.text


def live(server: Server, plural: str) -> list[dict[str, object]]:
    reply = httpx.get(f"{server.url}/swarms/{plural}", params={"limit": 100}, headers={"X-Auth-Token": server.key}, timeout=10)
    reply.raise_for_status()
    return [o for o in reply.json()[plural] if not o.get("archived")]


def test_apply_plan_and_two_concurrent_applies(team: tuple[Path, dict[str, str]], sandbox_server: Server, pg_dsn: str) -> None:
    config, env = team
    password = pg_password(pg_dsn)
    slow_writes(sandbox_server)
    first = Apply(config, env)
    first.wait_for(PROGRESS)  # it holds the lock and is making its calls
    with frozen(sandbox_server):
        second = run_cli("apply", config, "--auto-approve", env=env)
    code, text = first.finish()

    assert code == 0, text
    assert "10 call(s) done, 0 failed" in text
    assert second.code == 1, second.text
    assert "is locked" in second.err and f"held by pid {first.proc.pid} on " in second.err and "(apply)" in second.err
    assert "POST" not in second.text  # it made no call

    again = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert again.code == 0, again.text
    assert not (config / ".campaignctl" / "state.json").exists()  # the state is in PostgreSQL only
    assert len(live(sandbox_server, "campaigns")) == 1
    for output in (text, second.text, again.text):
        assert password not in output


def test_kill_9_mid_apply_then_the_next_apply_completes(team: tuple[Path, dict[str, str]], sandbox_server: Server) -> None:
    config, env = team
    slow_writes(sandbox_server)
    run = Apply(config, env)
    done = [PROGRESS.match(run.wait_for(PROGRESS)).group(1)]  # type: ignore[union-attr]
    with frozen(sandbox_server):  # the apply now waits on its next call...
        time.sleep(0.3)
        while not run.lines.empty():  # (what finished before the freeze)
            line = run.lines.get()
            if line and PROGRESS.match(line):
                done.append(PROGRESS.match(line).group(1))  # type: ignore[union-attr]
        run.proc.send_signal(signal.SIGKILL)  # ... and dies there
        code, _ = run.finish()
    assert code == -signal.SIGKILL
    assert 1 <= len(done) < 10

    listed = run_cli("state", "list", "--dir", config, env=env)
    recorded = {line.split("\t")[0] for line in listed.out.splitlines()}
    assert set(done) <= recorded, (done, listed.text)  # every finished call is in state

    slow_writes(sandbox_server, "0ms")
    nxt = run_cli("apply", config, "--auto-approve", env=env)  # --lock-timeout 0: the lock is free
    assert nxt.code == 0, nxt.text
    assert "took over the lock of a run that ended" in nxt.err
    assert run_cli("plan", config, "--detailed-exitcode", env=env).code == 0
    campaigns = live(sandbox_server, "campaigns")
    assert [c["title"] for c in campaigns] == ["Review model images"]  # no duplicate
    assert len(live(sandbox_server, "jobs")) == 2 and len(live(sandbox_server, "tasks")) == 3


def test_state_migrate_to_postgres_and_back(tmp_path: Path, pg_dsn: str) -> None:
    from campaignctl.state import State
    from campaignctl.state.postgres import PostgresBackend

    config = copy_example("quickstart", tmp_path)  # the in-process sandbox
    env = {"CAMPAIGNCTL_PG_DSN": pg_dsn}
    assert run_cli("apply", config, "--auto-approve", env=env).code == 0
    local = json.loads((config / ".campaignctl" / "state.json").read_text())

    workspace = f"mig-{uuid.uuid4().hex[:10]}"
    with_backend(config, workspace)
    to_pg = run_cli("state", "migrate", "--to", "postgres", "--dir", config, env=env)
    assert to_pg.code == 0, to_pg.text
    assert f"Copied 6 resource(s) (serial 1, lineage {local['lineage']})" in to_pg.err
    assert pg_password(pg_dsn) not in to_pg.text
    with PostgresBackend(pg_dsn, workspace) as backend:
        assert backend.read().resources == local["resources"]
    assert run_cli("plan", config, "--detailed-exitcode", env=env).code == 0

    # a change applied on PostgreSQL, then the state goes home
    edit_file(config / "campaign.yaml", "state: active", "state: paused")  # its jobs are read-only while it runs
    changed = run_cli("apply", config, "--auto-approve", env=env)
    assert changed.code == 0 and "1 call(s) done" in changed.err, changed.text
    back = run_cli("state", "migrate", "--to", "local", "--dir", config, env=env)
    assert back.code == 0, back.text
    assert f"Copied 6 resource(s) (serial 2, lineage {local['lineage']})" in back.err
    (config / "backend.yaml").unlink()
    assert run_cli("plan", config, "--detailed-exitcode", env=env).code == 0

    # into a workspace that holds another state: refused (--force overwrites it)
    taken = f"taken-{uuid.uuid4().hex[:10]}"
    with PostgresBackend(pg_dsn, taken) as backend:
        backend.commit(State(resources={"swarms/task/other": {"id": 1}}))
    with_backend(config, taken)
    refused = run_cli("state", "migrate", "--to", "postgres", "--dir", config, env=env)
    assert refused.code == 1 and "already holds another state" in refused.err and "--force" in refused.err, refused.text
