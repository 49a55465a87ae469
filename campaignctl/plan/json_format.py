"""``plan --format json``: a versioned, Terraform-shaped document for machines (schemas/plan.json).

It is a *view* of a plan, not the saved-plan format: ``plan -out FILE`` still writes
:meth:`Plan.to_dict`, which ``apply`` reads back. Consumers should check ``format_version``: the
major number changes only when a field is removed or changes meaning.

Placeholders: an operation's ``target`` or ``payload`` may hold ``{"$ref": "<address>"}`` where the
remote id of that resource is only known during apply (it is created earlier in the same apply).
They are kept as is, so a consumer can tell them apart from real ids; ``refs`` lists them.
Plans never carry secrets (credentials live only in the providers' environment variables).
"""
from __future__ import annotations

import math
from typing import Any

from .. import __version__
from .model import Drift, FieldChange, Operation, Plan, ResourceChange, refs_in
from .render import shown_call

JSON_FORMAT_VERSION = "1.1"  # 1.1: refusals
CURRENCY = "USD"


def _money(value: float) -> float:
    return round(float(value), 6) if math.isfinite(value) else 0.0


def _field(f: FieldChange) -> dict[str, Any]:
    return {"path": f.path, "before": f.before, "after": f.after, "how": f.how}


def _after_unknown(change: ResourceChange) -> dict[str, Any]:
    """Attributes only known after apply: the remote id of whatever apply creates."""
    return {"id": True} if "create" in change.actions else {}


def _resource_change(change: ResourceChange) -> dict[str, Any]:
    return {
        "address": change.address,
        "type": change.kind.lower(),
        "name": change.name,
        "provider": change.provider,
        "change": {
            "actions": list(change.actions),
            "before": change.before,
            "after": change.after,
            "after_unknown": _after_unknown(change),
        },
        "remote_id": change.remote_id,
        "fields": [_field(f) for f in change.fields],
        "lifecycle": list(change.lifecycle),
        "reasons": list(change.reasons),
        "warnings": list(change.warnings),
        "errors": list(change.errors),
        "cost": _money(change.cost),
        "protect": change.protect,
        "operations": list(change.operations),
    }


def _operation(op: Operation) -> dict[str, Any]:
    return {
        "id": op.id,
        "address": op.address,
        "provider": op.provider,
        "action": op.action,
        "call": shown_call(op),
        "target": op.target,
        "payload": op.payload,
        "refs": sorted(refs_in(op.target) | refs_in(op.payload)),
        "after": list(op.after),
        "cost": _money(op.cost),
        "destructive": op.destructive,
    }


def _drift(d: Drift) -> dict[str, Any]:
    return {"address": d.address, "provider": d.provider, "kind": d.kind, "fields": [_field(f) for f in d.fields]}


def _cost(plan: Plan) -> dict[str, Any]:
    providers = sorted({c.provider for c in plan.changes} | {o.provider for o in plan.operations} | set(plan.balances))
    by_provider = {name: 0.0 for name in providers}
    for op in plan.operations:
        by_provider[op.provider] = by_provider.get(op.provider, 0.0) + op.cost
    return {
        "total": _money(plan.cost),
        "by_provider": {name: _money(v) for name, v in by_provider.items()},
        "currency": CURRENCY,
        "balances": {name: (None if v is None else _money(v)) for name, v in sorted(plan.balances.items())},
    }


def _summary(plan: Plan) -> dict[str, Any]:
    counts: dict[str, Any] = dict(plan.counts())
    counts["no-op"] = sum(1 for c in plan.changes if c.actions == ["no-op"])
    counts["api_calls"] = len(plan.operations)
    counts["has_changes"] = plan.has_changes
    return counts


def to_document(plan: Plan) -> dict[str, Any]:
    """The ``plan --format json`` document (see schemas/plan.json)."""
    return {
        "format_version": JSON_FORMAT_VERSION,
        "campaignctl_version": __version__,
        "created_at": plan.created_at,
        "config_digest": plan.config_digest,
        "resource_changes": [_resource_change(c) for c in plan.changes],
        "operations": [_operation(o) for o in plan.operations],
        "cost": _cost(plan),
        "drift": [_drift(d) for d in plan.drift],
        "summary": _summary(plan),
        "warnings": list(plan.warnings),
        "errors": plan.errors,
        "refusals": [r.to_dict() for r in plan.refusals],
    }
