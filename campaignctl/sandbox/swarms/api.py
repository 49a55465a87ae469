"""Sandbox of the SWARMS API 1.0 (``/work/shared/api-docs/swarms-api.txt``), mounted at ``/swarms``.

A faithful fake: what the docs say is done exactly; where they are silent we follow the
**inferred** notes of ``api-docs/README.md`` and the guesses listed below. This module only
assembles the routes; the handlers live beside it: :mod:`.common` (errors, helpers),
:mod:`.context` (request context, middleware), :mod:`.validation`, :mod:`.render`, :mod:`.paging`,
:mod:`.account` (money, token, profile), :mod:`.crud`, :mod:`.campaigns` (relations, lifecycle),
:mod:`.preview`, :mod:`.results` (review) and :mod:`.submit` (simulated workers).

Endpoints
---------
``POST /auth/token/request``, ``POST /auth/token/discard``, ``GET|PUT /me``,
``GET|POST /tasks|/jobs|/campaigns``, ``GET|PUT|DELETE /{kind}/{id}``,
``POST /{kind}/{id}/copy|archive|unarchive`` (``?deep=`` for jobs and campaigns),
``GET|PUT /jobs/{id}/tasks``, ``GET|POST|PUT /campaigns/{id}/jobs``,
``POST /campaigns/{id}/publish|pause|continue|cancel``, the result endpoints (see :mod:`.results`)
and ``POST /preview/markdown``.

Error codes (body ``{"code", "message", "description"}``)
---------------------------------------------------------
====  ======  ===============================================================================
code  status  meaning
====  ======  ===============================================================================
1000  401     invalid credentials (``/auth/token/request``)
1001  401     missing, unknown, discarded or expired ``X-Auth-Token``
1002  400     unsupported ``X-API-Version`` (only ``1.0``/``1``; missing = latest = 1.0)
2000  400     validation failed (body, query parameter); description names field and reason
2001  400     unknown or archived id in a list body (``/jobs/{id}/tasks``, ``/campaigns/{id}/jobs``)
3000  409     illegal state transition / action not allowed in the campaign's current state
3001  409     resource is read-only
3002  409     an active or paused campaign must be cancelled before it is deleted
3003  409     insufficient available balance
3004  409     campaign not ready to publish (missing title/workerPayment/results, no jobs, a job without tasks, archived)
3005  409     task/job is used by an active or paused campaign and cannot be deleted
4004  404     unknown id or unknown URL
4005  405     method not allowed
====  ======  ===============================================================================

Guesses (the docs are silent)
-----------------------------
* Status codes: creates and copies answer 201, everything else 200; bodiless actions (discard,
  DELETE, PUT/POST of id lists) answer 200 with ``{}``. Lifecycle actions return the campaign.
* Auth runs before routing: an unknown URL without a token is 401. Tokens live 30 days.
* Request bodies: unknown fields are 400; read-only fields (``id``, ``readOnly``, ``createdAt``,
  ``lastModifiedAt``, ``archived``, ``resourcesSize``, ``estimatedUploadSize``, ``state``,
  ``_links``) are ignored, so GET-modify-PUT works. All validation errors are reported at once,
  joined by ``"; "`` in ``description``. ``PUT /me``: same rule (balance, email, ... ignored).
* PUT replaces all writable fields: omitted optional fields return to their defaults.
* Component attributes are all optional; extra sanity checks: ``Rating.steps`` integer >= 1,
  ``Stepper.step`` > 0 and ``min <= start <= max``, durations >= 0 and ``min <= max``.
  Options of BinaryImageChoice accept only ``id``, ``url``, ``label`` (strings).
* Campaign: only ``name`` is required on create; ``title``, ``workerPayment`` and ``results`` are
  required to publish (409 3004). Optional fields may be ``null``; unset ones read back as ``null``
  (``description``/``terms`` as ``""``, ``training`` false). Integers (results,
  maxResultsPerWorker, workerGroup) must be >= 1. Durations: ``<n> sec|secs|min|mins|hour|hours|
  day|days`` with n >= 1. ``startDate``/``endDate`` are not acted upon (no auto publish/finish).
* Lists: ``search`` matches when every word of it is a full word of the name (case-insensitive).
  ``order`` may be repeated or comma-separated; ties break by id; ``name`` sorts case-insensitively.
  ``after``/``before`` are ids of the neighbouring item in the current order; a cursor id that is
  not in the listing (non-id orders only) is 400; ``after`` and ``before`` together are 400.
  An empty page carries no links.
* Sub-lists (``/jobs/{id}/tasks``, ``/campaigns/{id}/jobs``) may repeat ids, so their cursors are
  1-based positions in the list, not ids; they take ``limit`` (1..100, default 10) only.
* Campaign job lists have no duplicates: PUT with a duplicate is 400; POST ignores ids already in.
  Jobs added to an active/paused campaign must have tasks (409 3004); the frozen money follows
  the job count (409 3003 when more is needed than available).
* Deleting a task/job drops it from every job/campaign list; refused (409 3005) while an active or
  paused campaign uses it. Deleting a campaign deletes its results and unfreezes its money.
* Archiving an active/paused campaign is 409 3000. Archived objects stay editable; they cannot be
  added to lists (400 2001) and block publishing (409 3004). Copies get the same name.
* ``readOnly`` ("indicates whether the resource can be modified", the docs) covers an object's
  relations: a published campaign rejects PUT and ``POST|PUT /campaigns/{id}/jobs`` with 409 3001;
  tasks/jobs linked to an active/paused campaign report ``readOnly: true`` and reject PUT,
  ``PUT /jobs/{id}/tasks`` and archive with 409 3001. ``strict_readonly=False`` (:mod:`.settings`) (``sandbox serve
  --lenient-readonly``) is the old guess: linked tasks/jobs and a running campaign's job list
  stay editable.
* Money: publishing freezes ``workerPayment * results * jobs * (1 + commissionRate)``; approving
  a result moves ``workerPayment * (1 + commissionRate)`` out of frozen; cancelling unfreezes all
  but what results still under review (InReview/SoftRejected) may need; rejecting in a cancelled
  campaign unfreezes that result's share. The campaign becomes ``finished`` when every job has
  ``results`` approved results; the rest is unfrozen. Balances are strings ``"<n> USD"``.
* ``resourcesSize``/``estimatedUploadSize``: ``"<n>MB"``; 1MB per Image/ImageMarker, 2MB per
  Audio/BinaryImageChoice, 10MB per Video; upload 1MB per AudioRecording/ImageMarker, 20MB per
  VideoRecording; a job sums its tasks.
* HAL (``Accept: application/hal+json``): responses are sent as ``application/hal+json``; links:
  ``self`` plus task ``copy``, ``archive``|``unarchive``; job ``tasks``, ``copy``, archive|unarchive;
  campaign ``jobs``, ``copy``, ``publish``/``pause``/``continue``/``cancel`` as the state allows,
  ``results`` once published, ``archive`` (not while active/paused) or ``unarchive``. Every href
  is a path under the API base, as the docs write them (``/campaigns/1/publish``, never with the
  sandbox's mount prefix): the python SDK requests ``base_url + href``.
* Docs-only mode (``Settings.docs_only``): every guess that adds a field, a link name or a route
  is off; :mod:`.guesses` lists them all.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route

from . import results
from .account import get_me, put_me, token_discard, token_request
from .campaigns import (
    get_campaign_jobs,
    get_job_tasks,
    lifecycle,
    post_campaign_jobs,
    put_campaign_jobs,
    put_job_tasks,
)
from .common import KINDS, ApiError
from .context import (
    ApiMiddleware,
    Handler,
    api_error_handler,
    http_error_handler,
    make_route,
)
from .crud import collection_handlers
from .preview import preview_markdown
from .render import CAMPAIGN_ACTIONS
from .submit import simulate_submissions

if TYPE_CHECKING:
    from ..core import Sandbox

__all__ = ["create_app", "fault_answer", "routes", "simulate_submissions"]


def routes(sandbox: Sandbox) -> list[BaseRoute]:
    def r(path: str, handler: Handler, *methods: str) -> Route:
        return make_route(sandbox, path, handler, list(methods))

    out: list[BaseRoute] = [
        r("/auth/token/request", token_request, "POST"),
        r("/auth/token/discard", token_discard, "POST"),
        r("/me", get_me, "GET"),
        r("/me", put_me, "PUT"),
        r("/preview/markdown", preview_markdown, "POST"),
        r("/jobs/{id:int}/tasks", get_job_tasks, "GET"),
        r("/jobs/{id:int}/tasks", put_job_tasks, "PUT"),
        r("/campaigns/{id:int}/jobs", get_campaign_jobs, "GET"),
        r("/campaigns/{id:int}/jobs", post_campaign_jobs, "POST"),
        r("/campaigns/{id:int}/jobs", put_campaign_jobs, "PUT"),
    ]
    out += [r(f"/campaigns/{{id:int}}/{action}", lifecycle(action), "POST") for action in CAMPAIGN_ACTIONS]
    for plural in KINDS:
        h = collection_handlers(plural)
        out += [
            r(f"/{plural}", h["list"], "GET"),
            r(f"/{plural}", h["create"], "POST"),
            r(f"/{plural}/{{id:int}}", h["get"], "GET"),
            r(f"/{plural}/{{id:int}}", h["update"], "PUT"),
            r(f"/{plural}/{{id:int}}", h["delete"], "DELETE"),
            r(f"/{plural}/{{id:int}}/copy", h["copy"], "POST"),
            r(f"/{plural}/{{id:int}}/archive", h["archive"], "POST"),
            r(f"/{plural}/{{id:int}}/unarchive", h["unarchive"], "POST"),
        ]
    out += [r(path, handler, method) for path, handler, method in results.ROUTES]
    return out


def create_app(sandbox: Sandbox) -> Starlette:
    app = Starlette(
        routes=routes(sandbox),
        exception_handlers={ApiError: api_error_handler, HTTPException: http_error_handler},
    )
    app.add_middleware(ApiMiddleware, sandbox=sandbox)
    app.state.sandbox = sandbox
    return app


def fault_answer(status: int, reason: str, text: str) -> tuple[bytes, bytes]:
    """An injected error (:mod:`campaignctl.sandbox.faults`) in SWARMS's error format."""
    return b"application/json", json.dumps({"code": status, "message": reason, "description": text}).encode()
