"""Writes an interrupted apply left in flight: the next plan takes what they did as applied."""
from __future__ import annotations

from typing import Any

from campaignctl.plan.inflight import reconcile
from campaignctl.providers.base import Live, Resource


class Plain:
    """A provider whose live attributes compare as they are."""

    def comparable(self, res: Resource) -> dict[str, Any]:
        assert res.live is not None
        return res.live.attrs


def entry(applied: dict[str, Any] | None, sent: dict[str, Any] | None) -> dict[str, Any]:
    return {"provider": "p", "kind": "Job", "name": "j", "id": 1, "attrs": applied, "inflight": {"op": "p/job/j#update", "attrs": sent}}


def live(**attrs: Any) -> Live:
    return Live("p/job/j", "Job", 1, dict(attrs))


def test_a_write_that_went_through_becomes_the_baseline() -> None:
    out = reconcile("p/job/j", entry({"description": "a", "tasks": [1]}, {"description": "b", "tasks": [1]}),
                    live(description="b", tasks=[1]), Plain())  # type: ignore[arg-type]
    assert out == {"provider": "p", "kind": "Job", "name": "j", "id": 1, "attrs": {"description": "b", "tasks": [1]}}


def test_a_write_that_did_not_go_through_keeps_the_baseline_and_real_drift_stays() -> None:
    # description: the write never arrived (live as applied); tasks: changed by hand to something else
    out = reconcile("p/job/j", entry({"description": "a", "tasks": [1]}, {"description": "b", "tasks": [1]}),
                    live(description="a", tasks=[2]), Plain())  # type: ignore[arg-type]
    assert out["attrs"] == {"description": "a", "tasks": [1]} and "inflight" not in out


def test_a_removal_in_flight_drops_the_baseline() -> None:
    out = reconcile("p/job/j", entry({"description": "a"}, None), None, Plain())  # type: ignore[arg-type]
    assert out["attrs"] is None and "inflight" not in out
