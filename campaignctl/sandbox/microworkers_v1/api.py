"""Microworkers legacy API v1 sandbox (``https://api.microworkers.com``), mounted at ``/microworkers-v1``.

Built from ``api-docs/microworkers-v1-*.txt`` (endpoint index, ``change_group``, ``rate_tasks``), the
v1 notes in ``api-docs/README.md`` and the public v1 reference pages (``microworkers.com/api.php``).
Modules: this one (app, dispatch, campaign endpoints), :mod:`.tasks` (tasks, rating, results CSV,
exclude list), :mod:`.core` (form parsing, storage, status transitions, helpers), :mod:`.data`,
:mod:`.create` (new_campaign), :mod:`.submit` (the submission simulator); the guesses: :mod:`.guesses`.

Protocol
  * Header ``MicroworkersApiKey`` must equal ``settings.api_key``; otherwise HTTP 401
    ``{"status": "ERROR", "error": "WRONG API KEY"}`` (guess: string and status).
  * GET reads the query string; POST/PUT/DELETE read a form body (urlencoded or multipart; the query
    string is merged in). Arrays are PHP style: ``worker[]=a&worker[]=b`` or ``worker[0]=a``.
    Mutating campaign endpoints accept POST and PUT alike (the index lists them as "POST, PUT").
  * Replies are JSON ``{"status": "SUCCESS", ...}`` or ``{"status": "ERROR", "error": ..., ...}``.
    HTTP status: 200 for almost every ERROR, as the legacy API does; the exceptions (so a client is
    tested on both) are 401 (API key), 404 (``NO SUCH CAMPAIGN``, ``NO SUCH TASK``, unknown endpoint
    ``{"error": "UNKNOWN METHOD"}``), 405 (wrong HTTP method, ``"METHOD NOT ALLOWED"``) and 500
    (``SYSTEM ERROR``, only when injected with :func:`fail_next`).
  * Record values (get_info, lists, tasks) are JSON strings as on the pages' examples
    (``"available_positions": "100"``, money with 5 decimals ``"0.10000"``, datetimes
    ``"YYYY-MM-DD HH:MM:SS"`` UTC, unset ``"0000-00-00 00:00:00"``); values computed by an action
    (``speed_new``, ``positions_added``, ``qt_required`` of toggle) are JSON numbers.

Decisions (strings called "the page's" come from the public v1 pages; everything else is a guess)
  * ``new_campaign``: basic errors come as ``"error": [messages]`` (page: "array of error messages"),
    hire-group as ``"errors": [messages]``; every failed rule is listed at once. Messages:
    ``TITLE IS MANDATORY, INCORRECT ZONE, INCORRECT SELECTED COUNTRIES, UNKNOWN CATEGORY,
    INCORRECT MINUTES TO FINISH VALUE (1..10080), INCORRECT AVAILABLE POSITIONS VALUE,
    INCORRECT PAYMENT PER TASK VALUE, PAYMENT PER TASK TOO LOW (+ "min_payment_per_task": "0.10"),
    INCORRECT SPEED VALUE, REQUIRED WORK IS MANDATORY, REQUIRED PROOF IS MANDATORY,
    TOO MANY REQUIRED PROOFS (hg, > 3), INCORRECT TTR VALUE, INCORRECT AUTO RATE VALUE,
    INCORRECT FILE PROOF VALUE, INCORRECT QT REQUIRED VALUE, UNKNOWN GROUP,
    INCORRECT MAX POSITIONS PER WORKER VALUE, INCORRECT DESCRIPTION TYPE VALUE,
    CSV FILE IS MANDATORY FOR UNIQUE DESCRIPTION TYPE, NOT ENOUGH FUNDS`` (funds only once the rest
    is valid). Success: ``{"status": "SUCCESS", "campaign_id": "<12 hex>"}``.
  * Basic ``available_positions`` must be > 30 (31 passes, 30 fails: the page says "Must be higher
    than 30"); hire-group >= 1. ``max_positions_per_worker`` >= 0 (0 = unlimited, as in v2).
  * ``selected_countries`` ("IN CN US", spaces or commas, or ``selected_countries[]``) only counts
    for zone ``int`` and is dropped for the other zones; get_info returns it space-joined.
  * Hire-group campaigns have no zone and no speed (the hg page has neither; ``set_speed``,
    ``retarget`` and ``zones_list`` exist only under ``/campaign_b/``; ``groups_list`` and
    ``change_group`` only under ``/campaign_hg/``). hg ``required_proof`` (string or up to 3
    ``required_proof[]``) is returned as a list.
  * Money: creating / adding / restarting charges ``payment_per_task * positions * 1.10`` (10% fee)
    from the balance (``settings.balance`` at start); a bonus costs its amount; nothing is refunded.
    Minimum payment = category base (categories_list) x zone factor (categories_list
    ``min_payment_per_zone``).
  * Statuses: new -> PENDING_REVIEW -> RUNNING after ``review_seconds`` (:mod:`.settings`) (restart:
    PENDING_RESTART -> RUNNING likewise), computed lazily. RUNNING -> FINISHED by itself when
    positions_done reaches available_positions. pause: RUNNING only (``CAMPAIGN NOT RUNNING``);
    resume: PAUSED only (``CAMPAIGN NOT PAUSED``); stop: RUNNING|PAUSED (``CAMPAIGN NOT RUNNING OR
    PAUSED``); set_speed/retarget/change_group: RUNNING|PAUSED (``CAMPAIGN NOT RUNNING OR PAUSED``);
    add_positions: RUNNING|PAUSED (``CAMPAIGN STATUS ERROR``, the page's string); restart: FINISHED
    (``CAMPAIGN NOT FINISHED``); toggle_qt_required: any status. Lifecycle replies carry
    ``campaign_status``. Every campaign-changing call (not rating) on an archived campaign (folder
    ARCHIVE, set with :func:`archive_campaign`) answers ``ARCHIVED CAMPAIGN``. Admin statuses
    (PAUSED_ADMIN, BLOCKED, ...) via :func:`set_status`.
  * ``rate_task`` (singular) follows its public page: PUT ``id_task, rating, comment, bonus,
    favorite`` -> ``{"status": "SUCCESS", "campaign_id", "task_id"}`` or ``{"status": "ERROR",
    "error"}`` with ``TASK NOT IN THIS CAMPAIGN, ONLY NOTRATED TASK CAN BE RATED, TASK RATING VALUE
    CAN ONLY BE OK OR NOK, COMMENT TO WORKER MISSING, CAMPAIGN IS PAUSED_ADMIN, CAMPAIGN IS
    PENDING_REVIEW`` and the bonus messages of rate_tasks.
  * Time: whole seconds; :func:`simulate_submissions` moves sandbox time forward past the last
    submission it invents, so ratings always come after submissions.
  * Tasks get ids from 1000001 up; workers are 8-hex ids; the exclude list GET gives
    ``{"User ID", "Username", "Country"}`` per worker (the public page's shape).
  * ``campaigns_*/list`` and ``list_extend`` answer ``NO CAMPAIGNS`` (an ERROR, per the page) when
    nothing matches; no ``folder`` means both folders.
  * Campaign ids: 12 hex chars, an HMAC of the row id keyed with ``settings.seed``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core import Sandbox
from . import core, tasks
from . import data as D
from .core import (
    Params,
    add_group,
    archive_campaign,
    balance,
    fail,
    fail_next,
    find_campaign,
    no_such_campaign,
    ok,
    set_status,
)
from .create import countries_param, int_in, new_campaign
from .guesses import V1_CAMPAIGN_GUESSED_FIELDS
from .settings import PlatformSettings
from .submit import sandbox_submit, simulate_submissions

__all__ = [
    "add_group",
    "archive_campaign",
    "balance",
    "create_app",
    "fail_next",
    "fault_answer",
    "set_status",
    "simulate_submissions",
]

P = D.PLATFORM
Handler = Callable[[Sandbox, str, str, Params], Awaitable[Response]]


# -- reads -------------------------------------------------------------------------------------
def _record(sb: Sandbox, c: dict[str, Any]) -> dict[str, Any]:
    """A campaign's record; in docs-only mode without the guessed fields (:mod:`.guesses`)."""
    rec = core.campaign_record(c)
    if sb.settings.docs_only:
        for key in V1_CAMPAIGN_GUESSED_FIELDS:
            rec.pop(key, None)
    return rec


async def get_info(sb: Sandbox, kind: str, cid: str, params: Params) -> Response:
    c = find_campaign(sb, kind, cid)
    if c is None:
        return no_such_campaign(cid)
    return ok(**_record(sb, c))


async def get_status(sb: Sandbox, kind: str, cid: str, params: Params) -> Response:
    c = find_campaign(sb, kind, cid)
    if c is None:
        return no_such_campaign(cid)
    return ok(campaign_id=c["campaign_id"], campaign_status=c["status"])


def _list_filters(params: Params) -> tuple[list[str], list[Callable[[dict[str, Any]], bool]]]:
    errors: list[str] = []
    preds: list[Callable[[dict[str, Any]], bool]] = []
    status = params.scalar("status")
    if status:
        if status in D.STATUSES:
            preds.append(lambda c: c["status"] == status)
        else:
            errors.append("Status has invalid value")
    folder = params.scalar("folder")
    if folder:
        if folder in D.FOLDERS:
            preds.append(lambda c: c["folder"] == folder)
        else:
            errors.append("Folder has invalid value")
    for field, label in (("created", "Created"), ("restarted", "Restarted"), ("finished", "Finished")):
        for edge, word in (("from", "From"), ("to", "To")):
            text = params.scalar(f"{field}_{edge}")
            if not text:
                continue
            ts = core.parse_dt(text)
            if ts is None:
                errors.append(f"{label} {word} is invalid datetime")
            else:
                preds.append(_time_bound(field, ts, edge == "from"))
    return errors, preds


def _time_bound(field: str, ts: float, lower: bool) -> Callable[[dict[str, Any]], bool]:
    def pred(c: dict[str, Any]) -> bool:
        value = c.get(field)
        if not value:
            return False
        return bool(value >= ts) if lower else bool(value <= ts)

    return pred


async def list_campaigns(sb: Sandbox, kind: str, extend: bool, params: Params) -> Response:
    errors, preds = _list_filters(params)
    if errors:
        return fail(D.INPUT_DATA, after={"errors_list": errors})
    out = []
    with sb.store.transaction():
        for c in sb.store.list(P, "campaign", where={"type": kind}):
            if core.refresh(sb, c):
                core.save(sb, c)
            if all(p(c) for p in preds):
                rec = _record(sb, c)
                if not extend:
                    rec = {k: rec[k] for k in ("campaign_id", "title", "campaign_status", "folder") if k in rec}
                out.append(rec)
    if not out:
        return fail(D.NO_CAMPAIGNS)
    return ok(count=len(out), campaigns=out)


async def categories_list(sb: Sandbox, kind: str, _id: str, params: Params) -> Response:
    cats = []
    for cat_id, (name, _) in D.CATEGORIES.items():
        item: dict[str, Any] = {
            "category_id": cat_id,
            "category_name": name,
            "min_payment_per_task": f"{D.min_payment(cat_id, None):.2f}",
        }
        if kind == "b":
            item["min_payment_per_zone"] = {z: f"{D.min_payment(cat_id, z):.2f}" for z in D.ZONES}
        cats.append(item)
    return ok(categories=cats)


async def zones_list(sb: Sandbox, kind: str, _id: str, params: Params) -> Response:
    zones = [
        {
            "zone_id": zid,
            "zone_name": name,
            "countries": [{"code": c, "name": D.COUNTRY_NAMES[c]} for c in codes],
        }
        for zid, (name, codes) in D.ZONES.items()
    ]
    return ok(zones=zones)


async def groups_list(sb: Sandbox, kind: str, _id: str, params: Params) -> Response:
    items = [{"group_id": gid, "group_name": name, "workers": str(n)} for gid, (name, n) in core.groups(sb).items()]
    return ok(groups=items)


# -- lifecycle and changes ---------------------------------------------------------------------
#: a campaign-changing endpoint's work on the campaign it was found: (sandbox, campaign, cid, params)
Change = Callable[[Sandbox, dict[str, Any], str, Params], Response]


def _changing(change: Change) -> Handler:
    """A campaign-changing endpoint: in one transaction, the campaign ``cid`` of ``kind`` (else
    ``NO SUCH CAMPAIGN``; an archived one: ``ARCHIVED CAMPAIGN``) handed to ``change``."""

    async def handler(sb: Sandbox, kind: str, cid: str, params: Params) -> Response:
        with sb.store.transaction():
            c = find_campaign(sb, kind, cid)
            if c is None:
                return no_such_campaign(cid)
            if c["folder"] == "ARCHIVE":
                return fail(D.ARCHIVED_CAMPAIGN, campaign_id=cid)
            return change(sb, c, cid, params)

    handler.__name__ = change.__name__
    return handler


def _status_error(c: dict[str, Any], error: str) -> Response:
    return fail(error, campaign_id=c["campaign_id"], after={"campaign_status": c["status"]})


def _transition(allowed: tuple[str, ...], error: str, target: str) -> Handler:
    def transition(sb: Sandbox, c: dict[str, Any], cid: str, params: Params) -> Response:
        if c["status"] not in allowed:
            return _status_error(c, error)
        c["status"] = target
        if target == "FINISHED":
            c["finished"] = core.now(sb)
        core.save(sb, c)
        return ok(campaign_id=cid, campaign_status=target)

    return _changing(transition)


@_changing
def set_speed(sb: Sandbox, c: dict[str, Any], cid: str, params: Params) -> Response:
    speed = int_in(params, "speed", 1, D.MAX_SPEED)
    if speed is None:
        return fail(D.INCORRECT_SPEED, campaign_id=cid)
    if c["status"] not in ("RUNNING", "PAUSED"):
        return _status_error(c, D.NOT_RUNNING_OR_PAUSED)
    previous, c["speed"] = c["speed"], speed
    core.save(sb, c)
    return ok(campaign_id=cid, speed_previous=previous, speed_new=speed)


@_changing
def add_positions(sb: Sandbox, c: dict[str, Any], cid: str, params: Params) -> Response:
    positions = int_in(params, "positions", 1, D.MAX_ADD_POSITIONS)
    if positions is None:
        return fail(D.POSITIONS_OUT_OF_RANGE, campaign_id=cid)
    if c["status"] not in ("RUNNING", "PAUSED"):
        return _status_error(c, D.STATUS_ERROR)
    cost = core.positions_cost(c["payment_per_task"], positions)
    if core.balance(sb) < cost:
        return fail(D.NOT_ENOUGH_FUNDS, campaign_id=cid)
    core.set_balance(sb, core.balance(sb) - cost)
    c["available_positions"] += positions
    c["cost"] = round(c["cost"] + cost, 5)
    core.save(sb, c)
    return ok(campaign_id=cid, positions_added=positions)


@_changing
def retarget(sb: Sandbox, c: dict[str, Any], cid: str, params: Params) -> Response:
    zone = params.scalar("zone") or c["zone"]
    if zone not in D.ZONES:
        return fail("INCORRECT ZONE", campaign_id=cid)
    if zone != "int":
        countries: list[str] = []
    elif params.has("selected_countries"):
        countries = countries_param(params)
    else:
        countries = c["selected_countries"] if c["zone"] == "int" else []
    if any(code not in D.COUNTRY_NAMES for code in countries):
        return fail("INCORRECT SELECTED COUNTRIES", campaign_id=cid)
    if c["status"] not in ("RUNNING", "PAUSED"):
        return _status_error(c, D.NOT_RUNNING_OR_PAUSED)
    minimum = D.min_payment(c["category"], zone)
    if c["payment_per_task"] < minimum - 1e-9:
        return fail("PAYMENT PER TASK TOO LOW", campaign_id=cid, after={"min_payment_per_task": f"{minimum:.2f}"})
    c["zone"], c["selected_countries"] = zone, countries
    core.save(sb, c)
    return ok(campaign_id=cid, zone=zone, selected_countries=" ".join(countries))


@_changing
def restart_campaign(sb: Sandbox, c: dict[str, Any], cid: str, params: Params) -> Response:
    if core.take_fault(sb, "restart_campaign"):
        return fail(D.SYSTEM_ERROR, 500, campaign_id=cid)
    if c["status"] != "FINISHED":
        return _status_error(c, D.NOT_FINISHED)
    positions = int_in(params, "positions", 0, D.MAX_ADD_POSITIONS)
    if positions is None or (positions == 0 and c["positions_done"] >= c["available_positions"]):
        return fail(D.INPUT_DATA, campaign_id=cid, after={"errors_list": ["Positions has invalid value"]})
    cost = core.positions_cost(c["payment_per_task"], positions)
    if core.balance(sb) < cost:
        return fail(D.INPUT_DATA, campaign_id=cid, after={"errors_list": ["Not enough funds"]})
    core.set_balance(sb, core.balance(sb) - cost)
    t = core.now(sb)
    c["available_positions"] += positions
    c["cost"] = round(c["cost"] + cost, 5)
    c.update(status="PENDING_RESTART", restarted=t, finished=None, review_until=t + sb.settings.of(PlatformSettings).review_seconds)
    core.refresh(sb, c)
    core.save(sb, c)
    return ok(campaign_id=cid, positions_added=positions)


@_changing
def toggle_qt_required(sb: Sandbox, c: dict[str, Any], cid: str, params: Params) -> Response:
    c["qt_required"] = not c["qt_required"]
    core.save(sb, c)
    return ok(campaign_id=cid, qt_required=1 if c["qt_required"] else 0)


async def change_group(sb: Sandbox, kind: str, cid: str, params: Params) -> Response:
    group = params.scalar("group_id") or ""
    with sb.store.transaction():
        c = find_campaign(sb, kind, cid)

        def error(message: str, status: int = 200) -> Response:
            return JSONResponse(
                {"status": "ERROR", "campaign_id": cid, "group_id": group, "error": message}, status_code=status
            )

        if c is None:
            return error(D.NO_SUCH_CAMPAIGN, 404)
        if c["folder"] == "ARCHIVE":
            return error(D.ARCHIVED_CAMPAIGN)
        if c["status"] not in ("RUNNING", "PAUSED"):
            return error(D.NOT_RUNNING_OR_PAUSED)
        if group not in core.groups(sb):
            return error(D.UNKNOWN_GROUP)
        c["group_id"] = group
        core.save(sb, c)
    return ok(campaign_id=cid, group_id=group)


# -- dispatch ----------------------------------------------------------------------------------
READ = ("GET",)
WRITE = ("POST", "PUT")
BOTH = ("b", "hg")

# action -> (methods, kinds, handler)
ACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], Handler]] = {
    "new_campaign": (WRITE, BOTH, new_campaign),
    "get_info": (READ, BOTH, get_info),
    "get_status": (READ, BOTH, get_status),
    "categories_list": (READ, BOTH, categories_list),
    "zones_list": (READ, ("b",), zones_list),
    "groups_list": (READ, ("hg",), groups_list),
    "stop": (WRITE, BOTH, _transition(("RUNNING", "PAUSED"), D.NOT_RUNNING_OR_PAUSED, "FINISHED")),
    "pause": (WRITE, BOTH, _transition(("RUNNING",), D.NOT_RUNNING, "PAUSED")),
    "resume": (WRITE, BOTH, _transition(("PAUSED",), D.NOT_PAUSED, "RUNNING")),
    "set_speed": (WRITE, ("b",), set_speed),
    "add_positions": (WRITE, BOTH, add_positions),
    "retarget": (WRITE, ("b",), retarget),
    "restart_campaign": (WRITE, BOTH, restart_campaign),
    "toggle_qt_required": (WRITE, BOTH, toggle_qt_required),
    "change_group": (WRITE, ("hg",), change_group),
    "list_tasks": (READ, BOTH, tasks.list_tasks),
    "list_tasks_extend": (READ, BOTH, tasks.list_tasks_extend),
    "get_task_info": (READ, BOTH, tasks.get_task_info),
    "get_worker_tasks": (READ, BOTH, tasks.get_worker_tasks),
    "results_csv": (READ, BOTH, tasks.results_csv),
    "rate_task": (WRITE, BOTH, tasks.rate_task),
    "rate_tasks": (WRITE, BOTH, tasks.rate_tasks),
}


def create_app(sandbox: Sandbox) -> Starlette:
    async def dispatch(request: Request) -> Response:
        if request.headers.get("MicroworkersApiKey") != sandbox.settings.api_key:
            return fail(D.WRONG_API_KEY, 401)
        parts = [p for p in request.path_params.get("path", "").split("/") if p]
        method = request.method
        if parts == ["_sandbox", "submit"] and method == "POST":  # campaignctl sandbox submit, served
            return await sandbox_submit(sandbox, await core.parse_params(request))
        if parts == ["employer", "exclude_list"]:
            if method not in ("GET", "POST", "DELETE"):
                return fail("METHOD NOT ALLOWED", 405)
            return await tasks.exclude_list(sandbox, method, await core.parse_params(request))
        if len(parts) == 2 and parts[0] in ("campaigns_b", "campaigns_hg") and parts[1] in ("list", "list_extend"):
            if method != "GET":
                return fail("METHOD NOT ALLOWED", 405)
            kind = parts[0].removeprefix("campaigns_")
            return await list_campaigns(sandbox, kind, parts[1] == "list_extend", await core.parse_params(request))
        if len(parts) in (2, 3) and parts[0] in ("campaign_b", "campaign_hg") and parts[1] in ACTIONS:
            kind = parts[0].removeprefix("campaign_")
            methods, kinds, handler = ACTIONS[parts[1]]
            if kind in kinds:
                if method not in methods:
                    return fail("METHOD NOT ALLOWED", 405)
                ident = parts[2] if len(parts) == 3 else ""
                return await handler(sandbox, kind, ident, await core.parse_params(request))
        return fail("UNKNOWN METHOD", 404)

    return Starlette(
        routes=[Route("/{path:path}", dispatch, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])]
    )


def fault_answer(status: int, reason: str, text: str) -> tuple[bytes, bytes]:
    """An injected error (:mod:`campaignctl.sandbox.faults`) in the v1 API's ``{status, error}`` form."""
    return b"application/json", json.dumps({"status": "ERROR", "error": text}).encode()
