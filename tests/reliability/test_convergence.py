"""Faults, kill -9 and concurrent applies against a served sandbox, on every platform and with both
state backends (local file, PostgreSQL): nothing lost, nothing duplicated. The same scenarios as
benchmarks/faults.py, at a size CI can afford."""
from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import ROOT, run_cli


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("faults_bench", ROOT / "benchmarks" / "faults.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _bench()
PLATFORMS = ["swarms", "microworkers", "microworkers-v1"]
SIZES = {"swarms": 26, "microworkers": 12, "microworkers-v1": 12}


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Team:
    """Where state lives: ``local`` (.campaignctl/state.json) or a PostgreSQL workspace."""

    def __init__(self, kind: str, dsn: str | None) -> None:
        self.kind = kind
        self.env = {**bench.ENV, **({"CAMPAIGNCTL_PG_DSN": dsn} if dsn else {})}
        self.workspace = f"w{uuid.uuid4().hex[:10]}"

    def write_repo(self, root: Path, platform: str, url: str, size: int) -> int:
        n = bench.write_repo(root, platform, url, size)
        if self.kind == "postgres":
            with (root / "repo.yaml").open("a") as f:
                f.write(f"---\nkind: Backend\nname: team\nspec: {{type: postgres, dsnEnv: CAMPAIGNCTL_PG_DSN, workspace: {self.workspace}}}\n")
        return n

    def state(self, root: Path) -> dict[str, Any]:
        from campaignctl.inputs import backend_for
        from campaignctl.validation import load_config

        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            return backend_for(load_config(root)).read().to_dict()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def audit(self, server: Any, platform: str, root: Path) -> tuple[int, int]:
        return bench.audit(server.db, platform, root, self.state(root))

    def apply_until_converged(self, root: Path, runs: int = 2) -> int:
        for n in range(1, runs + 1):
            if run_cli("apply", root, "--auto-approve", env=self.env, timeout=300).code == 0:
                return n
        return runs + 1


@pytest.fixture(params=["local", "postgres"])
def team(request: pytest.FixtureRequest) -> Team:
    return Team(request.param, request.getfixturevalue("pg_dsn") if request.param == "postgres" else None)


def test_converges_under_faults_without_duplicates(platform: str, team: Team, tmp_path: Path) -> None:
    server = bench.Server(tmp_path / "faults.db", bench.DEFAULT_FAULTS + ",seed=3")
    try:
        root = tmp_path / "repo"
        team.write_repo(root, platform, server.url, SIZES[platform])
        assert team.apply_until_converged(root) <= 2
        injected = server.stats().get("_faults") or {}
        assert sum(injected.values()) > 0, "the faults were not injected"
        server.faults_off()
        assert run_cli("plan", root, "--detailed-exitcode", env=team.env).code == 0
        assert team.audit(server, platform, root) == (0, 0)  # (duplicates, orphans)
    finally:
        server.stop()


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_mid_apply_then_the_next_apply_completes(platform: str, team: Team, seed: int, tmp_path: Path) -> None:
    server = bench.Server(tmp_path / "kill.db", "latency=3ms")
    try:
        root = tmp_path / "repo"
        size = team.write_repo(root, platform, server.url, SIZES[platform])
        proc = subprocess.Popen(
            [sys.executable, "-m", "campaignctl", "apply", str(root), "--auto-approve"],
            env={**os.environ, **team.env, "NO_COLOR": "1"}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        kill_after = random.Random(seed).randint(1, size)
        seen = 0
        assert proc.stderr is not None
        for line in proc.stderr:
            seen += line.startswith("[")
            if seen >= kill_after:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
        proc.stderr.close()
        assert seen >= 1
        assert team.apply_until_converged(root) == 1  # the lock of the dead run is taken over, state completed
        assert run_cli("plan", root, "--detailed-exitcode", env=team.env).code == 0
        assert team.audit(server, platform, root) == (0, 0)
    finally:
        server.stop()


def test_two_concurrent_applies_exactly_one_runs(team: Team, tmp_path: Path) -> None:
    # 200 ms a call: both applies are still reading or writing when the other takes the lock, even
    # when a loaded machine starts one of them a second late (at 20 ms the first could finish first)
    server = bench.Server(tmp_path / "lock.db", "latency=200ms")
    try:
        root = tmp_path / "repo"
        team.write_repo(root, "swarms", server.url, 26)
        env = {**os.environ, **team.env, "NO_COLOR": "1"}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "campaignctl", "apply", str(root), "--auto-approve"],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
        codes = sorted(p.returncode for p in procs)
        assert codes == [0, 1], outputs
        loser = next(err for (out, err), p in zip(outputs, procs, strict=True) if p.returncode == 1)
        assert "held by pid" in loser and "force-unlock" in loser
        assert run_cli("plan", root, "--detailed-exitcode", env=team.env).code == 0
        assert team.audit(server, "swarms", root) == (0, 0)
    finally:
        server.stop()
