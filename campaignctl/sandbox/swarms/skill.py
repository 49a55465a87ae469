"""Simulated skill and speed (:mod:`campaignctl.sandbox.skill`) on the results
:func:`.results.simulate_submissions` just stored. A sandbox guess beyond the docs, like the
simulation itself. Task = the job id; field = ``<task name>.<component type>.<result field>``
(the export's answer columns)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ...results.common import occurrence_names
from ..skill import Skill, typed_like
from .common import TS_FORMAT, P

if TYPE_CHECKING:
    from ..core import Sandbox


def apply_skill(sandbox: Sandbox, made: list[dict[str, Any]], skill: Skill) -> None:
    store = sandbox.store
    with store.transaction():
        for shown in made:
            result = store.get(P, "result", int(shown["id"]))
            if result is None:
                continue
            worker, task = str(result["worker"]), str(result["job"])
            task_results = result.get("taskResults") or []
            names = occurrence_names([str((tr.get("task") or {}).get("name")) for tr in task_results])
            for task_name, tr in zip(names, task_results, strict=True):
                components = tr.get("components") or []
                types = occurrence_names([str((c.get("data") or {}).get("type")) for c in components])
                for ctype, comp in zip(types, components, strict=True):
                    values = comp.get("result") or {}
                    for key, value in list(values.items()):
                        answer = skill.answer(worker, result["id"], task, f"{task_name}.{ctype}.{key}", str(value))
                        if answer is not None:
                            values[key] = typed_like(answer, value)
            seconds = skill.fast_seconds(worker, result["id"])
            if seconds is not None:
                started = datetime.strptime(result["startedAt"], TS_FORMAT)
                result["completedAt"] = (started + timedelta(seconds=seconds)).strftime(TS_FORMAT)
                for tr in task_results:
                    tr["startedAt"], tr["completedAt"] = result["startedAt"], result["completedAt"]
            store.put(P, "result", result["id"], result)
