"""Many answers -> one label per task and field, with crowd-kit (the optional extra
``campaignctl[review]``, imported only here, only when asked).

Input: ``(worker, task, field, answer)`` answers (from the platform's ``review.items``). Each
(task, field) is one crowd-kit task; each field is aggregated on its own (its answers are its
labels). Output: one row per task and field: the label, its confidence (the method's probability
of it), and how many answers it came from.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from typing import IO, Any

from ..errors import CampaignctlError

METHODS = ("majority-vote", "dawid-skene", "glad", "mace")
HINT = "results aggregate needs crowd-kit: pip install 'campaignctl[review]'"
COLUMNS = ("task", "field", "answer", "confidence", "answers")

Answer = tuple[str, str, str, str]  # worker, task, field, answer


def crowdkit() -> Any:
    try:
        import crowdkit.aggregation as aggregation
    except ImportError:
        raise CampaignctlError(HINT) from None
    return aggregation


def _model(method: str, aggregation: Any, seed: int) -> Any:
    if method == "majority-vote":
        return aggregation.MajorityVote()
    if method == "dawid-skene":
        return aggregation.DawidSkene(n_iter=100)
    # GLAD and MACE are slow in crowd-kit (MACE's default is 10 restarts of 50 iterations: minutes for
    # a few hundred answers with free-text labels); fewer rounds, measured on the sandbox's answers
    if method == "glad":
        return aggregation.GLAD(n_iter=50, silent=True)
    if method == "mace":
        return aggregation.MACE(n_restarts=1, n_iter=50, random_state=seed)
    raise CampaignctlError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")


def aggregate(answers: list[Answer], method: str = "majority-vote", seed: int = 0) -> list[dict[str, Any]]:
    """One row per (task, field), sorted: task, field, answer, confidence, answers."""
    if method not in METHODS:
        raise CampaignctlError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    aggregation = crowdkit()
    import pandas as pd

    by_field: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_field[answer[2]].append(answer)
    rows: list[dict[str, Any]] = []
    for name, group in sorted(by_field.items()):
        seen: set[tuple[str, str]] = set()
        records = []
        for worker, task, _, label in group:
            if (worker, task) not in seen:  # one answer per worker and task (crowd-kit's data model)
                seen.add((worker, task))
                records.append({"worker": worker, "task": task, "label": label})
        frame = pd.DataFrame.from_records(records, columns=["worker", "task", "label"])
        counts = frame.groupby("task").size()
        if frame["label"].nunique() == 1:  # every answer the same: nothing to weigh (some methods need two labels)
            proba = pd.DataFrame({frame["label"].iloc[0]: 1.0}, index=counts.index)
        else:
            proba = _model(method, aggregation, seed).fit_predict_proba(frame)
        given = frame.groupby("task")["label"].agg(lambda labels: sorted(set(labels)))
        for task in sorted(proba.index, key=str):
            # the label is one the task's workers gave: with few answers per task, a method's class
            # priors can otherwise favour a label nobody gave this task
            probs = proba.loc[task, given[task]]
            label = str(probs.idxmax())
            rows.append({"task": str(task), "field": name, "answer": label,
                         "confidence": round(float(probs.max()), 4), "answers": int(counts.get(task, 0))})
    return rows


def write(rows: list[dict[str, Any]], stream: IO[str]) -> None:
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
