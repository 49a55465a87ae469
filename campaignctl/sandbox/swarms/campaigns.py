"""SWARMS sandbox: a job's tasks, a campaign's jobs, and the campaign lifecycle (publish, pause, ...)."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass
from .account import campaign_budget, refreeze, unit_cost
from .common import RUNNING, ApiError, P, illegal_state, invalid, timestamp
from .context import Ctx, Handler
from .crud import touch
from .paging import cursor_params, page_links, page_positions
from .render import CAMPAIGN_ACTIONS, render_campaign, render_job, render_task
from .validation import check_linkable, parse_id_list

# --------------------------------------------------------------------------------------------
# job tasks and campaign jobs
# --------------------------------------------------------------------------------------------


async def get_job_tasks(ctx: Ctx) -> Any:
    job = ctx.get("job", ctx.path_id())
    limit, after, before = cursor_params(ctx)
    page = page_positions(job["_tasks"], limit=limit, after=after, before=before)
    ctx.load_tasks(page.items)
    tasks = [ctx.task(i) for i in page.items]
    return {"_links": page_links(ctx, page), "tasks": [render_task(ctx, t) for t in tasks if t]}


async def put_job_tasks(ctx: Ctx) -> Any:
    ids = parse_id_list(await ctx.body(), "task")
    with ctx.store.transaction():
        job = ctx.get("job", ctx.path_id())
        ctx.relation_writable("job", job)
        check_linkable(ctx, "task", ids)
        job["_tasks"] = ids
        ctx.store.put(P, "job", job["id"], touch(job))
    return {}


async def get_campaign_jobs(ctx: Ctx) -> Any:
    campaign = ctx.get("campaign", ctx.path_id())
    limit, after, before = cursor_params(ctx)
    page = page_positions(campaign["_jobs"], limit=limit, after=after, before=before)
    found = ctx.store.get_many(P, "job", page.items)
    jobs = [found.get(i) for i in page.items]
    ctx.task_sizes([t for j in jobs if j for t in j["_tasks"]])
    return {"_links": page_links(ctx, page), "jobs": [render_job(ctx, j) for j in jobs if j]}


def _set_campaign_jobs(ctx: Ctx, campaign: dict[str, Any], ids: list[int]) -> None:
    if campaign["state"] not in ("unpublished", *RUNNING):
        raise illegal_state(
            f"cannot change the jobs of campaign {campaign['id']} in state '{campaign['state']}'; "
            "jobs can be changed while unpublished" + ("" if ctx.knobs.strict_readonly else ", active or paused")
        )
    ctx.relation_writable("campaign", campaign)
    check_linkable(ctx, "job", ids)
    if campaign["state"] in RUNNING:
        added = [i for i in ids if i not in campaign["_jobs"]]
        _check_jobs_have_tasks(ctx, added)
        refreeze(ctx, campaign, campaign_budget(campaign, len(ids)) - Decimal(campaign.get("_paid", "0")))
    campaign["_jobs"] = ids
    ctx.store.put(P, "campaign", campaign["id"], touch(campaign))


async def post_campaign_jobs(ctx: Ctx) -> Any:
    ids = parse_id_list(await ctx.body(), "job")
    with ctx.store.transaction():
        campaign = ctx.get("campaign", ctx.path_id())
        merged = list(campaign["_jobs"])
        merged += [i for i in dict.fromkeys(ids) if i not in merged]
        _set_campaign_jobs(ctx, campaign, merged)
    return {}


async def put_campaign_jobs(ctx: Ctx) -> Any:
    ids = parse_id_list(await ctx.body(), "job")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise invalid(f"body: job ids must be unique in a campaign (repeated: {', '.join(map(str, duplicates))})")
    with ctx.store.transaction():
        _set_campaign_jobs(ctx, ctx.get("campaign", ctx.path_id()), ids)
    return {}


# --------------------------------------------------------------------------------------------
# campaign lifecycle
# --------------------------------------------------------------------------------------------


def not_ready(campaign: dict[str, Any], why: str) -> ApiError:
    return ApiError(409, 3004, "campaign not ready to publish", f"campaign {campaign['id']} cannot be published: {why}")


def _check_jobs_have_tasks(ctx: Ctx, job_ids: Iterable[int], campaign: dict[str, Any] | None = None) -> None:
    problems = []
    for job_id in job_ids:
        job = ctx.store.get(P, "job", job_id)
        if job is None:
            continue
        if job["archived"]:
            problems.append(f"job {job_id} is archived")
        if not job["_tasks"]:
            problems.append(f"job {job_id} has no tasks")
        problems += [f"task {t} of job {job_id} is archived" for t in dict.fromkeys(job["_tasks"])
                     if (ctx.task(t) or {}).get("archived")]
    if problems:
        raise ApiError(409, 3004, "campaign not ready to publish", "; ".join(problems))


def publish(ctx: Ctx, campaign: dict[str, Any]) -> None:
    if campaign["archived"]:
        raise not_ready(campaign, "it is archived")
    missing = [f for f in ("title", "workerPayment", "results") if campaign.get(f) in (None, "")]
    if missing:
        raise not_ready(campaign, f"missing {', '.join(missing)}")
    if not campaign["_jobs"]:
        raise not_ready(campaign, "it has no jobs")
    _check_jobs_have_tasks(ctx, campaign["_jobs"])
    refreeze(ctx, campaign, campaign_budget(campaign, len(campaign["_jobs"])))
    campaign["_paid"] = "0"
    campaign["_publishedAt"] = timestamp()


def pending_results(ctx: Ctx, campaign_id: int) -> int:
    return sum(
        len(ctx.store.list(P, "result", where={"_campaign": campaign_id, "state": state}))
        for state in ("InReview", "SoftRejected")
    )


def lifecycle(action: str) -> Handler:
    states, target = CAMPAIGN_ACTIONS[action]

    async def handler(ctx: Ctx) -> Any:
        with ctx.store.transaction():
            campaign = ctx.get("campaign", ctx.path_id())
            if campaign["state"] not in states:
                raise illegal_state(
                    f"cannot {action} campaign {campaign['id']}: its state is '{campaign['state']}' "
                    f"and {action} is only allowed when {' or '.join(states)}"
                )
            if action == "publish":
                publish(ctx, campaign)
            elif action == "cancel":  # keep what results under review may still cost, unfreeze the rest
                keep = unit_cost(campaign) * pending_results(ctx, campaign["id"])
                refreeze(ctx, campaign, min(keep, Decimal(campaign.get("_frozen", "0"))))
            campaign["state"] = target
            ctx.store.put(P, "campaign", campaign["id"], touch(campaign))
        return {} if ctx.docs_only else render_campaign(ctx, campaign)  # the docs show no reply body

    return handler
