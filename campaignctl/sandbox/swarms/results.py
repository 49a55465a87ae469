"""SWARMS sandbox: results, workers and review (approve / reject / soft-reject).

Part of :mod:`campaignctl.sandbox.swarms.api` (whose docstring lists the error codes and guesses).
Results are documents of kind ``"result"`` carrying the documented fields plus internal
``_campaign``, ``_message``, ``_reason`` and ``_until``; workers are documents of kind ``"worker"``.

Guesses specific to results (the docs are silent):

* ``GET /results/{id}`` exists (so HAL ``self`` links resolve). Approve takes an optional
  ``{message}`` (``null`` or no body: none); approve/reject/soft-reject answer the result object;
  the approve-all endpoints answer ``{"approved": <n>}``. None of these in docs-only mode (see
  :mod:`.guesses_swarms`): no such route, no ``self`` link, ``{}`` answers.
* HAL links of a result: ``approve``, ``reject`` and ``softReject`` (the python SDK's names) as its
  state allows.
* Approve and reject are allowed from InReview and SoftRejected, soft-reject from InReview only;
  anything else is 409 code 3000. Review works in every campaign state. No auto-approval after
  ``maxReviewTime`` (the sandbox does not advance time).
* ``state`` filters also accept ``SoftRejected``; ``since`` (``YYYY-MM-DDTHH:MM[:SS]``) keeps
  results whose ``completedAt`` is later. Worker counts ``results.inReview/approved/rejected``
  leave SoftRejected results out. ``/campaigns/{cid}/workers/{wid}/results`` is 404 for a worker
  without results in the campaign.
* Rejecting lowers the worker's ``reputation.me`` by 5 (floor 0).
* :func:`simulate_submissions`: results are for interactive components only (non-interactive
  ones carry no result); values are deterministic for (seed, campaign, results already there)
  but timestamps come from the clock (``completedAt`` = now). It never exceeds ``results``
  non-rejected results per job nor gives a worker the same job twice; it may return fewer than
  ``count`` when the campaign is full.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .api import (
    INTERACTIVE,
    RUNNING,
    TS_FORMAT,
    ApiError,
    Ctx,
    Handler,
    P,
    Page,
    as_int,
    cursor_params,
    get_balance,
    illegal_state,
    invalid,
    now,
    page_by_id,
    page_links,
    parse_minute_date,
    release_frozen,
    render_component,
    set_balance,
    timestamp,
    unit_cost,
)

if TYPE_CHECKING:
    from ..core import Sandbox
    from ..store import Store

RESULT_STATES = ("InReview", "Approved", "Rejected", "SoftRejected")
COUNTED = {"InReview": "inReview", "Approved": "approved", "Rejected": "rejected"}
MEDIA = "https://media.sandbox.swarms.test/results"
WORDS = (
    "red", "car", "tree", "blue", "house", "dog", "a", "the", "small", "big", "street", "sign",
    "person", "walking", "green", "light", "two", "cats", "window", "open", "yes", "no",
)

# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------


def render_result(result: dict[str, Any], ctx: Ctx | None = None) -> dict[str, Any]:
    out = {
        "worker": result["worker"],
        "job": result["job"],
        "startedAt": result["startedAt"],
        "completedAt": result["completedAt"],
        "state": result["state"],
        "taskResults": result["taskResults"],
        "id": result["id"],
        "assignmentId": result["assignmentId"],
    }
    if ctx is not None and ctx.docs_only:  # the docs' result data: type, landscape, properties, sticky
        out["taskResults"] = [
            {**tr, "components": [{**c, "data": {k: v for k, v in c["data"].items() if k != "optionalResult"}}
                                  for c in tr.get("components", [])]}
            for tr in result["taskResults"]
        ]
    if ctx is not None and ctx.hal:
        base = f"/results/{result['id']}"
        links = {} if ctx.docs_only else {"self": {"href": ctx.href(base)}}  # GET /results/{id}: a guess
        if result["state"] in ("InReview", "SoftRejected"):
            links["approve"] = {"href": ctx.href(f"{base}/approve")}
            links["reject"] = {"href": ctx.href(f"{base}/reject")}
        if result["state"] == "InReview":  # the python SDK's name for it
            links["softReject"] = {"href": ctx.href(f"{base}/soft-reject")}
        out["_links"] = links
    return out


def render_worker(ctx: Ctx, worker: dict[str, Any], campaign_id: int, counts: Counter[str]) -> dict[str, Any]:
    out = {
        "id": worker["id"],
        "reputation": worker["reputation"],
        "experience": worker["experience"],
        "results": {name: counts[state] for state, name in COUNTED.items()},
    }
    if ctx.hal and not ctx.docs_only:  # link names nothing documents
        base = f"/campaigns/{campaign_id}/workers/{worker['id']}"
        out["_links"] = {
            "results": {"href": ctx.href(f"{base}/results")},
            "approve-all": {"href": ctx.href(f"{base}/approve-all")},
        }
    return out


# --------------------------------------------------------------------------------------------
# listing
# --------------------------------------------------------------------------------------------


def _filters(ctx: Ctx, campaign_id: int, worker_id: int | None = None) -> tuple[dict[str, Any], Any]:
    where: dict[str, Any] = {"_campaign": campaign_id}
    if worker_id is not None:
        where["worker"] = worker_id
    state = ctx.query("state")
    if state:
        if state not in RESULT_STATES:
            raise invalid(f"state: must be one of {', '.join(RESULT_STATES)} (got {state!r})")
        where["state"] = state
    since_raw = ctx.query("since")
    pred = None
    if since_raw:
        since = parse_minute_date(since_raw)
        if since is None:
            raise invalid(f"since: must be a date like '2018-03-14T03:14' (got {since_raw!r})")
        bound = since.strftime(TS_FORMAT)

        def pred(result: dict[str, Any]) -> bool:
            return bool(result["completedAt"] > bound)

    return where, pred


def _results_page(ctx: Ctx, campaign_id: int, worker_id: int | None = None) -> dict[str, Any]:
    limit, after, before = cursor_params(ctx)
    where, pred = _filters(ctx, campaign_id, worker_id)
    page = page_by_id(ctx.store, "result", limit=limit, after=after, before=before, where=where, pred=pred)
    return {"_links": page_links(ctx, page), "results": [render_result(r, ctx) for r in page.items]}


async def list_results(ctx: Ctx) -> Any:
    campaign = ctx.get("campaign", ctx.path_id())
    return _results_page(ctx, campaign["id"])


def _worker_counts(store: Store, campaign_id: int) -> dict[int, Counter[str]]:
    counts: dict[int, Counter[str]] = {}
    for result in store.list(P, "result", where={"_campaign": campaign_id}):
        counts.setdefault(result["worker"], Counter())[result["state"]] += 1
    return counts


def _page_ids(ids: list[int], limit: int, after: int | None, before: int | None) -> Page:
    """Page an ascending id list in memory (cursors compare by id)."""
    if before is not None:
        head = [i for i in ids if i < before]
        window = head[-limit:]
    else:
        window = [i for i in ids if after is None or i > after][:limit]
    return Page(
        window,
        window[-1] if window and window[-1] < ids[-1] else None,
        window[0] if window and window[0] > ids[0] else None,
    )


async def list_workers(ctx: Ctx) -> Any:
    campaign = ctx.get("campaign", ctx.path_id())
    limit, after, before = cursor_params(ctx)
    in_review = ctx.flag("InReview")
    counts = _worker_counts(ctx.store, campaign["id"])
    ids = sorted(w for w, c in counts.items() if not in_review or c["InReview"] > 0)
    page = _page_ids(ids, limit, after, before)
    workers = [render_worker(ctx, ctx.get("worker", w), campaign["id"], counts[w]) for w in page.items]
    return {"_links": page_links(ctx, page), "workers": workers}


async def worker_results(ctx: Ctx) -> Any:
    campaign = ctx.get("campaign", ctx.path_id("campaignId"))
    worker_id = ctx.path_id("workerId")
    counts = _worker_counts(ctx.store, campaign["id"]).get(worker_id)
    if counts is None:
        raise ApiError(404, 4004, "not found", f"worker {worker_id} has no results in campaign {campaign['id']}")
    body = _results_page(ctx, campaign["id"], worker_id)
    body["worker"] = render_worker(ctx, ctx.get("worker", worker_id), campaign["id"], counts)
    return body


async def get_result(ctx: Ctx) -> Any:
    ctx.guessed_route()
    return render_result(ctx.get("result", ctx.path_id()), ctx)


# --------------------------------------------------------------------------------------------
# review
# --------------------------------------------------------------------------------------------


def _check_state(result: dict[str, Any], action: str, allowed: tuple[str, ...]) -> None:
    if result["state"] not in allowed:
        raise illegal_state(
            f"cannot {action} result {result['id']}: its state is '{result['state']}' "
            f"and {action} is only allowed when {' or '.join(allowed)}"
        )


def _campaign_of(ctx: Ctx, result: dict[str, Any]) -> dict[str, Any]:
    return ctx.get("campaign", result["_campaign"])


def _maybe_finish(ctx: Ctx, campaign: dict[str, Any]) -> None:
    if campaign["state"] not in RUNNING or not campaign["_jobs"]:
        return
    approved = Counter(
        r["job"] for r in ctx.store.list(P, "result", where={"_campaign": campaign["id"], "state": "Approved"})
    )
    target = int(campaign.get("results") or 0)
    if all(approved[job] >= target for job in campaign["_jobs"]):
        campaign["state"] = "finished"
        campaign["lastModifiedAt"] = timestamp()
        release_frozen(ctx, campaign)


def approve(ctx: Ctx, campaign: dict[str, Any], result: dict[str, Any], message: str | None) -> None:
    """Pay the worker: the campaign's frozen money first, then available money."""
    _check_state(result, "approve", ("InReview", "SoftRejected"))
    cost = unit_cost(campaign)
    frozen = Decimal(campaign.get("_frozen", "0"))
    from_frozen = min(cost, frozen)
    rest = cost - from_frozen
    balance = get_balance(ctx.store, ctx.settings)
    if rest > balance["available"]:
        raise ApiError(409, 3003, "insufficient balance",
                       f"approving result {result['id']} costs {rest} USD more than is available")
    balance["frozen"] -= from_frozen
    balance["available"] -= rest
    set_balance(ctx.store, balance)
    campaign["_frozen"] = str(frozen - from_frozen)
    campaign["_paid"] = str(Decimal(campaign.get("_paid", "0")) + cost)
    worker = ctx.store.get(P, "worker", result["worker"])
    if worker is not None:
        worker["_earned"] = str(Decimal(worker.get("_earned", "0")) + Decimal(str(campaign["workerPayment"])))
        ctx.store.put(P, "worker", worker["id"], worker)
    result["state"] = "Approved"
    result["_message"] = message
    ctx.store.put(P, "result", result["id"], result)
    _maybe_finish(ctx, campaign)
    ctx.store.put(P, "campaign", campaign["id"], campaign)


def _message(body: dict[str, Any]) -> str | None:
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise invalid("message: must be a string")
    return message


def _reason(body: dict[str, Any]) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise invalid("reason: required, a non-empty string shown to the worker")
    return reason


async def approve_one(ctx: Ctx) -> Any:
    message = _message(await ctx.body_object(optional=True))
    with ctx.store.transaction():
        result = ctx.get("result", ctx.path_id())
        approve(ctx, _campaign_of(ctx, result), result, message)
    return _answer(ctx, result)


async def reject_one(ctx: Ctx) -> Any:
    reason = _reason(await ctx.body_object())
    with ctx.store.transaction():
        result = ctx.get("result", ctx.path_id())
        _check_state(result, "reject", ("InReview", "SoftRejected"))
        campaign = _campaign_of(ctx, result)
        if campaign["state"] not in RUNNING:
            release_frozen(ctx, campaign, unit_cost(campaign))  # no redo will come: free its share
            ctx.store.put(P, "campaign", campaign["id"], campaign)
        result["state"] = "Rejected"
        result["_reason"] = reason
        ctx.store.put(P, "result", result["id"], result)
        worker = ctx.store.get(P, "worker", result["worker"])
        if worker is not None:
            worker["reputation"]["me"] = max(0, worker["reputation"]["me"] - 5)
            ctx.store.put(P, "worker", worker["id"], worker)
    return _answer(ctx, result)


async def soft_reject_one(ctx: Ctx) -> Any:
    body = await ctx.body_object()
    errors = []
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors.append("reason: required, a non-empty string (Markdown) shown to the worker")
    until_raw = body.get("until")
    until = parse_minute_date(until_raw) if isinstance(until_raw, str) else None
    if until_raw is None:
        errors.append("until: required, the date until the worker can redo the job (e.g. 2030-08-02T13:58:24)")
    elif until is None:
        errors.append(f"until: must be a date like 2030-08-02T13:58:24 (got {until_raw!r})")
    elif until <= now():
        errors.append(f"until: must be in the future (got {until_raw})")
    if errors:
        raise invalid(errors)
    with ctx.store.transaction():
        result = ctx.get("result", ctx.path_id())
        _check_state(result, "soft-reject", ("InReview",))
        result.update(state="SoftRejected", _reason=reason, _until=until_raw)
        ctx.store.put(P, "result", result["id"], result)
    return _answer(ctx, result)


def _answer(ctx: Ctx, result: dict[str, Any]) -> Any:
    """What approve / reject / soft-reject answer: the result (a guess), or nothing in docs-only mode."""
    return {} if ctx.docs_only else render_result(result, ctx)


def _approve_all(ctx: Ctx, campaign_id: int, message: str | None, worker_id: int | None = None) -> int:
    campaign = ctx.get("campaign", campaign_id)
    where: dict[str, Any] = {"_campaign": campaign_id, "state": "InReview"}
    if worker_id is not None:
        where["worker"] = worker_id
    results = ctx.store.list(P, "result", where=where)
    for result in results:
        approve(ctx, campaign, result, message)
    return len(results)


async def approve_all_campaign(ctx: Ctx) -> Any:
    message = _message(await ctx.body_object(optional=True))
    with ctx.store.transaction():
        approved = _approve_all(ctx, ctx.path_id("campaignId"), message)
    return {} if ctx.docs_only else {"approved": approved}  # the docs show no reply body


async def approve_all_worker(ctx: Ctx) -> Any:
    message = _message(await ctx.body_object(optional=True))
    campaign_id, worker_id = ctx.path_id("campaignId"), ctx.path_id("workerId")
    with ctx.store.transaction():
        if worker_id not in _worker_counts(ctx.store, ctx.get("campaign", campaign_id)["id"]):
            raise ApiError(404, 4004, "not found", f"worker {worker_id} has no results in campaign {campaign_id}")
        approved = _approve_all(ctx, campaign_id, message, worker_id)
    return {} if ctx.docs_only else {"approved": approved}


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


ROUTES: list[tuple[str, Handler, str]] = [
    ("/_sandbox/submit", sandbox_submit, "POST"),
    ("/campaigns/{id:int}/results", list_results, "GET"),
    ("/campaigns/{id:int}/workers", list_workers, "GET"),
    ("/campaigns/{campaignId:int}/workers/{workerId:int}/results", worker_results, "GET"),
    ("/campaigns/{campaignId:int}/workers/{workerId:int}/approve-all", approve_all_worker, "POST"),
    ("/campaigns/{campaignId:int}/results/approve-all", approve_all_campaign, "POST"),
    ("/results/{id:int}", get_result, "GET"),
    ("/results/{id:int}/approve", approve_one, "POST"),
    ("/results/{id:int}/reject", reject_one, "POST"),
    ("/results/{id:int}/soft-reject", soft_reject_one, "POST"),
]

# --------------------------------------------------------------------------------------------
# simulated workers
# --------------------------------------------------------------------------------------------


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


def simulate_submissions(sandbox: Sandbox, campaign_id: int, count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Add up to ``count`` InReview results to an active campaign; returns them (API shape).

    One result per (worker, job), at most ``results`` non-rejected results per job; jobs are
    served round-robin; an existing worker is reused about half the time, else a new one joins.
    Raises ``ValueError`` for an unknown or non-active campaign or a negative count.
    """
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
