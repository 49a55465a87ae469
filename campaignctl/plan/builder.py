"""Build a Plan: desired (config) + live (providers) + state -> resource changes and ordered operations."""
from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from ..config.model import Config
from ..dag import DAG, CycleError
from ..errors import PlanError
from ..providers.base import Live, Provider, Resource
from ..state.base import State
from .model import Operation, Plan, ResourceChange, refs_in


def fingerprint(live: Live | None) -> str:
    if live is None:
        return "absent"
    data = json.dumps({"id": live.id, "attrs": live.attrs, "status": live.status}, sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def _kind_of(address: str) -> str:
    return address.split("/")[1]


async def read_live(
    providers: dict[str, Provider], config: Config, state: State
) -> tuple[dict[str, dict[str, Any]], dict[str, Live], dict[str, float | None]]:
    """Desired attributes, live objects and balances, read concurrently across providers.

    Every provider reads all it manages, even when the caller plans a subset: relations between
    objects only resolve to addresses against the whole set."""
    desired: dict[str, dict[str, Any]] = {}
    wanted: dict[str, dict[str, str]] = {name: {} for name in providers}
    for address, doc in config.resources.items():
        desired[address] = providers[doc.provider or ""].desired(doc, config)
        wanted[doc.provider or ""][address] = doc.kind

    async def one(name: str, provider: Provider) -> tuple[dict[str, Live], float | None]:
        known = {a: e["id"] for a, e in state.resources.items() if e.get("provider") == name}
        live, balance = await asyncio.gather(provider.read(known, wanted[name]), provider.balance())
        return live, balance

    results = await asyncio.gather(*(one(n, p) for n, p in providers.items()))
    live: dict[str, Live] = {}
    balances: dict[str, float | None] = {}
    for name, (found, balance) in zip(providers, results):
        live.update(found)
        balances[name] = balance
    return desired, live, balances


async def build_plan(
    config: Config,
    state: State,
    providers: dict[str, Provider],
    *,
    only: set[str] | None = None,
) -> Plan:
    desired, live, balances = await read_live(providers, config, state)
    known_addresses = {a for a, e in state.resources.items() if e.get("provider") in providers}
    addresses = sorted(set(desired) | set(live) | known_addresses)
    if only is not None:
        addresses = [a for a in addresses if a in only]
    changes: list[ResourceChange] = []
    ops: list[Operation] = []
    for address in addresses:
        doc = config.resources.get(address)
        entry = state.resources.get(address, {})
        provider_name = doc.provider if doc else entry.get("provider")
        provider = providers.get(provider_name or "")
        if provider is None:
            continue
        kind = doc.kind if doc else entry.get("kind", _kind_of(address).capitalize())
        name = doc.name if doc else entry.get("name", address.rsplit("/", 1)[-1])
        res = Resource(
            address=address,
            kind=kind,
            name=name,
            desired=desired.get(address),
            live=live.get(address),
            protect=doc.protect if doc else bool(entry.get("protect")),
            ignore_changes=doc.ignore_changes if doc else [],
        )
        if res.desired is None and res.live is None:
            change = ResourceChange(address, provider.name, kind, name, ["no-op"])
            change.warnings.append("no longer exists on the platform: it will be dropped from state")
            op = Operation(f"{address}#forget", address, provider.name, "forget", "(state only)", records="forget")
            change.operations = [op.id]
            changes.append(change)
            ops.append(op)
            continue
        change, resource_ops = provider.plan_change(res)
        if res.live is not None and address not in state.resources and change.actions != ["delete"]:
            adopt = Operation(f"{address}#adopt", address, provider.name, "adopt", "(state only)", target=res.live.id, records="adopt")
            change.warnings.append(f"found on the platform {res.live.found_by} (id {res.live.id}): recorded in state")
            change.operations.insert(0, adopt.id)
            resource_ops.insert(0, adopt)
            if resource_ops[1:]:
                resource_ops[1].after.insert(0, adopt.id)
        changes.append(change)
        ops += resource_ops
    link_dependencies(ops, changes, providers, live)
    ordered = order(ops)
    plan = Plan(
        changes=changes,
        operations=ordered,
        config_digest=config.digest,
        config_root=str(config.root),
        live_fingerprints={a: fingerprint(live.get(a)) for a in addresses},
        created_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        balances=balances,
    )
    for name, available in balances.items():
        spend = sum(o.cost for o in ordered if o.provider == name)
        if available is not None and spend > available:
            plan.warnings.append(
                f"provider {name}: this plan commits {spend:.2f} USD but only {available:.2f} USD is available"
            )
    return plan


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
        for field in provider.references.get(change.kind, {}):
            value = current.attrs.get(field)
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
