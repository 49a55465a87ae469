"""Sandbox of the SWARMS API 1.0 (``/work/shared/api-docs/swarms-api.txt``), mounted at ``/swarms``.

A faithful fake: what the docs say is done exactly; where they are silent we follow the
**inferred** notes of ``api-docs/README.md`` and the guesses listed below. Results (review) live in
:mod:`campaignctl.sandbox.swarms.results`.

Endpoints
---------
``POST /auth/token/request``, ``POST /auth/token/discard``, ``GET|PUT /me``,
``GET|POST /tasks|/jobs|/campaigns``, ``GET|PUT|DELETE /{kind}/{id}``,
``POST /{kind}/{id}/copy|archive|unarchive`` (``?deep=`` for jobs and campaigns),
``GET|PUT /jobs/{id}/tasks``, ``GET|POST|PUT /campaigns/{id}/jobs``,
``POST /campaigns/{id}/publish|pause|continue|cancel``, the result endpoints (see swarms_results)
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
  ``PUT /jobs/{id}/tasks`` and archive with 409 3001. ``strict_readonly=False`` (``sandbox serve
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
  is off; :mod:`.guesses_swarms` lists them all.
"""
from __future__ import annotations

import html
import itertools
import json
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..store import Store, dumps

if TYPE_CHECKING:
    from ..core import Sandbox, Settings

P = "swarms"
API_VERSION = "1.0"
TS_FORMAT = "%Y-%m-%dT%H:%M:%S"
COMMISSION_RATE = Decimal("0.2")
TOKEN_LIFETIME = timedelta(days=30)
USER_ID = 1
RUNNING = ("active", "paused")
KINDS = {"tasks": "task", "jobs": "job", "campaigns": "campaign"}

# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered as ``status`` + ``{code, message, description}``."""

    def __init__(self, status: int, code: int, message: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.message = message
        self.description = description

    def response(self) -> JSONResponse:
        body = {"code": self.code, "message": self.message, "description": self.description}
        return JSONResponse(body, status_code=self.status)


def invalid(errors: str | Iterable[str]) -> ApiError:
    text = errors if isinstance(errors, str) else "; ".join(errors)
    return ApiError(400, 2000, "validation failed", text)


def not_found(kind: str, id: int) -> ApiError:
    return ApiError(404, 4004, "not found", f"{kind} {id} does not exist")


def read_only(kind: str, id: int, why: str) -> ApiError:
    return ApiError(409, 3001, "resource is read-only", f"{kind} {id} is read-only: {why}")


def illegal_state(description: str) -> ApiError:
    return ApiError(409, 3000, "illegal state transition", description)


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None)


def timestamp(when: datetime | None = None) -> str:
    return (when or now()).strftime(TS_FORMAT)


def parse_minute_date(value: str) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` (also accepts ``:SS``), or None when malformed."""
    for fmt in ("%Y-%m-%dT%H:%M", TS_FORMAT):
        try:
            return datetime.strptime(value, fmt)
        except (TypeError, ValueError):
            continue
    return None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_int(value: Any) -> int | None:
    """An integral JSON number as int (3.0 -> 3), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def money(amount: Decimal) -> str:
    text = format(amount.quantize(Decimal("0.000001")).normalize(), "f")
    return f"{text} USD"


def route_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


# --------------------------------------------------------------------------------------------
# request context
# --------------------------------------------------------------------------------------------


class Ctx:
    """One request: the sandbox, the request, and per-request caches."""

    def __init__(self, sandbox: Sandbox, request: Request) -> None:
        self.sandbox = sandbox
        self.store: Store = sandbox.store
        self.settings: Settings = sandbox.settings
        self.request = request
        self.hal = "application/hal+json" in request.headers.get("accept", "")
        #: serve only what the docs document (guesses_swarms lists what this switches off)
        self.docs_only = bool(self.settings.docs_only)
        self._locked: tuple[set[int], set[int]] | None = None
        self._tasks: dict[int, dict[str, Any] | None] = {}

    # -- request --------------------------------------------------------------------------
    def path_id(self, name: str = "id") -> int:
        return int(self.request.path_params[name])

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    async def body(self, *, default: Any = None) -> Any:
        raw = await self.request.body()
        if not raw.strip():
            if default is not None:
                return default
            raise invalid("body: a JSON body is required")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise invalid(f"body: invalid JSON ({exc})") from None

    async def body_object(self, *, optional: bool = False) -> dict[str, Any]:
        data = await self.body(default={} if optional else None)
        if data is None and optional:  # ``null``: what the python SDK sends for an action without a body
            return {}
        if not isinstance(data, dict):
            raise invalid("body: must be a JSON object")
        return data

    def flag(self, name: str) -> bool:
        raw = self.query(name)
        if raw is None or raw == "":
            return False
        low = raw.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise invalid(f"{name}: must be true or false (got {raw!r})")

    # -- responses ------------------------------------------------------------------------
    def href(self, path: str, query: list[tuple[str, str]] | None = None) -> str:
        """A link as the docs write them (``"/resources?after=42&..."``) and the python SDK follows
        them (``base_url + href``): a path under the API base, without the sandbox's mount prefix."""
        return path + (f"?{urlencode(query)}" if query else "")

    def guessed_route(self) -> None:
        """A route the docs do not document: not served in docs-only mode (404 as any unknown URL)."""
        if self.docs_only:
            raise ApiError(404, 4004, "not found", f"no such URL: {route_path(self.request.scope)}")

    def respond(self, body: Any, status: int = 200) -> Response:
        media = "application/hal+json" if self.hal else "application/json"
        return Response(dumps(body), status_code=status, media_type=media)

    # -- data -----------------------------------------------------------------------------
    def get(self, kind: str, id: int) -> dict[str, Any]:
        doc = self.store.get(P, kind, id)
        if doc is None:
            raise not_found(kind, id)
        return doc

    def task(self, id: int) -> dict[str, Any] | None:
        if id not in self._tasks:
            self._tasks[id] = self.store.get(P, "task", id)
        return self._tasks[id]

    def task_sizes(self, ids: list[int]) -> list[tuple[int, int] | None]:
        """(resources MB, upload MB) of each task of ``ids`` (None: no such task), from the store's
        memo of them: a job's sizes add up its tasks', which would otherwise be read and decoded
        for every job listed (5 of every 6 documents a plan's reads decode)."""
        memo = self.store.memo(P, "task")
        missing = [i for i in ids if i not in memo]
        if missing:
            self.load_tasks(missing)
            for i in missing:
                task = self._tasks[i]
                memo[i] = task_sizes(task) if task else None
        return [memo[i] for i in ids]

    def load_tasks(self, ids: list[int]) -> None:
        """Read the tasks of ``ids`` not read yet in one query (``task`` then finds them)."""
        missing = [i for i in ids if i not in self._tasks]
        if missing:
            found = self.store.get_many(P, "task", missing)
            self._tasks.update((i, found.get(i)) for i in missing)

    def locked(self) -> tuple[set[int], set[int]]:
        """(job ids, task ids) used by an active or paused campaign; kept in the store's memos of
        campaigns and jobs across requests (every task rendered asks whether it is read-only), and
        worked out again once either kind may have changed (a token both memos must hold)."""
        if self._locked is None:
            campaigns, jobs_memo = self.store.memo(P, "campaign"), self.store.memo(P, "job")
            kept = campaigns.get("locked")
            if kept is not None and jobs_memo.get("locked") is kept[0]:
                self._locked = kept[1]
                return kept[1]
            token = object()
            campaigns["locked"] = (token, self._compute_locked())
            jobs_memo["locked"] = token
            self._locked = campaigns["locked"][1]
        return self._locked

    def _compute_locked(self) -> tuple[set[int], set[int]]:
        jobs: set[int] = set()
        for state in RUNNING:
            for campaign in self.store.list(P, "campaign", where={"state": state}):
                jobs.update(campaign["_jobs"])
        tasks: set[int] = set()
        for job_id in jobs:
            job = self.store.get(P, "job", job_id)
            if job:
                tasks.update(job["_tasks"])
        return jobs, tasks

    def is_locked(self, kind: str, id: int) -> bool:
        jobs, tasks = self.locked()
        return id in (jobs if kind == "job" else tasks)

    def read_only(self, kind: str, doc: dict[str, Any]) -> bool:
        if kind == "campaign":
            return bool(doc["state"] != "unpublished")
        return bool(self.settings.strict_readonly) and self.is_locked(kind, doc["id"])

    def relation_writable(self, kind: str, doc: dict[str, Any]) -> None:
        """``PUT /jobs/{id}/tasks``, ``POST|PUT /campaigns/{id}/jobs``: a read-only object's relations
        are read-only too (``readOnly``: "whether the resource can be modified"); with
        ``strict_readonly`` off (a guess) a published campaign's job list stays editable."""
        if self.settings.strict_readonly or kind != "campaign":
            ensure_writable(self, kind, doc)


Handler = Callable[[Ctx], Awaitable[Any]]


def make_route(sandbox: Sandbox, path: str, handler: Handler, methods: list[str]) -> Route:
    async def endpoint(request: Request) -> Response:
        ctx = Ctx(sandbox, request)
        out = await handler(ctx)
        if isinstance(out, Response):
            return out
        if isinstance(out, tuple):
            return ctx.respond(out[1], out[0])
        return ctx.respond(out)

    return Route(path, endpoint, methods=methods)


# --------------------------------------------------------------------------------------------
# middleware: request id, version, auth
# --------------------------------------------------------------------------------------------


def _tokens(store: Store) -> dict[str, str]:
    tokens: dict[str, str] = store.kv_get(P, "tokens", {})
    return tokens


def token_valid(store: Store, settings: Settings, token: str | None) -> bool:
    if not token:
        return False
    if secrets.compare_digest(token, settings.api_key):
        return True
    expires = _tokens(store).get(token)
    return expires is not None and expires > timestamp()


class ApiMiddleware:
    """Adds ``X-Request-ID``/``X-API-Version`` to every response; checks version and token."""

    PUBLIC = ("/auth/token/request",)

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["X-API-Version"] = API_VERSION
            await send(message)

        headers = Headers(scope=scope)
        version = headers.get("x-api-version")
        error: ApiError | None = None
        if version is not None and version.strip() not in ("1.0", "1"):
            error = ApiError(
                400, 1002, "unsupported API version",
                f"X-API-Version {version!r} is not supported; the current version is {API_VERSION}",
            )
        elif route_path(scope) not in self.PUBLIC and not token_valid(
            self.sandbox.store, self.sandbox.settings, headers.get("x-auth-token")
        ):
            missing = not headers.get("x-auth-token")
            error = ApiError(
                401, 1001, "missing auth token" if missing else "invalid auth token",
                "send an API token in the X-Auth-Token header" if missing
                else "the X-Auth-Token is unknown, discarded or expired",
            )
        if error is not None:
            await error.response()(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


async def _api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return ApiError(405, 4005, "method not allowed", f"{request.method} is not allowed on {route_path(request.scope)}").response()
    if exc.status_code == 404:
        return ApiError(404, 4004, "not found", f"no such URL: {route_path(request.scope)}").response()
    return ApiError(exc.status_code, exc.status_code, "error", str(exc.detail)).response()


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------

STRING, NUMBER, BOOLEAN, OPTION = "string", "number", "boolean", "Option Object"

COMPONENTS: dict[str, dict[str, str]] = {
    "AudioRecording": {"minDurationInSeconds": NUMBER, "maxDurationInSeconds": NUMBER},
    "BinaryChoice": {"option1": STRING, "option2": STRING},
    "BinaryImageChoice": {"option1": OPTION, "option2": OPTION},
    "ImageMarker": {"url": STRING},
    "Rating": {"steps": NUMBER, "halfSteps": BOOLEAN},
    "Stepper": {"min": NUMBER, "max": NUMBER, "step": NUMBER, "start": NUMBER},
    "TextInput": {"hint": STRING},
    "Toggle": {"label": STRING, "checkedByDefault": BOOLEAN, "explanation": STRING},
    "VideoRecording": {"orientation": STRING, "minDurationInSeconds": NUMBER, "maxDurationInSeconds": NUMBER},
    "Audio": {"url": STRING, "autoplay": BOOLEAN, "repeat": BOOLEAN, "mustListen": BOOLEAN},
    "Image": {"url": STRING},
    "Text": {"text": STRING, "style": STRING},
    "Video": {"url": STRING, "autoplay": BOOLEAN, "repeat": BOOLEAN, "mustWatch": BOOLEAN, "playAudio": BOOLEAN},
}
INTERACTIVE = (
    "AudioRecording", "BinaryChoice", "BinaryImageChoice", "ImageMarker", "Rating", "Stepper",
    "TextInput", "Toggle", "VideoRecording",
)
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Text", "style"): ("Question", "Instruction", "H1", "H2", "PlainText", "Html", "Quote"),
    ("VideoRecording", "orientation"): ("any", "portrait", "landscape"),
}
COMPONENT_FLAGS = ("sticky", "optionalResult", "landscape")
OPTION_KEYS = ("id", "url", "label")
READ_ONLY_FIELDS = frozenset(
    {"id", "readOnly", "createdAt", "lastModifiedAt", "archived", "resourcesSize", "estimatedUploadSize", "state", "_links"}
)
DURATION = re.compile(r"^([1-9][0-9]*) (sec|secs|min|mins|hour|hours|day|days)$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _is_type(value: Any, expected: str) -> bool:
    if expected == STRING:
        return isinstance(value, str)
    if expected == NUMBER:
        return is_number(value)
    if expected == BOOLEAN:
        return isinstance(value, bool)
    return isinstance(value, dict)


def check_fields(body: dict[str, Any], allowed: Iterable[str], where: str, errors: list[str]) -> None:
    allowed = set(allowed)
    for key in body:
        if key not in allowed and key not in READ_ONLY_FIELDS:
            errors.append(f"{where}{key}: unknown field (allowed: {', '.join(sorted(allowed))})")


def check_name(body: dict[str, Any], errors: list[str]) -> str:
    name = body.get("name")
    if name is None:
        errors.append("name: required")
    elif not isinstance(name, str):
        errors.append(f"name: must be a string (got {_type_name(name)})")
    elif not name.strip():
        errors.append("name: must not be empty")
    return name if isinstance(name, str) else ""


def check_string(body: dict[str, Any], field: str, errors: list[str], default: str = "") -> str:
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        errors.append(f"{field}: must be a string (got {_type_name(value)})")
        return default
    return value


def check_properties(body: dict[str, Any], errors: list[str], where: str = "") -> dict[str, Any]:
    value = body.get("properties")
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{where}properties: must be an object of key/value pairs (got {_type_name(value)})")
        return {}
    return value


def validate_component(comp: Any, where: str, errors: list[str]) -> dict[str, Any]:
    if not isinstance(comp, dict):
        errors.append(f"{where}: must be an object (got {_type_name(comp)})")
        return {}
    check_fields(comp, ("type", *COMPONENT_FLAGS, "properties"), f"{where}.", errors)
    ctype = comp.get("type")
    out: dict[str, Any] = {"type": ctype}
    if ctype is None:
        errors.append(f"{where}.type: required (one of {', '.join(COMPONENTS)})")
    elif ctype not in COMPONENTS:
        errors.append(f"{where}.type: unknown component type {ctype!r} (one of {', '.join(COMPONENTS)})")
    for flag in COMPONENT_FLAGS:
        value = comp.get(flag, False)
        if value is None:
            value = False
        if not isinstance(value, bool):
            errors.append(f"{where}.{flag}: must be a boolean (got {_type_name(value)})")
        out[flag] = value
    props = comp.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        errors.append(f"{where}.properties: must be an object (got {_type_name(props)})")
        props = {}
    if ctype in COMPONENTS:
        _validate_attributes(ctype, props, f"{where}.properties", errors)
    out["properties"] = props
    return out


def _validate_attributes(ctype: str, props: dict[str, Any], where: str, errors: list[str]) -> None:
    table = COMPONENTS[ctype]
    for key, value in props.items():
        if key not in table:
            allowed = ", ".join(table)
            errors.append(f"{where}.{key}: unknown attribute for {ctype} (allowed: {allowed})")
            continue
        expected = table[key]
        if not _is_type(value, expected):
            errors.append(f"{where}.{key}: must be a {expected} (got {_type_name(value)})")
            continue
        if expected == OPTION:
            for okey, ovalue in value.items():
                if okey not in OPTION_KEYS:
                    errors.append(f"{where}.{key}.{okey}: unknown attribute of an Option Object (allowed: id, url, label)")
                elif not isinstance(ovalue, str):
                    errors.append(f"{where}.{key}.{okey}: must be a string (got {_type_name(ovalue)})")
        choices = ENUMS.get((ctype, key))
        if choices and value not in choices:
            errors.append(f"{where}.{key}: must be one of {', '.join(choices)} (got {value!r})")
    _check_ranges(ctype, props, where, errors)


def _check_ranges(ctype: str, props: dict[str, Any], where: str, errors: list[str]) -> None:
    def num(key: str) -> float | None:
        value = props.get(key)
        return value if is_number(value) else None

    if ctype == "Rating" and "steps" in props and is_number(props["steps"]):
        steps = as_int(props["steps"])
        if steps is None or steps < 1:
            errors.append(f"{where}.steps: must be a whole number >= 1 (got {props['steps']!r})")
    if ctype == "Stepper":
        lo, hi, step, start = num("min"), num("max"), num("step"), num("start")
        if step is not None and step <= 0:
            errors.append(f"{where}.step: must be > 0 (got {step!r})")
        if lo is not None and hi is not None and lo > hi:
            errors.append(f"{where}.min: must be <= max ({lo!r} > {hi!r})")
        if start is not None and ((lo is not None and start < lo) or (hi is not None and start > hi)):
            errors.append(f"{where}.start: must lie within min..max (got {start!r})")
    if ctype in ("AudioRecording", "VideoRecording"):
        lo, hi = num("minDurationInSeconds"), num("maxDurationInSeconds")
        for key, value in (("minDurationInSeconds", lo), ("maxDurationInSeconds", hi)):
            if value is not None and value < 0:
                errors.append(f"{where}.{key}: must be >= 0 (got {value!r})")
        if lo is not None and hi is not None and lo > hi:
            errors.append(f"{where}.minDurationInSeconds: must be <= maxDurationInSeconds ({lo!r} > {hi!r})")


def validate_task(body: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    check_fields(body, ("name", "components", "properties"), "", errors)
    name = check_name(body, errors)
    comps = body.get("components")
    components: list[dict[str, Any]] = []
    if comps is None:
        comps = []
    if not isinstance(comps, list):
        errors.append(f"components: must be an array (got {_type_name(comps)})")
        comps = []
    for index, comp in enumerate(comps):
        components.append(validate_component(comp, f"components[{index}]", errors))
    properties = check_properties(body, errors)
    if errors:
        raise invalid(errors)
    return {"name": name, "components": components, "properties": properties}


def validate_job(body: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    check_fields(body, ("name", "description", "properties"), "", errors)
    out = {
        "name": check_name(body, errors),
        "description": check_string(body, "description", errors),
        "properties": check_properties(body, errors),
    }
    if errors:
        raise invalid(errors)
    return out


CAMPAIGN_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("name", None),
    "title": ("string", None),
    "description": ("string", ""),
    "terms": ("string", ""),
    "estDuration": ("duration", None),
    "workerPayment": ("payment", None),
    "results": ("count", None),
    "maxResultsPerWorker": ("count", None),
    "workerGroup": ("count", None),
    "maxWorkTime": ("duration", None),
    "maxUploadTime": ("duration", None),
    "maxReviewTime": ("duration", None),
    "training": ("boolean", False),
    "startDate": ("date", None),
    "endDate": ("date", None),
    "properties": ("object", {}),
}


def _campaign_value(field: str, kind: str, value: Any, errors: list[str]) -> Any:
    if kind == "string":
        if not isinstance(value, str):
            errors.append(f"{field}: must be a string (got {_type_name(value)})")
        return value
    if kind == "duration":
        if not isinstance(value, str) or not DURATION.match(value):
            errors.append(f"{field}: must be a duration like '10 sec', '10 min', '4 hours' or '2 days' (got {value!r})")
        return value
    if kind == "payment":
        if not is_number(value):
            errors.append(f"{field}: must be a number of USD (got {_type_name(value)})")
        elif value <= 0:
            errors.append(f"{field}: must be > 0 (got {value!r})")
        return value
    if kind == "count":
        number = as_int(value)
        if number is None:
            errors.append(f"{field}: must be a whole number (got {value!r})")
        elif number < 1:
            errors.append(f"{field}: must be >= 1 (got {number})")
        return number if number is not None else value
    if kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{field}: must be a boolean (got {_type_name(value)})")
        return value
    if kind == "date":
        if not isinstance(value, str) or not DATE.match(value) or parse_minute_date(value) is None:
            errors.append(f"{field}: must be a date like '2018-01-01T10:00' (YYYY-MM-DDTHH:MM) (got {value!r})")
        return value
    if not isinstance(value, dict):
        errors.append(f"{field}: must be an object of key/value pairs (got {_type_name(value)})")
    return value


def validate_campaign(body: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    check_fields(body, CAMPAIGN_FIELDS, "", errors)
    out: dict[str, Any] = {}
    for field, (kind, default) in CAMPAIGN_FIELDS.items():
        if kind == "name":
            out[field] = check_name(body, errors)
            continue
        value = body.get(field)
        out[field] = default if value is None else _campaign_value(field, kind, value, errors)
    start, end = out["startDate"], out["endDate"]
    if isinstance(start, str) and isinstance(end, str):
        start_at, end_at = parse_minute_date(start), parse_minute_date(end)
        if start_at and end_at and end_at <= start_at:
            errors.append(f"endDate: must be after startDate ({end} <= {start})")
    if errors:
        raise invalid(errors)
    if isinstance(out["properties"], dict):
        out["properties"] = dict(out["properties"])
    return out


def parse_id_list(data: Any, what: str) -> list[int]:
    if not isinstance(data, list):
        raise invalid(f"body: must be a JSON array of {what} ids (got {_type_name(data)})")
    ids: list[int] = []
    errors = []
    for index, item in enumerate(data):
        number = as_int(item)
        if number is None:
            errors.append(f"[{index}]: must be a {what} id (got {item!r})")
        else:
            ids.append(number)
    if errors:
        raise invalid(errors)
    return ids


def check_linkable(ctx: Ctx, kind: str, ids: Iterable[int]) -> None:
    """400 code 2001 when an id is unknown or archived."""
    problems = []
    for id in dict.fromkeys(ids):
        doc = ctx.task(id) if kind == "task" else ctx.store.get(P, kind, id)
        if doc is None:
            problems.append(f"{kind} {id} does not exist")
        elif doc.get("archived"):
            problems.append(f"{kind} {id} is archived")
    if problems:
        raise ApiError(400, 2001, "unknown id in list", "; ".join(problems))


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------

RESOURCE_MB = {"Image": 1, "ImageMarker": 1, "Audio": 2, "BinaryImageChoice": 2, "Video": 10}
UPLOAD_MB = {"AudioRecording": 1, "ImageMarker": 1, "VideoRecording": 20}


def task_sizes(task: dict[str, Any]) -> tuple[int, int]:
    types = [c.get("type") for c in task.get("components", [])]
    return sum(RESOURCE_MB.get(t, 0) for t in types), sum(UPLOAD_MB.get(t, 0) for t in types)


def render_component(comp: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": comp.get("type"),
        "sticky": bool(comp.get("sticky", False)),
        "optionalResult": bool(comp.get("optionalResult", False)),
        "landscape": bool(comp.get("landscape", False)),
        "properties": comp.get("properties") or {},
    }


def _common(ctx: Ctx, kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["id"],
        "readOnly": ctx.read_only(kind, doc),
        "lastModifiedAt": doc["lastModifiedAt"],
        "createdAt": doc["createdAt"],
        "archived": doc["archived"],
    }


def _archive_link(ctx: Ctx, base: str, doc: dict[str, Any]) -> dict[str, dict[str, str]]:
    if ctx.docs_only:  # link names nothing documents (the SDK follows self, copy, tasks, jobs, results, lifecycle)
        return {}
    if doc["archived"]:
        return {"unarchive": {"href": ctx.href(f"{base}/unarchive")}}
    if doc.get("state") in RUNNING:
        return {}
    return {"archive": {"href": ctx.href(f"{base}/archive")}}


def render_task(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    resources, upload = task_sizes(doc)
    out = {
        "name": doc["name"],
        "components": [render_component(c) for c in doc["components"]],
        "properties": doc["properties"],
        "resourcesSize": f"{resources}MB",
        "estimatedUploadSize": f"{upload}MB",
        **_common(ctx, "task", doc),
    }
    if ctx.hal:
        base = f"/tasks/{doc['id']}"
        out["_links"] = {"self": {"href": ctx.href(base)}, "copy": {"href": ctx.href(f"{base}/copy")},
                         **_archive_link(ctx, base, doc)}
    return out


def render_job(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    resources = upload = 0
    for sizes in ctx.task_sizes(doc["_tasks"]):
        if sizes:
            resources, upload = resources + sizes[0], upload + sizes[1]
    out = {
        "name": doc["name"],
        "description": doc["description"],
        "properties": doc["properties"],
        "resourcesSize": f"{resources}MB",
        "estimatedUploadSize": f"{upload}MB",
        **_common(ctx, "job", doc),
    }
    if ctx.hal:
        base = f"/jobs/{doc['id']}"
        out["_links"] = {"self": {"href": ctx.href(base)}, "tasks": {"href": ctx.href(f"{base}/tasks")},
                         "copy": {"href": ctx.href(f"{base}/copy")}, **_archive_link(ctx, base, doc)}
    return out


CAMPAIGN_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "publish": (("unpublished",), "active"),
    "pause": (("active",), "paused"),
    "continue": (("paused",), "active"),
    "cancel": (RUNNING, "cancelled"),
}


def render_campaign(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    out = {field: doc.get(field, default) for field, (_, default) in CAMPAIGN_FIELDS.items()}
    out["state"] = doc["state"]
    out.update(_common(ctx, "campaign", doc))
    if ctx.hal:
        base = f"/campaigns/{doc['id']}"
        links = {"self": {"href": ctx.href(base)}}
        for action, (states, _) in CAMPAIGN_ACTIONS.items():
            if doc["state"] in states:
                links[action] = {"href": ctx.href(f"{base}/{action}")}
        links["jobs"] = {"href": ctx.href(f"{base}/jobs")}
        if doc["state"] != "unpublished":  # results exist once published; the SDK finds them only by this link
            links["results"] = {"href": ctx.href(f"{base}/results")}
        links["copy"] = {"href": ctx.href(f"{base}/copy")}
        links.update(_archive_link(ctx, base, doc))
        out["_links"] = links
    return out


RENDER: dict[str, Callable[[Ctx, dict[str, Any]], dict[str, Any]]] = {
    "task": render_task, "job": render_job, "campaign": render_campaign,
}

# --------------------------------------------------------------------------------------------
# paging
# --------------------------------------------------------------------------------------------

ORDER_FIELDS = ("id", "name", "lastModifiedAt", "createdAt")


@dataclass
class Page:
    items: list[Any]
    next: int | None = None
    previous: int | None = None


def int_param(ctx: Ctx, name: str, *, default: int | None, lo: int, hi: int | None = None) -> int | None:
    raw = ctx.query(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name}: must be an integer (got {raw!r})") from None
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise invalid(f"{name}: must be {bound} (got {value})")
    return value


def cursor_params(ctx: Ctx) -> tuple[int, int | None, int | None]:
    limit = int_param(ctx, "limit", default=10, lo=1, hi=100)
    after = int_param(ctx, "after", default=None, lo=0)
    before = int_param(ctx, "before", default=None, lo=0)
    if after is not None and before is not None:
        raise invalid("after, before: use only one of them")
    assert limit is not None
    return limit, after, before


def order_param(ctx: Ctx) -> list[tuple[str, bool]]:
    keys: list[tuple[str, bool]] = []
    for raw in ctx.request.query_params.getlist("order"):
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            desc = part.startswith("-")
            name = part.lstrip("-+")
            if name not in ORDER_FIELDS:
                raise invalid(f"order: must be one of {', '.join(ORDER_FIELDS)}, optionally prefixed by '-' (got {part!r})")
            keys.append((name, desc))
    return keys or [("id", False)]


def search_words(ctx: Ctx) -> list[str]:
    return re.findall(r"\w+", (ctx.query("search") or "").casefold())


def name_matches(words: list[str]) -> Callable[[dict[str, Any]], bool] | None:
    if not words:
        return None

    def match(doc: dict[str, Any]) -> bool:
        name_words = set(re.findall(r"\w+", str(doc.get("name", "")).casefold()))
        return all(word in name_words for word in words)

    return match


def _scan(
    store: Store, kind: str, *, start: int | None, asc: bool, where: dict[str, Any] | None,
    pred: Callable[[dict[str, Any]], bool] | None, chunk: int,
) -> Iterator[dict[str, Any]]:
    """Objects past ``start`` in id order (ascending or descending), fetched ``chunk`` at a time."""
    cursor = start
    while True:
        rows = store.list(
            P, kind, where=where, after=cursor if asc else None, before=None if asc else cursor,
            limit=chunk, descending=not asc,
        )
        for row in rows:
            if pred is None or pred(row):
                yield row
        if len(rows) < chunk:
            return
        cursor = rows[-1]["id"]


def page_by_id(
    store: Store, kind: str, *, limit: int, after: int | None, before: int | None, asc: bool = True,
    where: dict[str, Any] | None = None, pred: Callable[[dict[str, Any]], bool] | None = None,
) -> Page:
    """A page in id order, paged in SQL (never loads the table)."""
    chunk = limit + 1 if pred is None else 250

    def scan(start: int | None, forward: bool, size: int = chunk) -> Iterator[dict[str, Any]]:
        return _scan(store, kind, start=start, asc=forward == asc, where=where, pred=pred, chunk=size)

    probe = 1 if pred is None else 250
    if before is None:
        items = list(itertools.islice(scan(after, True), limit + 1))
        has_next = len(items) > limit
        items = items[:limit]
        has_prev = bool(items) and next(scan(items[0]["id"], False, probe), None) is not None
    else:
        items = list(itertools.islice(scan(before, False), limit + 1))
        has_prev = len(items) > limit
        items = items[:limit][::-1]
        has_next = bool(items) and next(scan(items[-1]["id"], True, probe), None) is not None
    return Page(items, items[-1]["id"] if has_next else None, items[0]["id"] if has_prev else None)


def page_sorted(items: list[dict[str, Any]], *, limit: int, after: int | None, before: int | None) -> Page:
    """A page of an in-memory ordered list; cursors are ids of items in the list."""
    ids = [item["id"] for item in items]

    def position(cursor: int, name: str) -> int:
        try:
            return ids.index(cursor)
        except ValueError:
            raise invalid(f"{name}: {cursor} is not an item of this listing") from None

    if before is not None:
        end = position(before, "before")
        start = max(0, end - limit)
    else:
        start = position(after, "after") + 1 if after is not None else 0
        end = min(len(items), start + limit)
    window = items[start:end]
    return Page(
        window,
        window[-1]["id"] if window and end < len(items) else None,
        window[0]["id"] if window and start > 0 else None,
    )


def page_positions(items: list[Any], *, limit: int, after: int | None, before: int | None) -> Page:
    """A page of a list that may repeat ids; cursors are 1-based positions."""
    total = len(items)
    if after is not None:
        start = min(after, total)
        end = min(total, start + limit)
    elif before is not None:
        end = min(max(before - 1, 0), total)
        start = max(0, end - limit)
    else:
        start, end = 0, min(total, limit)
    window = items[start:end]
    return Page(window, end if window and end < total else None, start + 1 if window and start > 0 else None)


def page_links(ctx: Ctx, page: Page) -> dict[str, Any]:
    kept = [(k, v) for k, v in ctx.request.query_params.multi_items() if k not in ("after", "before")]
    path = route_path(ctx.request.scope)
    links: dict[str, Any] = {}
    if page.next is not None:
        links["next"] = {"href": ctx.href(path, [("after", str(page.next)), *kept])}
    if page.previous is not None:
        links["previous"] = {"href": ctx.href(path, [("before", str(page.previous)), *kept])}
    return links


def sort_docs(docs: list[dict[str, Any]], keys: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    docs = sorted(docs, key=lambda d: d["id"])
    for field, desc in reversed(keys):
        if field == "name":
            docs.sort(key=lambda d: str(d.get("name", "")).casefold(), reverse=desc)
        else:
            docs.sort(key=lambda d, f=field: d[f], reverse=desc)  # type: ignore[misc]
    return docs


def list_page(ctx: Ctx, kind: str) -> Page:
    limit, after, before = cursor_params(ctx)
    keys = order_param(ctx)
    pred = name_matches(search_words(ctx))
    if len(keys) == 1 and keys[0][0] == "id":
        return page_by_id(ctx.store, kind, limit=limit, after=after, before=before, asc=not keys[0][1], pred=pred)
    docs = ctx.store.list(P, kind)
    if pred is not None:
        docs = [d for d in docs if pred(d)]
    return page_sorted(sort_docs(docs, keys), limit=limit, after=after, before=before)


# --------------------------------------------------------------------------------------------
# money
# --------------------------------------------------------------------------------------------


def get_balance(store: Store, settings: Settings) -> dict[str, Decimal]:
    raw = store.kv_get(P, "balance")
    if raw is None:
        return {"available": Decimal(str(settings.balance)), "frozen": Decimal(0)}
    return {"available": Decimal(raw["available"]), "frozen": Decimal(raw["frozen"])}


def set_balance(store: Store, balance: dict[str, Decimal]) -> None:
    store.kv_set(P, "balance", {k: str(v) for k, v in balance.items()})


def unit_cost(campaign: dict[str, Any]) -> Decimal:
    """What one approved result costs: the worker payment plus commission."""
    return Decimal(str(campaign.get("workerPayment") or 0)) * (1 + COMMISSION_RATE)


def campaign_budget(campaign: dict[str, Any], job_count: int) -> Decimal:
    return unit_cost(campaign) * int(campaign.get("results") or 0) * job_count


def refreeze(ctx: Ctx, campaign: dict[str, Any], target: Decimal) -> None:
    """Move money so that the campaign has ``target`` frozen (409 3003 when available is short)."""
    target = max(Decimal(0), target)
    current = Decimal(campaign.get("_frozen", "0"))
    delta = target - current
    balance = get_balance(ctx.store, ctx.settings)
    if delta > balance["available"]:
        raise ApiError(
            409, 3003, "insufficient balance",
            f"campaign {campaign['id']} needs {money(delta)} more frozen but only "
            f"{money(balance['available'])} is available",
        )
    balance["available"] -= delta
    balance["frozen"] += delta
    set_balance(ctx.store, balance)
    campaign["_frozen"] = str(target)


def release_frozen(ctx: Ctx, campaign: dict[str, Any], amount: Decimal | None = None) -> None:
    """Unfreeze ``amount`` (default: all) of the campaign's frozen money."""
    current = Decimal(campaign.get("_frozen", "0"))
    refreeze(ctx, campaign, current - (current if amount is None else min(amount, current)))


# --------------------------------------------------------------------------------------------
# auth and profile
# --------------------------------------------------------------------------------------------

PROFILE_EDITABLE = ("firstName", "lastName", "phone", "organization", "website")
PROFILE_READ_ONLY = ("id", "customerId", "balance", "email", "logo", "commissionRate", "charity")


def profile(ctx: Ctx) -> dict[str, Any]:
    stored = ctx.store.kv_get(P, "profile", {})
    balance = get_balance(ctx.store, ctx.settings)
    return {
        "firstName": stored.get("firstName", "Sandbox"),
        "lastName": stored.get("lastName", "Requester"),
        "phone": stored.get("phone", "+10000000000"),
        "organization": stored.get("organization", "campaignctl sandbox"),
        "website": stored.get("website", "www.example.org"),
        "id": USER_ID,
        "customerId": "SANDBOX1",
        "balance": {"available": money(balance["available"]), "frozen": money(balance["frozen"])},
        "email": ctx.settings.swarms_email,
        "logo": "https://logo.sandbox.swarms.test/logo.png",
        "commissionRate": float(COMMISSION_RATE),
        "charity": False,
    }


async def token_request(ctx: Ctx) -> Any:
    body = await ctx.body_object()
    errors = [f"{f}: required string" for f in ("email", "password") if not isinstance(body.get(f), str)]
    if errors:
        raise invalid(errors)
    if body["email"] != ctx.settings.swarms_email or not secrets.compare_digest(
        str(body["password"]), ctx.settings.api_key
    ):
        raise ApiError(401, 1000, "invalid credentials", "The given credentials did not match any user in our database")
    token = secrets.token_urlsafe(32)
    expires = timestamp(now() + TOKEN_LIFETIME)
    with ctx.store.transaction():
        tokens = {k: v for k, v in _tokens(ctx.store).items() if v > timestamp()}
        tokens[token] = expires
        ctx.store.kv_set(P, "tokens", tokens)
    return {"accessToken": token, "expiresAt": expires, "userId": USER_ID}


async def token_discard(ctx: Ctx) -> Any:
    token = ctx.request.headers.get("x-auth-token", "")
    with ctx.store.transaction():
        tokens = _tokens(ctx.store)
        if tokens.pop(token, None) is not None:
            ctx.store.kv_set(P, "tokens", tokens)
    return {}


async def get_me(ctx: Ctx) -> Any:
    return profile(ctx)


async def put_me(ctx: Ctx) -> Any:
    body = await ctx.body_object()
    errors: list[str] = []
    for key, value in body.items():
        if key in PROFILE_READ_ONLY or key == "_links":
            continue
        if key not in PROFILE_EDITABLE:
            errors.append(f"{key}: unknown field (editable: {', '.join(PROFILE_EDITABLE)})")
        elif value is not None and not isinstance(value, str):
            errors.append(f"{key}: must be a string (got {_type_name(value)})")
    if errors:
        raise invalid(errors)
    with ctx.store.transaction():
        stored = ctx.store.kv_get(P, "profile", {})
        stored.update({k: (v or "") for k, v in body.items() if k in PROFILE_EDITABLE})
        ctx.store.kv_set(P, "profile", stored)
    return profile(ctx)


# --------------------------------------------------------------------------------------------
# tasks, jobs, campaigns: CRUD
# --------------------------------------------------------------------------------------------

VALIDATE: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "task": validate_task, "job": validate_job, "campaign": validate_campaign,
}


def new_doc(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    stamp = timestamp()
    doc = {**fields, "archived": False, "createdAt": stamp, "lastModifiedAt": stamp}
    if kind == "job":
        doc["_tasks"] = []
    if kind == "campaign":
        doc.update(state="unpublished", _jobs=[], _frozen="0", _paid="0")
    return doc


def touch(doc: dict[str, Any]) -> dict[str, Any]:
    doc["lastModifiedAt"] = timestamp()
    return doc


def collection_handlers(plural: str) -> dict[str, Handler]:
    kind = KINDS[plural]

    async def list_all(ctx: Ctx) -> Any:
        page = list_page(ctx, kind)
        if kind == "job":  # each job's sizes add up its tasks': those not known read in one query
            ctx.task_sizes([t for d in page.items for t in d["_tasks"]])
        return {"_links": page_links(ctx, page), plural: [RENDER[kind](ctx, d) for d in page.items]}

    async def create(ctx: Ctx) -> Any:
        fields = VALIDATE[kind](await ctx.body_object())
        with ctx.store.transaction():
            doc = ctx.store.insert(P, kind, new_doc(kind, fields))
        return 201, RENDER[kind](ctx, doc)

    async def get_one(ctx: Ctx) -> Any:
        return RENDER[kind](ctx, ctx.get(kind, ctx.path_id()))

    async def update(ctx: Ctx) -> Any:
        body = await ctx.body_object()
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            ensure_writable(ctx, kind, doc)
            doc.update(VALIDATE[kind](body))
            ctx.store.put(P, kind, doc["id"], touch(doc))
        return RENDER[kind](ctx, doc)

    async def delete(ctx: Ctx) -> Any:
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            DELETE[kind](ctx, doc)
        return {}

    async def copy(ctx: Ctx) -> Any:
        deep = ctx.flag("deep") if kind != "task" else False
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            clone = copy_doc(ctx, kind, doc, deep, {})
        return 201, RENDER[kind](ctx, clone)

    async def archive(ctx: Ctx) -> Any:
        deep = ctx.flag("deep") if kind != "task" else False
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            if kind == "campaign" and doc["state"] in RUNNING:
                raise illegal_state(
                    f"cannot archive campaign {doc['id']} in state '{doc['state']}'; cancel it first"
                )
            if kind != "campaign" and ctx.read_only(kind, doc):
                raise read_only(kind, doc["id"], "it is used by an active or paused campaign")
            set_archived(ctx, kind, doc, True, deep)
        return RENDER[kind](ctx, ctx.get(kind, doc["id"]))

    async def unarchive(ctx: Ctx) -> Any:
        with ctx.store.transaction():
            doc = ctx.get(kind, ctx.path_id())
            set_archived(ctx, kind, doc, False, True)
        return RENDER[kind](ctx, ctx.get(kind, doc["id"]))

    return {"list": list_all, "create": create, "get": get_one, "update": update, "delete": delete,
            "copy": copy, "archive": archive, "unarchive": unarchive}


def ensure_writable(ctx: Ctx, kind: str, doc: dict[str, Any]) -> None:
    if not ctx.read_only(kind, doc):
        return
    if kind == "campaign":
        raise read_only(kind, doc["id"], f"its state is '{doc['state']}'; only unpublished campaigns can be changed "
                                         "(copy it, change the copy and publish that)")
    raise read_only(kind, doc["id"], "it is used by an active or paused campaign")


def _delete_member(kind: str, parent: str, field: str) -> Callable[[Ctx, dict[str, Any]], None]:
    """Deleting a task or job: refused while an active or paused campaign uses it, else it is taken
    out of every job / campaign that lists it."""

    def delete(ctx: Ctx, doc: dict[str, Any]) -> None:
        if ctx.is_locked(kind, doc["id"]):
            raise ApiError(409, 3005, "resource in use", f"{kind} {doc['id']} is used by an active or paused campaign")
        for owner in ctx.store.list(P, parent):
            if doc["id"] in owner[field]:
                owner[field] = [m for m in owner[field] if m != doc["id"]]
                ctx.store.put(P, parent, owner["id"], touch(owner))
        ctx.store.delete(P, kind, doc["id"])

    return delete


def _delete_campaign(ctx: Ctx, doc: dict[str, Any]) -> None:
    if doc["state"] in RUNNING:
        raise ApiError(409, 3002, "campaign must be cancelled before delete",
                       f"campaign {doc['id']} is {doc['state']}; cancel it before deleting it")
    release_frozen(ctx, doc)
    for result in ctx.store.list(P, "result", where={"_campaign": doc["id"]}):
        ctx.store.delete(P, "result", result["id"])
    ctx.store.delete(P, "campaign", doc["id"])


DELETE: dict[str, Callable[[Ctx, dict[str, Any]], None]] = {
    "task": _delete_member("task", "job", "_tasks"), "job": _delete_member("job", "campaign", "_jobs"),
    "campaign": _delete_campaign,
}
CHILD = {"campaign": ("job", "_jobs"), "job": ("task", "_tasks")}


def copy_doc(ctx: Ctx, kind: str, doc: dict[str, Any], deep: bool, copied: dict[tuple[str, int], int]) -> dict[str, Any]:
    """Insert a copy (same name, unpublished, not archived); deep copies children once each."""
    fields = {k: v for k, v in doc.items() if k not in ("id", "archived", "createdAt", "lastModifiedAt")}
    clone = new_doc(kind, {k: v for k, v in fields.items() if not k.startswith("_") and k != "state"})
    if kind in CHILD:
        child_kind, attr = CHILD[kind]
        children = list(doc[attr])
        if deep:
            mapped = []
            for child_id in children:
                key = (child_kind, child_id)
                if key not in copied:
                    child = ctx.store.get(P, child_kind, child_id)
                    if child is None:
                        continue
                    copied[key] = copy_doc(ctx, child_kind, child, True, copied)["id"]
                mapped.append(copied[key])
            children = mapped
        clone[attr] = children
    return ctx.store.insert(P, kind, clone)


def set_archived(ctx: Ctx, kind: str, doc: dict[str, Any], archived: bool, deep: bool) -> None:
    if doc["archived"] != archived:
        doc["archived"] = archived
        ctx.store.put(P, kind, doc["id"], touch(doc))
        if kind == "task":
            ctx._tasks.pop(doc["id"], None)
    if deep and kind in CHILD:
        child_kind, attr = CHILD[kind]
        for child_id in dict.fromkeys(doc[attr]):
            child = ctx.store.get(P, child_kind, child_id)
            if child is not None:
                set_archived(ctx, child_kind, child, archived, True)


# --------------------------------------------------------------------------------------------
# job tasks and campaign jobs
# --------------------------------------------------------------------------------------------


async def get_job_tasks(ctx: Ctx) -> Any:
    job = ctx.get("job", ctx.path_id())
    limit, after, before = cursor_params(ctx)
    page = page_positions(job["_tasks"], limit=limit, after=after, before=before)
    ctx.load_tasks(page.items)
    tasks = [ctx.task(i) for i in page.items]
    return {"_links": page_links(ctx, page), "tasks": [render_task(ctx, t) for t in tasks if t]}


async def put_job_tasks(ctx: Ctx) -> Any:
    ids = parse_id_list(await ctx.body(), "task")
    with ctx.store.transaction():
        job = ctx.get("job", ctx.path_id())
        ctx.relation_writable("job", job)
        check_linkable(ctx, "task", ids)
        job["_tasks"] = ids
        ctx.store.put(P, "job", job["id"], touch(job))
    return {}


async def get_campaign_jobs(ctx: Ctx) -> Any:
    campaign = ctx.get("campaign", ctx.path_id())
    limit, after, before = cursor_params(ctx)
    page = page_positions(campaign["_jobs"], limit=limit, after=after, before=before)
    found = ctx.store.get_many(P, "job", page.items)
    jobs = [found.get(i) for i in page.items]
    ctx.task_sizes([t for j in jobs if j for t in j["_tasks"]])
    return {"_links": page_links(ctx, page), "jobs": [render_job(ctx, j) for j in jobs if j]}


def _set_campaign_jobs(ctx: Ctx, campaign: dict[str, Any], ids: list[int]) -> None:
    if campaign["state"] not in ("unpublished", *RUNNING):
        raise illegal_state(
            f"cannot change the jobs of campaign {campaign['id']} in state '{campaign['state']}'; "
            "jobs can be changed while unpublished" + ("" if ctx.settings.strict_readonly else ", active or paused")
        )
    ctx.relation_writable("campaign", campaign)
    check_linkable(ctx, "job", ids)
    if campaign["state"] in RUNNING:
        added = [i for i in ids if i not in campaign["_jobs"]]
        _check_jobs_have_tasks(ctx, added)
        refreeze(ctx, campaign, campaign_budget(campaign, len(ids)) - Decimal(campaign.get("_paid", "0")))
    campaign["_jobs"] = ids
    ctx.store.put(P, "campaign", campaign["id"], touch(campaign))


async def post_campaign_jobs(ctx: Ctx) -> Any:
    ids = parse_id_list(await ctx.body(), "job")
    with ctx.store.transaction():
        campaign = ctx.get("campaign", ctx.path_id())
        merged = list(campaign["_jobs"])
        merged += [i for i in dict.fromkeys(ids) if i not in merged]
        _set_campaign_jobs(ctx, campaign, merged)
    return {}


async def put_campaign_jobs(ctx: Ctx) -> Any:
    ids = parse_id_list(await ctx.body(), "job")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise invalid(f"body: job ids must be unique in a campaign (repeated: {', '.join(map(str, duplicates))})")
    with ctx.store.transaction():
        _set_campaign_jobs(ctx, ctx.get("campaign", ctx.path_id()), ids)
    return {}


# --------------------------------------------------------------------------------------------
# campaign lifecycle
# --------------------------------------------------------------------------------------------


def not_ready(campaign: dict[str, Any], why: str) -> ApiError:
    return ApiError(409, 3004, "campaign not ready to publish", f"campaign {campaign['id']} cannot be published: {why}")


def _check_jobs_have_tasks(ctx: Ctx, job_ids: Iterable[int], campaign: dict[str, Any] | None = None) -> None:
    problems = []
    for job_id in job_ids:
        job = ctx.store.get(P, "job", job_id)
        if job is None:
            continue
        if job["archived"]:
            problems.append(f"job {job_id} is archived")
        if not job["_tasks"]:
            problems.append(f"job {job_id} has no tasks")
        problems += [f"task {t} of job {job_id} is archived" for t in dict.fromkeys(job["_tasks"])
                     if (ctx.task(t) or {}).get("archived")]
    if problems:
        raise ApiError(409, 3004, "campaign not ready to publish", "; ".join(problems))


def publish(ctx: Ctx, campaign: dict[str, Any]) -> None:
    if campaign["archived"]:
        raise not_ready(campaign, "it is archived")
    missing = [f for f in ("title", "workerPayment", "results") if campaign.get(f) in (None, "")]
    if missing:
        raise not_ready(campaign, f"missing {', '.join(missing)}")
    if not campaign["_jobs"]:
        raise not_ready(campaign, "it has no jobs")
    _check_jobs_have_tasks(ctx, campaign["_jobs"])
    refreeze(ctx, campaign, campaign_budget(campaign, len(campaign["_jobs"])))
    campaign["_paid"] = "0"
    campaign["_publishedAt"] = timestamp()


def pending_results(ctx: Ctx, campaign_id: int) -> int:
    return sum(
        len(ctx.store.list(P, "result", where={"_campaign": campaign_id, "state": state}))
        for state in ("InReview", "SoftRejected")
    )


def lifecycle(action: str) -> Handler:
    states, target = CAMPAIGN_ACTIONS[action]

    async def handler(ctx: Ctx) -> Any:
        with ctx.store.transaction():
            campaign = ctx.get("campaign", ctx.path_id())
            if campaign["state"] not in states:
                raise illegal_state(
                    f"cannot {action} campaign {campaign['id']}: its state is '{campaign['state']}' "
                    f"and {action} is only allowed when {' or '.join(states)}"
                )
            if action == "publish":
                publish(ctx, campaign)
            elif action == "cancel":  # keep what results under review may still cost, unfreeze the rest
                keep = unit_cost(campaign) * pending_results(ctx, campaign["id"])
                refreeze(ctx, campaign, min(keep, Decimal(campaign.get("_frozen", "0"))))
            campaign["state"] = target
            ctx.store.put(P, "campaign", campaign["id"], touch(campaign))
        return {} if ctx.docs_only else render_campaign(ctx, campaign)  # the docs show no reply body

    return handler


# --------------------------------------------------------------------------------------------
# markdown preview
# --------------------------------------------------------------------------------------------


def _inline_markdown(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", r'<img src="\2" alt="\1">', text)
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*|__([^_]+)__", lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    return re.sub(r"\*([^*]+)\*|_([^_]+)_", lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)


def markdown_to_html(text: str) -> str:
    """Headings, paragraphs, bullet/numbered lists, emphasis, code, links and images."""
    out: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append(f"<p>{' '.join(paragraph)}</p>")
            paragraph.clear()
        if list_tag:
            out.append(f"</{list_tag}>")
            list_tag = None

    for raw in text.splitlines():
        line = raw.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        bullet = re.match(r"^[-*+]\s+(.*)$", line)
        number = re.match(r"^\d+[.)]\s+(.*)$", line)
        if not line:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline_markdown(heading.group(2))}</h{level}>")
        elif bullet or number:
            tag = "ul" if bullet else "ol"
            if paragraph or (list_tag and list_tag != tag):
                flush()
            if list_tag is None:
                out.append(f"<{tag}>")
                list_tag = tag
            out.append(f"<li>{_inline_markdown((bullet or number).group(1))}</li>")  # type: ignore[union-attr]
        else:
            if list_tag:
                flush()
            paragraph.append(_inline_markdown(line))
    flush()
    return "\n".join(out)


async def preview_markdown(ctx: Ctx) -> Any:
    body = await ctx.body_object()
    text = body.get("text")
    if not isinstance(text, str):
        raise invalid("text: required string")
    return {} if ctx.docs_only else {"html": markdown_to_html(text)}  # the docs show no reply body


# --------------------------------------------------------------------------------------------
# app
# --------------------------------------------------------------------------------------------


def simulate_submissions(sandbox: Sandbox, campaign_id: int, count: int, seed: int = 0) -> list[dict[str, Any]]:
    """Add ``count`` InReview results to an active campaign (see :mod:`.swarms_results`)."""
    from .results import simulate_submissions as simulate

    return simulate(sandbox, campaign_id, count, seed)


def routes(sandbox: Sandbox) -> list[BaseRoute]:
    from . import results as swarms_results

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
    out += [r(path, handler, method) for path, handler, method in swarms_results.ROUTES]
    return out


def create_app(sandbox: Sandbox) -> Starlette:
    app = Starlette(
        routes=routes(sandbox),
        exception_handlers={ApiError: _api_error_handler, HTTPException: _http_error_handler},
    )
    app.add_middleware(ApiMiddleware, sandbox=sandbox)
    app.state.sandbox = sandbox
    return app


def fault_answer(status: int, reason: str, text: str) -> tuple[bytes, bytes]:
    """An injected error (:mod:`campaignctl.sandbox.faults`) in SWARMS's error format."""
    return b"application/json", json.dumps({"code": status, "message": reason, "description": text}).encode()
