"""Simulated skill and speed (:mod:`campaignctl.sandbox.skill`) on the tasks
:func:`.core.simulate_submissions` just stored. A sandbox guess beyond the docs, like the
simulation itself. Task = ``*`` (every worker answers the campaign's proofs); field =
``proof_1``, ``proof_2``... (the export's columns)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..skill import WHOLE, Skill
from .core import P

if TYPE_CHECKING:
    from ..core import Sandbox


def apply_skill(sandbox: Sandbox, made: list[dict[str, Any]], skill: Skill) -> None:
    store = sandbox.store
    with store.transaction():
        for shown in made:
            n = int(shown["task_id"])
            task = store.get(P, "task", n)
            if task is None:
                continue
            worker = str(task["worker_id"])
            proofs = list(task.get("proofs") or [])
            for i, drawn in enumerate(proofs):
                new = skill.answer(worker, n, WHOLE, f"proof_{i + 1}", str(drawn))
                if new is not None:
                    proofs[i] = new
            task["proofs"], task["proof"] = proofs, "\n".join(proofs)
            seconds = skill.fast_seconds(worker, n)
            if seconds is not None:
                task["finished"] = task["started"] + seconds
            store.put(P, "task", n, task)
