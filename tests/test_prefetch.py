"""Reads begun while the config is still being checked (campaignctl/prefetch.py): a plan takes
them only when they read what it would read, so the plan and the calls are those of a plan
without them; an invalid config or a failing platform ends them cleanly."""
from __future__ import annotations

import dataclasses
import os
import re
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaignctl.errors import ApiError, ConfigError
from campaignctl.session import Session, run
from tests.helpers import copy_example, edit_file, point_at_server, run_cli


@pytest.fixture
def repo(sandbox_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The quickstart, applied to the served sandbox (prefetch needs a platform over the network)."""
    root = tmp_path / "repo"
    copy_example("quickstart", tmp_path, to=root)
    env = point_at_server(root, sandbox_server)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run_cli("apply", ".", "--auto-approve", cwd=root, env=env).code == 0
    edit_file(root / "tasks.yaml", "photos/beach.jpg", "photos/beach-2.jpg")  # one change pending
    return root


def plan_and_calls(root: Path, server: Any, prefetch: bool, before_plan: Any = None) -> tuple[Any, dict[str, Any]]:
    httpx.post(f"{server.url}/_sandbox/reset-stats", headers=server.admin)
    session = Session.for_cli(root, 4, prefetch=prefetch)
    if before_plan is not None:
        before_plan(session)
    plan = run(session.plan())
    return plan, server.stats()


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "campaignctl-prefetch"]


def test_a_prefetched_plan_is_the_plan_and_reads_once(repo: Path, sandbox_server: Any) -> None:
    without, calls_without = plan_and_calls(repo, sandbox_server, prefetch=False)
    with_, calls_with = plan_and_calls(repo, sandbox_server, prefetch=True)
    assert with_.changes == without.changes and with_.drift == without.drift
    assert with_.live_fingerprints == without.live_fingerprints and with_.balances == without.balances
    assert [c.address for c in with_.pending] == ["swarms/task/rate-beach"]
    assert calls_with["swarms"] == calls_without["swarms"]  # the plan took the prefetched read
    assert not prefetch_threads()


def test_state_changed_meanwhile_is_read_again(repo: Path, sandbox_server: Any) -> None:
    """apply re-reads state under its lock: a prefetch made with another state is not taken."""
    def forget_one(session: Session) -> None:
        session.state.resources["swarms/task/rate-forest"]["id"] = None  # found again by its marker

    without, calls_without = plan_and_calls(repo, sandbox_server, prefetch=False, before_plan=forget_one)
    with_, calls_with = plan_and_calls(repo, sandbox_server, prefetch=True, before_plan=forget_one)
    assert with_.changes == without.changes
    assert "adopt" in {op.action for op in with_.operations}
    assert calls_with["swarms"]["GET"] > calls_without["swarms"]["GET"]  # read twice: never a stale answer


def test_an_invalid_config_ends_the_prefetch(repo: Path, sandbox_server: Any) -> None:
    edit_file(repo / "campaign.yaml", "jobs: [rate-batch-1,", "jobs: [no-such-job,")
    with pytest.raises(ConfigError, match="unknown Job 'no-such-job'"):
        Session.for_cli(repo, 4, prefetch=True)
    assert not prefetch_threads()
    done = run_cli("plan", ".", cwd=repo, env={"SWARMS_TOKEN": sandbox_server.key})
    assert done.code == 1 and "unknown Job 'no-such-job'" in done.err


def test_a_platform_failing_during_the_prefetch_fails_the_plan_once(repo: Path, sandbox_server: Any) -> None:
    httpx.post(f"{sandbox_server.url}/_sandbox/faults", json={"5xx": 1, "platforms": "swarms"}, headers=sandbox_server.admin).raise_for_status()
    with pytest.raises(ApiError, match=r"HTTP 50[023]"):
        plan_and_calls(repo, sandbox_server, prefetch=True)
    assert not prefetch_threads()
    done = run_cli("plan", ".", cwd=repo, env={"SWARMS_TOKEN": sandbox_server.key})
    assert done.code == 1 and re.search(r"HTTP 50[023]", done.err), done.err


def test_a_prefetch_that_dies_early_leaves_the_plan_to_read(repo: Path, sandbox_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever ends the prefetch thread before it read resolves what the plan waits for."""
    import campaignctl.session as session_module

    real = session_module.make_providers

    def failing_in_the_thread(*args: Any, **kwargs: Any) -> Any:  # the thread's first step
        if threading.current_thread().name == "campaignctl-prefetch":
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(session_module, "make_providers", failing_in_the_thread)
    without, calls_without = plan_and_calls(repo, sandbox_server, prefetch=False)
    with_, calls_with = plan_and_calls(repo, sandbox_server, prefetch=True)
    assert with_.changes == without.changes and calls_with == calls_without
    assert not prefetch_threads()


def test_the_reads_start_before_the_state_is_needed(repo: Path, sandbox_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SWARMS read's first requests need nothing from the state (their answers do): the
    prefetch sends them while the starting thread reads the state, and a state that cannot be
    read fails the plan as it would without a prefetch."""
    from campaignctl.plan.model import LazyMapping
    from campaignctl.platforms.swarms.provider import SwarmsProvider
    from campaignctl.providers.base import ReadInputs

    received: list[tuple[int, int]] = []  # the platform's GETs when the read began, when it needed the ids
    real_read = SwarmsProvider.read

    async def read(self: SwarmsProvider, inputs: ReadInputs, only: Any = None) -> Any:
        begun = sandbox_server.stats().get("swarms", {}).get("GET", 0)

        def ids() -> dict[str, Any]:
            received.append((begun, sandbox_server.stats()["swarms"]["GET"]))
            return dict(inputs.known)

        return await real_read(self, dataclasses.replace(inputs, known=LazyMapping(ids)), only)

    monkeypatch.setattr(SwarmsProvider, "read", read)
    httpx.post(f"{sandbox_server.url}/_sandbox/reset-stats", headers=sandbox_server.admin)
    plan = run(Session.for_cli(repo, 4, prefetch=True).plan())
    assert [c.address for c in plan.pending] == ["swarms/task/rate-beach"]
    (begun, needed), = received  # one read: the prefetched one, which the plan took
    assert needed > begun  # the ids were first needed once a page was answered
    monkeypatch.setattr(SwarmsProvider, "read", real_read)

    (repo / ".campaignctl" / "state.json").write_text("{not json")
    without = run_cli("plan", ".", cwd=repo, env={k: v for k, v in os.environ.items() if k.startswith("SWARMS_")})
    assert without.code == 1 and "is corrupt" in without.err
    with pytest.raises(Exception, match="is corrupt"):
        run(Session.for_cli(repo, 4, prefetch=True).plan())
    assert not prefetch_threads()


def reads_ended(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A list that holds True once a plan's reads (``read_live``) have returned (clear it between plans)."""
    import campaignctl.plan.builder as builder

    ended: list[bool] = []
    real = builder.read_live

    async def read_live(*args: Any, **kwargs: Any) -> Any:
        got = await real(*args, **kwargs)
        ended.append(True)
        return got

    monkeypatch.setattr(builder, "read_live", read_live)
    return ended


def test_objects_a_read_makes_final_early_are_planned_while_the_rest_is_read(
    repo: Path, sandbox_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tasks list read to its last page: its tasks' no-op changes are made while the jobs'
    and campaigns' relations are still being read, each once, and the plan is the plan made
    without a prefetch."""
    from campaignctl.providers.base import Provider

    calls: list[tuple[str, bool, bool]] = []  # (address, whether the reads had ended, settled)
    ended = reads_ended(monkeypatch)
    real_settled = Provider.settled

    def settled(self: Provider, res: Any, applied: Any) -> Any:
        change = real_settled(self, res, applied)
        calls.append((res.address, bool(ended), change is not None))
        return change

    monkeypatch.setattr(Provider, "settled", settled)
    without, calls_without = plan_and_calls(repo, sandbox_server, prefetch=False)
    assert calls and all(after for _, after, _ in calls)
    calls.clear()
    ended.clear()
    with_, calls_with = plan_and_calls(repo, sandbox_server, prefetch=True)
    early = {address for address, after, done in calls if not after and done}
    assert early == {"swarms/task/describe-photo", "swarms/task/rate-forest"}  # not the edited one
    assert not [address for address, after, _ in calls if after and address in early]  # nor again
    assert with_.changes == without.changes and with_.drift == without.drift
    assert calls_with == calls_without
    assert not prefetch_threads()


def test_a_failure_planning_early_leaves_those_objects_to_the_plan(
    repo: Path, sandbox_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning the early live objects is only a head start: if it fails, the plan plans them
    after the reads, as without a prefetch (no traceback, the same plan)."""
    from campaignctl.providers.base import Provider

    ended = reads_ended(monkeypatch)
    real_settled = Provider.settled

    def settled(self: Provider, res: Any, applied: Any) -> Any:
        if not ended:
            raise RuntimeError("boom")
        return real_settled(self, res, applied)

    monkeypatch.setattr(Provider, "settled", settled)
    without, calls_without = plan_and_calls(repo, sandbox_server, prefetch=False)
    ended.clear()
    with_, calls_with = plan_and_calls(repo, sandbox_server, prefetch=True)
    assert with_.changes == without.changes and with_.drift == without.drift
    assert calls_with == calls_without
    assert not prefetch_threads()


def spy_on_starts(monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[bool, list[str]]], list[str]]:
    """Each prefetch start: (early, the config files parsed by then); and the files parsed."""
    import campaignctl.config.load as load_module
    import campaignctl.prefetch as prefetch_module

    parsed: list[str] = []
    starts: list[tuple[bool, list[str]]] = []
    real_parse, real_start = load_module.load_documents, prefetch_module.start

    def parse(text: str, file: str, cache: Any = None) -> Any:
        parsed.append(Path(file).name)
        return real_parse(text, file, cache)

    def start(config: Any, parallelism: int, early: bool = False) -> Any:
        starts.append((early, list(parsed)))
        return real_start(config, parallelism, early=early)

    monkeypatch.setattr(load_module, "load_documents", parse)
    monkeypatch.setattr(prefetch_module, "start", start)
    return starts, parsed


def test_a_config_the_cache_knows_starts_the_reads_once_its_providers_are_parsed(
    repo: Path, sandbox_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts, parsed = spy_on_starts(monkeypatch)
    without, calls_without = plan_and_calls(repo, sandbox_server, prefetch=False)  # tasks.yaml was edited: parsed anew
    assert starts == []
    parsed.clear()
    with_, calls_with = plan_and_calls(repo, sandbox_server, prefetch=True)
    assert starts == [(True, ["providers.yaml"])]  # nothing else parsed yet
    assert with_.changes == without.changes and with_.live_fingerprints == without.live_fingerprints
    assert calls_with == calls_without  # and the plan took it
    edit_file(repo / "campaign.yaml", "\n", "\n\n")  # an edit of a few documents: still early
    parsed.clear()
    edited, calls_edited = plan_and_calls(repo, sandbox_server, prefetch=True)
    assert starts[1] == (True, ["providers.yaml"]) and calls_edited == calls_without
    (repo / "providers.yaml").write_text((repo / "providers.yaml").read_text() + "# edited\n")  # found by its kind
    parsed.clear()
    plan_and_calls(repo, sandbox_server, prefetch=True)
    assert starts[2] == (True, ["providers.yaml"])
    del starts[2]
    # an edit of more documents than the SchemaHelper forks for: every file is parsed first (the
    # helper forks before any thread starts)
    import campaignctl.config.load as load_module

    monkeypatch.setattr(load_module.SchemaHelper, "MIN_CHECKS", 2)
    edit_file(repo / "campaign.yaml", "\n", "\n\n")
    parsed.clear()
    plan_and_calls(repo, sandbox_server, prefetch=True)
    assert starts[2][0] is False and len(starts[2][1]) == len(list(repo.glob("*.yaml")))
    assert not prefetch_threads()


def test_a_provider_moved_into_a_file_that_held_none_is_parsed_before_the_reads_start(
    repo: Path, sandbox_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import campaignctl.config.load as load_module

    starts, parsed = spy_on_starts(monkeypatch)
    before, calls_before = plan_and_calls(repo, sandbox_server, prefetch=True)  # the caches know every file
    searched: list[int] = []
    pattern = load_module._SETUP_KIND

    class Spy:
        def search(self, text: str) -> Any:
            searched.append(len(text))
            return pattern.search(text)

    monkeypatch.setattr(load_module, "_SETUP_KIND", Spy())
    providers = (repo / "providers.yaml").read_text()
    (repo / "providers.yaml").unlink()
    campaign = repo / "campaign.yaml"
    campaign.write_text(campaign.read_text() + "\n---\n" + providers)
    starts.clear()
    parsed.clear()
    moved, calls_moved = plan_and_calls(repo, sandbox_server, prefetch=True)
    assert starts == [(True, ["campaign.yaml"])]  # its new chunks hold the Provider documents
    assert searched and sum(searched) < len(campaign.read_text())  # only the chunks not in the cache were searched
    assert moved.changes == before.changes and calls_moved == calls_before


def test_an_early_read_waits_for_the_config_to_claim_an_object_state_lost(repo: Path, sandbox_server: Any) -> None:
    """An object state has no id for is claimed by its address marker, which only the whole config
    can tell: the early read waits for it, and reads what the plan would."""
    import json

    plan_and_calls(repo, sandbox_server, prefetch=False)  # the document cache sees the edited file
    path = repo / ".campaignctl" / "state.json"
    state = json.loads(path.read_text())
    state["resources"]["swarms/task/rate-forest"]["id"] = None
    path.write_text(json.dumps(state))
    without, calls_without = plan_and_calls(repo, sandbox_server, prefetch=False)
    with_, calls_with = plan_and_calls(repo, sandbox_server, prefetch=True)
    assert "swarms/task/rate-forest#adopt" in {op.id for op in with_.operations}
    assert with_.changes == without.changes and calls_with == calls_without
    assert not prefetch_threads()


def test_the_garbage_collector_is_off_until_the_first_plan_is_built(repo: Path, sandbox_server: Any) -> None:
    import gc

    assert gc.isenabled()
    session = Session.for_cli(repo, 4, prefetch=True)
    try:
        assert not gc.isenabled() and session.resume_gc
        run(session.plan())
        assert gc.isenabled() and not session.resume_gc
    finally:
        gc.enable()
    edit_file(repo / "campaign.yaml", "jobs: [rate-batch-1,", "jobs: [no-such-job,")
    with pytest.raises(ConfigError):
        Session.for_cli(repo, 4, prefetch=True)
    assert gc.isenabled()  # a load that failed turns it on again at once


def test_the_plan_after_an_apply_takes_the_desired_attributes_of_the_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-read of what an apply touched needs the config's desired attributes again: the same
    config, computed once (the embedded sandbox: no prefetch involved)."""
    from campaignctl.platforms.swarms.provider import SwarmsProvider
    from tests.helpers import copy_example

    root = copy_example("quickstart", tmp_path)
    computed: list[str] = []
    real = SwarmsProvider.desired

    def desired(self: Any, doc: Any, config: Any) -> Any:
        computed.append(doc.address)
        return real(self, doc, config)

    monkeypatch.setattr(SwarmsProvider, "desired", desired)
    session = Session.load(root)
    plan = run(session.plan())
    result, check = run(session.apply(plan, progress=False))
    assert check is not None and not [c for c in check.pending if c.actions != ["no-op"]]  # verified
    assert sorted(computed) == sorted(a for a in session.config.resources if a.startswith("swarms/"))
