"""Queue jobs of the Microworkers API v2 sandbox: restart, tasks-groups, and their progression.

A job is created by ``POST .../restart`` or ``POST .../tasks-groups`` (202 + ``queue-job-id``).
Its rows are validated when it is created; the money is charged then too (only when every row is
valid). ``GET /queue-jobs/{id}`` answers ``Pending`` on the first poll and ``Uploading`` on the
following ones, ``queue_job_polls`` (:mod:`.settings`) polls in all, then the final status: ``Uploaded``
(the rows and positions are applied at that moment), ``Validation_Error`` (bad rows; nothing
applied, nothing charged) or ``Upload_Error`` (a row id was taken by another job meanwhile; the
charge is refunded). With ``queue_job_polls = 0`` a job is final as soon as it is created.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .model import (
    CAMPAIGN_IDS,
    JOB_IDS,
    P,
    charge,
    cost,
    existing_row_ids,
    gen_row_ids,
    insert_rows,
    new_job,
    refresh,
    refund,
    save,
    status_of,
    untaken,
)
from .rules import ApiError, Checker, check_rows, not_found, rows_list
from .settings import PlatformSettings

if TYPE_CHECKING:
    from ..core import Sandbox

FINAL = ("Uploaded", "Validation_Error", "Upload_Error")


def _row_line(e: dict[str, Any]) -> str:
    ident = f" (id {e['id']!r})" if e.get("id") else ""
    return f"{e['field']}{ident}: {e['message']}"


def _start(
    sb: Sandbox, doc: dict[str, Any], kind: str, raw: list[Any], positions: int,
) -> dict[str, Any]:
    """Validate rows, charge if valid, store the job; finalise at once when no polls are configured."""
    existing = existing_row_ids(sb, doc["id"]) if raw else set()
    rows, errors = check_rows(raw, doc["variables"], {q["id"] for q in doc["questions"]}, existing)
    charged = Decimal(0)
    if not errors:
        charged = cost(doc["paymentPerTask"], positions)
        if charged:
            charge(sb, charged)
        if kind == "restartCampaignJob":
            doc["state"] = "PENDING_RESTART"
    seq = sb.store.next_id(P, "rowsalt")
    gen_row_ids(rows, f"{doc['id']}:{seq}", existing)
    job = new_job(sb, doc, kind, rows, errors, positions, charged)
    if sb.settings.of(PlatformSettings).queue_job_polls <= 0:
        _finish(sb, job, doc)
        sb.store.put(P, "queuejob", job["id"], job)
    save(sb, doc)
    return job


def _finish(sb: Sandbox, job: dict[str, Any], doc: dict[str, Any]) -> None:
    """Move a job to its final status and apply it to the campaign ``doc`` (both saved by the caller)."""
    restart = job["type"] == "restartCampaignJob"
    if job["errors"]:
        job["status"] = "Validation_Error"
        job["output"] = "\n".join(_row_line(e) for e in job["errors"])
    else:
        existing = existing_row_ids(sb, doc["id"]) if job["rows"] else set()
        clashes = [{"index": i, "id": r["id"], "field": f"tasks[{i}].id",
                    "message": f"Task ID {r['id']!r} already exists in this campaign."}
                   for i, r in enumerate(job["rows"]) if r["id"] in existing]
        if clashes:
            job["status"], job["errors"] = "Upload_Error", clashes
            job["output"] = "\n".join(_row_line(e) for e in clashes)
            refund(sb, Decimal(job["charged"]))
        else:
            insert_rows(sb, doc, job["rows"])
            doc["availablePositions"] += job["positions"]
            job["status"] = "Uploaded"
            job["output"] = f"{len(job['rows'])} tasks uploaded, {job['positions']} positions added."
            if restart:
                doc["state"], doc["finishedTs"] = "RUNNING", None
    if restart and doc["state"] == "PENDING_RESTART":
        doc["state"] = "FINISHED"
    job["rows"] = []


def restart(sb: Sandbox, doc: dict[str, Any], body: Any) -> dict[str, Any]:
    c = Checker()
    if (b := c.obj(body, "body")) is None:
        c.done()
        raise AssertionError
    c.unknown(b, {"positionsToAdd", "tasks"})
    add = c.integer(b.get("positionsToAdd"), "positionsToAdd", 0)
    c.done()
    assert add is not None
    refresh(doc)
    status = status_of(doc)
    if status != "FINISHED":
        raise ApiError(400, "CampaignIsNotFinished", f"Only a finished campaign can be restarted (status {status}).")
    if add == 0 and untaken(doc) == 0:
        c.add("positionsToAdd", "The campaign has no untaken positions: positionsToAdd must be greater than 0.")
    raw: list[Any] = []
    if doc["uniqueTasks"] and add > 0:
        raw = rows_list(c, b.get("tasks")) or []
        sub, same = doc["subTasks"], doc["workersPerPosition"]
        if add % same:
            c.add("positionsToAdd", f"Must be a multiple of numberOfWorkerOnSamePosition ({same}).")
        elif raw and len(raw) != add // same * sub:
            c.add("tasks", f"Must hold {add // same * sub} task rows for {add} positions "
                           f"(numberOfSubTasks {sub}, numberOfWorkerOnSamePosition {same}); got {len(raw)}.")
    elif b.get("tasks") is not None:
        c.add("tasks", "Must be omitted unless positions are added to a campaign with unique tasks.")
    c.done()
    return _start(sb, doc, "restartCampaignJob", raw, add)


def add_tasks_groups(sb: Sandbox, doc: dict[str, Any], body: Any) -> dict[str, Any]:
    c = Checker()
    if (b := c.obj(body, "body")) is None:
        c.done()
        raise AssertionError
    c.unknown(b, {"tasks"})
    raw = rows_list(c, b.get("tasks")) or []
    if not doc["uniqueTasks"]:
        c.add("tasks", "The campaign does not use unique tasks: add positions with restart instead.")
    sub, same = doc["subTasks"], doc["workersPerPosition"]
    if raw and len(raw) % sub:
        c.add("tasks", f"The number of task rows must be a multiple of numberOfSubTasks ({sub}).")
    c.done()
    refresh(doc)
    status = status_of(doc)
    if status not in ("PENDING_REVIEW", "RUNNING", "PAUSED"):
        raise ApiError(400, "CampaignIsNotRunning",
                       f"Tasks can only be added to a running or paused campaign; restart a finished one "
                       f"(status {status}).")
    return _start(sb, doc, "addPositionJob", raw, len(raw) // sub * same)


def load_job(sb: Sandbox, ident: str) -> dict[str, Any]:
    n = JOB_IDS.decode(ident)
    job = sb.store.get(P, "queuejob", n) if n else None
    if job is None:
        raise not_found("Queue job", ident)
    return job


def poll(sb: Sandbox, job: dict[str, Any]) -> dict[str, Any]:
    """One ``GET /queue-jobs/{id}``: advance the job (and apply it when it becomes final)."""
    if job["status"] in FINAL:
        return job
    job["polls"] += 1
    if job["polls"] > sb.settings.of(PlatformSettings).queue_job_polls:
        doc = sb.store.get(P, "campaign", job["campaign"])
        assert doc is not None
        _finish(sb, job, doc)
        save(sb, doc)
    else:
        job["status"] = "Pending" if job["polls"] == 1 else "Uploading"
    return sb.store.put(P, "queuejob", job["id"], job)


def advance_campaign_jobs(sb: Sandbox, doc: dict[str, Any]) -> dict[str, Any]:
    """``GET`` of a campaign in docs-only mode: each of its queue jobs not yet final advances as
    one poll would (**decision**: the platform works on a job whether or not anyone polls it; a
    client that lost the ``queue-job-id`` of its call, with no job id in ``jobQueues`` in that
    mode, sees the job end there). Otherwise jobs advance only when polled. Returns the campaign
    as it is now."""
    if not sb.settings.docs_only:
        return doc
    for job_id in list(doc["jobQueues"].values()):
        job = sb.store.get(P, "queuejob", job_id) if job_id else None
        if job is not None and job["status"] not in FINAL:
            poll(sb, job)
    fresh = sb.store.get(P, "campaign", doc["id"])
    assert fresh is not None
    return fresh


def render_job(sb: Sandbox, job: dict[str, Any]) -> dict[str, Any]:
    out = {"id": JOB_IDS.encode(job["id"]), "status": job["status"], "output": job["output"]}
    if sb.settings.docs_only:
        return out
    return {**out, "errors": job["errors"] if job["status"] in ("Validation_Error", "Upload_Error") else [],
            "type": job["type"], "campaignId": CAMPAIGN_IDS.encode(job["campaign"])}  # guess v2.queueJob.extra
