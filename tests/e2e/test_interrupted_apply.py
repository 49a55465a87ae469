"""An apply stopped half-way (Ctrl-C, SIGTERM) says how far it got, and its writes in flight are
not reported as drift by the next plan; `apply --refresh-only` accepts real drift as the new
baseline. The real CLI in a subprocess against the embedded sandbox, 200 ms added to every call."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import (
    CANARY,
    Server,
    point_at_server,
    run_cli,
    start_server,
    stop_server,
)

JOBS = 40


def write_repo(root: Path, description: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    docs = [
        "kind: Provider\nname: swarms\nspec:\n  type: swarms\n  endpoint: sandbox\n",
        "kind: Task\nname: t\nprovider: swarms\nspec:\n  components:\n    - {type: Text, properties: {text: Hello, style: Question}}\n",
    ]
    docs += [f"kind: Job\nname: j{i:03}\nprovider: swarms\nspec: {{description: \"{description}\", tasks: [t]}}\n" for i in range(JOBS)]
    (root / "config.yaml").write_text("---\n".join(docs))
    return root


def set_description(root: Path, old: str, new: str) -> None:
    path = root / "config.yaml"
    path.write_text(path.read_text().replace(f'description: "{old}"', f'description: "{new}"'))


def interrupt_apply(root: Path, sig: int, after: int) -> tuple[int, str]:
    """Run apply in a subprocess with 200 ms of latency a call; send ``sig`` once ``after`` calls
    are done. Returns the exit code and stderr."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONWARNINGS": "error", "CAMPAIGNCTL_SANDBOX_FAULTS": "latency=200ms"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "campaignctl", "apply", str(root), "--auto-approve", "--parallelism", "4"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stderr is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if re.match(rf"\[\s*{after}/{JOBS}\]", line):
            proc.send_signal(sig)
            break
    rest = proc.communicate(timeout=60)[1]
    return proc.returncode, "".join(lines) + rest


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_apply_says_how_far_and_leaves_no_drift(tmp_path: Path, sig: int) -> None:
    root = write_repo(tmp_path / "repo", "first")
    assert run_cli("apply", root, "--auto-approve").code == 0
    set_description(root, "first", "second")

    code, err = interrupt_apply(root, sig, after=6)
    assert code == 1, err
    assert "Traceback" not in err and "Aborted." not in err
    match = re.search(rf"apply interrupted \({signal.Signals(sig).name}\): (\d+) of {JOBS} call\(s\) done; run apply again", err)
    assert match, err
    assert 6 <= int(match.group(1)) < JOBS
    state = json.loads((root / ".campaignctl" / "state.json").read_text())["resources"]
    in_flight = [a for a, e in state.items() if "inflight" in e]
    assert in_flight, "the writes in flight are marked in state"

    # the writes that were in flight took effect on the platform: not drift, not changes to make again
    plan = run_cli("plan", root)
    assert plan.code == 0, plan.text
    assert "Changed outside campaignctl" not in plan.out, plan.out
    drift = run_cli("drift", root, "--detailed-exitcode")
    assert drift.code == 0 and "No drift" in drift.out, drift.text
    done = int(match.group(1))
    pending = re.findall(r"^\s+~ (swarms/job/\S+)", plan.out, flags=re.MULTILINE)
    assert len(pending) <= JOBS - done

    again = run_cli("apply", root, "--auto-approve")
    assert again.code == 0, again.text
    final = run_cli("plan", root, "--detailed-exitcode")
    assert final.code == 0 and "Changed outside campaignctl" not in final.out, final.text
    state = json.loads((root / ".campaignctl" / "state.json").read_text())["resources"]
    assert not [a for a, e in state.items() if "inflight" in e]
    assert all(e["attrs"]["description"] == "second" for a, e in state.items() if "/job/" in a)


def test_refresh_only_accepts_drift(tmp_path: Path) -> None:
    server: Server = start_server(tmp_path)
    try:
        root = write_repo(tmp_path / "repo", "first")
        env = point_at_server(root, server)
        assert run_cli("apply", root, "--auto-approve", env=env).code == 0
        job = json.loads((root / ".campaignctl" / "state.json").read_text())["resources"]["swarms/job/j007"]["id"]
        with httpx.Client(base_url=server.url + "/swarms", headers={"X-Auth-Token": CANARY, "X-API-Version": "1.0"}) as api:
            body = api.get(f"/jobs/{job}").json()
            assert "name" in body, body
            edited = {"name": body["name"], "description": "by hand", "properties": body.get("properties") or {}}
            assert api.put(f"/jobs/{job}", json=edited).status_code < 300

        drift = run_cli("drift", root, "--detailed-exitcode", env=env)
        assert drift.code == 2 and "swarms/job/j007" in drift.out
        no_tty = run_cli("apply", root, "--refresh-only", env=env)
        assert no_tty.code == 1 and "--auto-approve" in no_tty.err
        assert httpx.post(f"{server.url}/_sandbox/reset-stats", headers=server.admin).status_code < 300
        refreshed = run_cli("apply", root, "--refresh-only", "--auto-approve", env=env)
        assert refreshed.code == 0, refreshed.text
        assert "swarms/job/j007" in refreshed.out and '"by hand"' in refreshed.out
        assert "Recorded the live values of 1 object(s) in state" in refreshed.err
        assert set(server.stats()["swarms"]) == {"GET"}  # reads only: nothing sent to the platform
        assert run_cli("drift", root, "--detailed-exitcode", env=env).code == 0
        # the config still says "first": the next plan changes it back, as an update, not as drift
        plan = run_cli("plan", root, "--detailed-exitcode", env=env)
        assert plan.code == 2 and "Changed outside campaignctl" not in plan.out
        assert '~ description: "by hand" -> "first"' in plan.out, plan.out
        state = json.loads((root / ".campaignctl" / "state.json").read_text())["resources"]
        assert state["swarms/job/j007"]["attrs"]["description"] == "by hand"
    finally:
        stop_server(server)
