"""The real CLI against the SWARMS sandbox: in-process (endpoint: sandbox) and served on loopback."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import (
    CANARY,
    Server,
    assert_no_canary,
    changed_addresses,
    copy_example,
    edit_file,
    point_at_server,
    run_cli,
)


@pytest.fixture(params=["in-process", "loopback"])
def quickstart(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    config = copy_example("quickstart", tmp_path)
    env: dict[str, str] = {}
    if request.param == "loopback":
        server: Server = request.getfixturevalue("sandbox_server")
        env = point_at_server(config, server)
    return config, env


def test_quickstart_lifecycle(quickstart: tuple[Path, dict[str, str]]) -> None:
    config, env = quickstart
    first = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert first.code == 2, first.text
    assert "Plan: 6 to create, 0 to update, 0 to replace, 0 to delete" in first.out
    assert "POST /campaigns/{id}/publish" in first.out
    assert first.err == "" or "Saved" not in first.err

    applied = run_cli("apply", config, "--auto-approve", env=env)
    assert applied.code == 0, applied.text
    assert "10 call(s) done, 0 failed" in applied.err
    again = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert again.code == 0, again.text
    assert "No changes" in again.out

    # the campaign is published: its tasks and jobs read "readOnly": an attribute of a task is an
    # error in the plan, and apply refuses it before any call
    edit_file(config / "tasks.yaml", 'hint: "A dog on a beach..."', 'hint: "A cat on a roof..."')
    one = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert one.code == 1, one.text
    assert changed_addresses(one.out) == ["swarms/task/describe-photo"]
    assert "read-only on SWARMS" in one.text
    refused = run_cli("apply", config, "--auto-approve", env=env)
    assert refused.code == 1 and "call(s) done" not in refused.err, refused.text
    edit_file(config / "tasks.yaml", 'hint: "A cat on a roof..."', 'hint: "A dog on a beach..."')
    assert run_cli("plan", config, "--detailed-exitcode", env=env).code == 0

    # remove a job and pause the campaign: its job list is read-only too -> a replacement, shown
    # in the plan like a change of its fields (finding 5), never a PUT that fails half-way
    jobs = (config / "jobs.yaml").read_text().split("---")[0]
    (config / "jobs.yaml").write_text(jobs)
    edit_file(config / "campaign.yaml", "jobs: [rate-batch-1, describe-batch-1]", "jobs: [rate-batch-1]")
    edit_file(config / "campaign.yaml", "state: active", "state: paused")
    plan = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert plan.code == 2
    assert sorted(changed_addresses(plan.out)) == ["swarms/campaign/image-rating", "swarms/job/describe-batch-1"]
    assert "+/- swarms/campaign/image-rating" in plan.out and "forces replacement" in plan.out
    assert '- jobs[1]: "swarms/job/describe-batch-1"' in plan.out
    assert "PUT /campaigns/1/jobs" not in plan.out
    assert "POST /jobs/" in plan.out and "/archive" in plan.out
    # the job is archived only after the old campaign, which listed it, was cancelled
    calls = re.findall(r"^\s+(\d+)\. (\S+ \S+)", plan.out, flags=re.MULTILINE)
    order = {call: int(n) for n, call in calls}
    assert order["POST /campaigns/1/cancel"] < next(v for k, v in order.items() if k.startswith("POST /jobs/") and "archive" in k)
    applied = run_cli("apply", config, "--auto-approve", "--allow-replace", "--force", env=env)
    assert applied.code == 0, applied.text
    assert run_cli("plan", config, "--detailed-exitcode", env=env).code == 0
    assert_no_canary(config)


def test_saved_plan_applies_and_refuses_when_stale(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)
    plan_file = tmp_path / "plan.json"
    made = run_cli("plan", config, "-out", plan_file)
    assert made.code == 0 and plan_file.exists()
    assert "sha256" in made.err
    edit_file(config / "campaign.yaml", "results: 3", "results: 4")
    stale = run_cli("apply", plan_file)
    assert stale.code == 1
    assert "configuration" in stale.err and "changed since this plan was made: campaign.yaml (edited)" in stale.err
    edit_file(config / "campaign.yaml", "results: 4", "results: 3")
    ok = run_cli("apply", plan_file)
    assert ok.code == 0, ok.text
    assert run_cli("plan", config, "--detailed-exitcode").code == 0


def test_published_campaign_field_change_needs_replacement(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)
    assert run_cli("apply", config, "--auto-approve").code == 0
    edit_file(config / "campaign.yaml", "workerPayment: 0.05", "workerPayment: 0.06")
    plan = run_cli("plan", config)
    assert "+/- swarms/campaign/image-rating" in plan.out
    assert "published" in plan.out and "forces replacement" in plan.out
    refused = run_cli("apply", config, "--auto-approve")
    assert refused.code == 1
    assert "protected" in refused.err and "--force" in refused.err
    assert "--allow-replace" in refused.err
    forced = run_cli("apply", config, "--auto-approve", "--allow-replace", "--force")
    assert forced.code == 0, forced.text
    assert run_cli("plan", config, "--detailed-exitcode").code == 0
    state = json.loads((config / ".campaignctl" / "state.json").read_text())
    assert state["resources"]["swarms/campaign/image-rating"]["id"] == 2


def test_wrong_token_shows_platform_error(tmp_path: Path, sandbox_server: Server) -> None:
    config = copy_example("quickstart", tmp_path)
    point_at_server(config, sandbox_server)
    result = run_cli("plan", config, env={"SWARMS_TOKEN": "not-the-token"})
    assert result.code == 1
    assert "HTTP 401" in result.err and "request id" in result.err
    assert "not-the-token" not in result.text


def test_missing_token_env_var(tmp_path: Path, sandbox_server: Server) -> None:
    config = copy_example("quickstart", tmp_path)
    point_at_server(config, sandbox_server)
    result = run_cli("plan", config)
    assert result.code == 1
    assert re.search(r"providers\.yaml:\d+:\d+: provider 'swarms': environment variable SWARMS_TOKEN is not set", result.err)


def test_state_lock_and_corrupt_state(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)
    assert run_cli("apply", config, "--auto-approve").code == 0
    lock = config / ".campaignctl" / "state.lock"
    lock.write_text(json.dumps({"id": "abc-123", "host": "ci-runner-7", "pid": 4242, "started": "2026-11-23T10:00:00Z", "command": "apply"}))
    locked = run_cli("apply", config, "--auto-approve")
    assert locked.code == 1
    assert "locked" in locked.err and "ci-runner-7" in locked.err and "4242" in locked.err and "abc-123" in locked.err
    assert run_cli("force-unlock", "abc-123", "--dir", config).code == 0
    assert not lock.exists()

    state_file = config / ".campaignctl" / "state.json"
    state_file.write_text('{"resources": {"swarms/task/a": ')
    before = state_file.read_text()
    broken = run_cli("plan", config)
    assert broken.code == 1 and "corrupt" in broken.err
    assert state_file.read_text() == before


def test_secret_never_leaks(tmp_path: Path, sandbox_server: Server) -> None:
    config = copy_example("quickstart", tmp_path)
    env = point_at_server(config, sandbox_server)
    assert env["SWARMS_TOKEN"] == CANARY
    for args in (("plan", config, "-out", tmp_path / "p.json"), ("apply", config, "--auto-approve"), ("--debug", "plan", config, "--format", "json")):
        run_cli(*args, env=env)  # run_cli asserts the canary is absent from stdout/stderr
    assert_no_canary(tmp_path)


def test_failed_call_skips_dependents_and_rerun_converges(tmp_path: Path) -> None:
    from tests.helpers import start_server, stop_server

    server = start_server(tmp_path, "--balance", "0.10")
    try:
        config = copy_example("quickstart", tmp_path)
        env = point_at_server(config, server)
        plan = run_cli("plan", config, env=env)
        assert "commits 0.36 USD but only 0.10 USD is available" in plan.out
        # --force: start anyway (apply refuses a plan over the balance), to meet the platform's refusal
        failed = run_cli("apply", config, "--auto-approve", "--force", env=env)
        assert failed.code == 1
        assert "publish" in failed.err and "HTTP 409" in failed.err and "[3003]" in failed.err
        assert "request id" in failed.err
        assert "9 call(s) done, 1 failed, 0 skipped" in failed.err
        state = json.loads((config / ".campaignctl" / "state.json").read_text())
        assert len(state["resources"]) == 6  # everything created before the failure is recorded
        retry = run_cli("plan", config, env=env)
        assert "publish" in retry.out and "Plan: 0 to create, 1 to update" in retry.out
    finally:
        stop_server(server)


def test_a_run_killed_after_its_last_call_is_settled_by_a_no_op_apply(quickstart: tuple[Path, dict[str, str]]) -> None:
    """kill -9 after every call finished but before the state file was written: the journal holds
    everything, the next apply has nothing to do and folds the journal into state.json."""
    config, env = quickstart
    assert run_cli("apply", config, "--auto-approve", env=env).code == 0
    state_file = config / ".campaignctl" / "state.json"
    entries = json.loads(state_file.read_text())["resources"]
    state_file.unlink()
    (config / ".campaignctl" / "state.journal").write_text(
        "".join(json.dumps({"address": a, "entry": e}) + "\n" for a, e in entries.items())
    )
    settled = run_cli("apply", config, "--auto-approve", env=env)
    assert settled.code == 0, settled.text
    assert "Nothing to apply" in settled.err
    assert json.loads(state_file.read_text())["resources"] == entries
    assert not (config / ".campaignctl" / "state.journal").exists()


def _rename_rate_beach(config: Path) -> None:
    """rate-beach -> rate-seaside with movedFrom; its name on the platform pinned to the old one, so
    nothing but the address changes (the marker on the platform keeps naming rate-beach)."""
    edit_file(config / "tasks.yaml", "name: rate-beach\nprovider: swarms\nspec:\n",
              "name: rate-seaside\nmovedFrom: rate-beach\nprovider: swarms\nspec:\n  name: rate-beach\n")  # fmt: skip
    edit_file(config / "jobs.yaml", "tasks: [rate-beach, rate-forest]", "tasks: [rate-seaside, rate-forest]")


def test_moved_object_is_found_by_its_old_marker_and_its_referrers_do_not_drift(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)
    assert run_cli("apply", config, "--auto-approve").code == 0
    _rename_rate_beach(config)
    moved = run_cli("apply", config, "--auto-approve")
    assert moved.code == 0, moved.text
    assert run_cli("plan", config, "--detailed-exitcode").code == 0
    # the job's last applied tasks name rate-beach, the live ones rate-seaside: the same remote object
    drift = run_cli("drift", config, "--detailed-exitcode")
    assert drift.code == 0, drift.text
    assert "No drift" in drift.out
    # the move is done: without movedFrom the referrer's recorded attributes name the new address
    edit_file(config / "tasks.yaml", "movedFrom: rate-beach\n", "")
    assert run_cli("drift", config, "--detailed-exitcode").code == 0
    assert run_cli("plan", config, "--detailed-exitcode").code == 0
    edit_file(config / "tasks.yaml", "name: rate-seaside\n", "name: rate-seaside\nmovedFrom: rate-beach\n")

    # state lost: the task is found again by the address its marker still holds, never created twice
    state_file = config / ".campaignctl" / "state.json"
    ids = {a: e["id"] for a, e in json.loads(state_file.read_text())["resources"].items()}
    state_file.unlink()
    plan = run_cli("plan", config, "--detailed-exitcode")
    assert "0 to create" in plan.out, plan.text
    assert "found on the platform by the address it had before its movedFrom (swarms/task/rate-beach)" in plan.out
    assert run_cli("apply", config, "--auto-approve").code == 0
    again = {a: e["id"] for a, e in json.loads(state_file.read_text())["resources"].items()}
    assert again == ids
    assert run_cli("plan", config, "--detailed-exitcode").code == 0
