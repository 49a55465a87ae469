"""``campaignctl apply --refresh-only`` (Terraform's name): accept what changed on the platforms
outside campaignctl as the new baseline.

Reads every object state holds, finds the drift as ``plan`` does (writes an interrupted apply
left in flight are reconciled first, see :mod:`campaignctl.plan.inflight`), and returns, per
drifted object, the state entry that records its live values as applied: a changed object's
attributes become what the platform shows now (fields under ``ignoreChanges`` keep their
recorded value); an object deleted on the platform is dropped from state, so the next plan
creates it again if the config still declares it. Nothing is sent to the platforms; the next
plan then shows, as ordinary changes, what it takes to bring them back to the config.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .inputs import opened
from .plan.builder import Selection, detect_drift, read_live
from .plan.inflight import current_attrs, reconcile
from .plan.model import Drift
from .session import Session


@dataclass
class Refreshed:
    drift: Drift
    entry: dict[str, Any] | None  # the new state entry; None: drop the address from state


async def refresh(session: Session, selection: Selection | None = None) -> tuple[list[Refreshed], int]:
    """The drifted objects with their new state entries, and how many in-flight writes were
    reconciled (already applied to ``session.state``, in memory)."""
    config, state, providers = session.config, session.state, session.providers
    async with opened(providers, session.parallelism):
        desired, live, _ = await read_live(providers, config, state)
    addresses = sorted(a for a, e in state.resources.items() if e.get("provider") in providers)
    if selection:
        chosen = selection.resolve(sorted(set(addresses) | set(desired)), desired)
        addresses = [a for a in addresses if a in chosen]
    found: list[Refreshed] = []
    reconciled = 0
    for address in addresses:
        entry = state.resources[address]
        provider = providers[entry["provider"]]
        current = live.get(address)
        if "inflight" in entry:
            entry = state.resources[address] = reconcile(address, entry, current, provider)
            reconciled += 1
        doc = config.resources.get(address)
        ignore = doc.ignore_changes if doc is not None else []
        drift = detect_drift(address, entry, current, provider, ignore)
        if drift is None:
            continue
        if current is None:
            found.append(Refreshed(drift, None))
            continue
        attrs = current_attrs(address, entry, current, provider)
        applied = entry["attrs"]
        for name in ignore:  # left to the platform: what was recorded stays
            if name in applied:
                attrs[name] = applied[name]
            else:
                attrs.pop(name, None)
        found.append(Refreshed(drift, {**entry, "attrs": attrs}))
    return found, reconciled


__all__ = ["Refreshed", "refresh"]
