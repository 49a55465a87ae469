"""plan.safety.refusals (issue 21): one computation of what apply refuses, the same for plan and
apply, rendered in text, markdown and JSON; and the CI example's labels that approve an override."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaignctl import schemas
from campaignctl.plan import safety
from campaignctl.plan.json_format import to_document
from campaignctl.plan.markdown import render_markdown
from campaignctl.plan.model import Operation, Plan, Refusal, ResourceChange
from campaignctl.plan.render import render_text
from tests.helpers import ROOT


def change(address: str, actions: list[str], **kw: Any) -> ResourceChange:
    provider, kind, name = address.split("/")
    return ResourceChange(address, provider, kind.capitalize(), name, actions, **kw)


def plan_of(balances: dict[str, float | None]) -> Plan:
    """A replacement of a protected campaign on swarms (2.40 USD) and a create on mw (3.00 USD)."""
    ops = [
        Operation("swarms/campaign/c#create", "swarms/campaign/c", "swarms", "create", "POST /campaigns"),
        Operation("swarms/campaign/c#publish", "swarms/campaign/c", "swarms", "publish", "POST /campaigns/{id}/publish", cost=2.4),
        Operation("swarms/campaign/c#cancel", "swarms/campaign/c", "swarms", "cancel", "POST /campaigns/{id}/cancel", destructive=True),
        Operation("mw/campaign/m#create", "mw/campaign/m", "mw", "create", "POST /basic-campaigns", cost=3.0),
    ]
    changes = [
        change("swarms/campaign/c", ["create", "delete"], protect=True, reasons=["published | read-only <b>"],
               operations=[o.id for o in ops[:3]]),
        change("mw/campaign/m", ["create"], operations=[ops[3].id]),
    ]
    return Plan(changes=changes, operations=ops, balances=balances, configured=2, config_digest="ab" * 32)


def test_refusals_name_their_flag_and_addresses() -> None:
    plan = plan_of({"swarms": 100.0, "mw": 2.5})
    found = safety.refusals(plan, safety.Guards(max_spend=5.0))
    assert [(r.flag, r.addresses) for r in found] == [
        ("--force", ["swarms/campaign/c"]),  # protected
        ("--allow-replace", ["swarms/campaign/c"]),
        ("--max-spend", ["mw/campaign/m", "swarms/campaign/c"]),  # 5.40 > 5.00
        ("--force", ["mw/campaign/m"]),  # per account: mw is short, swarms is not
    ]
    assert "provider mw: this plan commits 3.00 USD but only 2.50 USD is available" in found[3].reason
    # each flag lifts its own refusals only; the reasons are what apply prints
    assert [r.flag for r in safety.refusals(plan, safety.Guards(force=True, allow_replace=True, max_spend=5.0))] == ["--max-spend"]
    assert safety.problems(plan, safety.Guards(force=True, allow_replace=True)) == []
    # an account whose balance the platform does not say (v1) is never refused for it; an exact balance passes
    assert safety.refusals(plan_of({"swarms": 2.4, "mw": None}), safety.Guards(force=False, allow_replace=True)) == [
        Refusal("swarms/campaign/c is protected (protect: true): refusing to replace it without --force", "--force", ["swarms/campaign/c"])
    ]


def test_plan_records_refusals_without_overrides_and_a_saved_plan_keeps_them() -> None:
    plan = safety.review(plan_of({"swarms": 1.0}), max_spend=None)
    assert [r.flag for r in plan.refusals] == ["--force", "--allow-replace", "--force"]
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.refusals == plan.refusals
    assert Plan.from_dict({"changes": [], "operations": []}).refusals == []  # a plan of an older campaignctl


def test_refusals_in_text_markdown_and_json() -> None:
    plan = safety.review(plan_of({"swarms": 1.0, "mw": 10.0}))
    text = render_text(plan)
    block = text[text.index("Apply will refuse this plan without an override (3):"):text.index("Plan: ")]
    assert "  ! [--allow-replace] swarms/campaign/c must be replaced (published | read-only <b>): re-run with --allow-replace" in block
    assert "  ! [--force] provider swarms: this plan commits 2.40 USD but only 1.00 USD is available" in block

    (md,) = render_markdown(plan)
    caution = md[md.index("> [!CAUTION]"):].split("\n\n")[0].splitlines()
    assert caution[1] == "> **`campaignctl apply` will refuse this plan** without an override (3):"
    assert caution[3].startswith("> - `--allow-replace`: swarms/campaign/c must be replaced (published \\| read-only \\<b\\>)")
    assert all(line.startswith("> ") for line in caution)

    doc = to_document(plan)
    assert not list(schemas.validator("plan.json").iter_errors(doc))
    assert doc["refusals"][0] == {"reason": plan.refusals[0].reason, "flag": "--force", "addresses": ["swarms/campaign/c"]}
    doc["refusals"][0]["flag"] = "--yolo"
    assert [list(e.absolute_path) for e in schemas.validator("plan.json").iter_errors(doc)] == [["refusals", 0, "flag"]]

    calm = safety.review(plan_of({}), max_spend=None)
    assert [r.flag for r in calm.refusals] == ["--force", "--allow-replace"]
    calm.refusals = []  # a plan without refusals shows no block
    assert "Apply will refuse" not in render_text(calm) and "[!CAUTION]" not in render_markdown(calm)[0]
    assert to_document(calm)["refusals"] == []


# ------------------------------------------------------------------------ the CI example

WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"

ACTION = ROOT / "action.yml"

HARNESS = r"""
const fs = require('fs');
const [scriptPath, pullsPath, commentsPath] = process.argv.slice(2);
const script = fs.readFileSync(scriptPath, 'utf8');
const pulls = JSON.parse(fs.readFileSync(pullsPath, 'utf8'));
const comments = JSON.parse(fs.readFileSync(commentsPath, 'utf8'));
const issues = { listComments: async () => ({ data: comments }) };
const github = {
  rest: { issues, repos: { listPullRequestsAssociatedWithCommit: async (p) => {
    if (p.owner !== 'o' || p.repo !== 'r' || p.commit_sha !== 'abc') throw new Error('bad call');
    return { data: pulls };
  } } },
  paginate: async (fn, params) => {
    if (fn !== issues.listComments || params.issue_number !== 7 || params.owner !== 'o') throw new Error('bad paginate');
    return comments;
  },
};
const context = { repo: { owner: 'o', repo: 'r' }, sha: 'abc', ref: 'refs/heads/main' };
const outputs = {};
const core = { info: () => {}, setOutput: (k, v) => { outputs[k] = v; } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('github', 'context', 'core', script)(github, context, core)
  .then(() => process.stdout.write(JSON.stringify(outputs)))
  .catch((e) => { console.error(e); process.exit(1); });
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the actions/github-script step")
def test_action_reads_the_reviewed_digest_and_turns_approved_labels_into_apply_flags(tmp_path: Path) -> None:
    steps = {s.get("id"): s for s in yaml.safe_load(ACTION.read_text(encoding="utf-8"))["runs"]["steps"]}
    reviewed, apply = steps["reviewed"], steps["apply"]
    assert "campaignctl apply \"$PLAN_FILE\" --auto-approve $OVERRIDES" in apply["run"]
    assert apply["env"]["OVERRIDES"] == "${{ steps.reviewed.outputs.flags }}"
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert workflow["jobs"]["apply"]["permissions"]["pull-requests"] == "read"
    (tmp_path / "script.js").write_text(reviewed["with"]["script"])
    (tmp_path / "harness.js").write_text(HARNESS)
    bot, digest = {"login": "github-actions[bot]"}, "a" * 64
    plan_comment = {"user": bot, "body": f"<!-- campaignctl-plan -->\n...\n<!-- campaignctl-plan-digest: {digest} -->\n"}

    def outputs(pulls: list[dict[str, Any]], comments: list[dict[str, Any]] | None = None) -> dict[str, str]:
        (tmp_path / "pulls.json").write_text(json.dumps(pulls))
        (tmp_path / "comments.json").write_text(json.dumps([plan_comment] if comments is None else comments))
        proc = subprocess.run(["node", "harness.js", "script.js", "pulls.json", "comments.json"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        return dict(json.loads(proc.stdout))

    def pr(*labels: str, merged: bool = True, base: str = "main") -> dict[str, Any]:
        return {"number": 7, "merged_at": "2026-12-07T20:00:00Z" if merged else None, "base": {"ref": base},
                "labels": [{"name": n} for n in labels]}

    assert outputs([pr("campaignctl:allow-replace", "docs")]) == {"digest": digest, "flags": "--allow-replace"}
    assert outputs([pr("campaignctl:force", "campaignctl:allow-replace")])["flags"] == "--allow-replace --force"
    none = {"digest": "", "flags": ""}
    assert outputs([pr("campaignctl:force", merged=False), pr("campaignctl:force", base="dev")]) == none  # not the merge into main
    assert outputs([]) == none
    # a digest quoted by a person is not the plan comment
    assert outputs([pr()], [{**plan_comment, "user": {"login": "mallory"}}])["digest"] == ""
