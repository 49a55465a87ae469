"""SWARMS results: ``GET /campaigns/{id}/results`` (paged by ``_links.next``), and review per result:
OK -> ``POST /results/{id}/approve {message}``, NOK -> ``/reject {reason}``, REVISE ->
``/soft-reject {reason, until}``; ``POST /campaigns/{id}/results/approve-all`` and
``/campaigns/{cid}/workers/{wid}/approve-all``. SWARMS has no bonuses.

Export columns: ``job``, ``job_id``, ``assignment``, then one per result value of each interactive
component: ``<task name>.<component type>.<result field>`` (``rate-beach.Rating.rating``); a task
repeated in a job, or a component type repeated in a task, gets ``#2``, ``#3``...
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from ...paging import PageGuard
from ...results.common import (
    Progress,
    RatingRow,
    Reviewer,
    Submission,
    occurrence_names,
    platform_time,
)

STATES = {"InReview": "", "Approved": "OK", "Rejected": "NOK", "SoftRejected": "REVISE"}
#: the ``state`` query values the docs list
DOCUMENTED_FILTERS = ("InReview", "Approved", "Rejected")


class SwarmsReviewer(Reviewer):
    platform = "SWARMS"
    states = STATES
    columns = ("job", "job_id", "assignment")
    supports_bonus = False
    supports_until = True
    has_approve_all = True
    #: a REVISE row without ``until`` lets the worker redo the job for this long
    revise_for = timedelta(hours=72)

    def check_id(self, text: str) -> str | None:
        return None if text.isdigit() else f"{text!r} is not a SWARMS result id (a number)"

    def to_submission(self, result: dict[str, Any]) -> Submission:
        answers: dict[str, Any] = {}
        task_results = result.get("taskResults") or []
        task_names = occurrence_names([str((tr.get("task") or {}).get("name") or (tr.get("task") or {}).get("id")) for tr in task_results])
        for task_name, tr in zip(task_names, task_results, strict=True):
            components = tr.get("components") or []
            types = occurrence_names([str((c.get("data") or {}).get("type")) for c in components])
            for ctype, comp in zip(types, components, strict=True):
                for key, value in (comp.get("result") or {}).items():
                    answers[f"{task_name}.{ctype}.{key}"] = value
        job = result.get("job")
        state = str(result.get("state"))
        return Submission(
            id=str(result["id"]), worker=str(result.get("worker")), state=state, rating=STATES.get(state, state),
            started=platform_time(result.get("startedAt")), submitted=platform_time(result.get("completedAt")),
            fields={"job": self.ref.names.get(f"job:{job}", ""), "job_id": job, "assignment": result.get("assignmentId")},
            answers=answers,
        )

    async def submissions(self, since: datetime | None = None, progress: Progress | None = None) -> AsyncIterator[Submission]:
        params: dict[str, Any] = {"limit": min(self.provider.page_size, 100)}
        if since is not None:  # minutes only (the documented format); a minute early, the caller filters exactly
            params["since"] = (since.astimezone(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
        first = f"/campaigns/{self.remote_id}/results"
        url: str | None = first
        query: dict[str, Any] | None = params
        count = pages = 0
        guard = PageGuard(first, redact=self.client.redact)  # a next link that comes back, endless pages
        while url:
            body = await self.client.json("GET", url, params=query)
            query = None  # the next link carries them
            pages += 1
            results = body.get("results") or []
            guard.items(r.get("id") for r in results if isinstance(r, dict))
            for result in results:
                count += 1
                yield self.to_submission(result)
            if progress:
                progress(count, pages)
            href = ((body.get("_links") or {}).get("next") or {}).get("href")
            url = self.client.follow(href) if href else None  # on the endpoint's origin only
            if url:
                guard.follow(url, f"the next link {url}")

    async def rate_one(self, row: RatingRow) -> None:
        path = f"/results/{row.id}"
        if row.rating == "OK":
            await self.client.json("POST", f"{path}/approve", json={"message": row.comment} if row.comment else {})
        elif row.rating == "NOK":
            await self.client.json("POST", f"{path}/reject", json={"reason": row.comment})
        else:
            until = row.until or datetime.now(UTC) + self.revise_for
            body = {"reason": row.comment, "until": until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")}
            await self.client.json("POST", f"{path}/soft-reject", json=body)

    async def approve_all(self, worker: str | None, message: str) -> int | None:
        path = f"/campaigns/{self.remote_id}/" + (f"workers/{worker}/approve-all" if worker else "results/approve-all")
        body = await self.client.json("POST", path, json={"message": message} if message else {})
        approved = body.get("approved") if isinstance(body, dict) else None  # the docs show no reply body
        return approved if isinstance(approved, int) else None
