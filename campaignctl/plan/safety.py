"""Safety checks that refuse a plan before any call is made; each names its override."""
from __future__ import annotations

from .model import Plan


def problems(plan: Plan, *, force: bool = False, allow_replace: bool = False) -> list[str]:
    out: list[str] = []
    for change in plan.pending:
        destroys = "delete" in change.actions
        if change.protect and destroys and not force:
            verb = "replace" if change.is_replace else "delete"
            out.append(f"{change.address} is protected (protect: true): refusing to {verb} it without --force")
        if change.is_replace and not allow_replace:
            why = "; ".join(change.reasons) or "the platform cannot change it in place"
            out.append(f"{change.address} must be replaced ({why}): re-run with --allow-replace to accept")
    return out
