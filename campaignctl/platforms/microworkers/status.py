"""Microworkers API v2 campaign status, from the documented BasicCampaignInfoResponse
(``GET /<type>-campaigns/{id}``, microworkers-v2-get-basic-campaign.txt).

State: ``status``. Work: ``slotsCount`` (ok -> approved, nok -> rejected; notRated, notReviewed,
revise and reviseAdmin -> pending). Target: ``availablePositions``. Money: committed =
``estimateCost`` ("Estimated campaign cost"), spent = ``paymentPerTask`` ("what a worker earns for a
Satisfied Task") x ok slots, i.e. worker pay without Microworkers' fee. Queue jobs: the
``jobQueues`` entries whose status is Pending or Uploading.
"""
from __future__ import annotations

from typing import Any

from ...results.status import PlatformStatus

COLLECTION = {"basic": "basic-campaigns", "hire-group": "hire-group-campaigns"}
PENDING_SLOTS = ("notRated", "notReviewed", "revise", "reviseAdmin")
RUNNING_JOBS = ("Pending", "Uploading")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


async def read_status(reviewer: Any) -> PlatformStatus:
    collection = COLLECTION.get(reviewer.ref.doc.spec.get("type", "basic"), "basic-campaigns")
    info = await reviewer.client.json("GET", f"/{collection}/{reviewer.remote_id}")
    slots = info.get("slotsCount") if isinstance(info.get("slotsCount"), dict) else None
    approved = rejected = pending = submitted = None
    if slots is not None:
        counts = {k: _int(slots.get(k)) for k in ("ok", "nok", *PENDING_SLOTS)}
        if all(v is not None for v in counts.values()):
            approved, rejected = counts["ok"], counts["nok"]
            pending = sum(counts[k] or 0 for k in PENDING_SLOTS)
            submitted = (approved or 0) + (rejected or 0) + pending
    payment = _float(info.get("paymentPerTask"))
    queues = info.get("jobQueues")
    queue_jobs = None
    if isinstance(queues, dict):
        queue_jobs = sum(
            1 for job in queues.values() if isinstance(job, dict) and job.get("status") in RUNNING_JOBS
        )
    return PlatformStatus(
        state=str(info["status"]) if info.get("status") else None,
        target=_int(info.get("availablePositions")),
        submitted=submitted, approved=approved, rejected=rejected, pending=pending,
        committed=_float(info.get("estimateCost")),
        spent=payment * approved if payment is not None and approved is not None else None,
        queue_jobs=queue_jobs,
        notes=["committed is estimateCost; spent is paymentPerTask x OK slots (worker pay, without the fee)"],
    )
