"""Microworkers API v2 slots: ``GET /<type>-campaigns/{id}/slots`` (paged by ``nextPageToken``) and
``PUT /slots/{id}/rate {rating, comment, bonus}`` (one call per slot; v2 has no batch, so the calls
run concurrently). A slot waits for a rating while its status is ``NOTRATED``.

Export columns: ``task_ids``, ``proof``, ``rated``, ``comment``, ``bonus``, ``auto_rated``, then one
per template question by its name (``loads``, ``product``...); each answer is the list the
platform gives (CSV joins it with ``; ``); a question answered for several task rows of one slot
gets ``#2``, ``#3``...
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ..paging import PageGuard
from .common import (
    Progress,
    Reviewer,
    Submission,
    iso_utc,
    occurrence_names,
    platform_time,
)
from .ratings import RatingRow

STATES = {"NOTRATED": "", "OK": "OK", "NOK": "NOK", "REVISE": "REVISE"}
COLLECTION = {"basic": "basic-campaigns", "hire-group": "hire-group-campaigns"}


class MicroworkersReviewer(Reviewer):
    platform = "Microworkers"
    states = STATES
    columns = ("task_ids", "proof", "rated", "comment", "bonus", "auto_rated")

    def payment(self) -> Decimal | None:
        try:
            return Decimal(str(self.ref.doc.spec["paymentPerTask"]))
        except (KeyError, InvalidOperation):
            return None

    def to_submission(self, slot: dict[str, Any]) -> Submission:
        answers = slot.get("answers") or []
        names = occurrence_names([str(a.get("name") or a.get("questionId")) for a in answers])
        status = str(slot.get("status"))
        return Submission(
            id=str(slot["id"]), worker=str(slot.get("workerId")), state=status,
            rating=STATES.get(status, status),  # NOTREVIEWED (Microworkers staff first), REVISE_ADMIN: not ours to rate
            started=platform_time(slot.get("locked")), submitted=platform_time(slot.get("submitted")),
            fields={
                "task_ids": list(slot.get("taskIds") or []), "proof": slot.get("proof"),
                "rated": iso_utc(platform_time(slot.get("rated"))), "comment": slot.get("comment") or "",
                "bonus": slot.get("bonus"), "auto_rated": slot.get("autoRated"),
            },
            answers={name: list(a.get("answers") or []) for name, a in zip(names, answers, strict=True)},
        )

    async def submissions(self, since: datetime | None = None, progress: Progress | None = None) -> AsyncIterator[Submission]:
        path = f"/{COLLECTION.get(self.ref.doc.spec.get('type', 'basic'), 'basic-campaigns')}/{self.remote_id}/slots"
        token: str | None = None
        count = pages = 0
        guard = PageGuard(path, redact=self.client.redact)  # a token that comes back, endless pages
        while True:
            query: dict[str, Any] = {"pageSize": min(self.provider.page_size, 100)}
            if token:
                query["nextPageToken"] = token
            body = await self.client.json("GET", path, params=query)
            pages += 1
            slots = body.get("items") or []
            guard.items(slot.get("id") for slot in slots if isinstance(slot, dict))
            for slot in slots:
                if slot.get("submitted") is None:
                    continue  # locked, not submitted yet
                count += 1
                yield self.to_submission(slot)
            if progress:
                progress(count, pages)
            token = body.get("nextPageToken")
            if not token:
                return
            guard.follow(str(token), f"nextPageToken {token!r}")

    async def rate_one(self, row: RatingRow) -> None:
        body: dict[str, Any] = {"rating": row.rating, "comment": row.comment}
        if row.bonus:
            body["bonus"] = float(row.bonus)
        await self.client.request("PUT", f"/slots/{row.id}/rate", json=body)

    def simulate(self, sandbox: Any, count: int, seed: int) -> list[dict[str, Any]]:
        from ..sandbox.mw_v2_slots import simulate_submissions

        return simulate_submissions(sandbox, str(self.remote_id), count, seed)
