"""Safety checks that refuse a plan before any call is made; each names its override.

- ``protect: true`` resources are never deleted or replaced without ``--force``;
- replacements (a new object, then the old one removed) need ``--allow-replace``;
- like octoDNS's thresholds: a plan that deletes or replaces more than ``max_destroy_percent`` of
  the managed objects of a kind (or of all kinds together), when at least ``THRESHOLD_MIN_MANAGED``
  exist, needs ``--force``;
- a configuration with no resources at all never deletes what state manages without ``--force``
  (an empty checkout or a wrong path must not wipe an account);
- ``--max-spend USD`` refuses a plan that commits more money;
- a plan that commits more on a provider's account than the balance the plan read there needs
  ``--force`` (else apply would stop half-way on the platform's "not enough money").

:func:`refusals` is the one place these are decided: ``plan`` lists what it returns without any
override (so reviewers see it before merging), ``apply`` refuses what it returns with the flags
given, before its first call.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Plan, Refusal

THRESHOLD_MIN_MANAGED = 10
DEFAULT_MAX_DESTROY_PERCENT = 30.0
#: money is compared to the cent's hundredth: rounding never refuses a plan
EPSILON = 1e-6


@dataclass
class Guards:
    force: bool = False
    allow_replace: bool = False
    max_destroy_percent: float = DEFAULT_MAX_DESTROY_PERCENT
    max_spend: float | None = None


def refusals(plan: Plan, guards: Guards | None = None) -> list[Refusal]:
    """What apply refuses for ``plan`` under ``guards`` (the flags given), each with its override."""
    g = guards or Guards()
    out: list[Refusal] = []
    destroyed: dict[str, list[str]] = {}
    for change in plan.pending:
        destroys = "delete" in change.actions
        if destroys:
            destroyed.setdefault(change.kind, []).append(change.address)
        if change.protect and destroys and not g.force:
            verb = "replace" if change.is_replace else "delete"
            out.append(Refusal(
                f"{change.address} is protected (protect: true): refusing to {verb} it without --force", "--force", [change.address]
            ))  # fmt: skip
        if change.is_replace and not g.allow_replace:
            why = "; ".join(change.reasons) or "the platform cannot change it in place"
            out.append(Refusal(
                f"{change.address} must be replaced ({why}): re-run with --allow-replace to accept", "--allow-replace", [change.address]
            ))  # fmt: skip
    if not g.force and destroyed:
        everything = sorted(a for addresses in destroyed.values() for a in addresses)
        if plan.configured == 0:
            out.append(Refusal(
                f"the configuration declares no resources, so this plan deletes all {len(everything)} managed object(s); "
                "check the path (an empty checkout?) or re-run with --force if you mean it", "--force", everything,
            ))  # fmt: skip
        else:
            counts = [(f"{kind.lower()}(s)", sorted(a), plan.managed.get(kind, 0)) for kind, a in sorted(destroyed.items())]
            if len(destroyed) > 1:
                counts.append(("object(s)", everything, sum(plan.managed.values())))
            for what, addresses, managed in counts:
                n = len(addresses)
                if managed >= THRESHOLD_MIN_MANAGED and n * 100.0 / managed > g.max_destroy_percent:
                    out.append(Refusal(
                        f"this plan deletes or replaces {n} of {managed} managed {what} ({n * 100.0 / managed:.0f} %), "
                        f"more than the {g.max_destroy_percent:g} % threshold: re-run with --force to accept, "
                        "or raise --max-destroy-percent", "--force", addresses,
                    ))  # fmt: skip
    paying = sorted({op.address for op in plan.operations if op.cost > 0})
    if g.max_spend is not None and plan.cost > g.max_spend + EPSILON:
        out.append(Refusal(f"this plan commits {plan.cost:.2f} USD, more than --max-spend {g.max_spend:.2f} USD", "--max-spend", paying))
    if not g.force:
        for name, available in sorted(plan.balances.items()):
            spend = round(sum(op.cost for op in plan.operations if op.provider == name), 6)
            if available is not None and spend > available + EPSILON:
                out.append(Refusal(
                    f"provider {name}: this plan commits {spend:.2f} USD but only {available:.2f} USD is available "
                    "on its account: top the account up, or re-run with --force to start anyway "
                    "(the platform refuses what the balance does not cover, part-way through)",
                    "--force", sorted({op.address for op in plan.operations if op.provider == name and op.cost > 0}),
                ))  # fmt: skip
    return out


def problems(plan: Plan, guards: Guards | None = None) -> list[str]:
    """The reasons of :func:`refusals`, one sentence each."""
    return [r.reason for r in refusals(plan, guards)]


def review(plan: Plan, max_destroy_percent: float = DEFAULT_MAX_DESTROY_PERCENT, max_spend: float | None = None) -> Plan:
    """Record on ``plan`` what apply would refuse without an override (``--force``,
    ``--allow-replace``), given the limits planned with; returns the plan."""
    plan.refusals = refusals(plan, Guards(max_destroy_percent=max_destroy_percent, max_spend=max_spend))
    return plan
