"""Simulated skill and speed (:mod:`campaignctl.sandbox.skill`) on the slots
:func:`.slots.simulate_submissions` just stored. A sandbox guess beyond the docs, like the
simulation itself. Task = the answer's task row id (``*`` without task rows); field = the
question's name."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..skill import WHOLE, Skill
from .model import SLOT_IDS, P

if TYPE_CHECKING:
    from ..core import Sandbox


def apply_skill(sandbox: Sandbox, made: list[dict[str, Any]], skill: Skill) -> None:
    store = sandbox.store
    with store.transaction():
        for shown in made:
            n = SLOT_IDS.decode(shown["id"])
            slot = store.get(P, "slot", n) if n is not None else None
            if n is None or slot is None or slot.get("autoRated"):
                continue  # rated by the test cases already: leave it as the platform decided
            worker = str(slot["workerId"])
            for answer in slot.get("answers") or []:
                task = WHOLE if answer.get("taskId") is None else str(answer["taskId"])
                drawn = "; ".join(map(str, answer.get("answers") or []))
                new = skill.answer(worker, n, task, str(answer.get("name")), drawn)
                if new is not None:
                    answer["answers"] = [new]
            seconds = skill.fast_seconds(worker, n)
            if seconds is not None:
                slot["lockedTs"] = slot["submittedTs"] - seconds
            store.put(P, "slot", n, slot)
