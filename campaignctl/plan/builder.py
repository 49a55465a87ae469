"""Build a Plan: desired (config) + live (providers) + state -> resource changes and ordered operations."""
from __future__ import annotations

import asyncio
import fnmatch
import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..address import Address, kind_of, name_of
from ..config.model import Config, Document, address_of
from ..dag import DAG, CycleError
from ..errors import PlanError
from ..inputs import apply_moves, desired_of, known_of, read_inputs, wanted_of
from ..providers.base import Live, Provider, Resource
from ..state.base import State
from .diff import meaningful_changes, same
from .model import Drift, LazyMapping, Operation, Plan, ResourceChange, refs_in

if TYPE_CHECKING:
    from ..prefetch import Prefetch


#: ``json.dumps(..., sort_keys=True, default=str)`` built once (``dumps`` builds one per call)
_FINGERPRINT_JSON = json.JSONEncoder(sort_keys=True, default=str)


def fingerprint(live: Live | None) -> str:
    if live is None:
        return "absent"
    data = _FINGERPRINT_JSON.encode({"id": live.id, "attrs": live.attrs, "status": live.status})
    return hashlib.sha256(data.encode()).hexdigest()


def _fingerprints(live: dict[str, Live], addresses: list[str]) -> dict[str, str]:
    return {a: fingerprint(live.get(a)) for a in addresses}


async def read_live(
    providers: dict[str, Provider], config: Config, state: State, only: set[str] | None = None, prefetch: Prefetch | None = None,
    desired: dict[str, dict[str, Any]] | None = None, early: Callable[[dict[str, Live]], None] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, Live], dict[str, float | None]]:
    """Desired attributes, live objects and balances, read concurrently across providers.

    With ``only`` (the addresses the caller plans), a provider none of them belongs to is not read
    at all, and the others get ``only`` and decide how much to read: what they answer for those
    addresses is what a whole read answers (relations resolve to addresses as in the whole set).
    ``prefetch``: whole reads begun while the config was checked, taken where they read the same.
    ``desired``: :func:`desired_of` these providers and config, computed before. ``early``: given
    the live objects a prefetched read makes final before it ends (see ``Prefetch.take``)."""
    if desired is None:
        desired = desired_of(config, providers)
    wanted = wanted_of(config, providers)

    async def one(name: str, provider: Provider) -> tuple[dict[str, Live], float | None]:
        known = known_of(state, name)
        mine = None
        if only is not None:
            mine = {a for a in only if a in wanted[name] or state.resources.get(a, {}).get("provider") == name}
            if not mine:
                return {}, None
        if prefetch is not None and only is None:
            taken = await prefetch.take(provider, known, wanted[name], early)
            if taken is not None:
                return taken
        inputs = read_inputs(config, state, name, known, wanted[name], desired)
        try:
            live, balance = await asyncio.gather(provider.read(inputs, only=mine), provider.balance())
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            # the providers read replies of a known shape; a platform answering another one (a list
            # for an object, null for an id...) is the platform's error, said as such, not a traceback
            from ..errors import ApiError

            detail = provider.client.redact(f"{type(exc).__name__}: {exc}")[:200]
            raise ApiError(f"provider {name!r}: the platform answered in a shape campaignctl does not understand ({detail})") from exc
        return live, balance

    results = await asyncio.gather(*(one(n, p) for n, p in providers.items()))
    live: dict[str, Live] = {}
    balances: dict[str, float | None] = {}
    for name, (found, balance) in zip(providers, results, strict=False):
        live.update(found)
        balances[name] = balance
    return desired, live, balances


def _glob_match(address: str, pattern: str) -> bool:
    """``pattern`` as a glob, or with its brackets taken literally: a forEach member's address
    (``swarms/task/rate-photo[p0001]``) is matched by ``rate-photo[p00*]``, and by the family's
    own address, ``swarms/task/rate-photo``."""
    literal = re.sub(r"([\[\]])", r"[\1]", pattern)
    return fnmatch.fnmatchcase(address, pattern) or fnmatch.fnmatchcase(address, literal) or fnmatch.fnmatchcase(address, literal + "[[]*]")


@dataclass
class Selection:
    """``--target`` / ``--exclude`` address globs. Targets bring the objects they reference along."""

    targets: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.targets or self.excludes)

    def resolve(self, addresses: list[str], desired: dict[str, dict[str, Any]]) -> set[str]:
        def matches(address: str, patterns: list[str]) -> bool:
            return any(_glob_match(address, p) for p in patterns)

        for pattern in self.targets + self.excludes:
            if not any(_glob_match(a, pattern) for a in addresses):
                raise PlanError(f"{pattern!r} matches no address; `campaignctl state list` and the config name them")
        chosen = {a for a in addresses if matches(a, self.targets)} if self.targets else set(addresses)
        stack = list(chosen)
        while stack:  # what a chosen object references must exist first
            for dep in _addresses_in(desired.get(stack.pop()), desired):
                if dep not in chosen:
                    chosen.add(dep)
                    stack.append(dep)
        return {a for a in chosen if not matches(a, self.excludes)}


def _addresses_in(value: Any, known: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item in known:
                found.add(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def remote_ids(config: Config, state: State, moves: dict[str, str]) -> dict[str, Any]:
    """address -> remote id of every object state knows, also under the addresses it had: the
    ``movedFrom`` of its document (a move pending or done) -- what drift compares references by."""
    ids = {a: e["id"] for a, e in state.resources.items() if e.get("id") is not None}
    for new, old in moves.items():
        ids.setdefault(old, ids.get(new))
    for address, doc in config.resources.items():
        if doc.moved_from and address in ids:
            ids.setdefault(address_of(doc.provider, doc.kind, doc.moved_from), ids[address])
    return ids


def _by_remote_id(value: Any, ids: dict[str, Any]) -> Any:
    """A reference (or list of them) as the remote object it names: ``("id", 5)`` for an address
    with a known id or a ``<provider>/<kind>/#5`` of an object state does not know."""
    if isinstance(value, list):
        return [_by_remote_id(v, ids) for v in value]
    if isinstance(value, str):
        if value in ids:
            return ("id", str(ids[value]))
        parsed = Address.maybe(value)
        if parsed is not None and parsed.remote_id is not None:
            return ("id", parsed.remote_id)
    return value


def detect_drift(
    address: str, entry: dict[str, Any], live: Live | None, provider: Provider, ignore: list[str],
    ids: dict[str, Any] | None = None,
) -> Drift | None:
    """What changed on the platform since campaignctl last applied ``address``. References
    (``provider.references``) compare by the remote object they name (``ids``: address -> remote
    id, see :func:`remote_ids`), not by its address: a referenced object renamed with ``movedFrom``
    is the same object, though the attributes last applied name it by its old address."""
    applied = entry.get("attrs")
    if not isinstance(applied, dict):
        return None  # adopted or created by a run that did not finish: nothing to compare with
    kind = entry.get("kind") or kind_of(address, provider.kinds)
    if live is None:
        return Drift(address, provider.name, "deleted")
    res = Resource(address, kind, entry.get("name", ""), applied, live, applied=applied)
    try:
        current = dict(provider.comparable(res))
    except (KeyError, TypeError, AttributeError):
        current = dict(live.attrs)
    for name in ignore:
        current.pop(name, None)
    applied = {k: v for k, v in applied.items() if k not in ignore}
    if same(current, applied):
        return None
    if ids:
        for name in provider.references.get(kind, {}):
            if name in current and name in applied and _by_remote_id(current[name], ids) == _by_remote_id(applied[name], ids):
                current[name] = applied[name]
        if same(current, applied):
            return None
    return Drift(address, provider.name, "changed", meaningful_changes(applied, current))


async def build_plan(
    config: Config,
    state: State,
    providers: dict[str, Provider],
    *,
    only: set[str] | None = None,
    selection: Selection | None = None,
    prefetch: Prefetch | None = None,
    desired: dict[str, dict[str, Any]] | None = None,
) -> Plan:
    state, moves = apply_moves(config, state)
    if desired is None:
        desired = desired_of(config, providers)
    # resources settled before the reads end: the no-op changes of live objects a prefetched read
    # made final early (a whole list read to its end), planned while the rest is read
    settled_early: dict[str, tuple[Live, ResourceChange]] = {}
    wants = desired

    def settle(lives: dict[str, Live]) -> None:
        for address, found in lives.items():
            doc, entry = config.resources.get(address), state.resources.get(address)
            provider = providers.get(doc.provider or "") if doc is not None else None
            if provider is None or not entry or entry.get("id") is None or address in moves:
                continue
            change = provider.settled(_resource(address, doc, entry, wants, found, provider), entry.get("attrs"))
            if change is not None:
                settled_early[address] = (found, change)

    desired, live, balances = await read_live(providers, config, state, only, prefetch, desired, settle)
    ids = remote_ids(config, state, moves)
    known_addresses = {a for a, e in state.resources.items() if e.get("provider") in providers}
    addresses = sorted(set(desired) | set(live) | known_addresses)
    if selection:
        chosen = selection.resolve(addresses, desired)
        addresses = [a for a in addresses if a in chosen]
    if only is not None:
        addresses = [a for a in addresses if a in only]
    changes: list[ResourceChange] = []
    ops: list[Operation] = []
    drift: list[Drift] = []
    for address in addresses:
        if "inflight" in state.resources.get(address, ()):  # a write an interrupted apply left unanswered
            _reconcile_in_flight(address, state, providers, live.get(address))
            settled_early.pop(address, None)
        early = settled_early.get(address)
        if early is not None and early[0] is live.get(address):  # the read returned what was settled
            changes.append(early[1])
            continue
        doc = config.resources.get(address)
        entry = state.resources.get(address, {})
        provider_name = doc.provider if doc else entry.get("provider")
        provider = providers.get(provider_name or "")
        if provider is None:
            continue
        res = _resource(address, doc, entry, desired, live.get(address), provider)
        if doc is not None and entry.get("id") is not None and address not in moves:
            settled = provider.settled(res, entry.get("attrs"))
            if settled is not None:  # as applied, as desired: a no-op without drift
                changes.append(settled)
                continue
        drifted = detect_drift(address, entry, res.live, provider, res.ignore_changes, ids) if entry else None
        if drifted is not None:
            drift.append(drifted)
        if res.desired is None and res.live is None:
            change = ResourceChange(address, provider.name, res.kind, res.name, ["no-op"])
            change.warnings.append("no longer exists on the platform: it will be dropped from state")
            op = Operation(f"{address}#forget", address, provider.name, "forget", "(state only)", records="forget")
            change.operations = [op.id]
            changes.append(change)
            ops.append(op)
            continue
        change, resource_ops = provider.plan_change(res)
        if entry and entry.get("id") is None and "pending" in entry:
            change.warnings.append(
                "an earlier apply was interrupted while creating this object "
                + ("and it was created: it is adopted" if res.live is not None else "and it was not created")
            )
        if drifted is not None and drifted.kind == "changed":
            reverted = {f.path for f in drifted.fields}
            for f in change.fields:
                if f.how == "update" and f.path in reverted:
                    f.how = "reverts a change made outside campaignctl"
        if address in moves:
            move = Operation(f"{address}#move", address, provider.name, "move", "(state only)", payload={"from": moves[address]}, records="move")
            change.warnings.append(f"moved from {moves[address]} (movedFrom): the remote object is kept")
            _prepend(change, resource_ops, move)
        elif res.live is not None and entry.get("id") is None and change.actions != ["delete"]:
            adopt = Operation(f"{address}#adopt", address, provider.name, "adopt", "(state only)", target=res.live.id, records="adopt")
            change.warnings.append(f"found on the platform {res.live.found_by} (id {res.live.id}): recorded in state")
            _prepend(change, resource_ops, adopt)
        changes.append(change)
        ops += resource_ops
    link_dependencies(ops, changes, providers, live)
    ordered = order(ops)
    plan = Plan(
        changes=changes,
        operations=ordered,
        config_digest=config.digest,
        config_root=str(config.root),
        live_fingerprints=LazyMapping(functools.partial(_fingerprints, live, list(addresses))),
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        balances=balances,
        drift=drift,
        managed=dict(Counter(_state_kind(a, state.resources[a], providers) for a in known_addresses)),
        configured=len(config.resources),
    )
    # a commitment over a balance is a refusal of apply (plan.safety), listed by plan with the others
    return plan


def _reconcile_in_flight(address: str, state: State, providers: dict[str, Provider], live: Live | None) -> None:
    """Take what a write in flight did as applied (see :mod:`.inflight`), in ``state`` (in memory)."""
    from .inflight import reconcile

    entry = state.resources[address]
    provider = providers.get(entry.get("provider") or "")
    if provider is not None:
        state.resources[address] = reconcile(address, entry, live, provider)


def _state_kind(address: str, entry: dict[str, Any], providers: dict[str, Provider]) -> str:
    """The kind of a state entry: as recorded, else as its address and provider spell it."""
    provider = providers.get(entry.get("provider") or "")
    return entry.get("kind") or kind_of(address, provider.kinds if provider is not None else ())


def _resource(
    address: str, doc: Document | None, entry: dict[str, Any], desired: dict[str, dict[str, Any]], live: Live | None,
    provider: Provider,
) -> Resource:
    """What a provider plans for ``address``: its document (None once removed from the config),
    state entry, desired attributes and live object."""
    return Resource(
        address=address,
        kind=doc.kind if doc else entry.get("kind") or kind_of(address, provider.kinds),
        name=doc.name if doc else entry.get("name", name_of(address)),
        desired=desired.get(address),
        live=live,
        protect=doc.protect if doc else bool(entry.get("protect")),
        ignore_changes=doc.ignore_changes if doc else [],
        applied=entry.get("attrs"),
        doc=doc,
    )


def _prepend(change: ResourceChange, resource_ops: list[Operation], op: Operation) -> None:
    """A state-only operation that must run before the resource's API calls."""
    change.operations.insert(0, op.id)
    resource_ops.insert(0, op)
    if resource_ops[1:]:
        resource_ops[1].after.insert(0, op.id)


def link_dependencies(
    ops: list[Operation], changes: list[ResourceChange], providers: dict[str, Provider], live: dict[str, Live]
) -> None:
    """Cross-resource order: an op waits for the objects it references; a delete waits until
    nothing that referenced the object still does."""
    by_address: dict[str, list[Operation]] = {}
    for op in ops:
        by_address.setdefault(op.address, []).append(op)
    for op in ops:
        for address in refs_in(op.payload) | refs_in(op.target):
            if address == op.address:
                continue
            for dep in by_address.get(address, []):
                if dep.records != "forget" and not dep.destructive and dep.id not in op.after:
                    op.after.append(dep.id)
    for change in changes:
        provider = providers.get(change.provider)
        current = live.get(change.address)
        if provider is None or current is None:
            continue
        referenced: set[str] = set()
        for name in provider.references.get(change.kind, {}):
            value = current.attrs.get(name)
            referenced |= set(value) if isinstance(value, list) else ({value} if isinstance(value, str) else set())
        for target in referenced:
            for dep in by_address.get(target, []):
                if dep.destructive or dep.records == "forget":
                    for op in by_address.get(change.address, []):
                        if op.id not in dep.after:
                            dep.after.append(op.id)


def order(ops: list[Operation]) -> list[Operation]:
    dag: DAG[str] = DAG()
    by_id = {op.id: op for op in ops}
    if len(by_id) != len(ops):
        raise PlanError("internal error: two operations share an id")
    for op in ops:
        dag.add(op.id, [a for a in op.after if a in by_id])
    try:
        return [by_id[i] for i in dag.sorted()]
    except CycleError as exc:
        raise PlanError(f"the operations cannot be ordered: {exc}") from None
