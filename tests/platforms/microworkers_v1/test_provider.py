"""The Microworkers v1 provider against the embedded sandbox: replies and errors, reads, identity,
the change mapping, statuses, and the offline rules (schema + check)."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaignctl.errors import ApiError, ConfigError
from campaignctl.http import ApiClient
from campaignctl.inputs import embedded_sandbox
from campaignctl.plan.model import Operation, Plan
from campaignctl.platforms.microworkers_v1.provider import MicroworkersV1Provider
from campaignctl.platforms.microworkers_v1.read import (
    error_text,
    pick_by_title,
    v1_error,
)
from campaignctl.sandbox.microworkers_v1 import api as mw_v1
from campaignctl.session import Session
from campaignctl.validation import load_config
from tests.helpers import (
    MW1_BASIC,
    MW1_PROVIDER,
    apply_config,
    edit_config,
    embedded_sandbox_of,
    plan_config,
    write_config,
)

PROVIDER, BASIC = MW1_PROVIDER, MW1_BASIC
GROUPS = """kind: WorkerGroup
name: moderators
provider: mw1
spec: {groupId: "3333"}
---
kind: WorkerGroup
name: typists
provider: mw1
spec: {groupId: 1111}
"""
HIRE = """kind: Campaign
name: moderate
provider: mw1
spec:
  type: hire-group
  title: Moderate
  group: moderators
  category: "1011"
  available_positions: 10
  max_positions_per_worker: 2
  payment_per_task: 0.1
  minutes_to_finish: 10
  ttr: 5
  required_work: Look
  required_proof: [Code, Count]
  auto_rate: V
  file_proof: 1
"""
BLOCKLIST = "kind: Blocklist\nname: blocked\nprovider: mw1\nspec: {workers: [aaa, bbb]}\n"


def _write(root: Path, *docs: str) -> None:
    write_config(root, PROVIDER, *docs)


def _ids(root: Path) -> dict[str, str]:
    state = json.loads((root / ".campaignctl" / "state.json").read_text())
    return {a: e["id"] for a, e in state["resources"].items()}


def _change(plan: Plan, address: str) -> Any:
    return next(c for c in plan.changes if c.address == address)


def _calls(plan: Plan) -> list[str]:
    return [op.call for op in plan.operations]


# -- replies and errors ----------------------------------------------------------------------------
def _response(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("PUT", "http://x/campaign_b/set_speed/abc"))


def test_error_text_collects_every_message() -> None:
    assert error_text({"status": "ERROR", "error": "NO SUCH CAMPAIGN"}) == "NO SUCH CAMPAIGN"
    text = error_text({"status": "ERROR", "error": ["INCORRECT ZONE", "PAYMENT PER TASK TOO LOW"], "min_payment_per_task": "0.10"})
    assert text == "INCORRECT ZONE; PAYMENT PER TASK TOO LOW (min_payment_per_task 0.10)"
    assert error_text({"status": "ERROR", "errors": ["UNKNOWN GROUP"]}) == "UNKNOWN GROUP"
    assert error_text({"status": "ERROR", "error": "INPUT_DATA", "errors_list": ["Positions has invalid value"]}) == (
        "INPUT_DATA: Positions has invalid value"
    )
    assert "campaign_status PAUSED_ADMIN" in error_text({"status": "ERROR", "error": "X", "campaign_status": "PAUSED_ADMIN"})


def test_error_parser_reads_the_body_whatever_the_status() -> None:
    assert v1_error(_response(404, {"status": "ERROR", "error": "NO SUCH CAMPAIGN"})) == (None, "NO SUCH CAMPAIGN")
    assert v1_error(_response(200, {"status": "ERROR", "errors": ["A", "B"]})) == (None, "A; B")
    plain = httpx.Response(502, text="Bad gateway", request=httpx.Request("GET", "http://x/"))
    assert v1_error(plain) == (None, "Bad gateway")


def test_an_error_reply_with_http_200_is_an_api_error(tmp_path: Path) -> None:
    _write(tmp_path, BASIC)
    apply_config(tmp_path)
    cid = _ids(tmp_path)["mw1/campaign/signup"]
    mw_v1.set_status(embedded_sandbox_of(tmp_path), cid, "PAUSED_ADMIN")
    provider = Session.load(tmp_path).providers["mw1"]

    async def run() -> None:
        await provider.open(embedded=embedded_sandbox(provider))
        try:
            op = Operation("a#set-speed", "a", "mw1", "set-speed", "PUT /campaign_b/set_speed/{id} speed=5", target=cid,
                           payload={"speed": 5})  # fmt: skip
            with pytest.raises(ApiError) as info:
                await provider.execute(op)
            text = str(info.value)
            assert f"PUT http://sandbox/microworkers-v1/campaign_b/set_speed/{cid} -> HTTP 200" in text
            assert "CAMPAIGN NOT RUNNING OR PAUSED (campaign_status PAUSED_ADMIN)" in text
            # a 404 with a JSON body is the platform's error too
            with pytest.raises(ApiError) as missing:
                await provider.call("GET", "/campaign_b/get_info/ffffffffffff")
            assert "HTTP 404" in str(missing.value) and "NO SUCH CAMPAIGN" in str(missing.value)
        finally:
            await provider.close()

    asyncio.run(run())


def test_call_reads_the_body_of_any_4xx(tmp_path: Path) -> None:
    _write(tmp_path, BASIC)
    provider = Session.load(tmp_path).providers["mw1"]
    replies = {
        "/list": (404, {"status": "ERROR", "error": "NO CAMPAIGNS"}),
        "/odd": (404, {"status": "SUCCESS", "campaign_id": "x"}),
        "/html": (403, "<html>Forbidden</html>"),
        "/plain": (200, {"campaign_id": "x"}),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        status, body = replies[request.url.path]
        return httpx.Response(status, json=body) if isinstance(body, dict) else httpx.Response(status, text=body)

    async def run() -> None:
        provider._client = ApiClient("http://mw", transport=httpx.MockTransport(handler), error_parser=v1_error)
        try:
            assert await provider.call("GET", "/list", accept=("NO CAMPAIGNS",)) is None  # type: ignore[attr-defined]
            assert (await provider.call("GET", "/odd"))["campaign_id"] == "x"  # type: ignore[attr-defined]
            with pytest.raises(ApiError, match=r"GET http://mw/html -> HTTP 403: <html>Forbidden</html>"):
                await provider.call("GET", "/html")  # type: ignore[attr-defined]
            with pytest.raises(ApiError, match="a reply without status SUCCESS or ERROR"):
                await provider.call("GET", "/plain")  # type: ignore[attr-defined]
        finally:
            await provider.close()

    asyncio.run(run())


# -- reads and identity ----------------------------------------------------------------------------
def test_an_empty_account_reads_as_nothing(tmp_path: Path) -> None:
    _write(tmp_path, BASIC)
    plan = plan_config(tmp_path)  # both lists answer the NO CAMPAIGNS error
    assert _change(plan, "mw1/campaign/signup").actions == ["create"]
    assert _calls(plan) == ["POST /campaign_b/new_campaign"]
    assert plan.operations[0].cost == pytest.approx(0.2 * 40 * 1.1)
    assert plan.balances == {"mw1": None}


def test_reads_use_the_lists_not_one_get_per_campaign(tmp_path: Path) -> None:
    _write(tmp_path, BASIC, GROUPS, HIRE, BLOCKLIST)
    apply_config(tmp_path)
    sandbox = embedded_sandbox_of(tmp_path)
    sandbox.calls.clear()
    assert not plan_config(tmp_path).has_changes
    # list_extend x2, categories x2, zones, groups, exclude list
    assert sandbox.stats()["microworkers-v1"] == {"GET": 7}


def test_without_state_a_campaign_is_adopted_by_exact_title(tmp_path: Path) -> None:
    _write(tmp_path, BASIC, GROUPS, HIRE)
    apply_config(tmp_path)
    ids = _ids(tmp_path)
    (tmp_path / ".campaignctl" / "state.json").unlink()
    plan = plan_config(tmp_path)
    change = _change(plan, "mw1/campaign/signup")
    assert change.actions == ["no-op"] and change.remote_id == ids["mw1/campaign/signup"]
    assert any("by its exact title 'Sign up'" in w for w in change.warnings)
    assert [op.action for op in plan.operations] == ["adopt"] * 4


def test_two_running_campaigns_with_the_title_are_not_guessed(tmp_path: Path) -> None:
    _write(tmp_path, BASIC)
    apply_config(tmp_path)
    (tmp_path / ".campaignctl" / "state.json").unlink()
    apply_config(tmp_path)  # adopts it
    (tmp_path / ".campaignctl" / "state.json").unlink()
    provider = MicroworkersV1Provider(load_config(tmp_path).providers["mw1"], tmp_path)

    async def second() -> None:
        await provider.open(embedded=embedded_sandbox(provider))
        try:
            form = provider._form(provider.desired(load_config(tmp_path).resources["mw1/campaign/signup"], load_config(tmp_path)))
            await provider.call("POST", "/campaign_b/new_campaign", data=form)
        finally:
            await provider.close()

    asyncio.run(second())
    plan = plan_config(tmp_path)
    change = _change(plan, "mw1/campaign/signup")
    assert change.errors and "2 live campaigns carry this exact title" in change.errors[0]


def test_pick_by_title_prefers_the_one_running_then_the_newest_finished() -> None:
    a = {"campaign_id": "a", "campaign_status": "FINISHED", "created_datetime": "2024-01-01 00:00:00"}
    b = {"campaign_id": "b", "campaign_status": "RUNNING", "created_datetime": "2023-01-01 00:00:00"}
    c = {"campaign_id": "c", "campaign_status": "FINISHED", "created_datetime": "2025-01-01 00:00:00"}
    assert pick_by_title([a, b, c]) == (b, None)
    assert pick_by_title([a, c]) == (c, None)
    assert pick_by_title([]) == (None, None)
    chosen, problem = pick_by_title([b, {**b, "campaign_id": "d"}])
    assert chosen is None and problem and "b, d" in problem


def test_an_archived_campaign_counts_as_gone(tmp_path: Path) -> None:
    _write(tmp_path, BASIC)
    apply_config(tmp_path)
    mw_v1.archive_campaign(embedded_sandbox_of(tmp_path), _ids(tmp_path)["mw1/campaign/signup"])
    assert _change(plan_config(tmp_path), "mw1/campaign/signup").actions == ["create"]


# -- the change mapping ----------------------------------------------------------------------------
def test_in_place_changes_map_to_their_calls(tmp_path: Path) -> None:
    _write(tmp_path, BASIC, GROUPS, HIRE)
    apply_config(tmp_path)
    ids = _ids(tmp_path)
    b, h = ids["mw1/campaign/signup"], ids["mw1/campaign/moderate"]
    edit_config(tmp_path, "speed: 100", "speed: 5")
    edit_config(tmp_path, "zone: int", "zone: int\n  selected_countries: [US, IN]")
    edit_config(tmp_path, "available_positions: 40", "available_positions: 45")
    edit_config(tmp_path, "group: moderators", "group: typists")
    edit_config(tmp_path, "auto_rate: V\n", "auto_rate: V\n  qt_required: false\n")
    plan = plan_config(tmp_path)
    by_address = {a: [op.call for op in plan.operations if op.address == a] for a in ("mw1/campaign/signup", "mw1/campaign/moderate")}
    assert by_address == {
        "mw1/campaign/signup": [
            "PUT /campaign_b/set_speed/{id} speed=5",
            "PUT /campaign_b/retarget/{id} zone=int selected_countries='IN US'",
            "PUT /campaign_b/add_positions/{id} positions=5",
        ],
        "mw1/campaign/moderate": [
            "PUT /campaign_hg/change_group/{id} group_id=1111",
            "PUT /campaign_hg/toggle_qt_required/{id} (qt_required -> 0)",
        ],
    }
    assert len(plan.operations) == 5
    assert {op.target for op in plan.operations} == {b, h}
    assert plan.cost == pytest.approx(0.2 * 5 * 1.1)
    apply_config(tmp_path)
    info = asyncio.run(_get(tmp_path, f"/campaign_hg/get_info/{h}"))
    assert info["group_id"] == "1111" and info["qt_required"] == "0"
    assert not plan_config(tmp_path).has_changes


async def _get(root: Path, path: str) -> dict[str, Any]:
    provider = Session.load(root).providers["mw1"]
    await provider.open(embedded=embedded_sandbox(provider))
    try:
        body = await provider.call("GET", path)  # type: ignore[attr-defined]
    finally:
        await provider.close()
    assert body is not None
    return body


def test_toggle_is_checked_before_it_is_sent(tmp_path: Path) -> None:
    _write(tmp_path, BASIC)
    apply_config(tmp_path)
    cid = _ids(tmp_path)["mw1/campaign/signup"]
    provider = Session.load(tmp_path).providers["mw1"]

    async def twice() -> None:
        await provider.open(embedded=embedded_sandbox(provider))
        try:
            op = Operation("a#toggle-qt", "a", "mw1", "toggle-qt", "PUT /campaign_b/toggle_qt_required/{id}", target=cid,
                           payload={"qt_required": False})  # fmt: skip
            await provider.execute(op)
            await provider.execute(op)  # a retried apply: already off, no second toggle
        finally:
            await provider.close()

    asyncio.run(twice())
    assert asyncio.run(_get(tmp_path, f"/campaign_b/get_info/{cid}"))["qt_required"] == "0"


def test_lifecycle_pause_resume_stop_restart(tmp_path: Path) -> None:
    _write(tmp_path, BASIC.replace("file_proof: 0\n", "file_proof: 0\n  state: paused\n"))
    apply_config(tmp_path)  # create, then pause
    steps = [("state: paused", "state: running", "resume"), ("state: running", "state: stopped", "stop"),
             ("state: stopped", "state: running", "restart_campaign")]  # fmt: skip
    for old, new, endpoint in steps:
        edit_config(tmp_path, old, new)
        plan = plan_config(tmp_path)
        assert len(plan.operations) == 1 and f"/campaign_b/{endpoint}/" in plan.operations[0].call
        assert plan.operations[0].destructive == (endpoint == "stop")
        apply_config(tmp_path)
    assert not plan_config(tmp_path).has_changes


def test_a_finished_campaign_is_done_and_restarts_for_more_positions(tmp_path: Path) -> None:
    _write(tmp_path, GROUPS, HIRE)
    apply_config(tmp_path)
    cid = _ids(tmp_path)["mw1/campaign/moderate"]
    mw_v1.simulate_submissions(embedded_sandbox_of(tmp_path), cid, 10)
    assert not plan_config(tmp_path).has_changes  # it used all its positions: running is satisfied
    edit_config(tmp_path, "available_positions: 10", "available_positions: 15")
    plan = plan_config(tmp_path)
    assert _calls(plan) == ["PUT /campaign_hg/restart_campaign/{id} positions=5"]
    assert plan.cost == pytest.approx(0.1 * 5 * 1.1)
    apply_config(tmp_path)


def test_fields_v1_cannot_change_need_a_replacement(tmp_path: Path) -> None:
    _write(tmp_path, BASIC)
    apply_config(tmp_path)
    old = _ids(tmp_path)["mw1/campaign/signup"]
    edit_config(tmp_path, "available_positions: 40", "available_positions: 35")
    edit_config(tmp_path, "payment_per_task: 0.2", "payment_per_task: 0.3")
    plan = plan_config(tmp_path)
    change = _change(plan, "mw1/campaign/signup")
    assert change.actions == ["create", "delete"]
    assert "cannot change payment_per_task, available_positions (fewer: 40 -> 35)" in change.reasons[0]
    assert {f.path: f.how for f in change.fields}["payment_per_task"] == "forces replacement"  # the declared field
    assert _calls(plan) == ["POST /campaign_b/new_campaign", "PUT /campaign_b/stop/{id}"]
    assert plan.operations[1].target == old and plan.operations[1].destructive
    edit_config(tmp_path, "auto_rate", "state: stopped\n  auto_rate")
    stopped = _change(plan_config(tmp_path), "mw1/campaign/signup")
    assert stopped.errors and "makes no sense for a campaign that is to stay stopped" in stopped.errors[0]


def test_statuses_that_forbid_an_action_show_in_the_plan(tmp_path: Path) -> None:
    _write(tmp_path, BASIC)
    apply_config(tmp_path)
    cid = _ids(tmp_path)["mw1/campaign/signup"]
    sandbox = embedded_sandbox_of(tmp_path)
    mw_v1.set_status(sandbox, cid, "PENDING_REVIEW")
    edit_config(tmp_path, "speed: 100", "speed: 50")
    waiting = _change(plan_config(tmp_path), "mw1/campaign/signup")
    assert not waiting.errors and not waiting.operations
    assert "PENDING_REVIEW" in waiting.warnings[0] and "set_speed must wait" in waiting.warnings[0]
    mw_v1.set_status(sandbox, cid, "BLOCKED", "spam")
    blocked = _change(plan_config(tmp_path), "mw1/campaign/signup")
    assert blocked.errors and "BLOCKED (blocked by Microworkers): v1 accepts set_speed only" in blocked.errors[0]
    edit_config(tmp_path, "speed: 50", "speed: 100")
    state_only = _change(plan_config(tmp_path), "mw1/campaign/signup")
    assert not state_only.errors and "campaignctl cannot resume it" in state_only.warnings[0]


def test_removing_resources(tmp_path: Path) -> None:
    _write(tmp_path, BASIC, GROUPS, HIRE, BLOCKLIST)
    apply_config(tmp_path)
    ids = _ids(tmp_path)
    _write(tmp_path, GROUPS.split("---\n")[0])
    plan = plan_config(tmp_path)
    assert sorted(_calls(plan)) == sorted([
        "PUT /campaign_b/stop/{id}", "PUT /campaign_hg/stop/{id}", "(state only)", "(state only)",
    ])  # fmt: skip
    blocklist = _change(plan, "mw1/blocklist/blocked")
    assert blocklist.actions == ["delete"] and "stays on Microworkers" in blocklist.warnings[0]
    apply_config(tmp_path)
    assert set(_ids(tmp_path)) == {"mw1/workergroup/moderators"}
    info = asyncio.run(_get(tmp_path, f"/campaign_b/get_status/{ids['mw1/campaign/signup']}"))
    assert info["campaign_status"] == "FINISHED"
    excluded = asyncio.run(_get(tmp_path, "/employer/exclude_list"))
    assert [w["User ID"] for w in excluded["workers"]] == ["aaa", "bbb"]


def test_blocklist_applies_only_the_difference(tmp_path: Path) -> None:
    _write(tmp_path, BLOCKLIST)
    apply_config(tmp_path)
    edit_config(tmp_path, "[aaa, bbb]", "[bbb, ccc, 42]")
    plan = plan_config(tmp_path)
    assert _calls(plan) == ["POST /employer/exclude_list worker[]=42,ccc", "DELETE /employer/exclude_list worker[]=aaa"]
    fields = [(f.path, f.before, f.after) for f in _change(plan, "mw1/blocklist/blocked").fields]
    assert fields == [("workers", None, ["42", "ccc"]), ("workers", ["aaa"], None)]
    apply_config(tmp_path)
    assert not plan_config(tmp_path).has_changes


def test_a_changed_group_id_repoints_the_state_entry(tmp_path: Path) -> None:
    _write(tmp_path, GROUPS)
    apply_config(tmp_path)
    edit_config(tmp_path, 'groupId: "3333"', 'groupId: "2222"')
    plan = plan_config(tmp_path)
    assert _calls(plan) == ["(state only) groupId -> 2222"]
    apply_config(tmp_path)
    assert _ids(tmp_path)["mw1/workergroup/moderators"] == "2222"


# -- catalogs at plan time -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("zone: int", "zone: mars1", "unknown zone 'mars1': zones_list offers asia1 (Asia)"),
        ('category: "1001"', 'category: "77"', "unknown category '77' for basic campaigns: categories_list offers 1001 (Sign up)"),
        ("zone: int", "zone: int\n  selected_countries: [US, ZZ]", "selected_countries ZZ are not in zone int"),
        ("payment_per_task: 0.2", "payment_per_task: 0.05", "payment_per_task 0.05 is below the minimum 0.10 USD for category 1001"),
        ('groupId: "3333"', 'groupId: "9999"', "unknown hire group '9999': groups_list of this account has 1111"),
    ],
)
def test_unknown_catalog_entries_are_plan_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    _write(tmp_path, BASIC, GROUPS)
    edit_config(tmp_path, old, new)
    plan = plan_config(tmp_path)
    assert any(message in e for e in plan.errors), plan.errors


# -- offline rules ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("available_positions: 40", "available_positions: 30", r"spec\.available_positions: 30 is less than the minimum of 31"),
        ("speed: 100", "speed: 1001", r"spec\.speed: 1001 is greater than the maximum of 1000"),
        ("ttr: 7", "ttr: 31", r"spec\.ttr: 31 is greater than the maximum of 30"),
        ('auto_rate: "NO"', "auto_rate: R", r"spec\.auto_rate: 'R' is not one of NO, V, V\+R"),
        ("file_proof: 0", "file_proof: 3", r"spec\.file_proof: 3 is not one of"),
        ("zone: int", "zone: west1\n  selected_countries: [US]", r"selected_countries applies only to zone int"),
        ("type: basic", "type: hire-group\n  group: x\n  max_positions_per_worker: 1", r"spec\.zone: zone is for basic campaigns"),
        ("ttr: 7", "ttr: 7\n  schedule: december", r"spec\.schedule: Microworkers API v1 cannot express a Schedule"),
    ],
)
def test_offline_rules(tmp_path: Path, old: str, new: str, message: str) -> None:
    _write(tmp_path, BASIC, "kind: Schedule\nname: december\nspec: {start: '2026-12-01T09:00'}\n")
    edit_config(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert re.search(r"c\.yaml:\d+:\d+: [^\n]*" + message, str(info.value)), str(info.value)


def test_one_blocklist_and_one_document_per_group(tmp_path: Path) -> None:
    second = BLOCKLIST.replace("name: blocked", "name: more")
    twin = GROUPS.split("---\n")[0].replace("name: moderators", "name: mods")
    _write(tmp_path, BLOCKLIST, second, GROUPS, twin)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    text = str(info.value)
    assert re.search(r"c\.yaml:\d+:\d+: provider 'mw1' already has a Blocklist \('blocked', \S*c\.yaml:\d+\)", text)
    assert re.search(r"c\.yaml:\d+:\d+: spec\.groupId: hire group 3333 is already declared as WorkerGroup 'moderators'", text)


def test_a_new_campaign_cannot_start_out_stopped(tmp_path: Path) -> None:
    _write(tmp_path, BASIC.replace("file_proof: 0\n", "file_proof: 0\n  state: stopped\n"))
    change = _change(plan_config(tmp_path), "mw1/campaign/signup")
    assert change.errors == ["a new campaign cannot start out stopped: set state running or paused"]
