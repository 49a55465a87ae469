"""Microworkers legacy API v1 campaign status.

State: ``campaign_status`` of ``<prefix>/get_info/<id>``. Work: every task of
``list_tasks_extend`` (rating OK -> approved, NOK -> rejected, the rest pending). Target:
``available_positions``. Money: spent = the tasks' ``payment_worker_earned`` + ``bonus_worker_earned``;
committed = ``payment_per_task`` x ``available_positions`` (worker pay; v1 documents no cost field,
so Microworkers' fee is not included). Queue jobs: v1 has none (``unknown``).
"""
from __future__ import annotations

from typing import Any

from ...results.status import PlatformStatus


def _number(value: Any) -> float | None:
    try:
        return float(str(value).strip())
    except ValueError:
        return None


async def read_status(reviewer: Any) -> PlatformStatus:
    info = await reviewer.provider.call("GET", f"{reviewer.prefix}/get_info/{reviewer.remote_id}") or {}
    submitted = approved = rejected = 0
    spent = 0.0
    async for sub in reviewer.submissions():
        submitted += 1
        approved += sub.rating == "OK"
        rejected += sub.rating == "NOK"
        for key in ("payment", "bonus"):
            value = sub.fields.get(key)
            if value is not None:
                spent += value
    positions = _number(info.get("available_positions"))
    payment = _number(info.get("payment_per_task"))
    return PlatformStatus(
        state=str(info["campaign_status"]) if info.get("campaign_status") else None,
        target=int(positions) if positions is not None else None,
        submitted=submitted, approved=approved, rejected=rejected, pending=submitted - approved - rejected,
        committed=payment * positions if payment is not None and positions is not None else None,
        spent=spent,
        queue_jobs=None,
        notes=["committed is payment_per_task x available_positions (worker pay, without the fee)"],
    )
