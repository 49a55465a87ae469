"""SWARMS sandbox: simulated workers. :func:`simulate_submissions` adds InReview results to an active
campaign; ``POST /_sandbox/submit`` (sandbox administration, guess ``sandbox-submit``) is how
``campaignctl sandbox submit`` reaches it, in-process or served."""
from __future__ import annotations

import math
import random
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .common import (
    P,
    as_int,
    illegal_state,
    invalid,
    now,
    timestamp,
)
from .context import Ctx
from .render import render_component, render_result
from .validation import INTERACTIVE

if TYPE_CHECKING:
    from ..core import Sandbox
    from ..store import Store


MEDIA = "https://media.sandbox.swarms.test/results"
WORDS = (
    "red", "car", "tree", "blue", "house", "dog", "a", "the", "small", "big", "street", "sign",
    "person", "walking", "green", "light", "two", "cats", "window", "open", "yes", "no",
)


def _number(value: float) -> int | float:
    value = round(value, 10)
    return int(value) if float(value).is_integer() else value


def component_result(comp: dict[str, Any], rng: random.Random, media: str) -> dict[str, Any]:
    """A result value of the documented shape for an interactive component."""
    ctype = comp["type"]
    props = comp.get("properties") or {}
    if ctype == "AudioRecording":
        return {"url": f"{media}.aac"}
    if ctype == "ImageMarker":
        return {"url": f"{media}.png"}
    if ctype == "VideoRecording":
        return {"url": f"{media}.mp4"}
    if ctype == "BinaryChoice":
        return {"selectedOption": rng.choice([props.get("option1", "Yes"), props.get("option2", "No")])}
    if ctype == "BinaryImageChoice":
        ids = [(props.get(key) or {}).get("id", key) for key in ("option1", "option2")]
        return {"selectedOption": rng.choice(ids)}
    if ctype == "Rating":
        steps = as_int(props.get("steps")) or 5
        if props.get("halfSteps"):
            return {"rating": _number(rng.randint(2, 2 * steps) / 2)}
        return {"rating": rng.randint(1, steps)}
    if ctype == "Stepper":
        low = props.get("min", 0)
        high = props.get("max", low + 10)
        step = props.get("step", 1) or 1
        return {"result": _number(low + rng.randint(0, math.floor((high - low) / step + 1e-9)) * step)}
    if ctype == "TextInput":
        return {"text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))}
    return {"checked": rng.random() < 0.5}  # Toggle


def _new_worker(store: Store, rng: random.Random) -> dict[str, Any]:
    return store.insert(P, "worker", {
        "reputation": {"me": 100, "global": round(rng.uniform(80, 100), 2)},
        "experience": {"me": 0, "global": rng.randint(0, 500)},
        "_earned": "0",
    })


def _make_result(
    store: Store, rng: random.Random, campaign_id: int, job: dict[str, Any], worker: dict[str, Any],
) -> dict[str, Any]:
    result_id = store.next_id(P, "result")
    tasks = [store.get(P, "task", t) for t in job["_tasks"]]
    durations = [rng.randint(5, 90) for _ in tasks]
    clock = now() - timedelta(seconds=sum(durations))
    started = clock
    task_results = []
    for index, (task, seconds) in enumerate(zip(tasks, durations, strict=True)):
        task_start, clock = clock, clock + timedelta(seconds=seconds)
        if task is None:
            continue
        components = [
            {"data": render_component(c),
             "result": component_result(c, rng, f"{MEDIA}/{result_id}/{index}-{position}")}
            for position, c in enumerate(task["components"]) if c.get("type") in INTERACTIVE
        ]
        task_results.append({
            "task": {"id": task["id"], "name": task["name"]},
            "startedAt": timestamp(task_start),
            "completedAt": timestamp(clock),
            "components": components,
        })
    result = {
        "worker": worker["id"], "job": job["id"], "startedAt": timestamp(started),
        "completedAt": timestamp(clock), "state": "InReview", "taskResults": task_results,
        "assignmentId": store.next_id(P, "assignment"), "_campaign": campaign_id,
    }
    return store.insert(P, "result", result, id=result_id)


def simulate_submissions(sandbox: Sandbox, campaign_id: int | str, count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Add up to ``count`` InReview results to an active campaign; returns them (API shape).

    One result per (worker, job), at most ``results`` non-rejected results per job; jobs are
    served round-robin; an existing worker is reused about half the time, else a new one joins.
    Raises ``ValueError`` for an unknown or non-active campaign or a negative count.
    """
    campaign_id = int(campaign_id)  # SWARMS ids are numbers; state and the route may give text
    if count < 0:
        raise ValueError("count must be >= 0")
    store = sandbox.store
    with store.transaction():
        campaign = store.get(P, "campaign", campaign_id)
        if campaign is None:
            raise ValueError(f"campaign {campaign_id} does not exist")
        if campaign["state"] != "active":
            raise ValueError(f"campaign {campaign_id} is {campaign['state']}, not active")
        existing = store.list(P, "result", where={"_campaign": campaign_id})
        rng = random.Random(f"swarms:{seed}:{campaign_id}:{len(existing)}")
        done = {(r["worker"], r["job"]) for r in existing}
        filled = Counter(r["job"] for r in existing if r["state"] != "Rejected")
        target = int(campaign.get("results") or 0)
        jobs = [j for j in (store.get(P, "job", i) for i in campaign["_jobs"]) if j and j["_tasks"]]
        workers = store.list(P, "worker")
        created: list[dict[str, Any]] = []
        while len(created) < count:
            open_jobs = [j for j in jobs if filled[j["id"]] < target]
            if not open_jobs:
                break
            job = open_jobs[len(created) % len(open_jobs)]
            eligible = [w for w in workers if (w["id"], job["id"]) not in done]
            if eligible and rng.random() < 0.5:
                worker = rng.choice(eligible)
            else:
                worker = _new_worker(store, rng)
                workers.append(worker)
            created.append(_make_result(store, rng, campaign_id, job, worker))
            done.add((worker["id"], job["id"]))
            filled[job["id"]] += 1
            worker["experience"]["me"] += 1
            worker["experience"]["global"] += 1
            store.put(P, "worker", worker["id"], worker)
    return [render_result(r) for r in created]


async def sandbox_submit(ctx: Ctx) -> Any:
    """Sandbox admin (``campaignctl sandbox submit`` on a served sandbox): ``POST /_sandbox/submit
    {campaign, count, seed}`` -> ``{"submitted": n}``; runs :func:`simulate_submissions`."""
    body = await ctx.body_object()
    campaign, count, seed = as_int(body.get("campaign")), as_int(body.get("count")), as_int(body.get("seed", 0))
    if campaign is None or count is None or count < 0 or seed is None:
        raise invalid("body: {campaign: id, count: n >= 0, seed: integer} expected")
    ctx.get("campaign", campaign)
    try:
        made = simulate_submissions(ctx.sandbox, campaign, count, seed)
    except ValueError as exc:
        raise illegal_state(str(exc)) from None
    return {"submitted": len(made)}
