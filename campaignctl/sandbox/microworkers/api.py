"""Microworkers API v2 sandbox (``https://ttv.microworkers.com/api/v2``), mounted at ``/microworkers/api/v2``.

Built from ``shared/api-docs`` (README "Microworkers API v2", the GET basic-campaign page, the
restart page, the v1 rate_tasks page). What the docs say is done exactly; every guess is listed
below, marked **guess** (and in :mod:`.guesses`). Helper modules: :mod:`.data` (zones, countries,
categories, groups, limits), :mod:`.rules` (validation), :mod:`.model` (ids, paging, money, campaign
state), :mod:`.create` (campaign creation), :mod:`.templates` (templates, questions), :mod:`.jobs`
(restart, tasks-groups, queue jobs), :mod:`.slots` (slots, rating, the submission simulator).

Transport
    Auth: ``MicroworkersApiKey: <key>`` or ``Authorization: Bearer <key>`` (settings.api_key), checked
    before routing; else 401 ``Unauthorized``. Errors are ``application/problem+json``:
    ``{type: ".../api/v2/docs/handle-errors#<Code>", title: "<Code>", status, detail, instance,
    errors?: [{field, message}]}``; field paths look like ``tasks[3].data``,
    ``maximumJobLimit.standardSchedule.daysOfWeek[0]``. Codes: ValidationFailed, Unauthorized,
    NotFound (404, also unknown routes), MethodNotAllowed (405), CategoryUnknown, AlreadyExists,
    NotEnoughMoneyToStartCampaign (+ members ``cost``, ``balance``), CampaignIsNotRunning,
    CampaignIsNotPaused, CampaignCantBeStopped, CampaignIsNotFinished, CampaignWithNotRatedTasks.
    Every business error is HTTP 400 (the docs list only 400/401/403/404). AccessDenied (403) is
    never produced (one account). **guess**: every response has ``X-Request-ID`` (uuid4); unknown
    body fields are 400 ValidationFailed ("Unknown field."), on every endpoint.

Reference data (**guess** for shapes and contents)
    ``GET /accounts/me`` -> ``{id, email, username, balance, currency: "USD"}``.
    ``GET /basic-categories`` -> ``{items: [{id: "10", title, subCategories: [{id: "1001", title,
    minimumPayment}]}]}``; ``categoryId`` is a sub-category id (string; an int is accepted).
    ``GET /basic-campaigns/configuration`` -> ``{zones: [{id, name, type: international|targeted,
    countries: [{code, name}]}], countries, limits: {<field>: {min?, max?}}, fee: {rate: 0.075},
    ratingMethods, distributionTypes, taskOrders, notificationSettingTypes, notificationTypes}``.
    Zones: ``int`` plus asia1, caribbean1, europe1, europe2, west1. ``GET /hire-groups`` ->
    ``{items: [{id, name, workersCount}], nextPageToken: null}`` (seeded: 1111..5555).

Campaigns (basic: ``/basic-campaigns``; hire-group: ``/hire-group-campaigns``, one id space)
    Ids are 12 lower-case hex chars; templates ``T`` + 13 hex; slots 12 hex; queue jobs 16 hex;
    questions ``Q`` + 9 digits. ``POST`` -> **201** + ``Location`` + the info object. Body:
    title (<= 100), description, categoryId, availablePositions (basic >= 30; **guess** HG >= 1),
    paymentPerTask (>= the sub-category's minimumPayment), minutesToFinish (**guess** 1..10080),
    exactly one of ``internalTemplate {id, ratingMethodId 1..3 (default 3), numberOfSubTasks
    (default 1), displaySubTasksOnSamePage, adminInstructions (required for rating methods 1 and 2),
    numberOfFileProofs 0..10, allowedFileTypes}`` or ``externalTemplate {url, height ("600px"),
    width ("100%"), parameters[]}``; basic: exactly one of ``internationalZone {id: "int",
    excludedCountries[] (<= 10)}`` or ``targetedZone {id, countries[] (subset of the zone; default
    all)}``; HG: ``groupId``, ``maxPositionPerWorker`` (1), ``numberOfWorkerOnSamePosition`` (1),
    ``taskOrder`` random|sequential (random), and no zone. Optional (defaults): speed 1..1000 (1000),
    ttr 1..30 (7), visibilityDelay 0..3600 (0), qtRequired, autoRateOkTask, autoRateNokTask,
    autoRefillPositions (false), successRate 0..100 or null (null), timeToWaitAfterSlotExpiration
    0..1440 minutes (0), ``autoSkipTask {enabled, timeLimit 1..3600 s}``, ``notificationSettings
    [{url (https), type: AMAZON_SQS, notificationTypes[]}]`` ([]), maximumJobLimit (below).
    Unique tasks (**decision**): a campaign uses unique tasks iff ``tasks`` is given on create; it
    is required when the template has ``{{variables}}``, and then availablePositions must equal
    rows / numberOfSubTasks x numberOfWorkerOnSamePosition. Rows are validated synchronously on
    create (400 with ``tasks[i]...`` fields) and recorded as an Uploaded ``csvUploadJob``. Rows
    cannot be uploaded later into a campaign created without them.
    Money: cost = round(paymentPerTask x positions x (1 + 0.075), 4) (**guess**: the 7.5 % fee),
    charged on create, on restart (added positions) and when a tasks-groups job is accepted; a
    bonus costs bonus x 1.075. Never refunded (stop keeps untaken positions paid; restart reuses
    them), except when a job ends in Upload_Error. ``estimateCost`` = the cost of availablePositions.
    Status: PENDING_REVIEW until ``created + review_seconds`` (:mod:`.settings`), then RUNNING (computed on
    read); PAUSED; FINISHED (all positions submitted, or stopped: **decision** stop -> FINISHED, the
    docs' ``finished`` is "finished or stopped manually"); PENDING_RESTART while a restart job runs.
    ``GET`` -> the BasicCampaignInfoResponse of the docs, every property present (null when unset;
    ``blocked``/``blockedReason`` always null; ``jobQueues.<kind>`` null until such a job exists, else
    ``{id (**guess**), status, output}``), plus **guess** echoes autoRateOkTask, autoRateNokTask,
    autoRefillPositions, successRate, timeToWaitAfterSlotExpiration, folder (DEFAULT|ARCHIVE),
    uniqueTasks, tasksCount; HG adds groupId, maxPositionPerWorker, numberOfWorkerOnSamePosition,
    taskOrder (``geoZone`` null). Settings.docs_only leaves every **guess** field and route out
    (the list: :mod:`campaignctl.sandbox.microworkers.guesses`). ``geoZone.countries`` = the targeted countries (for ``int``: all
    countries minus the excluded ones). htmlCode/cssSection/jsSection/variables/questions are a
    snapshot of the template taken at creation. ``standardSchedule`` is spelt ``allWeekdays`` (the
    docs' JSON; ``allWeekDays`` from the docs' table is accepted on input).
    ``GET`` list: ``pageSize`` 1..100 (default 10), ``sort`` id|title|created|-created (id),
    ``filter[folder]`` DEFAULT|ARCHIVE, ``nextPageToken`` (opaque; it carries sort and folder, which
    then win) -> ``{items: [info], nextPageToken: str|null}``.
    ``PATCH`` accepts only autoRateNokTask, autoRateOkTask, autoRefillPositions, qtRequired,
    successRate, speed, ttr, autoSkipTask, notificationSettings, timeToWaitAfterSlotExpiration,
    visibilityDelay, maximumJobLimit (+ groupId for HG: unknown -> ValidationFailed on ``groupId``;
    only while RUNNING/PAUSED, else CampaignIsNotRunning, as v1 change_group). Objects are replaced
    whole. Others -> 400 ValidationFailed naming each field. -> **200** with the updated info.
    ``PUT .../pause`` RUNNING->PAUSED (else CampaignIsNotRunning), ``/resume`` PAUSED->RUNNING (else
    CampaignIsNotPaused), ``/stop`` RUNNING|PAUSED->FINISHED (else CampaignCantBeStopped); -> 204.
    **guess** ``PUT .../archive`` (FINISHED only, else CampaignIsNotFinished; not-rated slots ->
    CampaignWithNotRatedTasks) and ``PUT .../unarchive`` -> 204 move between folders.
    ``POST .../restart {positionsToAdd, tasks?}`` as the docs: FINISHED only (else
    CampaignIsNotFinished); 0 needs untaken positions; tasks required iff positionsToAdd > 0 and
    unique tasks (count = positionsToAdd / numberOfWorkerOnSamePosition x numberOfSubTasks), else
    they must be omitted -> **202**, empty body, ``queue-job-id`` header (job kind
    restartCampaignJob). ``POST .../tasks-groups {tasks[]}``: unique-task campaigns in
    PENDING_REVIEW|RUNNING|PAUSED (else CampaignIsNotRunning), adds the rows and
    rows / numberOfSubTasks x numberOfWorkerOnSamePosition positions -> 202 + ``queue-job-id``
    (kind addPositionJob). Row ids are optional (generated: 12 hex chars), alphanumeric, <= 64.
    **guess** ``GET .../tasks`` (paged) -> ``{items: [{id, data, testCases}], nextPageToken}``.

maximumJobLimit (**shape**: the docs' response model; input = output)
    ``{enabled, limitPerDay: int|null, distributionType: random|asap (asap), standardSchedule: null |
    {timeZone, limitPerHour, allDay (true), allWeekdays (true), daysOfWeek: [0..6]
    (0 = Sunday; required when allWeekdays is false), workingHours: ["HH:MM-HH:MM", ...] (required
    when allDay is false)}, advancedSchedule: null | {timeZone, limitPerHour, events: [{type:
    "recur", daysOfWeek, startTime "HH:MM", endTime, startRecur, endRecur|null, limitPerDay,
    limitPerHour} | {type: "one-time", start, end, allDay, limitPerDay, limitPerHour}] (1..100)}}``.
    At most one schedule; enabled without a schedule needs limitPerDay; limits >= 1 or null;
    timeZone: IANA name, ``UTC`` or an offset ``+02:00`` (default UTC); dates ISO 8601, kept as sent.

Queue jobs ``GET /queue-jobs/{id}`` -> ``{id, status, output, errors, type, campaignId}``
    Poll 1 answers Pending, polls 2..queue_job_polls (:mod:`.settings`) Uploading, the next one the final
    status (queue_job_polls = 0: final at creation). Rows are validated when the job is created
    (ids: alphanumeric, unique in the request and the campaign; data: non-empty ``{key, value}``
    strings, every template variable present; testCases: known questionId, non-empty answers);
    any bad row -> ``Validation_Error``, nothing applied or charged. ``output`` (a string, as in the
    docs' JobQueueInfoResponse): one line per bad row ``tasks[3].data (id 'r7'): Missing value for
    template variable 'url'.``; **guess** ``errors: [{index (0-based in tasks[]), id, field,
    message}]``. Uploaded: ``"N tasks uploaded, M positions added."``, rows and positions applied
    then (restart: status back to RUNNING). ``Upload_Error``: a row id was added by another job
    meanwhile; the charge is refunded.

Templates (**guess** shapes) ``POST /templates {title (unique, else AlreadyExists), htmlCode,
    cssSection, jsSection, questions?}`` -> 201 template; ``GET /templates`` (paged), ``GET/PUT
    /templates/{id}`` (PUT replaces; 200), ``DELETE`` -> 204 (campaigns keep their snapshot). Template: ``{id, title, htmlCode,
    cssSection, jsSection, variables, questions, created, updated}``. Variables are the ``{{name}}``
    placeholders of htmlCode (for an external template, of its url). Questions: declared as
    ``[{name, type: text|textarea|number|email|url|radio|checkbox|select (text), required (false),
    options[] (radio/checkbox/select only, required there)}]``, or when ``questions`` is omitted,
    parsed from htmlCode's named input/textarea/select fields. Shown as ``{id, name, required, tag
    (input|textarea|select), type, options}``; ids are stable per (template, name).

Slots ``GET .../{id}/slots?filter[status]=&pageSize=&nextPageToken=``, ``GET /slots/{id}``
    -> (**guess**: the docs we have name these routes but not a slot's fields; ``taskIds``, the ids
    of the task rows a slot belongs to, is what ``results export`` joins the config's rows by)
    ``{id, campaignId, workerId, status: NOTRATED|OK|NOK|REVISE (also LOCKED, NOTREVIEWED,
    REVISE_ADMIN in counts), taskIds, answers: [{taskId, questionId, name, answers[]}], proof,
    locked, submitted, rated, comment, bonus, autoRated}``. ``PUT /slots/{id}/rate {rating, comment,
    bonus}`` -> 204; only NOTRATED slots; comment mandatory for NOK/REVISE; bonus only with OK,
    within 0.1x..2x paymentPerTask, needs balance (else ValidationFailed on ``bonus``). NOK with
    autoRefillPositions gives the position back. Work appears only through
    :func:`simulate_submissions`.
"""
from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import create as creation
from . import data, jobs, model, slots, templates
from .rules import ApiError, validation_failed
from .slots import simulate_submissions

if TYPE_CHECKING:
    from ..core import Sandbox

__all__ = ["create_app", "fault_answer", "simulate_submissions"]

Handler = Callable[[Request], Awaitable[Response]]


def problem(status: int, code: str, detail: str, instance: str = "", errors: list[dict[str, str]] | None = None,
            **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": data.ERROR_TYPE_BASE + code, "title": code, "status": status, "detail": detail,
                            "instance": instance}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


class _Gate:
    """ASGI middleware: API-key check before routing, and an ``X-Request-ID`` on every response."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.api_key = api_key

    def _authorised(self, scope: Scope) -> bool:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        key = headers.get("microworkersapikey")
        auth = headers.get("authorization", "")
        if key is None and auth[:7].lower() == "bearer ":
            key = auth[7:].strip()
        return key is not None and hmac.compare_digest(key.encode(), self.api_key.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        if not self._authorised(scope):
            response = problem(401, "Unauthorized", "Missing or invalid API key (MicroworkersApiKey header).",
                               scope.get("path", ""))
            await response(scope, receive, send_with_id)
            return
        await self.app(scope, receive, send_with_id)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise validation_failed([("body", "Malformed JSON.")]) from None


def create_app(sandbox: Sandbox) -> Starlette:
    sb = sandbox
    store = sb.store

    def ok(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(content, status_code=status, headers=headers)

    def accepted(job: dict[str, Any]) -> Response:
        return Response(status_code=202, headers={"queue-job-id": model.JOB_IDS.encode(job["id"])})

    # -- reference data ---------------------------------------------------------------------
    async def account(request: Request) -> Response:
        return ok(model.account(sb))

    async def categories(request: Request) -> Response:
        return ok(data.categories_response())

    async def configuration(request: Request) -> Response:
        return ok(data.configuration_response())

    async def hire_groups(request: Request) -> Response:
        items = [{"id": gid, "name": name, "workersCount": n} for gid, (name, n) in data.HIRE_GROUPS.items()]
        return ok({"items": items, "nextPageToken": None})

    # -- campaigns --------------------------------------------------------------------------
    def campaign_routes(prefix: str, kind: str) -> list[Route]:
        def load(request: Request) -> dict[str, Any]:
            return model.load_campaign(sb, request.path_params["id"], kind)

        async def listing(request: Request) -> Response:
            return ok(model.list_campaigns(sb, kind, dict(request.query_params)))

        async def create(request: Request) -> Response:
            body = await _body(request)
            with store.transaction():
                doc = creation.create_campaign(sb, body, kind)
                info = model.render_campaign(sb, doc)
            return ok(info, 201, {"Location": f"{request.url.path.rstrip('/')}/{info['id']}"})

        async def get(request: Request) -> Response:
            with store.transaction():
                doc = jobs.advance_campaign_jobs(sb, load(request))
                return ok(model.render_campaign(sb, doc))

        async def patch(request: Request) -> Response:
            body = await _body(request)
            with store.transaction():
                doc = model.patch_campaign(sb, load(request), body)
                return ok(model.render_campaign(sb, doc))

        def action(fn: Callable[[Sandbox, dict[str, Any]], None]) -> Handler:
            async def run(request: Request) -> Response:
                with store.transaction():
                    fn(sb, load(request))
                return Response(status_code=204)

            return run

        async def restart(request: Request) -> Response:
            body = await _body(request)
            with store.transaction():
                return accepted(jobs.restart(sb, load(request), body))

        async def tasks_groups(request: Request) -> Response:
            body = await _body(request)
            with store.transaction():
                return accepted(jobs.add_tasks_groups(sb, load(request), body))

        async def slot_list(request: Request) -> Response:
            return ok(slots.list_slots(sb, load(request), dict(request.query_params)))

        async def task_list(request: Request) -> Response:
            return ok(slots.list_tasks(sb, load(request), dict(request.query_params)))

        one = prefix + "/{id}"
        routes = [
            Route(prefix, listing, methods=["GET"]),
            Route(prefix, create, methods=["POST"]),
            Route(one, get, methods=["GET"]),
            Route(one, patch, methods=["PATCH"]),
            Route(one + "/pause", action(model.pause), methods=["PUT"]),
            Route(one + "/resume", action(model.resume), methods=["PUT"]),
            Route(one + "/stop", action(model.stop), methods=["PUT"]),
            Route(one + "/restart", restart, methods=["POST"]),
            Route(one + "/tasks-groups", tasks_groups, methods=["POST"]),
            Route(one + "/slots", slot_list, methods=["GET"]),
        ]
        if not sb.settings.docs_only:  # guesses v2.route.archive and v2.route.tasks
            routes += [
                Route(one + "/archive", action(lambda s, d: model.archive(s, d, "ARCHIVE")), methods=["PUT"]),
                Route(one + "/unarchive", action(lambda s, d: model.archive(s, d, "DEFAULT")), methods=["PUT"]),
                Route(one + "/tasks", task_list, methods=["GET"]),
            ]
        return routes

    # -- queue jobs, templates, slots -------------------------------------------------------
    async def queue_job(request: Request) -> Response:
        with store.transaction():
            job = jobs.poll(sb, jobs.load_job(sb, request.path_params["id"]))
            return ok(jobs.render_job(sb, job))

    async def template_list(request: Request) -> Response:
        params = dict(request.query_params)
        items, token = model.paginate(store.list(data.PLATFORM, "template"), lambda t: [t["id"]],
                                      size=model.page_size(params), token=params.get("nextPageToken"),
                                      context="templates")
        return ok({"items": [templates.render_template(t) for t in items], "nextPageToken": token})

    async def template_create(request: Request) -> Response:
        body = await _body(request)
        with store.transaction():
            tpl = templates.render_template(templates.create_template(sb, body))
        return ok(tpl, 201, {"Location": f"{request.url.path.rstrip('/')}/{tpl['id']}"})

    async def template_get(request: Request) -> Response:
        return ok(templates.render_template(templates.load_template(sb, request.path_params["id"])))

    async def template_put(request: Request) -> Response:
        body = await _body(request)
        with store.transaction():
            doc = templates.update_template(sb, templates.load_template(sb, request.path_params["id"]), body)
            return ok(templates.render_template(doc))

    async def template_delete(request: Request) -> Response:
        with store.transaction():
            store.delete(data.PLATFORM, "template", templates.load_template(sb, request.path_params["id"])["id"])
        return Response(status_code=204)

    async def slot_get(request: Request) -> Response:
        return ok(slots.render_slot(slots.load_slot(sb, request.path_params["id"]), sb.settings.docs_only))

    async def slot_rate(request: Request) -> Response:
        body = await _body(request)
        with store.transaction():
            slots.rate(sb, slots.load_slot(sb, request.path_params["id"]), body)
        return Response(status_code=204)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return problem(exc.status, exc.code, exc.detail, request.url.path, exc.errors, **exc.extra)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "Error")
        return problem(exc.status_code, code, str(exc.detail), request.url.path)

    routes = [
        Route("/accounts/me", account, methods=["GET"]),
        Route("/basic-categories", categories, methods=["GET"]),
        Route("/basic-campaigns/configuration", configuration, methods=["GET"]),
        *campaign_routes("/basic-campaigns", model.BASIC),
        *campaign_routes("/hire-group-campaigns", model.HIRE_GROUP),
        Route("/queue-jobs/{id}", queue_job, methods=["GET"]),
        Route("/templates", template_list, methods=["GET"]),
        Route("/templates", template_create, methods=["POST"]),
        Route("/templates/{id}", template_get, methods=["GET"]),
        Route("/templates/{id}", template_put, methods=["PUT"]),
        Route("/templates/{id}", template_delete, methods=["DELETE"]),
        Route("/slots/{id}", slot_get, methods=["GET"]),
        Route("/slots/{id}/rate", slot_rate, methods=["PUT"]),
        slots.submit_route(sb),
    ]
    if not sb.settings.docs_only:  # guess v2.route.hire-groups
        routes.append(Route("/hire-groups", hire_groups, methods=["GET"]))
    app = Starlette(routes=routes, exception_handlers={ApiError: api_error, HTTPException: http_error})
    app.add_middleware(_Gate, api_key=sb.settings.api_key)
    return app


def fault_answer(status: int, reason: str, text: str) -> tuple[bytes, bytes]:
    """An injected error (:mod:`campaignctl.sandbox.faults`) as a problem+json document."""
    body = {"type": "about:blank", "title": reason, "status": status, "detail": text}
    return b"application/problem+json", json.dumps(body).encode()
