"""Saved plans (``plan -out FILE`` / ``apply FILE``): where their config is, and what moved since.

A saved plan records its config directory absolute (``config_root``) and relative to the plan
file's directory (``config_root_relative``), so ``apply FILE`` works from any working directory,
and after the config and the plan moved together (another checkout); and the sha256 of every
config and data file (``config_files``), so a stale plan names the files that changed. A plan of
an older campaignctl has only ``config_root``, relative to the working directory it was made in.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..config.model import Config
from ..errors import PlanError
from .model import Plan


def saved_form(plan: Plan, config: Config, out: Path) -> dict[str, Any]:
    """What ``plan -out FILE`` writes: the plan with its config root (absolute, and relative to
    FILE's directory) and the digest of every config and data file."""
    root = config.root.resolve()
    plan.config_root = str(root)
    plan.config_root_relative = os.path.relpath(root, out.resolve().parent)
    plan.config_files = dict(config.all_file_digests)
    return plan.to_dict()


def saved_root(saved: Plan, plan_file: Path) -> Path:
    """The config directory of a saved plan: relative to the plan file, else the absolute path."""
    candidates = []
    if saved.config_root_relative:
        candidates.append(plan_file.resolve().parent / saved.config_root_relative)
    if saved.config_root:
        candidates.append(Path(saved.config_root))
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    tried = " or ".join(str(c) for c in candidates) or "(the plan names none)"
    raise PlanError(f"{plan_file}: the configuration directory of this plan is not there: {tried}")


def check_saved(saved: Plan, current: Plan, config: Config) -> None:
    """Refuse a saved plan whose config (naming the files) or live objects (naming them) moved."""
    if saved.config_digest != config.digest:
        now, before = config.all_file_digests, saved.config_files
        moved = sorted(p for p in set(before) | set(now) if before.get(p) != now.get(p)) if before else []
        where = f" in {config.root.resolve()}"
        if not moved:  # a plan of an older campaignctl: it does not say which files it read
            raise PlanError(f"the configuration{where} changed since this plan was made (a YAML file, or a data file it names); run plan again")
        named = ", ".join(
            f"{p} ({'added' if p not in before else 'removed' if p not in now else 'edited'})" for p in moved[:20]
        ) + (f" and {len(moved) - 20} more" if len(moved) > 20 else "")
        raise PlanError(f"the configuration{where} changed since this plan was made: {named}; run plan again")
    moved = sorted(
        a for a in set(saved.live_fingerprints) | set(current.live_fingerprints)
        if saved.live_fingerprints.get(a) != current.live_fingerprints.get(a)
    )
    if moved:
        raise PlanError(
            f"live state changed since this plan was made ({len(moved)} object(s)): "
            + ", ".join(moved[:20]) + ("..." if len(moved) > 20 else "") + "; run plan again"
        )
