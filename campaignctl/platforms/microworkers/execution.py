"""Microworkers API v2: applying (the writes, queue jobs waited for until ``Uploaded``, a job's
``Validation_Error`` mapped back to the rows' source lines) and reading back an unanswered write
(``confirm``). A mixin of :mod:`campaignctl.platforms.microworkers.provider`."""
from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ApiError, TransportError
from ...plan.diff import same
from ...plan.model import Operation
from ...providers.base import ExecResult
from .model import READ_BACK
from .rows import normalise_limit
from .upload import Upload, read_upload

if TYPE_CHECKING:
    from ...http import ApiClient

log = logging.getLogger("campaignctl.microworkers")


class CampaignWrites:
    """The v2 writes. Expects the provider's ``client`` and ``queue_timeout``."""

    queue_timeout: float
    root: Path
    _uploads: dict[tuple[Any, ...], Upload]
    _sent: dict[str, Upload]
    if TYPE_CHECKING:  # provided by Provider

        @property
        def client(self) -> ApiClient: ...

    async def execute(self, op: Operation) -> ExecResult:
        method, path = op.call.split(" ")[:2]  # the call may end with a note ("+40 positions")
        path = path.replace("{id}", str(op.target))
        payload = op.payload if isinstance(op.payload, dict) else {}
        if payload.get("ifRunning"):
            current = await self.client.json("GET", path.rsplit("/", 1)[0])
            if current.get("status") not in ("RUNNING", "PAUSED", "PENDING_REVIEW"):
                return ExecResult()
            await self.client.request(method, path, idempotent=False)  # read back, never resent blindly
            return ExecResult()
        body = payload.get("body")
        sources: list[str] = payload.get("sources") or []
        named = payload.get("rows")
        if isinstance(named, dict) and isinstance(body, dict):  # a data file's rows, read from it now
            upload = self._rows_to_send(op, named)
            body, sources = {**body, "tasks": upload.tasks}, upload.sources
        if isinstance(body, dict) and body.get("tasks"):
            body = {**body, "tasks": await self._resolve_questions(body, path, op)}
        # a lifecycle PUT (pause, resume, stop) or a DELETE sent again after it took fails
        # (CampaignIsNotRunning...): it is sent once, and an unanswered one is read back (confirm)
        once = op.action.split("@", 1)[0] in READ_BACK or method == "DELETE"
        try:
            response = await self.client.request(method, path, json=body, idempotent=False if once else None)
        except ApiError as exc:
            if sources and not isinstance(exc, TransportError):  # keep "no answer" errors as they are
                raise _with_sources(exc, sources) from None
            raise
        if payload.get("queue"):
            job = response.headers.get("queue-job-id")
            if job:
                await self._wait(job, op, sources)
            return ExecResult()
        if op.action == "create":
            return ExecResult(id=self.client.decode(response)["id"])
        return ExecResult()

    def _rows_to_send(self, op: Operation, named: dict[str, Any]) -> Upload:
        """The rows ``op`` sends (its payload's ``rows``: a data file and which of its rows), read
        from the file the first time an operation names it in this apply, and only if they are the
        rows planned (:func:`.upload.read_upload`, PlanError: nothing sent); every part is then sent
        from that read, so the rows of an apply are one version of the file."""
        part = self._sent.get(op.id)
        if part is None:
            key = (named.get("file"), named.get("sha256"), named.get("count"), named.get("digest"))
            whole = self._uploads.get(key)
            if whole is None:
                whole = self._uploads[key] = read_upload(self.root, named)
            part = self._sent[op.id] = whole.select(named.get("ranges"))
        return part

    def sent_record(self, op: Operation) -> dict[str, Any] | None:
        """What state records of an operation that took effect: the rows it sent (row id -> digest),
        those of a data file as read when they were sent; else its ``payload["recorded"]``."""
        payload = op.payload if isinstance(op.payload, dict) else {}
        named = payload.get("rows")
        if isinstance(named, dict):
            return {"rows": self._rows_to_send(op, named).digests}
        recorded = payload.get("recorded")
        return recorded if isinstance(recorded, dict) else None

    async def confirm(self, op: Operation) -> bool | None:
        """Reads the object back after a write other than a create went unanswered (or failed with a
        5xx): a lifecycle call (pause, resume, stop, restart) took when the campaign's documented
        ``status`` is the one it leads to, and did not while it is still in one the call leaves;
        more positions (restart, tasks-groups) took when ``availablePositions`` reached what the
        plan expects (a queue job still running, as ``jobQueues`` shows, is waited for); a deleted
        template is gone; a PATCH when every field it sent reads back as sent (one the answer does not
        show: sending it again sets the same values, harmlessly, so False). A template PUT replaces
        the template whole: sent again (False)."""
        action = op.action.split("@", 1)[0]
        payload = op.payload if isinstance(op.payload, dict) else {}
        if op.address.split("/")[1] == "template":
            if action != "delete":
                return False
            try:
                await self.client.json("GET", f"/templates/{op.target}")
            except ApiError as exc:
                if exc.status == 404:
                    return True
                raise
            return False
        if action == "update":  # PATCH: done when every field the answer shows reads as sent
            obj = await self.client.json("GET", op.call.split(" ")[1].replace("{id}", str(op.target)))
            sent = payload.get("body") or {}
            shown = [k for k in sent if k in obj]
            if any(not same(normalise_limit(obj[k]) if k == "maximumJobLimit" else obj[k], v) for k, v in sent.items() if k in obj):
                return False
            return len(shown) == len(sent)  # else: sending it again sets the same values, harmlessly
        if action not in READ_BACK:
            return None
        path = op.call.split(" ")[1].replace("{id}", str(op.target)).rsplit("/", 1)[0]
        started = time.monotonic()
        while True:
            obj = await self.client.json("GET", path)
            status = str(obj.get("status"))
            if action == "add-positions":
                expect = (payload.get("expect") or {}).get("availablePositions")
                if isinstance(expect, int) and isinstance(obj.get("availablePositions"), int) \
                        and obj["availablePositions"] >= expect:
                    return True
                queues: dict[str, Any] = obj.get("jobQueues") if isinstance(obj.get("jobQueues"), dict) else {}
                kind = "restartCampaignJob" if "/restart" in op.call else "addPositionJob"
                entry = queues.get(kind)
                job: dict[str, Any] = entry if isinstance(entry, dict) else {}
                running = job.get("status") in ("Pending", "Uploading") or status == "PENDING_RESTART"
                if not running:
                    return False if isinstance(expect, int) else None
                if time.monotonic() - started > self.queue_timeout:
                    return None
                if job.get("id"):  # not documented in jobQueues; where answered, poll the job itself
                    await self.client.json("GET", f"/queue-jobs/{job['id']}")
                else:
                    await asyncio.sleep(0.2)
                continue
            leads_to, leaves = READ_BACK[action]
            if status in leads_to or (payload.get("ifRunning") and status not in leaves):
                return True
            if status in leaves:
                return False
            return None

    async def _resolve_questions(self, body: dict[str, Any], path: str, op: Operation) -> list[dict[str, Any]]:
        """Test cases name questions; the API wants their ids (known once the template exists)."""
        tasks = body["tasks"]
        if not any(t.get("testCases") for t in tasks):
            return [{**t, "testCases": []} for t in tasks]
        if op.action == "create":
            info = await self.client.json("GET", f"/templates/{body['internalTemplate']['id']}")
        else:
            info = await self.client.json("GET", path.rsplit("/", 1)[0])
        ids = {q.get("name"): q.get("id") for q in info.get("questions") or []}
        out = []
        for t in tasks:
            cases = [{"questionId": ids.get(tc["question"], tc["question"]), "answers": tc["answers"]} for tc in t["testCases"]]
            out.append({**t, "testCases": cases})
        return out

    async def _wait(self, job: str, op: Operation, sources: list[str]) -> None:
        started = time.monotonic()
        delay, last_note = 0.05, started
        log.info("%s: waiting for queue job %s", op.address, job)
        while True:
            info = await self.client.json("GET", f"/queue-jobs/{job}")
            status = info.get("status")
            if status == "Uploaded":
                log.info("%s: queue job %s uploaded: %s", op.address, job, info.get("output") or "")
                return
            if status in ("Validation_Error", "Upload_Error"):
                raise ApiError(_job_message(info, sources), method="GET", url=f"/queue-jobs/{job}", code=status)
            now = time.monotonic()
            if now - started > self.queue_timeout:
                raise ApiError(f"queue job {job} still {status} after {self.queue_timeout:.0f}s; run plan again later "
                               "to see whether it finished", method="GET", url=f"/queue-jobs/{job}", code="Timeout")
            if now - last_note > 10:
                log.warning("%s: queue job %s is %s (%.0fs)", op.address, job, status, now - started)
                last_note = now
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)


_TASK_INDEX = re.compile(r"tasks\[(\d+)\]")


def _at(sources: list[str], index: int) -> str:
    return sources[index] if 0 <= index < len(sources) else f"tasks[{index}]"


def _with_sources(exc: ApiError, sources: list[str]) -> ApiError:
    message = _TASK_INDEX.sub(lambda m: f"{m.group(0)} ({_at(sources, int(m.group(1)))})", exc.message)
    return ApiError(message, method=exc.method, url=exc.url, status=exc.status, code=exc.code, request_id=exc.request_id)


def _job_message(info: dict[str, Any], sources: list[str]) -> str:
    errors = info.get("errors") or []
    lines = []
    for e in errors:
        if isinstance(e, dict) and isinstance(e.get("index"), int):
            ident = f" (id {e['id']})" if e.get("id") else ""
            lines.append(f"{_at(sources, e['index'])}{ident}: {e.get('message')}")
    if not lines:
        output = str(info.get("output") or "")
        lines = [_TASK_INDEX.sub(lambda m: f"{m.group(0)} ({_at(sources, int(m.group(1)))})", x) for x in output.splitlines() if x]
    return f"queue job {info.get('id')} rejected {len(lines)} row(s):\n    " + "\n    ".join(lines[:20]) + (
        f"\n    ... and {len(lines) - 20} more" if len(lines) > 20 else "")
