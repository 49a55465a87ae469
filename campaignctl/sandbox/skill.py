"""Simulated workers with a skill and a speed (``campaignctl sandbox submit --accuracy --truth
--fast-share``): a sandbox-only model, no platform documents it.

Each worker gets, from the seed and its id alone (so the same worker behaves the same in every
run and campaign):

* a *speed*: a share ``fast_share`` of workers are fast: they submit 2 to 15 s after starting and
  answer at random (spammers); the others take the time the platform's simulation gave them;
* a *skill*: the chance of giving the true answer, drawn around ``accuracy`` (normal, sd 0.15,
  kept within 0.05..1): workers of mixed skill.

Answers to a (task, field) the truth file names are then the true answer with the worker's skill,
else a wrong one: the answer the platform's simulation drew if it differs, else another answer
the truth file holds for the same field. Answers the truth file does not name are left as drawn.
Each platform's ``sandbox/<name>/skill.py`` applies this to the work its simulation just stored.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

#: the task of work that is not split in task rows (every worker answers the same questions)
WHOLE = "*"


@dataclass
class Skill:
    accuracy: float = 0.8
    truth: dict[tuple[str, str], str] = field(default_factory=dict)
    fast_share: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        pool: dict[str, set[str]] = {}
        for (_, name), answer in self.truth.items():
            pool.setdefault(name, set()).add(answer)
        self._pool = {name: sorted(values) for name, values in pool.items()}

    def to_json(self) -> dict[str, Any]:
        """What ``POST /_sandbox/submit`` (the admin route, :mod:`.skilled`) takes as ``skill``
        (the seed travels as the submission's own)."""
        return {"accuracy": self.accuracy, "fast_share": self.fast_share,
                "truth": [[task, name, answer] for (task, name), answer in sorted(self.truth.items())]}

    @classmethod
    def from_json(cls, value: Any, seed: int) -> Skill:
        """The inverse of :meth:`to_json`; ValueError saying what is off."""
        if not isinstance(value, dict):
            raise ValueError("skill: an object {accuracy, fast_share, truth} expected")
        shares = {}
        for key in ("accuracy", "fast_share"):
            share = value.get(key, 0.8 if key == "accuracy" else 0.0)
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                raise ValueError(f"skill.{key}: a number from 0 to 1 expected")
            shares[key] = float(share)
        truth = value.get("truth", [])
        if not isinstance(truth, list) or not all(
            isinstance(row, list) and len(row) == 3 and all(isinstance(cell, str) for cell in row) for row in truth
        ):
            raise ValueError("skill.truth: a list of [task, field, answer] texts expected")
        return cls(shares["accuracy"], {(task, name): answer for task, name, answer in truth}, shares["fast_share"], seed)

    def worker(self, worker_id: str) -> tuple[bool, float]:
        """(fast, skill) of a worker: from the seed and its id only."""
        rng = random.Random(f"skill:{self.seed}:{worker_id}")
        fast = rng.random() < self.fast_share
        skill = min(1.0, max(0.05, rng.gauss(self.accuracy, 0.15)))
        return fast, skill

    def fast_seconds(self, worker_id: str, work_id: Any) -> int | None:
        """How long a fast worker took (2..15 s), or None for the others."""
        if not self.worker(worker_id)[0]:
            return None
        return random.Random(f"speed:{self.seed}:{worker_id}:{work_id}").randint(2, 15)

    def answer(self, worker_id: str, work_id: Any, task: str, name: str, drawn: str) -> str | None:
        """The worker's answer to (task, name), as text; None: the truth says nothing (keep ``drawn``)."""
        true = self.truth.get((str(task), name))
        if true is None:
            return None
        fast, skill = self.worker(worker_id)
        rng = random.Random(f"answer:{self.seed}:{worker_id}:{work_id}:{task}:{name}")
        others = [a for a in self._pool.get(name, []) if a != true]
        if fast:  # at random among the answers known for the field
            return rng.choice([true, *others]) if others else (true if rng.random() < 0.5 else drawn)
        if rng.random() < skill:
            return true
        if drawn != true:
            return drawn
        return rng.choice(others) if others else drawn


def typed_like(text: str, original: Any) -> Any:
    """``text`` as the type the platform's simulation used (numbers stay numbers)."""
    if isinstance(original, bool) or not isinstance(original, int | float):
        return text if not isinstance(original, bool) else text.lower() in ("true", "1", "yes")
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number
