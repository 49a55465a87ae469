"""SWARMS sandbox: results, workers and review (approve / reject / soft-reject).

Part of :mod:`campaignctl.sandbox.swarms.api` (whose docstring lists the error codes and guesses).
Results are documents of kind ``"result"`` carrying the documented fields plus internal
``_campaign``, ``_message``, ``_reason`` and ``_until``; workers are documents of kind ``"worker"``.

Guesses specific to results (the docs are silent):

* ``GET /results/{id}`` exists (so HAL ``self`` links resolve). Approve takes an optional
  ``{message}`` (``null`` or no body: none); approve/reject/soft-reject answer the result object;
  the approve-all endpoints answer ``{"approved": <n>}``. None of these in docs-only mode (see
  :mod:`.guesses`): no such route, no ``self`` link, ``{}`` answers.
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

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .account import get_balance, release_frozen, set_balance, unit_cost
from .common import (
    RUNNING,
    TS_FORMAT,
    ApiError,
    P,
    illegal_state,
    invalid,
    now,
    parse_minute_date,
    timestamp,
)
from .context import Ctx, Handler
from .paging import Page, cursor_params, page_by_id, page_links
from .render import render_result
from .submit import sandbox_submit

if TYPE_CHECKING:
    from ..store import Store

RESULT_STATES = ("InReview", "Approved", "Rejected", "SoftRejected")
COUNTED = {"InReview": "inReview", "Approved": "approved", "Rejected": "rejected"}

# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------


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
