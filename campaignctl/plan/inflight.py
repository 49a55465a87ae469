"""Writes that were in flight when an apply stopped (Ctrl-C, SIGTERM, a crash).

Apply records ``inflight`` on a state entry before it sends a write to an object whose applied
attributes state holds (``campaignctl.apply._mark_in_flight``): the op and the attributes the
resource's calls lead to (None for a removal). A run that stops before the answer leaves the
marker. The next plan reconciles it here: each top-level field the live object shows with the
value the write sent is taken as applied -- the write went through -- and is not reported as a
change made outside campaignctl; any other difference still is. The reconciled entry replaces the
plan's state entry in memory; the next apply (even one with nothing to do) commits it.
"""
from __future__ import annotations

from typing import Any

from ..address import kind_of
from ..providers.base import Live, Provider, Resource


def current_attrs(address: str, entry: dict[str, Any], live: Live, provider: Provider) -> dict[str, Any]:
    """``live`` in the shape of the applied attributes (as drift detection compares them)."""
    kind = entry.get("kind") or kind_of(address, provider.kinds)
    res = Resource(address, kind, entry.get("name", ""), entry.get("attrs"), live, applied=entry.get("attrs"))
    try:
        return dict(provider.comparable(res))
    except (KeyError, TypeError, AttributeError):
        return dict(live.attrs)


def reconcile(address: str, entry: dict[str, Any], live: Live | None, provider: Provider) -> dict[str, Any]:
    """``entry`` without its ``inflight`` marker, its applied attributes updated with what the
    write in flight is seen to have done."""
    out = {k: v for k, v in entry.items() if k != "inflight"}
    marker = entry.get("inflight")
    sent = marker.get("attrs") if isinstance(marker, dict) else None
    applied = entry.get("attrs")
    if not isinstance(applied, dict):
        return out
    if sent is None:  # a removal was in flight: nothing is compared until it completes
        out["attrs"] = None
        return out
    if live is None or not isinstance(sent, dict):
        return out
    current = current_attrs(address, entry, live, provider)
    merged = dict(applied)
    for key, value in sent.items():
        if key in current and current[key] == value:
            merged[key] = value
    out["attrs"] = merged
    return out


__all__ = ["current_attrs", "reconcile"]
