"""Microworkers v2 answers for review and aggregation: task = the task row id the answer is for
(the slot's ``taskIds``, in order; ``*`` for a campaign without task rows), field = the question
name. An answer given as several values is one text joined by ``; `` (as in CSV exports)."""
from __future__ import annotations

from ...results.common import Submission

WHOLE = "*"
BLOCKLIST_KIND: str | None = None


def items(sub: Submission) -> list[tuple[str, str, str]]:
    task_ids = [str(t) for t in sub.fields.get("task_ids") or []]
    out = []
    for name, values in sub.answers.items():
        base, _, nth = name.partition("#")
        index = int(nth) - 1 if nth.isdigit() else 0
        task = task_ids[index] if index < len(task_ids) else WHOLE
        text = "; ".join(map(str, values)) if isinstance(values, list) else str(values)
        out.append((task, base, text))
    return out
