"""Microworkers v1 sandbox: submitted tasks (listing, rating, results CSV) and the employer exclude list.

Rating rules (``rate_tasks`` page, exactly): per-task results in ``tasks`` with ``success: true`` or
``errors: [...]``; ``comment IS MANDATORY`` for NOK/REVISE without comment; ``Bonus you entered is
outside allowed values`` outside payment x 0.1 .. x 2; ``Your account balance is too low to add bonus``;
``id_task IS NOT UNIQUE`` for a repeated id in one request (the first occurrence is processed).
Guesses: per-task ``TASK NOT IN THIS CAMPAIGN``, ``ONLY NOTRATED TASK CAN BE RATED`` and
``TASK RATING VALUE CAN ONLY BE OK OR NOK`` (the rate_task page's strings; REVISE is accepted too),
``Bonus can only be added to OK rated task``, ``favorite value can only be add or remove``; whole-request
``INPUT DATA`` when ``id_task[]`` is empty or an id has no ``rating[]``. See :mod:`.api` for the rest.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from starlette.responses import Response

from ..core import Sandbox
from . import core
from . import data as D
from .core import Params, fail, find_campaign, no_such_campaign, ok

P = D.PLATFORM


# -- listing -----------------------------------------------------------------------------------
def _page_args(params: Params, maximum: int, errors: list[str]) -> tuple[int, int]:
    page, per_page = 1, maximum
    if params.scalar("page"):
        value = core.to_int(params.scalar("page"))
        if value is None or value < 1:
            errors.append("Page has invalid value")
        else:
            page = value
    if params.scalar("entries_per_page"):
        value = core.to_int(params.scalar("entries_per_page"))
        if value is None or not 1 <= value <= maximum:
            errors.append("Entries per page has invalid value")
        else:
            per_page = value
    return page, per_page


async def _list(sb: Sandbox, kind: str, cid: str, params: Params, extend: bool) -> Response:
    c = find_campaign(sb, kind, cid)
    if c is None:
        return no_such_campaign(cid)
    errors: list[str] = []
    page, per_page = _page_args(params, D.LIST_TASKS_EXTEND_MAX if extend else D.LIST_TASKS_MAX, errors)
    rows = core.campaign_tasks(sb, c)
    rating = params.scalar("rating")
    if rating:
        if rating not in D.TASK_RATINGS:
            errors.append("Rating has invalid value")
        rows = [t for t in rows if t["rating"] == rating]
    if extend:
        for edge, word in (("from", "From"), ("to", "To")):
            text = params.scalar(f"finished_{edge}")
            if not text:
                continue
            ts = core.parse_dt(text)
            if ts is None:
                errors.append(f"Finished {word} is invalid datetime")
            elif edge == "from":
                rows = [t for t in rows if t["finished"] >= ts]
            else:
                rows = [t for t in rows if t["finished"] <= ts]
        worker = params.scalar("worker_id")
        if worker:
            rows = [t for t in rows if t["worker_id"] == worker]
    if errors:
        return fail(D.INPUT_DATA, campaign_id=cid, after={"errors_list": errors})
    total = len(rows)
    chunk = rows[(page - 1) * per_page : page * per_page]
    pager = {
        "page": page,
        "entries_per_page": per_page,
        "total_entries": total,
        "total_pages": max(1, math.ceil(total / per_page)),
    }
    return ok(campaign_id=cid, tasks=[core.task_record(t, extend) for t in chunk], pager=pager)


async def list_tasks(sb: Sandbox, kind: str, cid: str, params: Params) -> Response:
    return await _list(sb, kind, cid, params, extend=False)


async def list_tasks_extend(sb: Sandbox, kind: str, cid: str, params: Params) -> Response:
    return await _list(sb, kind, cid, params, extend=True)


def _task_of_kind(sb: Sandbox, kind: str, task_id: str) -> dict[str, Any] | None:
    tid = core.to_int(task_id)
    task = sb.store.get(P, "task", tid) if tid is not None else None
    if task is None:
        return None
    campaign = sb.store.get(P, "campaign", task["campaign_row"])
    return task if campaign is not None and campaign["type"] == kind else None


async def get_task_info(sb: Sandbox, kind: str, task_id: str, params: Params) -> Response:
    task = _task_of_kind(sb, kind, task_id)
    if task is None:
        return fail(D.NO_SUCH_TASK, 404, task_id=task_id)
    return ok(**core.task_record(task))


async def get_worker_tasks(sb: Sandbox, kind: str, ident: str, params: Params) -> Response:
    cid, _, worker = ident.partition("_")
    c = find_campaign(sb, kind, cid)
    if c is None:
        return fail(D.NO_SUCH_CAMPAIGN, 404, campaign_id=cid, worker_id=worker)
    rows = [core.task_record(t) for t in core.campaign_tasks(sb, c) if t["worker_id"] == worker]
    if not rows:
        return fail(D.NO_TASKS, campaign_id=cid, worker_id=worker)
    return ok(count=len(rows), tasks=rows)


async def results_csv(sb: Sandbox, kind: str, cid: str, params: Params) -> Response:
    c = find_campaign(sb, kind, cid)
    if c is None:
        return no_such_campaign(cid)
    n_proofs = len(c["required_proof"]) if isinstance(c["required_proof"], list) else 1
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(
        [
            "task_id",
            "worker_id",
            "started_datetime",
            "finished_datetime",
            "rating",
            "rated_datetime",
            "employer_comment",
            "payment_worker_earned",
            "bonus_worker_earned",
            "file_proof",
        ]
        + [f"proof_{i + 1}" for i in range(n_proofs)]
    )
    for t in core.campaign_tasks(sb, c):
        rec = core.task_record(t)
        writer.writerow(
            [
                rec["task_id"],
                rec["worker_id"],
                rec["started_datetime"],
                rec["finished_datetime"],
                rec["rating"],
                rec["rated_datetime"],
                rec["employer_comment"],
                rec["payment_worker_earned"],
                rec["bonus_worker_earned"],
                ";".join(t.get("files", [])),
            ]
            + [(t["proofs"] + [""] * n_proofs)[i] for i in range(n_proofs)]
        )
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="results_{cid}.csv"'},
    )


# -- rating ------------------------------------------------------------------------------------
def _check_rating(
    sb: Sandbox,
    c: dict[str, Any],
    task: dict[str, Any] | None,
    rating: str,
    comment: str,
    bonus_text: str,
    favorite: str,
) -> tuple[list[str], float]:
    """Problems with rating ``task``; also the bonus it would cost."""
    if task is None or task["campaign_row"] != c["id"]:
        return ["TASK NOT IN THIS CAMPAIGN"], 0.0
    if task["rating"] != "NOTRATED":
        return ["ONLY NOTRATED TASK CAN BE RATED"], 0.0
    errors: list[str] = []
    if rating not in D.RATINGS:
        errors.append("TASK RATING VALUE CAN ONLY BE OK OR NOK")
    if rating in ("NOK", "REVISE") and not comment.strip():
        errors.append("comment IS MANDATORY")
    bonus = 0.0
    if bonus_text.strip():
        value = core.to_float(bonus_text)
        ppt = c["payment_per_task"]
        if value is None:
            errors.append("Bonus you entered is outside allowed values")
        elif value != 0:
            if not ppt * 0.1 - 1e-9 <= value <= ppt * 2 + 1e-9:
                errors.append("Bonus you entered is outside allowed values")
            elif rating != "OK":
                errors.append("Bonus can only be added to OK rated task")
            elif core.balance(sb) < value - 1e-9:
                errors.append("Your account balance is too low to add bonus")
            else:
                bonus = value
    if favorite and favorite not in ("add", "remove"):
        errors.append("favorite value can only be add or remove")
    return errors, bonus


def _apply_rating(sb: Sandbox, task: dict[str, Any], rating: str, comment: str, bonus: float, favorite: str) -> None:
    task.update(rating=rating, comment=comment, rated=core.now(sb))
    if bonus:
        task["bonus"] = round(task.get("bonus", 0.0) + bonus, 5)
        core.set_balance(sb, core.balance(sb) - bonus)
    sb.store.put(P, "task", task["id"], task)
    if favorite:
        favs = set(sb.store.kv_get(P, "favorites", []))
        favs = favs | {task["worker_id"]} if favorite == "add" else favs - {task["worker_id"]}
        sb.store.kv_set(P, "favorites", sorted(favs))


def _lookup_task(sb: Sandbox, task_id: str) -> dict[str, Any] | None:
    tid = core.to_int(task_id)
    return sb.store.get(P, "task", tid) if tid is not None else None


async def rate_task(sb: Sandbox, kind: str, cid: str, params: Params) -> Response:
    task_id = params.scalar("id_task") or ""
    rating = params.scalar("rating") or ""
    comment = params.scalar("comment") or ""
    favorite = params.scalar("favorite") or ""
    with sb.store.transaction():
        c = find_campaign(sb, kind, cid)
        if c is None:
            return fail(D.NO_SUCH_CAMPAIGN, 404)
        if core.take_fault(sb, "rate_task"):
            return fail(D.SYSTEM_ERROR, 500)
        if c["status"] in ("PAUSED_ADMIN", "PENDING_REVIEW"):
            return fail(f"CAMPAIGN IS {c['status']}")
        task = _lookup_task(sb, task_id)
        errors, bonus = _check_rating(sb, c, task, rating, comment, params.scalar("bonus") or "", favorite)
        if errors:
            message = errors[0]
            if message == "comment IS MANDATORY":
                message = "COMMENT TO WORKER MISSING"  # the rate_task page's string
            return fail(message)
        assert task is not None
        _apply_rating(sb, task, rating, comment, bonus, favorite)
    return ok(campaign_id=cid, task_id=str(task["id"]))


async def rate_tasks(sb: Sandbox, kind: str, cid: str, params: Params) -> Response:
    ids = params.array("id_task")
    ratings = params.array("rating")
    comments = params.array("comment")
    bonuses = params.array("bonus")
    favorites = params.array("favorite")
    with sb.store.transaction():
        c = find_campaign(sb, kind, cid)
        if c is None:
            return no_such_campaign(cid)
        if core.take_fault(sb, "rate_tasks"):
            return fail(D.SYSTEM_ERROR, 500, campaign_id=cid)
        if not ids or any(key not in ratings for key in ids):
            return fail(D.INPUT_DATA_SPACE, campaign_id=cid)
        results: list[dict[str, Any]] = []
        seen: set[str] = set()
        for key, task_id in ids.items():
            rating = ratings[key]
            comment = comments.get(key, "")
            bonus_text = bonuses.get(key, "")
            favorite = favorites.get(key, "")
            item: dict[str, Any] = {"id_task": task_id, "rating": rating}
            if bonus_text.strip():
                item["bonus"] = core.echo_number(bonus_text)
            item["comment"] = comment
            if task_id in seen:
                item["errors"] = ["id_task IS NOT UNIQUE"]
                results.append(item)
                continue
            seen.add(task_id)
            task = _lookup_task(sb, task_id)
            errors, bonus = _check_rating(sb, c, task, rating, comment, bonus_text, favorite)
            if errors:
                item["errors"] = errors
            else:
                assert task is not None
                _apply_rating(sb, task, rating, comment, bonus, favorite)
                item["success"] = True
            results.append(item)
    return ok(campaign_id=cid, tasks=results)


# -- employer exclude list ---------------------------------------------------------------------
async def exclude_list(sb: Sandbox, method: str, params: Params) -> Response:
    if method == "GET":
        return ok(workers=[core.worker_profile(w) for w in core.excluded(sb)])
    workers = [w.strip() for w in params.array("worker").values() if w.strip()]
    with sb.store.transaction():
        current = core.excluded(sb)
        if method == "POST":
            added = [w for w in dict.fromkeys(workers) if w not in current and w.lower() != "all"]
            if not added:
                return fail("No workers were added to exclude list")
            sb.store.kv_set(P, "exclude_list", current + added)
            return ok(message=f"{len(added)} workers have been added")
        if any(w.lower() == "all" for w in workers):
            removed = list(current)
        else:
            removed = [w for w in current if w in set(workers)]
        if not removed:
            return fail("workers were not found in exclude list")
        sb.store.kv_set(P, "exclude_list", [w for w in current if w not in set(removed)])
    return ok(message=f"{len(removed)} workers have been removed")


__all__ = [
    "exclude_list",
    "get_task_info",
    "get_worker_tasks",
    "list_tasks",
    "list_tasks_extend",
    "rate_task",
    "rate_tasks",
    "results_csv",
]
