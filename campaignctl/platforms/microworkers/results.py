"""Microworkers API v2 slots: ``GET /<type>-campaigns/{id}/slots`` (paged by ``nextPageToken``) and
``PUT /slots/{id}/rate {rating, comment, bonus}`` (one call per slot; v2 has no batch, so the calls
run concurrently). A slot waits for a rating while its status is ``NOTRATED``.

Export columns: ``task_ids``, ``proof``, ``rated``, ``comment``, ``bonus``, ``auto_rated``, then, for
a campaign with task rows, the columns of the slot's row from the config's rows file as
``row.<column>`` (``row.url``, ``row.brand``; a second row of the same slot ``row.url#2``...), then
one per template question by its name (``loads``, ``product``...); each answer is the list the
platform gives (CSV joins it with ``; ``); a question answered for several task rows of one slot
gets ``#2``, ``#3``...

Which rows a slot belongs to: the API docs we have do not describe a slot's fields; the sandbox
(a guess) names them in ``taskIds``, and that is what the rows are joined by. A slot without it, or
naming a row the config no longer has, gets no ``row.`` columns.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ...paging import PageGuard
from ...results.common import (
    Progress,
    RatingRow,
    Reviewer,
    Submission,
    iso_utc,
    occurrence_names,
    platform_time,
)

STATES = {"NOTRATED": "", "OK": "OK", "NOK": "NOK", "REVISE": "REVISE"}
COLLECTION = {"basic": "basic-campaigns", "hire-group": "hire-group-campaigns"}


class MicroworkersReviewer(Reviewer):
    platform = "Microworkers"
    states = STATES
    columns = ("task_ids", "proof", "rated", "comment", "bonus", "auto_rated")
    _rows: dict[str, dict[str, str]] | None = None

    def payment(self) -> Decimal | None:
        try:
            return Decimal(str(self.ref.doc.spec["paymentPerTask"]))
        except (KeyError, InvalidOperation):
            return None

    def row_columns(self) -> dict[str, dict[str, str]]:
        """Task row id -> its columns in the config's rows file (empty without task rows); read once."""
        if self._rows is None:
            from .rows import load_rows, row_columns

            rows = load_rows(self.ref.doc, self.provider.root)
            self._rows = {r.id: row_columns(r.data, r.tests) for r in (rows.rows if rows is not None else [])}
        return self._rows

    def row_fields(self, task_ids: list[Any]) -> dict[str, Any]:
        """``row.<column>`` of each task row the slot names, as the config's rows file has them."""
        known = self.row_columns()
        pairs = [(f"row.{k}", v) for i in task_ids for k, v in known.get(str(i), {}).items()]
        return dict(zip(occurrence_names([k for k, _ in pairs]), [v for _, v in pairs], strict=True))

    def to_submission(self, slot: dict[str, Any]) -> Submission:
        answers = slot.get("answers") or []
        names = occurrence_names([str(a.get("name") or a.get("questionId")) for a in answers])
        status = str(slot.get("status"))
        task_ids = slot.get("taskIds")
        rows = self.row_fields(task_ids) if isinstance(task_ids, list) else {}
        return Submission(
            id=str(slot["id"]), worker=str(slot.get("workerId")), state=status,
            rating=STATES.get(status, status),  # NOTREVIEWED (Microworkers staff first), REVISE_ADMIN: not ours to rate
            started=platform_time(slot.get("locked")), submitted=platform_time(slot.get("submitted")),
            fields={
                "task_ids": list(slot.get("taskIds") or []), "proof": slot.get("proof"),
                "rated": iso_utc(platform_time(slot.get("rated"))), "comment": slot.get("comment") or "",
                "bonus": slot.get("bonus"), "auto_rated": slot.get("autoRated"), **rows,
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
