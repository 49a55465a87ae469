"""The composite action (action.yml) runs the example workflow's steps, short of GitHub itself
(issue 23, point 7): each job's `uses: <owner>/campaignctl@<ref>` step is run with its `with:`
inputs, the action's shell steps executed as the runner would (tests/ci/action_runner.py),
against the embedded sandbox. The pull request plans (digest in the comment), the merge applies
exactly that plan, a fresh plan that differs from the reviewed one is refused with nothing sent,
and the scheduled job fails on drift."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.action_runner import ACTION, Run, run_action
from tests.helpers import ROOT, copy_example, edit_file, run_cli

WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"
PIN = re.compile(r"^<owner>/campaignctl@(?P<ref>[0-9a-f]{40})$")


def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def action_step(job: str) -> dict[str, Any]:
    (step,) = [s for s in workflow()["jobs"][job]["steps"] if PIN.match(s.get("uses", ""))]
    return step


def job_inputs(job: str) -> dict[str, str]:
    env = workflow()["env"]
    return {k: re.sub(r"\$\{\{\s*env\.(\w+)\s*\}\}", lambda m: str(env[m.group(1)]), str(v)) for k, v in action_step(job)["with"].items()}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A config repo as the workflow expects it: the config in $CONFIG_DIR."""
    work = tmp_path / "repo"
    work.mkdir()
    copy_example("quickstart", work, to=work / workflow()["env"]["CONFIG_DIR"])
    return work


def env() -> dict[str, str]:
    return {"NO_COLOR": "1", "PYTHONWARNINGS": "error", "PYTHONPATH": str(ROOT)}


def run_job(job: str, repo: Path, **extra: str) -> Run:
    github = {"plan": {"event_name": "pull_request"}, "apply": {"event_name": "push"}, "drift": {"event_name": "schedule"}}[job]
    return run_action({**job_inputs(job), **extra}, repo, env(), github)


def annotations(run: Run, level: str = "error") -> list[str]:
    return re.findall(rf"^::{level} [^\n]*", run.log, flags=re.MULTILINE)


def test_the_workflow_uses_the_pinned_action_and_installs_nothing_from_the_repo() -> None:
    flow = workflow()
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "pip install" not in text
    refs = {PIN.match(action_step(job)["uses"])["ref"] for job in ("plan", "apply", "drift")}  # type: ignore[index]
    assert len(refs) == 1
    (ref,) = refs
    # the pinned commit exists and holds the action
    shown = subprocess.run(["git", "cat-file", "-e", f"{ref}:action.yml"], cwd=ROOT, capture_output=True, check=False)
    assert shown.returncode == 0, f"{ref} has no action.yml in this repository"
    assert [job_inputs(j)["command"] for j in ("plan", "apply", "drift")] == ["plan", "apply", "drift"]
    triggers = flow.get("on", flow.get(True))
    assert "schedule" in triggers and "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    install = next(s for s in yaml.safe_load(ACTION.read_text())["runs"]["steps"] if s.get("id") == "install")
    assert install["run"].strip() == 'python -m pip install --quiet "$GITHUB_ACTION_PATH"'


def test_pull_request_plan_then_merge_applies_the_reviewed_plan(repo: Path) -> None:
    config = repo / workflow()["env"]["CONFIG_DIR"]
    pr = run_job("plan", repo)
    assert pr.failed is None, pr.log
    assert pr.outputs["plan"]["exitcode"] == "2"
    digest = pr.outputs["plan"]["digest"]
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    first = (repo / "campaignctl-parts" / "plan-1.md").read_text()
    assert first.startswith("<!-- campaignctl-plan -->") and f"<!-- campaignctl-plan-digest: {digest} -->" in first
    assert "POST /campaigns" in pr.summary and not annotations(pr)
    assert {"comment", "upload"} <= set(pr.not_run) and "apply" not in pr.ran  # github-script/upload: GitHub's part

    merged = run_job("apply", repo, **{"reviewed-digest": digest})
    assert merged.failed is None, merged.log
    assert merged.ran[-1] == "apply" and "Apply:" in merged.log
    assert run_cli("plan", config, "--detailed-exitcode").code == 0  # applied: nothing left

    again = run_job("apply", repo, **{"reviewed-digest": digest})  # nothing to do: no apply step
    assert again.failed is None and again.outputs["plan"]["exitcode"] == "0" and "apply" not in again.ran


def test_merge_refuses_a_plan_that_differs_from_the_reviewed_one(repo: Path) -> None:
    config = repo / workflow()["env"]["CONFIG_DIR"]
    reviewed = run_job("plan", repo).outputs["plan"]["digest"]
    edit_file(config / "campaign.yaml", "results: 3", "results: 4")  # changed after the review
    merged = run_job("apply", repo, **{"reviewed-digest": reviewed})
    assert merged.failed == "apply"
    assert any("differs from the plan reviewed" in a for a in annotations(merged)), merged.log
    assert "Apply:" not in merged.log
    assert not (config / ".campaignctl" / "state.json").exists() or run_cli("state", "list", config).out == ""
    # no reviewed plan at all: refused too
    unreviewed = run_job("apply", repo)
    assert unreviewed.failed == "apply" and any("no reviewed plan" in a for a in annotations(unreviewed))


def test_invalid_config_fails_with_annotations(repo: Path) -> None:
    config = repo / workflow()["env"]["CONFIG_DIR"]
    edit_file(config / "campaign.yaml", "workerPayment: 0.05", "workerPayment: cheap")
    pr = run_job("plan", repo)
    assert pr.failed == "validate" and "plan" not in pr.ran
    (error,) = annotations(pr)
    assert re.match(r"::error file=.*campaign\.yaml,line=\d+,col=\d+::spec\.workerPayment", error), error
    assert "comment" in pr.not_run  # the comment still says there is no plan


def test_scheduled_drift_job(repo: Path) -> None:
    config = repo / workflow()["env"]["CONFIG_DIR"]
    assert run_cli("apply", config, "--auto-approve").code == 0
    calm = run_job("drift", repo)
    assert calm.failed is None and calm.outputs["drift"]["exitcode"] == "0", calm.log
    # the platform's object no longer matches what the last apply recorded
    state_file = config / ".campaignctl" / "state.json"
    state = json.loads(state_file.read_text())
    state["resources"]["swarms/campaign/image-rating"]["attrs"]["description"] = "what was applied before"
    state_file.write_text(json.dumps(state))
    drifted = run_job("drift", repo)
    assert drifted.failed == "drift" and drifted.outputs["drift"]["exitcode"] == "2", drifted.log
    assert any("changed outside campaignctl" in a for a in annotations(drifted))
    assert "description" in drifted.summary




def test_the_pre_commit_rev_documented_exists_and_has_the_hook() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    hooks_text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    revs = set(re.findall(r"rev: ([0-9a-f]{40})", readme + hooks_text))
    assert revs and "v0.1.0" not in hooks_text
    for rev in revs:
        shown = subprocess.run(["git", "show", f"{rev}:.pre-commit-hooks.yaml"], cwd=ROOT, capture_output=True, text=True, check=False)
        assert shown.returncode == 0, f"rev {rev} does not exist here or has no .pre-commit-hooks.yaml"
        assert any(h["id"] == "campaignctl-validate" for h in yaml.safe_load(shown.stdout))
