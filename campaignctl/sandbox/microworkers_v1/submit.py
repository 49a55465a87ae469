"""Simulated workers of the Microworkers v1 sandbox: :func:`simulate_submissions` (the sandbox has
no workers), and ``POST /_sandbox/submit``, how ``campaignctl sandbox submit`` reaches it,
in-process or served."""
from __future__ import annotations

import random
from typing import Any

from starlette.responses import Response

from ..core import Sandbox
from . import data as D
from .core import (
    P,
    Params,
    campaign_any,
    campaign_tasks,
    excluded,
    fail,
    no_such_campaign,
    now,
    ok,
    refresh,
    save,
    task_record,
    to_int,
)

_ANSWERS = (
    "Done, my username is {user}",
    "Completed: {url}",
    "Screenshot uploaded, reference {ref}",
    "Answer: {word}",
    "I finished the task at {url}, code {ref}",
)
_WORDS = ("yes", "no", "blue", "approved", "42", "cat", "landscape", "positive", "negative", "spam")


def simulate_submissions(sandbox: Sandbox, campaign_id: str, count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Workers submit ``count`` tasks to a RUNNING campaign (fewer if it runs out of positions).

    Deterministic for ``(campaign_id, seed)``: same workers, proofs and timing offsets. Returns the
    tasks as ``list_tasks_extend`` shows them. Excluded workers never submit; a basic campaign
    takes one position per worker, a hire-group campaign up to ``max_positions_per_worker``.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    out: list[dict[str, Any]] = []
    with sandbox.store.transaction():
        c = campaign_any(sandbox, campaign_id)
        if c["status"] != "RUNNING":
            raise ValueError(f"campaign {campaign_id} is {c['status']}, not RUNNING")
        rng = random.Random(f"{campaign_id}:{seed}:{c['positions_done']}")
        blocked = set(excluded(sandbox))
        per_worker: dict[str, int] = {}
        for t in campaign_tasks(sandbox, c):
            per_worker[t["worker_id"]] = per_worker.get(t["worker_id"], 0) + 1
        limit = 1 if c["type"] == "b" else (c["max_positions_per_worker"] or 10**9)
        proofs_asked = c["required_proof"] if isinstance(c["required_proof"], list) else [c["required_proof"]]
        base = c.get("last_submission") or c.get("restarted") or c.get("approved") or c["created"]
        n = min(count, c["available_positions"] - c["positions_done"])
        pool = [f"{rng.getrandbits(32):08x}" for _ in range(max(8, n // 2))]
        for _ in range(n):
            if c["type"] == "b" or rng.random() < 0.5:
                worker = f"{rng.getrandbits(32):08x}"
            else:
                worker = rng.choice(pool)
            while worker in blocked or per_worker.get(worker, 0) >= limit:
                worker = f"{rng.getrandbits(32):08x}"
            per_worker[worker] = per_worker.get(worker, 0) + 1
            started = base + rng.randint(5, 120)
            finished = started + rng.randint(30, max(31, min(c["minutes_to_finish"] * 60, 3600)))
            base = started
            answers = [
                rng.choice(_ANSWERS).format(
                    user=f"mw_{worker[:6]}",
                    url=f"https://example.org/p/{rng.getrandbits(24):06x}",
                    ref=f"R{rng.randint(10000, 99999)}",
                    word=rng.choice(_WORDS),
                )
                for _ in proofs_asked
            ]
            files = (
                [f"proof_{worker}_{len(out) + 1}.png"]
                if c["file_proof"] == 2 or (c["file_proof"] == 1 and rng.random() < 0.5)
                else []
            )
            tid = sandbox.store.next_id(P, "task", start=1_000_001)
            task = {
                "campaign_row": c["id"],
                "campaign_id": c["campaign_id"],
                "worker_id": worker,
                "started": started,
                "finished": finished,
                "rating": "NOTRATED",
                "proofs": answers,
                "proof": "\n".join(answers),
                "files": files,
                "payment": c["payment_per_task"],
                "csv_record_nr": (c["positions_done"] % c["csv_rows"]) + 1 if c.get("csv_rows") else 0,
            }
            sandbox.store.insert(P, "task", task, id=tid)
            c["positions_done"] += 1
            c["last_submission"] = finished
            out.append(task_record(task))
        late = (c.get("last_submission") or 0) - now(sandbox)
        if late > 0:  # the workers needed time: move sandbox time past the last submission
            offset = float(sandbox.store.kv_get(P, "clock_offset", 0.0))
            sandbox.store.kv_set(P, "clock_offset", offset + late + 1)
        refresh(sandbox, c)
        save(sandbox, c)
    return out


# -- sandbox admin -----------------------------------------------------------------------------
async def sandbox_submit(sb: Sandbox, params: Params) -> Response:
    """``campaignctl sandbox submit`` on a served sandbox: ``POST /_sandbox/submit`` with form fields
    ``campaign, count, seed`` -> ``{"status": "SUCCESS", "submitted": n}`` (runs
    :func:`simulate_submissions`)."""
    cid = params.scalar("campaign") or ""
    count, seed = to_int(params.scalar("count")), to_int(params.scalar("seed") or "0")
    if count is None or count < 0 or seed is None:
        return fail(D.INPUT_DATA_SPACE, campaign_id=cid)
    try:
        made = simulate_submissions(sb, cid, count, seed)
    except KeyError:
        return no_such_campaign(cid)
    except ValueError as exc:
        return fail(str(exc), campaign_id=cid)
    return ok(campaign_id=cid, submitted=len(made))


__all__ = ["sandbox_submit", "simulate_submissions"]
