"""Microworkers legacy API v1 tasks: ``GET /campaign_<b|hg>/list_tasks_extend/<id>`` (paged by
``page`` / ``entries_per_page`` <= 200) and ``PUT /campaign_<b|hg>/rate_tasks/<id>`` with
``id_task[] rating[] comment[] bonus[]`` in batches. The reply rates each task on its own:
``{"id_task", "success": true}`` or ``{"id_task", "errors": [...]}`` (``comment IS MANDATORY``,
``Bonus you entered is outside allowed values``, ``id_task IS NOT UNIQUE``, ``Your account balance
is too low to add bonus``...); the report shows those words. A task waits for a rating while its
rating is ``NOTRATED``.

Export columns: ``rated``, ``comment``, ``payment``, ``bonus``, ``files``, then ``proof_1``,
``proof_2``... (the worker's answers to the campaign's required proofs, as in ``results_csv``).
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ...errors import ApiError
from ...paging import PageGuard
from ...results.common import (
    Outcome,
    Progress,
    RatingRow,
    Reviewer,
    Submission,
    iso_utc,
    platform_time,
)

STATES = {"NOTRATED": "", "OK": "OK", "NOK": "NOK", "REVISE": "REVISE"}
PREFIX = {"basic": "/campaign_b", "hire-group": "/campaign_hg"}
V1_TIME = "%Y-%m-%d %H:%M:%S"
MAX_PAGE = 200
NO_TASKS = ("NO TASKS",)


def _money(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class MicroworkersV1Reviewer(Reviewer):
    platform = "Microworkers (v1)"
    states = STATES
    columns = ("rated", "comment", "payment", "bonus", "files")
    #: tasks per rate_tasks call
    batch_size = 100

    @property
    def prefix(self) -> str:
        return PREFIX.get(self.ref.doc.spec.get("type", "basic"), "/campaign_b")

    def payment(self) -> Decimal | None:
        try:
            return Decimal(str(self.ref.doc.spec["payment_per_task"]))
        except (KeyError, InvalidOperation):
            return None

    def check_id(self, text: str) -> str | None:
        return None if text.isdigit() else f"{text!r} is not a Microworkers task id (a number)"

    def to_submission(self, task: dict[str, Any]) -> Submission:
        rating = str(task.get("rating"))
        proofs = task.get("proofs")
        if not isinstance(proofs, list):
            proofs = [task.get("proof") or ""]
        files = (task.get("file_proof") or {}).get("file_proof_details") if isinstance(task.get("file_proof"), dict) else None
        return Submission(
            id=str(task["task_id"]), worker=str(task.get("worker_id")), state=rating, rating=STATES.get(rating, rating),
            started=platform_time(task.get("started_datetime"), V1_TIME),
            submitted=platform_time(task.get("finished_datetime"), V1_TIME),
            fields={
                "rated": iso_utc(platform_time(task.get("rated_datetime"), V1_TIME)),
                "comment": task.get("employer_comment") or "",
                "payment": _money(task.get("payment_worker_earned")), "bonus": _money(task.get("bonus_worker_earned")),
                "files": list(files or []),
            },
            answers={f"proof_{i + 1}": str(p) for i, p in enumerate(proofs)},
        )

    async def submissions(self, since: datetime | None = None, progress: Progress | None = None) -> AsyncIterator[Submission]:
        per_page = min(self.provider.page_size, MAX_PAGE)
        page = count = 0
        path = f"{self.prefix}/list_tasks_extend/{self.remote_id}"
        guard = PageGuard(path)  # the same tasks page after page, a total_pages without end
        while True:
            page += 1
            if page > 1:
                guard.follow(page, f"page {page}")
            body = await self.provider.call(  # type: ignore[attr-defined]
                "GET", path, params={"page": page, "entries_per_page": per_page}, accept=NO_TASKS,
            )
            tasks = (body or {}).get("tasks") or []
            guard.items(task.get("task_id") for task in tasks if isinstance(task, dict))
            for task in tasks:
                count += 1
                yield self.to_submission(task)
            if progress:
                progress(count, page)
            pager = (body or {}).get("pager") or {}
            try:
                last = int(pager["total_pages"])
            except (KeyError, TypeError, ValueError):
                last = page if len(tasks) < per_page else page + 1
            if not tasks or page >= last:
                return

    async def rate(self, rows: list[RatingRow], on_rated: Callable[[RatingRow], None]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(rows), self.batch_size):
            outcomes += await self._batch(rows[start:start + self.batch_size], on_rated)
        return outcomes

    async def _batch(self, rows: list[RatingRow], on_rated: Callable[[RatingRow], None]) -> list[Outcome]:
        data = {
            "id_task[]": [r.id for r in rows],
            "rating[]": [r.rating for r in rows],
            "comment[]": [r.comment for r in rows],
            "bonus[]": [str(r.bonus) if r.bonus else "" for r in rows],
        }
        try:
            body = await self.provider.call("PUT", f"{self.prefix}/rate_tasks/{self.remote_id}", data=data)  # type: ignore[attr-defined]
        except ApiError as exc:
            return [Outcome(r, "failed", self.reason(exc)) for r in rows]
        by_id = {r.id: r for r in rows}
        answered: dict[str, Outcome] = {}
        for item in (body or {}).get("tasks") or []:
            row = by_id.get(str(item.get("id_task")))
            if row is None or row.id in answered:
                continue
            if item.get("success") is True:
                on_rated(row)
                answered[row.id] = Outcome(row, "rated")
            else:
                errors = item.get("errors") or ["the platform did not rate it"]
                answered[row.id] = Outcome(row, "failed", "; ".join(map(str, errors)))
        return [answered.get(r.id) or Outcome(r, "failed", "the reply says nothing about this task") for r in rows]

    async def served_submit(self, count: int, seed: int) -> Any:
        data = {"campaign": str(self.remote_id), "count": str(count), "seed": str(seed)}
        return await self.provider.call("POST", "/_sandbox/submit", data=data)  # type: ignore[attr-defined]
