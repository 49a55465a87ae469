"""Safety checks that refuse a plan before any call is made; each names its override.

- ``protect: true`` resources are never deleted or replaced without ``--force``;
- replacements (a new object, then the old one removed) need ``--allow-replace``;
- like octoDNS's thresholds: a plan that deletes or replaces more than ``max_destroy_percent`` of
  the managed objects of a kind (or of all kinds together), when at least ``THRESHOLD_MIN_MANAGED``
  exist, needs ``--force``;
- a configuration with no resources at all never deletes what state manages without ``--force``
  (an empty checkout or a wrong path must not wipe an account);
- ``--max-spend USD`` refuses a plan that commits more money.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Plan

THRESHOLD_MIN_MANAGED = 10
DEFAULT_MAX_DESTROY_PERCENT = 30.0


@dataclass
class Guards:
    force: bool = False
    allow_replace: bool = False
    max_destroy_percent: float = DEFAULT_MAX_DESTROY_PERCENT
    max_spend: float | None = None


def problems(plan: Plan, guards: Guards | None = None) -> list[str]:
    g = guards or Guards()
    out: list[str] = []
    destroyed: dict[str, int] = {}
    for change in plan.pending:
        destroys = "delete" in change.actions
        if destroys:
            destroyed[change.kind] = destroyed.get(change.kind, 0) + 1
        if change.protect and destroys and not g.force:
            verb = "replace" if change.is_replace else "delete"
            out.append(f"{change.address} is protected (protect: true): refusing to {verb} it without --force")
        if change.is_replace and not g.allow_replace:
            why = "; ".join(change.reasons) or "the platform cannot change it in place"
            out.append(f"{change.address} must be replaced ({why}): re-run with --allow-replace to accept")
    if not g.force and destroyed:
        total = sum(destroyed.values())
        if plan.configured == 0:
            out.append(
                f"the configuration declares no resources, so this plan deletes all {total} managed object(s); "
                "check the path (an empty checkout?) or re-run with --force if you mean it"
            )
        else:
            counts = [(f"{kind.lower()}(s)", n, plan.managed.get(kind, 0)) for kind, n in sorted(destroyed.items())]
            if len(destroyed) > 1:
                counts.append(("object(s)", total, sum(plan.managed.values())))
            for what, n, managed in counts:
                if managed >= THRESHOLD_MIN_MANAGED and n * 100.0 / managed > g.max_destroy_percent:
                    out.append(
                        f"this plan deletes or replaces {n} of {managed} managed {what} ({n * 100.0 / managed:.0f} %), "
                        f"more than the {g.max_destroy_percent:g} % threshold: re-run with --force to accept, "
                        "or raise --max-destroy-percent"
                    )
    if g.max_spend is not None and plan.cost > g.max_spend + 1e-9:
        out.append(f"this plan commits {plan.cost:.2f} USD, more than --max-spend {g.max_spend:.2f} USD")
    return out
