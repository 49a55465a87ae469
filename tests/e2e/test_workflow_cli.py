"""The pull-request workflow as a user meets it: saved plans that cannot go stale, checksums, guards,
selection, drift, ignoreChanges and movedFrom — the real CLI against a served SWARMS sandbox."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.helpers import (
    Server,
    changed_addresses,
    copy_example,
    edit_file,
    edit_live,
    point_at_server,
    remote_id,
    remove_campaigns,
    run_cli,
    swarms_api,
    write_repo,
)


def test_saved_plan_refused_when_live_object_moved(tmp_path: Path, sandbox_server: Server) -> None:
    root = tmp_path / "repo"
    env = write_repo(root, sandbox_server, 2)
    assert run_cli("apply", root, "--auto-approve", env=env).code == 0
    edit_file(root / "repo.yaml", "description: Batch 0", "description: First batch")
    saved = run_cli("plan", root, "-out", tmp_path / "plan.json", env=env)
    assert saved.code == 0, saved.text
    digest = hashlib.sha256((tmp_path / "plan.json").read_bytes()).hexdigest()
    assert f"sha256 {digest}" in saved.err and f"--checksum {digest}" in saved.err

    edit_live(sandbox_server, f"/campaigns/{remote_id(root, 'swarms/campaign/c0')}", description="edited in the UI")
    refused = run_cli("apply", tmp_path / "plan.json", env=env)
    assert refused.code == 1
    assert "live state changed since this plan was made" in refused.err
    assert "swarms/campaign/c0" in refused.err and "swarms/campaign/c1" not in refused.err

    again = run_cli("plan", root, "-out", tmp_path / "plan.json", env=env)
    assert "reverts a change made outside campaignctl" in again.out
    wrong = run_cli("apply", tmp_path / "plan.json", "--checksum", "0" * 64, env=env)
    assert wrong.code == 1 and "not the reviewed" in wrong.err
    digest = hashlib.sha256((tmp_path / "plan.json").read_bytes()).hexdigest()
    ok = run_cli("apply", tmp_path / "plan.json", "--checksum", digest, env=env)
    assert ok.code == 0, ok.text
    assert run_cli("plan", root, "--detailed-exitcode", env=env).code == 0


def test_saved_plan_notices_a_data_file_edit(tmp_path: Path, sandbox_server: Server) -> None:
    config = copy_example("microworkers-survey", tmp_path)
    env = point_at_server(config, sandbox_server, "microworkers", "MW_KEY")
    assert run_cli("plan", config, "-out", tmp_path / "plan.json", env=env).code == 0
    rows = next(config.rglob("*.csv"))
    rows.write_text(rows.read_text().replace("\n", "\r\n", 1))
    refused = run_cli("apply", tmp_path / "plan.json", env=env)
    assert refused.code == 1
    assert "changed since this plan was made: data/rows.csv (edited); run plan again" in refused.err
    assert sandbox_server.stats().get("microworkers", {}).get("POST", 0) == 0


def test_threshold_empty_config_and_max_spend(tmp_path: Path, sandbox_server: Server) -> None:
    root = tmp_path / "repo"
    env = write_repo(root, sandbox_server, 12)
    over = run_cli("apply", root, "--auto-approve", "--max-spend", "0", env=env)
    assert over.code == 0, over.text  # creating unpublished campaigns commits no money

    remove_campaigns(root, ["c0", "c1", "c2", "c3", "c4"])
    plan = run_cli("plan", root, env=env)
    assert "Apply will refuse this plan without an override (1):" in plan.out
    assert "[--force] this plan deletes or replaces 5 of 12 managed campaign(s)" in plan.out
    refused = run_cli("apply", root, "--auto-approve", env=env)
    assert refused.code == 1
    assert "deletes or replaces 5 of 12 managed campaign(s) (42 %)" in refused.err
    assert "--force" in refused.err and "--max-destroy-percent" in refused.err
    assert sandbox_server.stats()["swarms"].get("DELETE", 0) == 0
    assert run_cli("apply", root, "--auto-approve", "--max-destroy-percent", "50", env=env).code == 0

    (root / "repo.yaml").write_text((root / "repo.yaml").read_text().split("---\n")[0])  # only the provider left
    empty = run_cli("apply", root, "--auto-approve", env=env)
    assert empty.code == 1 and "the configuration declares no resources" in empty.err
    assert run_cli("plan", root, "--detailed-exitcode", env=env).code == 2


def test_max_spend_refuses_a_costly_plan(tmp_path: Path, sandbox_server: Server) -> None:
    config = copy_example("quickstart", tmp_path)
    env = point_at_server(config, sandbox_server)
    refused = run_cli("apply", config, "--auto-approve", "--max-spend", "0.10", env=env)
    assert refused.code == 1
    assert "commits 0.36 USD, more than --max-spend 0.10 USD" in refused.err
    assert sandbox_server.stats().get("swarms", {}).get("POST", 0) <= 2  # the login only, nothing created
    assert run_cli("apply", config, "--auto-approve", "--max-spend", "1", env=env).code == 0


def test_target_and_exclude(tmp_path: Path, sandbox_server: Server) -> None:
    root = tmp_path / "repo"
    env = write_repo(root, sandbox_server, 3)
    plan = run_cli("plan", root, "--target", "swarms/campaign/c1", env=env)
    assert sorted(changed_addresses(plan.out)) == ["swarms/campaign/c1", "swarms/job/j1", "swarms/task/t1"]
    excluded = run_cli("plan", root, "--exclude", "swarms/*/*2", "--exclude", "swarms/campaign/*", env=env)
    assert sorted(changed_addresses(excluded.out)) == ["swarms/job/j0", "swarms/job/j1", "swarms/task/t0", "swarms/task/t1"]
    nothing = run_cli("plan", root, "--target", "swarms/campaign/nope*", env=env)
    assert nothing.code == 1 and "matches no address" in nothing.err
    assert run_cli("apply", root, "--auto-approve", "--target", "swarms/campaign/c1", env=env).code == 0
    rest = run_cli("plan", root, env=env)
    assert sorted(changed_addresses(rest.out)) == [f"swarms/{k}/{p}{n}" for k, p in (("campaign", "c"), ("job", "j"), ("task", "t")) for n in (0, 2)]


def test_drift_is_reported_apart_and_ignore_changes(tmp_path: Path, sandbox_server: Server) -> None:
    root = tmp_path / "repo"
    env = write_repo(root, sandbox_server, 2)
    assert run_cli("apply", root, "--auto-approve", env=env).code == 0
    assert run_cli("drift", root, "--detailed-exitcode", env=env).code == 0

    # a config change is not drift
    edit_file(root / "repo.yaml", "description: Batch 1", "description: Second batch")
    assert run_cli("drift", root, "--detailed-exitcode", env=env).code == 0

    edit_live(sandbox_server, f"/campaigns/{remote_id(root, 'swarms/campaign/c0')}", title="Renamed in the UI")
    drift = run_cli("drift", root, "--detailed-exitcode", env=env)
    assert drift.code == 2
    assert "swarms/campaign/c0  changed on the platform" in drift.out
    assert '~ title: "Campaign 0" -> "Renamed in the UI"' in drift.out
    assert "c1" not in drift.out
    as_json = json.loads(run_cli("drift", root, "--format", "json", env=env).out)
    assert [d["address"] for d in as_json["drift"]] == ["swarms/campaign/c0"]

    plan = run_cli("plan", root, env=env)
    assert plan.out.index("Changed outside campaignctl") < plan.out.index("will perform")
    assert '~ title: "Renamed in the UI" -> "Campaign 0"  # reverts a change made outside campaignctl' in plan.out
    assert sorted(changed_addresses(plan.out)) == ["swarms/campaign/c0", "swarms/campaign/c1"]

    # ignoreChanges: the UI owns the title from now on
    text = (root / "repo.yaml").read_text()
    (root / "repo.yaml").write_text(text.replace("name: c0\nprovider: swarms\n", "name: c0\nprovider: swarms\nignoreChanges: [title]\n"))
    plan = run_cli("plan", root, env=env)
    assert changed_addresses(plan.out) == ["swarms/campaign/c1"]
    assert "Changed outside campaignctl" not in plan.out
    assert run_cli("apply", root, "--auto-approve", env=env).code == 0
    assert run_cli("plan", root, "--detailed-exitcode", env=env).code == 0
    with swarms_api(sandbox_server) as api:
        assert api.get(f"/campaigns/{remote_id(root, 'swarms/campaign/c0')}").json()["title"] == "Renamed in the UI"


def test_deleted_outside_is_drift(tmp_path: Path, sandbox_server: Server) -> None:
    root = tmp_path / "repo"
    env = write_repo(root, sandbox_server, 1)
    assert run_cli("apply", root, "--auto-approve", env=env).code == 0
    with swarms_api(sandbox_server) as api:
        assert api.delete(f"/tasks/{remote_id(root, 'swarms/task/t0')}").status_code in (200, 204)
    drift = run_cli("drift", root, "--detailed-exitcode", env=env)
    assert drift.code == 2 and "swarms/task/t0  deleted on the platform" in drift.out


def test_moved_from_keeps_the_remote_object(tmp_path: Path, sandbox_server: Server) -> None:
    root = tmp_path / "repo"
    env = write_repo(root, sandbox_server, 2)
    assert run_cli("apply", root, "--auto-approve", env=env).code == 0
    old_id = remote_id(root, "swarms/campaign/c0")
    text = (root / "repo.yaml").read_text()
    text = text.replace("kind: Campaign\nname: c0\n", "kind: Campaign\nname: first-batch\nmovedFrom: c0\n")
    (root / "repo.yaml").write_text(text)
    plan = run_cli("plan", root, env=env)
    assert "moved from swarms/campaign/c0" in plan.out
    assert "to create" in plan.out and "0 to create" in plan.out and "0 to delete" in plan.out
    creates_before = sandbox_server.stats()["swarms"].get("POST", 0)
    assert run_cli("apply", root, "--auto-approve", env=env).code == 0
    assert remote_id(root, "swarms/campaign/first-batch") == old_id
    state = json.loads((root / ".campaignctl" / "state.json").read_text())
    assert "swarms/campaign/c0" not in state["resources"]
    assert run_cli("plan", root, "--detailed-exitcode", env=env).code == 0
    with swarms_api(sandbox_server) as api:
        campaigns = api.get("/campaigns", params={"limit": 100}).json()["campaigns"]
    assert [c["title"] for c in campaigns if not c.get("archived")].count("Campaign 0") == 1
    assert sandbox_server.stats()["swarms"].get("POST", 0) - creates_before <= 2  # login/logout, no create
