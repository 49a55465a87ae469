"""The digest of what a plan would do, for "apply the plan that was reviewed" in CI.

``campaignctl show PLAN --format json | python -m campaignctl.plan_digest`` prints a sha256 of the
plan's reviewable content: its resource changes, API calls, cost, refusals, drift and errors. What
changes between two plans of the same change is left out: the creation time, the versions, the
accounts' balances. The GitHub Action puts it in the pull request's plan comment and, on merge,
applies a fresh plan only when its digest is the reviewed one.
"""
from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

REVIEWED = ("resource_changes", "operations", "cost", "refusals", "drift", "errors", "summary")


def digest(document: dict[str, Any]) -> str:
    content = {key: document.get(key) for key in REVIEWED}
    if isinstance(content["operations"], list):  # an operation's dependencies are a set: their order varies
        content["operations"] = [
            {**op, "after": sorted(map(str, op["after"]))} if isinstance(op, dict) and isinstance(op.get("after"), list) else op
            for op in content["operations"]
        ]
    if isinstance(content["cost"], dict):
        content["cost"] = {k: v for k, v in content["cost"].items() if k != "balances"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def main() -> int:
    try:
        document = json.load(sys.stdin)
    except json.JSONDecodeError as exc:
        print(f"Error: not a JSON plan on stdin ({exc})", file=sys.stderr)
        return 1
    if not isinstance(document, dict) or "resource_changes" not in document:
        print("Error: not a JSON plan on stdin (campaignctl show PLAN --format json)", file=sys.stderr)
        return 1
    print(digest(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
