"""SWARMS campaign status, from documented fields only (swarms-api.txt).

State: the campaign's read-only ``state`` (``GET /campaigns/{id}``). Work: every result of
``GET /campaigns/{id}/results`` (InReview -> pending, Approved, Rejected; SoftRejected counts as
pending). Target: ``results`` ("number of results that should be generated for each job of the
campaign") x the jobs of ``GET /campaigns/{id}/jobs``. Money: committed = ``workerPayment`` x
target, spent = ``workerPayment`` x approved results (USD, worker pay; SWARMS documents no fee).
Queue jobs: SWARMS has none (``unknown``).
"""
from __future__ import annotations

from typing import Any

from ...paging import PageGuard
from ...results.status import PlatformStatus, tally


async def _count_jobs(client: Any, remote_id: Any) -> int:
    first = f"/campaigns/{remote_id}/jobs"
    url: str | None = first
    guard = PageGuard(first, redact=client.redact)
    count = 0
    while url:
        body = await client.json("GET", url)
        jobs = body.get("jobs") or []
        guard.items(j.get("id") for j in jobs if isinstance(j, dict))
        count += len(jobs)
        href = ((body.get("_links") or {}).get("next") or {}).get("href")
        url = client.follow(href) if href else None
        if url:
            guard.follow(url, f"the next link {url}")
    return count


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


async def read_status(reviewer: Any) -> PlatformStatus:
    client = reviewer.client
    campaign = await client.json("GET", f"/campaigns/{reviewer.remote_id}")
    submitted, approved, rejected, pending = await tally(reviewer)
    per_job = _number(campaign.get("results"))
    payment = _number(campaign.get("workerPayment"))
    jobs = await _count_jobs(client, reviewer.remote_id)
    target = int(per_job) * jobs if per_job is not None else None
    notes = ["money is worker pay (workerPayment); SWARMS documents no fee"] if payment is not None else []
    return PlatformStatus(
        state=str(campaign["state"]) if campaign.get("state") else None,
        target=target, submitted=submitted, approved=approved, rejected=rejected, pending=pending,
        committed=payment * target if payment is not None and target is not None else None,
        spent=payment * approved if payment is not None else None,
        queue_jobs=None, notes=notes,
    )
