"""Reads of a few addresses (issue 8): ``apply``'s verification and a saved plan's re-read read what
they need, and what they read is what the whole read says about those objects."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from campaignctl.inputs import opened
from campaignctl.plan.builder import build_plan, read_live
from campaignctl.providers.base import Live
from campaignctl.sandbox.embedded import embedded_app
from campaignctl.session import Session
from tests.helpers import copy_example, edit_file, point_at_server, run_cli

SWARMS_TASK, SWARMS_JOB, SWARMS_CAMPAIGN = "swarms/task/rate-beach", "swarms/job/rate-batch-1", "swarms/campaign/image-rating"
MW_CAMPAIGN = "mw/campaign/website-survey"
V1_CAMPAIGN, V1_BLOCKLIST = "mw-legacy/campaign/app-signup", "mw-legacy/blocklist/excluded-workers"


def _account(root: Path) -> Path:
    """The three examples in one repo (SWARMS, Microworkers v2 and v1), applied to the embedded sandbox."""
    for name in ("quickstart", "microworkers-survey", "microworkers-legacy"):
        copy_example(name, root)
    # unpublished: the tasks of a published SWARMS campaign are read-only, and these tests edit them
    edit_file(root / "quickstart" / "campaign.yaml", "state: active", "state: unpublished")
    session = Session.load(root)
    plan = asyncio.run(session.plan())
    result, check = asyncio.run(session.apply(plan, progress=False))
    assert result.ok and check is not None and not check.pending, result.failed
    return root


def _read(root: Path, only: set[str] | None) -> tuple[dict[str, Live], dict[str, Any], Any]:
    """(live objects, calls by platform counted by the sandbox, the plan of ``only``)."""
    session = Session.load(root)
    sandbox = embedded_app(root).state.sandbox

    async def main() -> tuple[dict[str, Live], dict[str, Any], Any]:
        async with opened(session.providers):
            sandbox.calls.clear()
            _, live, _ = await read_live(session.providers, session.config, session.state, only)
            calls = sandbox.stats()
            return live, calls, await build_plan(session.config, session.state, session.providers, only=only)

    return asyncio.run(main())


async def _call(root: Path, provider: str, method: str, path: str, body: Any = None) -> Any:
    session = Session.load(root)
    async with opened({provider: session.providers[provider]}):
        return await session.providers[provider].client.json(method, path, json=body)


def _state(root: Path) -> dict[str, Any]:
    return json.loads((root / ".campaignctl" / "state.json").read_text())


def _assert_same(root: Path, only: set[str]) -> dict[str, Any]:
    """A read of ``only`` answers as the whole read for every address of ``only`` (Live objects, the
    plan's changes and drift); returns the calls it made."""
    whole, _, whole_plan = _read(root, None)
    part, calls, part_plan = _read(root, only)
    for address in sorted(only):
        assert part.get(address) == whole.get(address), address
    assert [c for c in whole_plan.changes if c.address in only] == part_plan.changes
    assert [d for d in whole_plan.drift if d.address in only] == part_plan.drift
    assert part_plan.live_fingerprints == {a: f for a, f in whole_plan.live_fingerprints.items() if a in only}
    return calls


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _account(tmp_path_factory.mktemp("targeted"))
    ids = {a: e["id"] for a, e in _state(root)["resources"].items()}
    # changes made outside campaignctl (drift), and an object it does not manage
    asyncio.run(_call(root, "swarms", "PUT", f"/tasks/{ids[SWARMS_TASK]}",
                      {"name": "renamed by hand", "components": [{"type": "Text", "properties": {"text": "x"}}]}))  # fmt: skip
    asyncio.run(_call(root, "swarms", "POST", "/tasks", {"name": "not managed", "components": [{"type": "Text", "properties": {"text": "y"}}]}))
    asyncio.run(_call(root, "mw", "PATCH", f"/basic-campaigns/{ids[MW_CAMPAIGN]}", {"speed": 321}))
    return root


def test_each_object_read_alone_is_what_the_whole_read_says(account: Path) -> None:
    addresses = sorted(_state(account)["resources"])
    for address in addresses:
        _assert_same(account, {address})
    for provider in ("swarms", "mw", "mw-legacy"):
        _assert_same(account, {a for a in addresses if a.startswith(f"{provider}/")})
    _assert_same(account, set(addresses))
    _assert_same(account, {"swarms/task/never-heard-of", "mw/campaign/gone"})


def test_a_settled_resource_is_planned_as_plan_change_and_detect_drift_plan_it(account: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Provider.settled (a resource as desired and as applied, planned without plan_change) gives
    the plan the long way gives: the same changes, drift and operations, and it settles most."""
    from campaignctl.plan.json_format import to_document
    from campaignctl.providers.base import Provider

    settled: list[str] = []
    real = Provider.settled

    def counting(self: Provider, res: Any, applied: Any) -> Any:
        change = real(self, res, applied)
        if change is not None:
            settled.append(res.address)
        return change

    monkeypatch.setattr(Provider, "settled", counting)
    _, _, quick = _read(account, None)
    monkeypatch.setattr(Provider, "settled", lambda self, res, applied: None)
    _, _, long_way = _read(account, None)
    assert SWARMS_JOB in settled and SWARMS_TASK not in settled  # the task drifted: the long way
    assert quick.changes == long_way.changes and quick.drift == long_way.drift and quick.operations == long_way.operations
    assert json.dumps({**to_document(quick), "created_at": ""}) == json.dumps({**to_document(long_way), "created_at": ""})


def test_a_few_objects_cost_a_few_calls(account: Path) -> None:
    whole = sum(sum(m.values()) for m in _read(account, None)[1].values())
    # one GET of the task, and the balance (GET /me); no other platform is read
    assert _assert_same(account, {SWARMS_TASK}) == {"swarms": {"GET": 2}}
    # a job and a campaign: the object and its relation read each
    assert _assert_same(account, {SWARMS_JOB, SWARMS_CAMPAIGN}) == {"swarms": {"GET": 5}}
    # v2: the campaign by id, the template list, categories, configuration, balance (its rows are
    # those the last apply uploaded: not re-read)
    assert _assert_same(account, {MW_CAMPAIGN}) == {"microworkers": {"GET": 5}}
    # v1 lists every campaign of a type in one call: a campaign needs both lists and its catalogs
    assert _assert_same(account, {V1_BLOCKLIST}) == {"microworkers-v1": {"GET": 1}}
    assert _assert_same(account, {V1_CAMPAIGN})["microworkers-v1"]["GET"] < whole


def test_what_only_the_whole_read_can_tell_falls_back_to_it(tmp_path: Path) -> None:
    root = _account(tmp_path)
    ids = {a: e["id"] for a, e in _state(root)["resources"].items()}
    # a task archived by hand: its job's relation names it by id; the task itself may be found by marker
    asyncio.run(_call(root, "swarms", "POST", f"/tasks/{ids['swarms/task/rate-forest']}/archive?deep=false"))
    assert _assert_same(root, {"swarms/task/rate-forest"})["swarms"]["GET"] > 2
    _assert_same(root, {SWARMS_JOB})
    # state lost the ids of a task and a v2 campaign: found again by marker / by title
    state = _state(root)
    for address in ("swarms/task/describe-photo", MW_CAMPAIGN):
        state["resources"][address]["id"] = None
    (root / ".campaignctl" / "state.json").write_text(json.dumps(state))
    part, _, _ = _read(root, {"swarms/task/describe-photo", MW_CAMPAIGN})
    assert part["swarms/task/describe-photo"].id == ids["swarms/task/describe-photo"]
    assert part[MW_CAMPAIGN].id == ids[MW_CAMPAIGN]
    _assert_same(root, {"swarms/task/describe-photo", MW_CAMPAIGN})
    _assert_same(root, {"swarms/job/describe-batch-1"})  # names a task state does not know, by its marker
    # a v2 campaign archived by hand is absent either way
    for action in ("stop", "archive"):
        asyncio.run(_call(root, "mw", "PUT", f"/hire-group-campaigns/{ids['mw/campaign/beta-feedback']}/{action}"))
    _assert_same(root, {"mw/campaign/beta-feedback"})


# -- through the CLI, calls counted by the served sandbox --------------------------------------------
def test_apply_verifies_a_one_field_change_with_a_few_calls(sandbox_server: Any, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    copy_example("quickstart", tmp_path, to=root)
    edit_file(root / "campaign.yaml", "state: active", "state: unpublished")  # its tasks stay writable
    env = point_at_server(root, sandbox_server)
    assert run_cli("apply", ".", "--auto-approve", cwd=root, env=env).code == 0

    def calls(*args: str) -> dict[str, int]:
        import httpx

        httpx.post(f"{sandbox_server.url}/_sandbox/reset-stats", headers=sandbox_server.admin)
        done = run_cli(*args, cwd=root, env=env)
        assert done.code in (0, 2), done.text
        return sandbox_server.stats()["swarms"]

    read = calls("plan", ".")["GET"]
    edit_file(root / "tasks.yaml", "photos/beach.jpg", "photos/beach-2.jpg")
    applied = calls("apply", ".", "--auto-approve")
    # the plan's read, one PUT, then the verification: GET /tasks/{id} and GET /me
    assert applied == {"GET": read + 2, "PUT": 1}

    # a saved plan of one object is checked against a read of that object only
    edit_file(root / "tasks.yaml", "photos/beach-2.jpg", "photos/beach.jpg")
    assert run_cli("plan", ".", "--target", "swarms/task/rate-beach", "-out", "one.json", cwd=root, env=env).code in (0, 2)
    # the re-read (GET /tasks/{id}, GET /me), the PUT, the verification (the same two GETs)
    assert calls("apply", "one.json") == {"GET": 4, "PUT": 1}
