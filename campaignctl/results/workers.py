"""Workers over time: per worker and campaign, accuracy on gold answers and agreement with the
majority, kept in ``.campaignctl/workers.json`` (next to the state) by every ``results review``.

A campaign's figures are replaced, not added, each time it is reviewed (the review measures every
submission of the campaign again), so reviewing twice never counts twice. ``results workers``
shows a campaign's workers with their figures over every campaign; a Review's ``blocklist`` picks
the workers to suggest excluding from those.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write
from .common import ResultsError
from .review import Accuracy, Measure

VERSION = 1


def workers_path(root: Path) -> Path:
    return root / ".campaignctl" / "workers.json"


def load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"version": VERSION, "campaigns": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read the worker record ({exc}); move it away to start a new one") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("campaigns"), dict):
        raise ResultsError(f"{path}: not a worker record of this campaignctl (version {VERSION}); move it away to start a new one")
    return data


def record(path: Path, campaign: str, measures: dict[str, tuple[str, Measure]]) -> None:
    """Replace ``campaign``'s figures by ``measures`` (submission id -> (worker, measure))."""
    data = load(path)
    per: dict[str, dict[str, int]] = {}
    for worker, m in measures.values():
        w = per.setdefault(worker, {"submissions": 0, "gold_right": 0, "gold_total": 0, "agree": 0, "compared": 0})
        w["submissions"] += 1
        w["gold_right"] += m.gold_right
        w["gold_total"] += m.gold_total
        w["agree"] += m.agree
        w["compared"] += m.compared
    data["campaigns"][campaign] = dict(sorted(per.items()))
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


@dataclass
class WorkerRecord(Accuracy):
    worker: str = ""
    campaigns: int = 0
    submissions: int = 0

    def row(self) -> dict[str, Any]:
        def share(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {"worker": self.worker, "campaigns": self.campaigns, "submissions": self.submissions,
                "gold_accuracy": share(self.gold_accuracy), "gold_answers": self.gold_total,
                "agreement": share(self.agreement), "compared_answers": self.compared}


def over_time(data: dict[str, Any], only: set[str] | None = None) -> dict[str, WorkerRecord]:
    """Every worker's figures summed over every campaign (``only``: these workers)."""
    out: dict[str, WorkerRecord] = {}
    for per in data["campaigns"].values():
        for worker, w in per.items():
            if only is not None and worker not in only:
                continue
            rec = out.setdefault(worker, WorkerRecord(worker=worker))
            rec.campaigns += 1
            for key in ("submissions", "gold_right", "gold_total", "agree", "compared"):
                setattr(rec, key, getattr(rec, key) + int(w.get(key, 0)))
    return out


def to_block(records: dict[str, WorkerRecord], rule: dict[str, Any]) -> list[WorkerRecord]:
    """The workers a Review's ``blocklist`` rule picks (enough answers, figures below the limits)."""
    least = int(rule.get("minAnswers", 5))
    picked = []
    for rec in records.values():
        gold = "goldAccuracyBelow" in rule and rec.gold_total >= least and (rec.gold_accuracy or 0) < rule["goldAccuracyBelow"]
        agree = "agreementBelow" in rule and rec.compared >= least and (rec.agreement or 0) < rule["agreementBelow"]
        if gold or agree:
            picked.append(rec)
    return sorted(picked, key=lambda r: r.worker)


def blocklist_yaml(kind: str, provider: str, name: str, current: list[str], add: list[WorkerRecord]) -> str | None:
    """A Blocklist document with ``add`` joined to ``current``, for a pull request; None: nothing new."""
    new = [r for r in add if r.worker not in set(map(str, current))]
    if not new:
        return None
    lines = [
        "# Suggested by `campaignctl results review`: workers below the Review's blocklist limits over all campaigns.",
        "# Review it, put it in your config repo and run plan/apply: campaignctl never applies it by itself.",
        f"kind: {kind}", f"name: {name}", f"provider: {provider}", "spec:", "  workers:",
    ]
    lines += [f"    - {json.dumps(str(w))}" for w in current]
    for rec in new:
        why = []
        if rec.gold_accuracy is not None:
            why.append(f"gold accuracy {rec.gold_accuracy:.2f} on {rec.gold_total}")
        if rec.agreement is not None:
            why.append(f"agreement {rec.agreement:.2f} on {rec.compared}")
        lines.append(f"    - {json.dumps(rec.worker)}  # {', '.join(why)}")
    return "\n".join(lines) + "\n"
