"""Execute a Plan's operation DAG: concurrently where independent, recording state after every call.

A failed operation's dependents are skipped (not run); independent work carries on; the result
lists what was done, what failed and what was skipped. Re-running converges, because every
finished call is already in state and the next plan starts from live state.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .address import name_of
from .errors import ApiError, CampaignctlError
from .plan.model import Operation, Plan, ResourceChange
from .providers.base import ExecResult, Provider
from .state.base import State, StateBackend

log = logging.getLogger("campaignctl.apply")


@dataclass
class ApplyResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # op id -> error message
    skipped: list[str] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # addresses

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


class UnresolvedReference(CampaignctlError):
    pass


def resolve(value: Any, state: State) -> Any:
    """Replace ``{"$ref": address}`` placeholders by remote ids from state."""
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            entry = state.resources.get(value["$ref"])
            if entry is None or entry.get("id") is None:
                raise UnresolvedReference(f"{value['$ref']} has no remote id yet (was its create skipped?)")
            return entry["id"]
        return {k: resolve(v, state) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, state) for v in value]
    return value


Reporter = Callable[[str, Operation, str, float], None]  # (event, op, detail, seconds)


async def execute_plan(
    plan: Plan,
    providers: dict[str, Provider],
    state: State,
    backend: StateBackend,
    *,
    parallelism: int = 8,
    report: Reporter | None = None,
    result: ApplyResult | None = None,
) -> ApplyResult:
    """``result``: filled in as the calls finish, so a caller whose apply is interrupted (Ctrl-C,
    SIGTERM) can still say how many were done; calls still running are then cancelled (their
    writes are marked in flight in state, see :func:`_mark_in_flight`)."""
    result = result if result is not None else ApplyResult()
    ops = {op.id: op for op in plan.operations}
    changes = {c.address: c for c in plan.changes}
    remaining_per_address: dict[str, int] = {}
    for op in plan.operations:
        remaining_per_address[op.address] = remaining_per_address.get(op.address, 0) + 1
    waiting = {op.id: {a for a in op.after if a in ops} for op in plan.operations}
    dependents: dict[str, list[str]] = {i: [] for i in ops}
    for op_id, deps in waiting.items():
        for dep in deps:
            dependents[dep].append(op_id)
    order_index = {op.id: i for i, op in enumerate(plan.operations)}
    ready = sorted((i for i, d in waiting.items() if not d), key=order_index.__getitem__)
    running: dict[asyncio.Task[None], str] = {}
    sem = asyncio.Semaphore(parallelism)

    def skip(op_id: str) -> None:
        stack = list(dependents[op_id])
        while stack:
            child = stack.pop()
            if child in waiting:
                del waiting[child]
                result.skipped.append(child)
                stack.extend(dependents[child])

    async def run_one(op: Operation) -> None:
        async with sem:
            started = time.perf_counter()
            if report:
                report("start", op, "", 0.0)
            await _run(op, providers, state, backend, changes)
            if report:
                report("done", op, "", time.perf_counter() - started)

    while ready or running:
        # no more tasks than may run at once: asyncio.wait below looks at every running task, so
        # thousands of waiting ones would make each step O(n) and the apply O(n^2)
        while ready and len(running) < parallelism:
            op_id = ready.pop(0)
            waiting.pop(op_id, None)
            task = asyncio.ensure_future(run_one(ops[op_id]))
            running[task] = op_id
        try:
            finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # interrupted: the calls in flight stop too (marked in flight in state)
            for task in running:
                task.cancel()
            raise
        newly_ready = []
        for task in finished:
            op_id = running.pop(task)
            op = ops[op_id]
            result.touched.add(op.address)
            exc = task.exception()
            if exc is None:
                result.done.append(op_id)
                remaining_per_address[op.address] -= 1
                if remaining_per_address[op.address] == 0:
                    _finish_resource(changes.get(op.address), state, backend)
                for child in dependents[op_id]:
                    if child in waiting:
                        waiting[child].discard(op_id)
                        if not waiting[child]:
                            newly_ready.append(child)
            else:
                message = str(exc) if isinstance(exc, CampaignctlError) else f"{type(exc).__name__}: {exc}"
                result.failed[op_id] = message
                if report:
                    report("failed", op, message, 0.0)
                if not isinstance(exc, (CampaignctlError, OSError)):
                    result.failed[op_id] = f"internal error: {message}"
                skip(op_id)
        ready += sorted((i for i in newly_ready if i in waiting), key=order_index.__getitem__)
    # whatever never became ready (only possible in a hand-edited plan with a cycle) did not run
    result.skipped += sorted(waiting, key=order_index.__getitem__)
    return result


async def _run(op: Operation, providers: dict[str, Provider], state: State, backend: StateBackend, changes: dict[str, ResourceChange]) -> None:
    change = changes.get(op.address)
    if op.records == "forget" and op.action == "forget":
        _forget(op.address, state, backend)
        return
    if op.records == "adopt":
        _remember(op, op.target, change, state, backend)
        return
    if op.records == "move":
        _move(op.payload["from"], op.address, change, state, backend)
        return
    provider = providers[op.provider]
    resolved = dataclasses.replace(op, target=resolve(op.target, state), payload=resolve(op.payload, state))
    if op.records == "create":
        outcome = await _create(op, resolved, provider, change, state, backend)
        _remember(op, outcome.id, change, state, backend)
        _record_sent(op, provider, state, backend)
        return

    async def took(error: ApiError) -> ExecResult | None:
        done = await provider.confirm(resolved)
        if done is None:
            raise error  # the platform cannot tell: the write's own error stands
        return ExecResult() if done else None

    _mark_in_flight(op, change, state, backend)
    await _write(resolved, provider, took)
    _record_sent(op, provider, state, backend)
    if op.records == "forget":
        _forget(op.address, state, backend)


def _record_sent(op: Operation, provider: Provider, state: State, backend: StateBackend) -> None:
    """What the provider records of an operation (:meth:`Provider.sent_record`: its note of what the
    call sent that the platform's documented answers do not show again, e.g. Microworkers' task
    rows: row id -> digest) is merged into the state entry's ``recorded`` once the call took effect
    (answered, or read back as done). A create starts a fresh entry, so a replacement records only
    its own."""
    extra = provider.sent_record(op)
    if not isinstance(extra, dict) or op.address not in state.resources:
        return
    entry = dict(state.resources[op.address])
    recorded = dict(entry.get("recorded") or {})
    for key, value in extra.items():
        before = recorded.get(key)
        recorded[key] = {**before, **value} if isinstance(before, dict) and isinstance(value, dict) else value
    entry["recorded"] = recorded
    state.resources[op.address] = entry
    backend.record(op.address, entry)


async def _create(
    op: Operation, resolved: Operation, provider: Provider, change: ResourceChange | None, state: State, backend: StateBackend
) -> ExecResult:
    """A create that never makes a duplicate.

    Its intent (the address, without id) is recorded durably first. When the call goes unanswered
    or fails with a 5xx, the object is looked up by its address marker, or title where the
    platform has no marker, and adopted when found (see :func:`_write`). After a crash the next
    plan does the same lookup for every intent left in state."""
    kind = change.kind if change else ""
    if state.resources.get(op.address, {}).get("id") is None:
        pending = {"op": op.id, "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _remember(op, None, change, state, backend, pending=pending)

    async def took(error: ApiError) -> ExecResult | None:
        found = await provider.lookup(op.address, kind, change.after if change else None)
        return None if found is None else ExecResult(id=found)

    return await _write(resolved, provider, took)


async def _write(op: Operation, provider: Provider, took: Callable[[ApiError], Awaitable[ExecResult | None]]) -> ExecResult:
    """Send a write; when it fails on a transient error (sent but unanswered, or a 5xx: the
    platform may or may not have applied it; or a 429 the client's attempts did not get past),
    read back whether it took effect (``took``: its result if it did, None if it provably did not;
    raises when it cannot tell) and only then send it again.

    At most WRITE_ATTEMPTS sends; a read back that failed on a transient error is read again. A
    second send, or read, waits the client's backoff and is paid for from its retry budget like
    a retry, so a platform that is down still fails the run fast."""
    error: ApiError | None = None  # the last send's, whose outcome is unknown
    sends = 0
    for round_ in range(2 * WRITE_ATTEMPTS - 1):  # the first round sends; the next read back, then send
        try:
            if error is not None:
                outcome = await took(error)
                if outcome is not None:
                    log.info("%s: the platform shows it done (%s)", op.id, error)
                    return outcome
                if sends == WRITE_ATTEMPTS or not await provider.may_retry(round_):
                    break
                log.info("%s: the platform shows it not done (%s); sending it again", op.id, error)
            sends += 1
            try:
                return await provider.execute(op)
            except ApiError as exc:
                if not exc.transient:
                    raise
                error = exc
        except ApiError as exc:  # reading back failed
            if exc is error or not exc.transient:
                raise
            if not await provider.may_retry(round_):
                break
    assert error is not None
    raise error


#: sends of a write (the first included; read back in between). The client retries a read 3
#: times, but sends a POST once after a 5xx: these rounds are its retries
WRITE_ATTEMPTS = 4


def _remember(
    op: Operation, remote_id: Any, change: ResourceChange | None, state: State, backend: StateBackend,
    *, pending: dict[str, str] | None = None,
) -> None:
    """Record ``op.address`` -> ``remote_id``; ``pending`` marks the intent of a create not yet answered."""
    entry: dict[str, Any] = {
        "provider": op.provider,
        "kind": change.kind if change else "",
        "name": change.name if change else name_of(op.address),
        "id": remote_id,
        "attrs": None,
        "protect": bool(change.protect) if change else False,
    }
    if pending is not None:
        entry["pending"] = pending
    state.resources[op.address] = entry
    backend.record(op.address, entry)


def _move(old: str, new: str, change: ResourceChange | None, state: State, backend: StateBackend) -> None:
    """``movedFrom``: the entry of ``old`` now belongs to ``new`` (recorded before ``old`` goes)."""
    entry = state.resources.get(old)
    if entry is None:
        if new in state.resources:
            return  # moved by an earlier, interrupted run
        raise CampaignctlError(f"cannot move {old} to {new}: {old} is no longer in state; run plan again")
    moved = {**entry, "name": change.name if change else name_of(new)}
    state.resources[new] = moved
    backend.record(new, moved)
    state.resources.pop(old, None)
    backend.record(old, None)
    for address, other in list(state.resources.items()):  # what was applied named the object by ``old``
        attrs = other.get("attrs")
        if isinstance(attrs, dict) and any(v == old or (isinstance(v, list) and old in v) for v in attrs.values()):
            renamed = {k: new if v == old else [new if x == old else x for x in v] if isinstance(v, list) else v
                       for k, v in attrs.items()}  # fmt: skip
            state.resources[address] = {**other, "attrs": renamed}
            backend.record(address, state.resources[address])


def _forget(address: str, state: State, backend: StateBackend) -> None:
    state.resources.pop(address, None)
    backend.record(address, None)


def _mark_in_flight(op: Operation, change: ResourceChange | None, state: State, backend: StateBackend) -> None:
    """Before a write to an object state holds applied attributes of, record what the write will
    make of it (``inflight``: the op, and the attributes after its resource's calls; None for a
    removal). If the run stops before the write's answer (Ctrl-C, SIGTERM, a crash), the next plan
    takes the live values the write set as applied, not as changes made outside campaignctl (see
    :func:`campaignctl.plan.inflight.reconcile`). Objects without applied attributes (a create,
    an adopted object) have no drift to confuse, and cost no extra record."""
    entry = state.resources.get(op.address)
    if change is None or entry is None or not isinstance(entry.get("attrs"), dict):
        return
    marked = {**entry, "inflight": {"op": op.id, "attrs": change.after}}
    state.resources[op.address] = marked
    backend.record(op.address, marked)


def _finish_resource(change: ResourceChange | None, state: State, backend: StateBackend) -> None:
    """All calls for a resource succeeded: remember what was applied (for drift detection)."""
    if change is None or change.address not in state.resources or change.after is None:
        return
    entry = dict(state.resources[change.address])
    entry.pop("inflight", None)
    entry["attrs"] = change.after
    entry["protect"] = change.protect
    state.resources[change.address] = entry
    backend.record(change.address, entry)
