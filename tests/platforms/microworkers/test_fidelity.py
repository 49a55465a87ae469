"""Issue 19, the Microworkers providers against a server that answers what the docs allow but our
sandbox did not: lists of kinds nobody uses missing (finding 3), reference lists in other shapes
(finding 4), answers lost after the platform committed a lifecycle write (finding 7); and the one
canonical "nothing" every platform compares by (finding 2). The server is the embedded sandbox
behind a small ASGI wrapper that rewrites or replaces chosen answers."""
from __future__ import annotations

import json
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from campaignctl.plan.diff import blank, same
from campaignctl.providers.base import Live, Provider, Resource
from campaignctl.sandbox import embedded
from campaignctl.sandbox.core import Sandbox
from campaignctl.sandbox.faults import FaultSpec
from tests.helpers import (
    MW1_BASIC,
    MW1_PROVIDER,
    apply_config,
    edit_config,
    embedded_sandbox_of,
    plan_config,
    write_config,
)

#: (method, path) -> None (answer as the sandbox does), or (status, body) to answer instead
Replace = Callable[[str, str], tuple[int, Any] | None]
#: (method, path, decoded JSON answer) -> the answer to give
Rewrite = Callable[[str, str, Any], Any]


def _odd(monkeypatch: pytest.MonkeyPatch, replace: Replace | None = None, rewrite: Rewrite | None = None) -> None:
    real = embedded.embedded_app

    def patched(root: Path) -> Any:
        app = real(root)

        async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            method, path = scope["method"], scope["path"]
            answer = replace(method, path) if replace else None
            if answer is None:
                messages: list[MutableMapping[str, Any]] = []

                async def keep(message: MutableMapping[str, Any]) -> None:
                    messages.append(message)

                await app(scope, receive, keep)
                start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
                if rewrite is None or not body:
                    await send(start)
                    await send({"type": "http.response.body", "body": body})
                    return
                answer = (start["status"], rewrite(method, path, json.loads(body)))
            status, content = answer
            raw = json.dumps(content).encode()
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]})
            await send({"type": "http.response.body", "body": raw})

        wrapper.state = app.state  # type: ignore[attr-defined]
        return wrapper

    monkeypatch.setattr(embedded, "embedded_app", patched)


V2 = """kind: Provider
name: mw
spec: {type: microworkers, endpoint: sandbox}
---
kind: Template
name: form
provider: mw
spec: {title: Form, htmlCode: '<p>Look</p><input name="answer">'}
---
kind: Campaign
name: basic
provider: mw
spec:
  type: basic
  title: Basic only
  description: Answer one question.
  categoryId: "1001"
  paymentPerTask: 0.10
  minutesToFinish: 10
  template: form
  targetedZone: {id: europe1}
  availablePositions: 30
  state: running
"""
V1 = MW1_PROVIDER + "---\n" + MW1_BASIC + "  state: running\n"


# -- finding 3: lists of kinds nobody uses -----------------------------------------------------------
def test_v2_plan_of_basic_campaigns_never_reads_hire_group_campaigns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def replace(method: str, path: str) -> tuple[int, Any] | None:
        seen.append(path)
        if path.endswith("/hire-group-campaigns"):
            return 404, {"title": "NotFound", "detail": "No such route."}
        return None

    _odd(monkeypatch, replace)
    root = write_config(tmp_path, V2)
    plan = plan_config(root)
    assert not plan.errors, plan.errors
    apply_config(root)
    assert not plan_config(root).has_changes
    assert not any(p.endswith("/hire-group-campaigns") for p in seen)


def test_v1_plan_of_basic_campaigns_never_reads_hire_group_campaigns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def replace(method: str, path: str) -> tuple[int, Any] | None:
        seen.append(path)
        if "campaigns_hg" in path or "campaign_hg" in path:
            return 404, {"status": "ERROR", "error": "UNKNOWN METHOD"}
        return None

    _odd(monkeypatch, replace)
    root = write_config(tmp_path, V1)
    assert not plan_config(root).errors
    apply_config(root)
    assert not plan_config(root).has_changes
    assert not any("_hg" in p for p in seen)


# -- finding 4: reference data in shapes the docs do not fix ------------------------------------------
def _flat_categories(method: str, path: str, body: Any) -> Any:
    if path.endswith("/basic-categories"):  # sub-categories as one flat list
        return [sub for cat in body["items"] for sub in cat["subCategories"]]
    return body


def test_v2_flat_categories_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _odd(monkeypatch, rewrite=_flat_categories)
    root = write_config(tmp_path, V2)
    plan = plan_config(root)
    assert not plan.errors, plan.errors
    edit_config(root, "paymentPerTask: 0.10", "paymentPerTask: 0.0001")  # the minimum payment is still checked
    assert any("below the minimum" in e for e in plan_config(root).errors)


def test_v2_unreadable_reference_list_is_said_not_held_against_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _odd(monkeypatch, rewrite=lambda m, p, b: {"something": "else"} if p.endswith("/basic-categories") else b)
    root = write_config(tmp_path, V2)
    plan = plan_config(root)
    assert not plan.errors, plan.errors
    (change,) = [c for c in plan.changes if c.address == "mw/campaign/basic"]
    assert any("could not read GET /basic-categories: unexpected shape" in w for w in change.warnings)


def test_v2_reference_routes_a_platform_lacks_fail_no_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = ("/basic-categories", "/basic-campaigns/configuration", "/accounts/me")
    _odd(monkeypatch, lambda m, p: (404, {"title": "NotFound"}) if p.endswith(gone) else None)
    root = write_config(tmp_path, V2)
    plan = plan_config(root)
    assert not plan.errors, plan.errors
    assert plan.balances == {"mw": None}
    (change,) = [c for c in plan.changes if c.address == "mw/campaign/basic"]
    assert any("could not read GET /basic-categories" in w for w in change.warnings)


def _v1_other_keys(method: str, path: str, body: Any) -> Any:
    if path.endswith("/zones_list"):
        body["zones"] = [{"zone": z["zone_id"], "name": z["zone_name"], "countries": z["countries"]} for z in body["zones"]]
    elif path.endswith("/categories_list"):
        body["categories"] = [{"id": c["category_id"], "name": c["category_name"],
                               "min_payment_per_task": c["min_payment_per_task"]} for c in body["categories"]]
    elif path.endswith("/groups_list"):
        body["groups"] = [{"id": g["group_id"], "name": g["group_name"]} for g in body["groups"]]
    return body


def test_v1_catalogs_with_other_keys_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _odd(monkeypatch, rewrite=_v1_other_keys)
    root = write_config(tmp_path, V1 + '---\nkind: WorkerGroup\nname: typists\nprovider: mw1\nspec: {groupId: "1111"}\n')
    plan = plan_config(root)
    assert not plan.errors, plan.errors
    edit_config(root, 'category: "1001"', 'category: "9999"')
    edit_config(root, 'groupId: "1111"', 'groupId: "9876"')
    errors = plan_config(root).errors
    assert any("'9999'" in e and "1001 (Sign up)" in e for e in errors), errors  # names read from "name"
    assert any("'9876'" in e and "1111 (" in e and "1111 ()" not in e for e in errors), errors


# -- finding 7: lost answers of lifecycle writes ----------------------------------------------------
def _lose_next(root: Path, platform: str, method: str) -> Sandbox:
    sandbox = embedded_sandbox_of(root)
    sandbox.set_faults(FaultSpec(reset_after=1.0, platforms=(platform,), methods=(method,), max_faults=1))
    sandbox.calls.clear()
    return sandbox


BLOCKLIST = "---\nkind: Blocklist\nname: blocked\nprovider: mw1\nspec: {workers: [1a2b3c4d]}\n"


@pytest.mark.parametrize(("config", "old", "new", "platform", "method"), [
    # without the read back: the PUT is sent again -> 400 CampaignIsNotRunning
    pytest.param(V2, "state: running", "state: paused", "microworkers", "PUT", id="v2-pause"),
    pytest.param(V2, "state: running", "state: running\n  speed: 321", "microworkers", "PATCH", id="v2-patch"),
    # without the read back: pause is sent again -> CAMPAIGN NOT RUNNING
    pytest.param(V1, "state: running", "state: paused", "microworkers-v1", "PUT", id="v1-pause"),
    # without the read back: the POST's lost answer fails the apply
    pytest.param(V1 + BLOCKLIST, "workers: [1a2b3c4d]", "workers: [1a2b3c4d, 5e6f7a8b]", "microworkers-v1", "POST",
                 id="v1-exclude-list"),
])  # fmt: skip
def test_a_write_whose_answer_was_lost_is_read_back_not_resent(
    tmp_path: Path, config: str, old: str, new: str, platform: str, method: str
) -> None:
    root = write_config(tmp_path, config)
    apply_config(root)
    edit_config(root, old, new)
    sandbox = _lose_next(root, platform, method)
    apply_config(root)
    assert sandbox.stats()[platform][method] == 1  # read back as done, not sent again
    sandbox.set_faults(None)
    assert not plan_config(root).has_changes


def test_v2_rows_whose_upload_answer_was_lost_are_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(embedded.DOCS_ONLY_ENV, "1")
    text = V2.replace("availablePositions: 30", "tasks: {file: rows.csv}").replace(
        '<input name="answer">', '{{site}} <input name="answer">')
    (tmp_path / "rows.csv").write_text("id,site\n" + "".join(f"r{i},s{i}\n" for i in range(30)))
    root = write_config(tmp_path, text)
    apply_config(root)
    with (tmp_path / "rows.csv").open("a") as f:
        f.writelines(f"n{i},t{i}\n" for i in range(5))
    sandbox = _lose_next(root, "microworkers", "POST")
    apply_config(root)  # without the read back: the tasks-groups error stands, apply fails
    assert sandbox.stats()["microworkers"]["POST"] == 1  # uploaded once
    sandbox.set_faults(None)
    assert not plan_config(root).has_changes


def test_v1_campaign_that_ran_out_needs_no_positions_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 1 on v1: ``positions_done`` is not documented; without it, a campaign the last apply
    left running that is now FINISHED ran out of positions: no restart_campaign planned."""
    from campaignctl.sandbox.microworkers_v1.submit import simulate_submissions

    monkeypatch.setenv(embedded.DOCS_ONLY_ENV, "1")
    root = write_config(tmp_path, V1)
    apply_config(root)
    state = json.loads((root / ".campaignctl" / "state.json").read_text())
    simulate_submissions(embedded_sandbox_of(root), state["resources"]["mw1/campaign/signup"]["id"], 40)
    plan = plan_config(root)
    assert not plan.has_changes, [op.call for op in plan.operations]


# -- finding 2: absent, null and empty plan alike, on every platform -------------------------------
def test_blank_is_one_nothing() -> None:
    assert blank({"a": "", "b": [], "c": {}, "d": None, "e": {"f": ""}, "g": 0, "h": False}) == {"g": 0, "h": False}
    assert same({"adminInstructions": ""}, {"adminInstructions": None}) and same({"x": []}, {})
    assert not same({"x": "a"}, {"x": ""})


class _Fake(Provider):
    type = "fake"
    kinds = ("Thing",)

    def __init__(self) -> None:  # no document, no client: only the planning template
        self.name = "fake"

    def update_ops(self, res: Resource, changed: set[str]) -> list[Any]:
        raise AssertionError(f"an update planned for {changed}")


@pytest.mark.parametrize(("live", "desired"), [
    ({"description": None, "tags": None}, {"description": "", "tags": []}),  # SWARMS-like: empty in the config
    ({"internalTemplate": {"adminInstructions": None, "allowedFileTypes": None}},
     {"internalTemplate": {"adminInstructions": "", "allowedFileTypes": []}}),  # Microworkers v2
    ({"selected_countries": []}, {}),  # Microworkers v1: absent
])  # fmt: skip
def test_no_plan_differs_only_by_representation(live: dict[str, Any], desired: dict[str, Any]) -> None:
    res = Resource("fake/thing/a", "Thing", "a", desired, Live("fake/thing/a", "Thing", 1, live))
    change, ops = _Fake().plan_change(res)
    assert change.actions == ["no-op"] and ops == []
    settled = _Fake().settled(res, desired)  # the fast path says the same as plan_change
    assert settled is not None and (settled.address, settled.actions) == (change.address, ["no-op"])
