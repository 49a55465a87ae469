"""campaignctl.apply.execute_plan with a fake provider and an in-memory state backend."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from campaignctl.apply import ApplyResult, UnresolvedReference, execute_plan, resolve
from campaignctl.config.model import Document
from campaignctl.config.nodes import MarkedDict
from campaignctl.errors import AmbiguousWriteError, ApiError
from campaignctl.plan.model import Operation, Plan, ResourceChange, ref
from campaignctl.providers.base import ExecResult
from campaignctl.state.base import State, StateBackend
from tests.helpers import (
    FakeProvider,
    MemoryBackend,
    addr,
    change,
    fake_provider,
    oid,
    op,
)


@pytest.fixture(params=[1, 2], ids=["parallelism-1", "parallelism-2"])
def parallelism(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def run(
    ops: list[Operation],
    parallelism: int,
    *,
    changes: Sequence[ResourceChange] = (),
    state: State | None = None,
    fail: dict[str, Exception] | None = None,
    delays: dict[str, float] | None = None,
    report: Any = None,
) -> tuple[ApplyResult, FakeProvider, State, MemoryBackend]:
    provider = fake_provider(fail, delays)
    state = state if state is not None else State()
    backend = MemoryBackend()
    plan = Plan(changes=list(changes), operations=ops)
    result = asyncio.run(
        execute_plan(plan, {"fake": provider}, state, cast(StateBackend, backend), parallelism=parallelism, report=report)
    )
    return result, provider, state, backend


def assert_after_dependencies(provider: FakeProvider, ops: list[Operation]) -> None:
    position = {event: i for i, event in enumerate(provider.events)}
    for o in ops:
        if ("start", o.id) not in position:
            continue
        for dep in o.after:
            assert ("end", dep) in position, f"{o.id} ran although {dep} did not"
            assert position[("end", dep)] < position[("start", o.id)], f"{o.id} started before {dep} ended"


# -- ordering --------------------------------------------------------------------------------
def test_ops_run_after_their_dependencies(parallelism: int) -> None:
    # listed in a scrambled order; the graph decides
    ops = [
        op("d", after=[oid("b"), oid("c")]),
        op("b", after=[oid("a")]),
        op("c", after=[oid("a")]),
        op("a"),
        op("e"),
        op("f", after=[oid("e"), oid("d")]),
    ]
    delays = {oid("b"): 0.03, oid("a"): 0.01}
    result, provider, _, _ = run(ops, parallelism, delays=delays)
    assert result.ok
    assert sorted(result.done) == sorted(o.id for o in ops)
    assert len(provider.calls) == len(ops)
    assert_after_dependencies(provider, ops)


def test_single_worker_runs_ready_ops_in_plan_order() -> None:
    ops = [op("z"), op("y", after=[oid("z")]), op("x"), op("w", after=[oid("x")])]
    result, provider, _, _ = run(ops, 1)
    assert [c.id for c in provider.calls] == [oid("z"), oid("x"), oid("y"), oid("w")]
    assert result.done == [oid("z"), oid("x"), oid("y"), oid("w")]


def test_dependencies_outside_the_plan_are_ignored(parallelism: int) -> None:
    ops = [op("a", after=["fake/task/elsewhere#create"])]
    result, provider, _, _ = run(ops, parallelism)
    assert result.ok and result.done == [oid("a")]
    assert len(provider.calls) == 1


def test_empty_plan(parallelism: int) -> None:
    result, provider, _, backend = run([], parallelism)
    assert result.ok and result.done == [] and provider.calls == [] and backend.journal == []


# -- failures --------------------------------------------------------------------------------
def test_failed_op_skips_its_transitive_dependents_and_independent_work_goes_on(parallelism: int) -> None:
    ops = [
        op("a"),
        op("b", after=[oid("a")]),
        op("c", after=[oid("b")]),
        op("c2", after=[oid("b"), oid("a")]),  # two paths to the failure: skipped once
        op("d"),
        op("e", after=[oid("d")]),
    ]
    result, provider, _, _ = run(ops, parallelism, fail={oid("a"): ApiError("quota exceeded", status=402)})
    assert not result.ok
    assert list(result.failed) == [oid("a")]
    assert "quota exceeded" in result.failed[oid("a")]
    assert sorted(result.skipped) == sorted([oid("b"), oid("c"), oid("c2")])
    assert len(result.skipped) == len(set(result.skipped))
    assert sorted(result.done) == [oid("d"), oid("e")]
    called = {c.id for c in provider.calls}
    assert called == {oid("a"), oid("d"), oid("e")}
    assert result.touched == {addr("a"), addr("d"), addr("e")}


def test_failure_in_one_branch_of_a_diamond(parallelism: int) -> None:
    ops = [op("a"), op("b"), op("x", after=[oid("a"), oid("b")]), op("y", after=[oid("b")])]
    result, provider, _, _ = run(ops, parallelism, fail={oid("a"): ApiError("no")}, delays={oid("b"): 0.02})
    assert result.skipped == [oid("x")]
    assert sorted(result.done) == [oid("b"), oid("y")]
    assert oid("x") not in {c.id for c in provider.calls}


def test_unexpected_exceptions_are_reported_as_internal_errors(parallelism: int) -> None:
    ops = [op("a"), op("b", after=[oid("a")]), op("c")]
    result, _, _, _ = run(ops, parallelism, fail={oid("a"): KeyError("id")})
    assert result.failed[oid("a")].startswith("internal error: KeyError")
    assert result.skipped == [oid("b")]
    assert result.done == [oid("c")]


def test_report_callback_sees_every_event(parallelism: int) -> None:
    events: list[tuple[str, str, str]] = []
    took: dict[tuple[str, str], float] = {}

    def report(event: str, operation: Operation, detail: str, seconds: float) -> None:
        events.append((event, operation.id, detail))
        took[(event, operation.id)] = seconds

    ops = [op("a"), op("b")]
    run(ops, parallelism, fail={oid("b"): ApiError("refused")}, delays={oid("a"): 0.05}, report=report)
    # a done op reports how long its call took (a's takes 50 ms); starts and failures report none
    assert 0.04 <= took[("done", oid("a"))] < 5
    assert took[("start", oid("a"))] == took[("start", oid("b"))] == took[("failed", oid("b"))] == 0.0
    assert ("start", oid("a"), "") in events and ("done", oid("a"), "") in events
    assert ("start", oid("b"), "") in events
    assert ("failed", oid("b"), "refused") in events
    assert ("done", oid("b"), "") not in events


# -- references and state --------------------------------------------------------------------
def test_refs_resolve_to_ids_made_by_earlier_creates(parallelism: int) -> None:
    ops = [
        op("t1", records="create", payload={"title": "one"}),
        op("t2", records="create"),
        op("j", kind="job", records="create", after=[oid("t1"), oid("t2")],
           payload={"tasks": [ref(addr("t1")), ref(addr("t2")), ref(addr("old"))], "meta": {"first": ref(addr("t1"))}}),
        op("j", "publish", kind="job", target=ref(addr("j", "job")), after=[oid("j", kind="job")]),
    ]
    state = State(resources={addr("old"): {"provider": "fake", "id": 77}})
    result, provider, state, backend = run(ops, parallelism, state=state)
    assert result.ok, result.failed
    by_id = {c.id: c for c in provider.calls}
    assert by_id[oid("j", kind="job")].payload == {"tasks": ["id-t1", "id-t2", 77], "meta": {"first": "id-t1"}}
    assert by_id[oid("j", "publish", kind="job")].target == "id-j"
    assert state.resources[addr("t1")]["id"] == "id-t1"
    assert state.resources[addr("j", "job")]["id"] == "id-j"
    recorded = {a for a, _ in backend.journal}
    assert {addr("t1"), addr("t2"), addr("j", "job")} <= recorded


def test_the_plan_itself_is_not_mutated_by_resolution(parallelism: int) -> None:
    job = op("j", kind="job", after=[oid("t")], payload={"tasks": [ref(addr("t"))]})
    run([op("t", records="create"), job], parallelism)
    assert job.payload == {"tasks": [ref(addr("t"))]}


def test_a_ref_without_an_id_fails_the_op(parallelism: int) -> None:
    ops = [op("j", kind="job", payload={"tasks": [ref(addr("missing"))]}), op("k", kind="job", after=[oid("j", kind="job")])]
    result, provider, _, _ = run(ops, parallelism)
    assert "fake/task/missing has no remote id yet" in result.failed[oid("j", kind="job")]
    assert result.skipped == [oid("k", kind="job")]
    assert provider.calls == []


def test_resolve_walks_nested_values() -> None:
    state = State(resources={"p/task/a": {"id": 1}, "p/task/b": {"id": None}})
    assert resolve({"x": [ref("p/task/a"), {"y": ref("p/task/a")}], "n": 3}, state) == {"x": [1, {"y": 1}], "n": 3}
    assert resolve({"$ref": "p/task/a", "other": 1}, state) == {"$ref": "p/task/a", "other": 1}
    with pytest.raises(UnresolvedReference):
        resolve(ref("p/task/b"), state)


def test_records_forget_removes_the_entry_after_the_call(parallelism: int) -> None:
    state = State(resources={addr("a"): {"provider": "fake", "id": 5, "attrs": {"x": 1}}, addr("b"): {"provider": "fake", "id": 6}})
    ops = [op("a", "delete", target=5, destructive=True, records="forget")]
    result, provider, state, backend = run(ops, parallelism, state=state, changes=[change("a", ["delete"], None)])
    assert result.ok
    assert [c.id for c in provider.calls] == [oid("a", "delete")]
    assert addr("a") not in state.resources and addr("b") in state.resources
    # the removal is marked in flight before its call (an interrupted apply leaves it for the next plan)
    marked = {"provider": "fake", "id": 5, "attrs": {"x": 1}, "inflight": {"op": oid("a", "delete"), "attrs": None}}
    assert backend.journal == [(addr("a"), marked), (addr("a"), None)]


def test_failed_delete_keeps_the_entry(parallelism: int) -> None:
    state = State(resources={addr("a"): {"provider": "fake", "id": 5}})
    ops = [op("a", "delete", target=5, destructive=True, records="forget")]
    result, _, state, backend = run(ops, parallelism, state=state, fail={oid("a", "delete"): ApiError("locked")})
    assert not result.ok
    assert state.resources[addr("a")]["id"] == 5
    assert backend.journal == []


def test_state_only_forget_makes_no_call(parallelism: int) -> None:
    state = State(resources={addr("a"): {"provider": "fake", "id": 5}})
    ops = [op("a", "forget", records="forget")]
    result, provider, state, backend = run(ops, parallelism, state=state)
    assert result.ok and provider.calls == []
    assert state.resources == {}
    assert backend.journal == [(addr("a"), None)]


def test_adopt_records_the_live_id_without_a_call(parallelism: int) -> None:
    ops = [op("a", "adopt", target=42, records="adopt"), op("a", "update", target=ref(addr("a")), after=[oid("a", "adopt")])]
    result, provider, state, _ = run(ops, parallelism, changes=[change("a", ["update"], {"title": "t"})])
    assert result.ok
    assert [(c.id, c.target) for c in provider.calls] == [(oid("a", "update"), 42)]
    assert state.resources[addr("a")]["id"] == 42
    assert state.resources[addr("a")]["attrs"] == {"title": "t"}


def test_attrs_recorded_once_every_op_of_the_resource_succeeded(parallelism: int) -> None:
    desired = {"title": "T", "state": "active"}
    ops = [
        op("c", kind="campaign", records="create"),
        op("c", "set-jobs", kind="campaign", target=ref(addr("c", "campaign")), after=[oid("c", kind="campaign")]),
        op("c", "publish", kind="campaign", target=ref(addr("c", "campaign")), after=[oid("c", "set-jobs", "campaign")]),
    ]
    changes = [change("c", ["create"], desired, kind="campaign", protect=True)]
    result, _, state, backend = run(ops, parallelism, changes=changes)
    assert result.ok
    entry = state.resources[addr("c", "campaign")]
    assert entry == {"provider": "fake", "kind": "Campaign", "name": "c", "id": "id-c", "attrs": desired, "protect": True}
    writes = [e for a, e in backend.journal if a == addr("c", "campaign")]
    # the intent (no id yet), the create, then attrs at the end
    assert [(w["id"], w["attrs"]) for w in writes] == [(None, None), ("id-c", None), ("id-c", desired)]
    assert "pending" in writes[0] and "pending" not in writes[1]


def test_attrs_not_recorded_when_a_later_op_of_the_resource_fails(parallelism: int) -> None:
    ops = [
        op("c", kind="campaign", records="create"),
        op("c", "publish", kind="campaign", target=ref(addr("c", "campaign")), after=[oid("c", kind="campaign")]),
    ]
    changes = [change("c", ["create"], {"title": "T"}, kind="campaign")]
    result, _, state, backend = run(ops, parallelism, changes=changes, fail={oid("c", "publish", "campaign"): ApiError("no funds")})
    assert list(result.failed) == [oid("c", "publish", "campaign")]
    entry = state.resources[addr("c", "campaign")]
    assert entry["id"] == "id-c"  # the create is remembered: a re-run will not duplicate it
    assert entry["attrs"] is None
    assert all(e is None or e["attrs"] is None for _, e in backend.journal)


def test_update_of_a_known_resource_refreshes_its_attrs(parallelism: int) -> None:
    state = State(resources={addr("a"): {"provider": "fake", "kind": "Task", "name": "a", "id": 9, "attrs": {"v": 1}, "protect": False}})
    ops = [op("a", "update", target=9)]
    result, _, state, backend = run(ops, parallelism, state=state, changes=[change("a", ["update"], {"v": 2}, protect=True)])
    assert result.ok
    assert state.resources[addr("a")]["attrs"] == {"v": 2}
    assert state.resources[addr("a")]["protect"] is True
    assert state.resources[addr("a")]["id"] == 9
    address, last = backend.journal[-1]
    assert address == addr("a") and last is not None and last["attrs"] == {"v": 2}


def test_replacement_points_state_at_the_new_object(parallelism: int) -> None:
    state = State(resources={addr("a"): {"provider": "fake", "kind": "Task", "name": "a", "id": "old", "attrs": {"v": 1}}})
    ops = [
        op("a", "create", records="create"),
        op("a", "delete-deposed", target="old", destructive=True, after=[oid("a")]),
    ]
    result, provider, state, _ = run(ops, parallelism, state=state, changes=[change("a", ["create", "delete"], {"v": 2})])
    assert result.ok
    assert [c.id for c in provider.calls] == [oid("a"), oid("a", "delete-deposed")]
    assert state.resources[addr("a")]["id"] == "id-a"
    assert state.resources[addr("a")]["attrs"] == {"v": 2}


# -- concurrency -----------------------------------------------------------------------------
@pytest.mark.parametrize("bound", [1, 2, 3])
def test_parallelism_bound_is_respected(bound: int) -> None:
    ops = [op(f"t{i}") for i in range(10)] + [op("last", after=[oid(f"t{i}") for i in range(10)])]
    result, provider, _, _ = run(ops, bound, delays={o.id: 0.02 for o in ops})
    assert result.ok
    assert provider.peak == bound
    assert provider.calls[-1].id == oid("last")


def test_independent_ops_overlap_with_two_workers() -> None:
    ops = [op("a"), op("b")]
    _, provider, _, _ = run(ops, 2, delays={oid("a"): 0.05, oid("b"): 0.05})
    assert provider.peak == 2
    assert provider.events[:2] == [("start", oid("a")), ("start", oid("b"))]


# -- ambiguous creates -------------------------------------------------------------------------
class AmbiguousProvider(FakeProvider):
    """Every create 'reaches the platform' but its answer is lost; ``exists`` says whether it took."""

    exists: dict[str, Any]
    applied: list[str]
    lookups: list[str]

    async def execute(self, op: Operation) -> ExecResult:
        self.calls.append(op)
        if op.records == "create" and op.address not in self.applied:
            self.applied.append(op.address)
            if op.address in self.exists:
                raise AmbiguousWriteError("no answer", method="POST", url="/tasks", reason="ReadTimeout")
            raise AmbiguousWriteError("no answer", method="POST", url="/tasks", reason="RemoteProtocolError")
        return ExecResult(id=f"id-{op.address.rsplit('/', 1)[-1]}")

    async def lookup(self, address: str, kind: str, desired: dict[str, Any] | None = None) -> Any | None:
        self.lookups.append(address)
        return self.exists.get(address)


def ambiguous_run(exists: dict[str, Any]) -> tuple[ApplyResult, AmbiguousProvider, State, MemoryBackend]:
    doc = Document("Provider", "fake", None, {"type": "fake", "endpoint": "sandbox"}, MarkedDict(), "providers.yaml")
    provider = AmbiguousProvider(doc, Path("."), env={})
    provider.calls, provider.applied, provider.lookups, provider.exists = [], [], [], exists
    state, backend = State(), MemoryBackend()
    plan = Plan(changes=[change("a", ["create"], {"x": 1})], operations=[op("a", records="create")])
    result = asyncio.run(execute_plan(plan, {"fake": provider}, state, cast(StateBackend, backend)))
    return result, provider, state, backend


def test_unanswered_create_that_took_is_adopted_not_repeated() -> None:
    result, provider, state, backend = ambiguous_run({addr("a"): "remote-7"})
    assert result.ok
    assert len(provider.calls) == 1 and provider.lookups == [addr("a")]
    assert state.resources[addr("a")]["id"] == "remote-7"
    assert backend.journal[0][1] is not None and backend.journal[0][1]["id"] is None  # the intent came first


def test_unanswered_create_that_did_not_take_is_sent_once_more() -> None:
    result, provider, state, _ = ambiguous_run({})
    assert result.ok
    assert [c.id for c in provider.calls] == [oid("a"), oid("a")] and provider.lookups == [addr("a")]
    assert state.resources[addr("a")]["id"] == "id-a"
