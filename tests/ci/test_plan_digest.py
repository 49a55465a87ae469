"""The reviewed-plan digest: equal for the same change, different for another one."""
from __future__ import annotations

import copy

from campaignctl.plan_digest import digest

PLAN = {
    "created_at": "2026-12-07T21:00:27Z", "campaignctl_version": "0.1.0",
    "resource_changes": [{"address": "swarms/campaign/c", "change": {"actions": ["create"]}}],
    "operations": [{"id": "c#create", "after": ["j1#create", "j2#create"], "payload": {"results": 3}}],
    "cost": {"total": 0.3, "balances": {"swarms": 9999.7}}, "refusals": [], "drift": [], "errors": [], "summary": {"create": 1},
}


def test_same_change_same_digest_whatever_the_time_balance_or_dependency_order() -> None:
    other = copy.deepcopy(PLAN)
    other["created_at"] = "2026-12-08T09:00:00Z"
    other["cost"]["balances"] = {"swarms": 12.0}
    other["operations"][0]["after"] = ["j2#create", "j1#create"]
    assert digest(other) == digest(PLAN)


def test_another_change_another_digest() -> None:
    for path, value in ((("operations", 0, "payload", "results"), 4), (("cost", "total"), 0.4), (("drift",), [{"address": "x"}])):
        other = copy.deepcopy(PLAN)
        node = other
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        assert digest(other) != digest(PLAN), path
