"""The real CLI against the Microworkers v1 sandbox: in-process (endpoint: sandbox) and served on loopback."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from campaignctl.sandbox.core import Sandbox
from campaignctl.sandbox.microworkers_v1 import api as mw_v1
from campaignctl.sandbox.microworkers_v1.core import set_balance
from campaignctl.sandbox.store import Store
from tests.helpers import (
    Server,
    assert_no_canary,
    changed_addresses,
    copy_example,
    edit_file,
    point_at_server,
    run_cli,
)

SIGNUP = "mw-legacy/campaign/app-signup"
MODERATE = "mw-legacy/campaign/moderate-images"
BLOCKLIST = "mw-legacy/blocklist/excluded-workers"


@dataclass
class Legacy:
    config: Path
    env: dict[str, str]
    db: Path  # the sandbox's SQLite file (for the sandbox helpers)

    def ids(self) -> dict[str, str]:
        state = json.loads((self.config / ".campaignctl" / "state.json").read_text())
        return {a: e["id"] for a, e in state["resources"].items()}

    @contextmanager
    def sandbox(self) -> Iterator[Sandbox]:
        store = Store(self.db)
        try:
            yield Sandbox(store)
        finally:
            store.close()


@pytest.fixture(params=["in-process", "loopback"])
def legacy(request: pytest.FixtureRequest, tmp_path: Path) -> Legacy:
    config = copy_example("microworkers-legacy", tmp_path)
    env: dict[str, str] = {}
    db = config / ".campaignctl" / "sandbox.db"
    if request.param == "loopback":
        server: Server = request.getfixturevalue("sandbox_server")
        env = point_at_server(config, server, "microworkers-v1", "MW_V1_KEY")
        db = tmp_path / "served.db"
    return Legacy(config, env, db)


def _apply(legacy: Legacy, *extra: str) -> None:
    result = run_cli("apply", legacy.config, "--auto-approve", *extra, env=legacy.env)
    assert result.code == 0, result.text
    again = run_cli("plan", legacy.config, "--detailed-exitcode", env=legacy.env)
    assert again.code == 0, again.text
    assert "No changes" in again.out


def _plan_one(legacy: Legacy, address: str, *calls: str) -> str:
    """Plan: exactly ``address`` changes, by exactly ``calls`` (in this order)."""
    plan = run_cli("plan", legacy.config, "--detailed-exitcode", env=legacy.env)
    assert plan.code == 2, plan.text
    assert changed_addresses(plan.out) == [address], plan.out
    shown = re.findall(r"^\s+\d+\. (.+?)(?:  \(\d+\.\d\d USD\))?$", plan.out, flags=re.MULTILINE)
    assert shown == list(calls), plan.out
    return plan.out


def test_example_applies_and_converges(legacy: Legacy) -> None:
    first = run_cli("plan", legacy.config, "--detailed-exitcode", env=legacy.env)
    assert first.code == 2, first.text
    assert "Plan: 2 to create, 1 to update, 0 to replace, 0 to delete" in first.out
    assert "POST /campaign_b/new_campaign  (13.75 USD)" in first.out  # 0.25 x 50 + 10 % fee
    assert "POST /campaign_hg/new_campaign  (4.40 USD)" in first.out
    assert "POST /employer/exclude_list worker[]=1a2b3c4d,5e6f7a8b" in first.out
    assert "found on the platform in groups_list (Image moderators) (id 3333)" in first.out
    _apply(legacy)
    assert set(legacy.ids()) == {
        SIGNUP, MODERATE, BLOCKLIST, "mw-legacy/workergroup/image-moderators", "mw-legacy/workergroup/data-entry",
    }  # fmt: skip
    assert_no_canary(legacy.config)


def test_each_change_plans_exactly_its_v1_call(legacy: Legacy) -> None:
    _apply(legacy)
    ids = legacy.ids()
    campaigns, blocklist = legacy.config / "campaigns.yaml", legacy.config / "blocklist.yaml"

    edit_file(campaigns, "speed: 100", "speed: 250")
    _plan_one(legacy, SIGNUP, f"PUT /campaign_b/set_speed/{ids[SIGNUP]} speed=250")
    _apply(legacy)

    edit_file(campaigns, "available_positions: 50", "available_positions: 60")
    out = _plan_one(legacy, SIGNUP, f"PUT /campaign_b/add_positions/{ids[SIGNUP]} positions=10")
    assert "(2.75 USD)" in out and "commits 2.75 USD" in out  # 0.25 x 10 + 10 % fee
    _apply(legacy)

    edit_file(campaigns, "group: image-moderators", "group: data-entry")
    out = _plan_one(legacy, MODERATE, f"PUT /campaign_hg/change_group/{ids[MODERATE]} group_id=1111")
    assert '~ group: "mw-legacy/workergroup/image-moderators" -> "mw-legacy/workergroup/data-entry"' in out
    _apply(legacy)

    edit_file(blocklist, '    - "5e6f7a8b"\n', '    - "5e6f7a8b"\n    - "c0ffee01"\n    - "c0ffee02"\n')
    out = _plan_one(legacy, BLOCKLIST, "POST /employer/exclude_list worker[]=c0ffee01,c0ffee02")
    assert '+ workers: ["c0ffee01", "c0ffee02"]' in out
    _apply(legacy)

    edit_file(blocklist, '    - "1a2b3c4d"\n    - "5e6f7a8b"\n', "")
    out = _plan_one(legacy, BLOCKLIST, "DELETE /employer/exclude_list worker[]=1a2b3c4d,5e6f7a8b")
    assert '- workers: ["1a2b3c4d", "5e6f7a8b"]' in out
    _apply(legacy)
    assert legacy.ids() == ids  # nothing was replaced


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("groups.yaml", 'groupId: "3333"', 'groupId: "9999"',
         "mw-legacy/workergroup/image-moderators: unknown hire group '9999': groups_list of this account has 1111 (Data entry specialists)"),
        ("campaigns.yaml", 'category: "1011"', 'category: "4242"',
         f"{MODERATE}: unknown category '4242' for hire-group campaigns: categories_list offers 1001 (Sign up)"),
        ("campaigns.yaml", "zone: int\n  selected_countries: [US, GB, IN]", "zone: moon1",
         f"{SIGNUP}: unknown zone 'moon1': zones_list offers asia1 (Asia)"),
    ],
)  # fmt: skip
def test_unknown_group_category_zone_are_plan_errors(legacy: Legacy, file: str, old: str, new: str, message: str) -> None:
    edit_file(legacy.config / file, old, new)
    assert run_cli("validate", legacy.config).code == 0  # only the platform knows its catalogs
    plan = run_cli("plan", legacy.config, "--detailed-exitcode", env=legacy.env)
    assert plan.code == 1, plan.text
    assert "Error: 1 change(s) cannot be made" in plan.err and message in plan.err
    refused = run_cli("apply", legacy.config, "--auto-approve", env=legacy.env)
    assert refused.code == 1 and message in refused.err
    assert "new_campaign  (" in refused.out and not (legacy.config / ".campaignctl" / "state.json").exists()


def test_an_api_error_reply_fails_apply_with_the_endpoint_and_text(legacy: Legacy) -> None:
    _apply(legacy)
    cid = legacy.ids()[SIGNUP]
    with legacy.sandbox() as sandbox:
        set_balance(sandbox, 1.0)  # v1 has no balance endpoint: plan cannot see it coming
    edit_file(legacy.config / "campaigns.yaml", "available_positions: 50", "available_positions: 70")
    failed = run_cli("apply", legacy.config, "--auto-approve", env=legacy.env)
    assert failed.code == 1, failed.text
    assert re.search(rf"PUT \S*/microworkers-v1/campaign_b/add_positions/{cid} -> HTTP 200: NOT ENOUGH FUNDS", failed.err), failed.err
    assert "Apply: 0 call(s) done, 1 failed, 0 skipped." in failed.err


def test_a_status_set_by_microworkers_is_reported_by_plan(legacy: Legacy) -> None:
    _apply(legacy)
    cid = legacy.ids()[SIGNUP]
    with legacy.sandbox() as sandbox:
        mw_v1.set_status(sandbox, cid, "PAUSED_ADMIN")
    drift = run_cli("plan", legacy.config, "--detailed-exitcode", env=legacy.env)
    assert drift.code == 2, drift.text  # reported, not an error: nothing in the config asks for a call
    assert "PAUSED_ADMIN (paused by Microworkers staff): campaignctl cannot resume it" in drift.out
    edit_file(legacy.config / "campaigns.yaml", "speed: 100", "speed: 300")
    plan = run_cli("plan", legacy.config, env=legacy.env)
    assert plan.code == 1, plan.text
    assert "the campaign is PAUSED_ADMIN (paused by Microworkers staff): v1 accepts set_speed only while it is RUNNING or PAUSED" in plan.err
    assert "set_speed/" not in plan.out  # no call is planned


def test_lifecycle_replacement_and_removal(legacy: Legacy) -> None:
    _apply(legacy)
    ids = legacy.ids()
    campaigns = legacy.config / "campaigns.yaml"
    edit_file(campaigns, "  state: running\n---", "  state: paused\n---")
    _plan_one(legacy, SIGNUP, f"PUT /campaign_b/pause/{ids[SIGNUP]}")
    _apply(legacy)
    edit_file(campaigns, "  state: paused\n---", "  state: stopped\n---")
    _plan_one(legacy, SIGNUP, f"PUT /campaign_b/stop/{ids[SIGNUP]}")
    _apply(legacy)
    edit_file(campaigns, "  state: stopped\n---", "  state: running\n---")
    _plan_one(legacy, SIGNUP, f"PUT /campaign_b/restart_campaign/{ids[SIGNUP]} positions=0")
    _apply(legacy)

    edit_file(campaigns, "title: Moderate 20 user images", "title: Moderate 20 user images (v2)")
    plan = run_cli("plan", legacy.config, env=legacy.env)
    assert f"+/- {MODERATE}" in plan.out and "cannot change title of an existing campaign" in plan.out
    assert f"PUT /campaign_hg/stop/{ids[MODERATE]}" in plan.out
    refused = run_cli("apply", legacy.config, "--auto-approve", env=legacy.env)
    assert refused.code == 1 and "--allow-replace" in refused.err
    _apply(legacy, "--allow-replace")
    assert legacy.ids()[MODERATE] != ids[MODERATE]

    campaigns.write_text(campaigns.read_text().split("---\n")[0])  # drop the hire-group campaign
    plan = run_cli("plan", legacy.config, env=legacy.env)
    assert f"- {MODERATE}  delete" in plan.out and "v1 has no delete" in plan.out
    _apply(legacy)
    assert MODERATE not in legacy.ids()


def test_without_state_campaigns_are_adopted_by_title(legacy: Legacy) -> None:
    _apply(legacy)
    ids = legacy.ids()
    (legacy.config / ".campaignctl" / "state.json").unlink()
    plan = run_cli("plan", legacy.config, env=legacy.env)
    assert plan.code == 0, plan.text
    assert "Plan: 0 to create" in plan.out
    assert f"found on the platform by its exact title 'Sign up for our app and tell us what you think' (v1 campaigns carry no address marker) (id {ids[SIGNUP]})" in plan.out
    _apply(legacy)
    assert legacy.ids() == ids


def test_validate_rejects_schedule_and_a_second_blocklist(tmp_path: Path) -> None:
    config = copy_example("microworkers-legacy", tmp_path)
    with (config / "campaigns.yaml").open("a") as f:
        f.write("  schedule: december\n---\nkind: Schedule\nname: december\nspec: {start: \"2026-12-01T09:00\"}\n")
    with (config / "blocklist.yaml").open("a") as f:
        f.write("---\nkind: Blocklist\nname: more\nprovider: mw-legacy\nspec: {workers: [x1]}\n")
    result = run_cli("validate", config)
    assert result.code == 1
    assert re.search(r"campaigns\.yaml:\d+:\d+: spec\.schedule: Microworkers API v1 cannot express a Schedule", result.err), result.err
    assert re.search(r"blocklist\.yaml:\d+:\d+: provider 'mw-legacy' already has a Blocklist \('excluded-workers'", result.err)


def test_wrong_api_key_on_loopback(tmp_path: Path, sandbox_server: Server) -> None:
    config = copy_example("microworkers-legacy", tmp_path)
    point_at_server(config, sandbox_server, "microworkers-v1", "MW_V1_KEY")
    result = run_cli("plan", config, env={"MW_V1_KEY": "not-the-key"})
    assert result.code == 1
    assert "HTTP 401: WRONG API KEY" in result.err and "not-the-key" not in result.text
    missing = run_cli("plan", config)
    assert missing.code == 1 and "environment variable MW_V1_KEY is not set" in missing.err


def test_a_repo_mixing_all_three_providers_on_loopback(tmp_path: Path, sandbox_server: Server) -> None:
    repo = tmp_path / "repo"
    for name in ("quickstart", "microworkers-survey", "microworkers-legacy"):
        copy_example(name, repo)
    env = {}
    for provider_type, var in (("swarms", "SWARMS_TOKEN"), ("microworkers", "MW_API_KEY"), ("microworkers-v1", "MW_V1_KEY")):
        env.update(point_at_server(repo, sandbox_server, provider_type, var))
    plan = run_cli("plan", repo, "--detailed-exitcode", env=env)
    assert plan.code == 2, plan.text
    for created in ("swarms/campaign/image-rating", "mw/campaign/website-survey", SIGNUP, MODERATE):
        assert f"+ {created}  create" in plan.out
    applied = run_cli("apply", repo, "--auto-approve", env=env)
    assert applied.code == 0, applied.text
    again = run_cli("plan", repo, "--detailed-exitcode", env=env)
    assert again.code == 0, again.text
    calls = sandbox_server.stats()
    assert {"swarms", "microworkers", "microworkers-v1"} <= set(calls)
    assert_no_canary(repo)
