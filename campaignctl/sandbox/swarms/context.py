"""SWARMS sandbox: the request context every handler gets (:class:`Ctx`), routes built from handlers, and
the middleware (request id, API version, auth) with the error handlers."""
from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..store import Store, dumps

if TYPE_CHECKING:
    from ..core import Sandbox, Settings
from .common import (
    API_VERSION,
    RUNNING,
    ApiError,
    P,
    invalid,
    not_found,
    read_only,
    route_path,
    task_sizes,
    timestamp,
)
from .settings import PlatformSettings

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
        #: serve only what the docs document (:mod:`.guesses` lists what this switches off)
        self.docs_only = bool(self.settings.docs_only)
        self.knobs = self.settings.of(PlatformSettings)  #: this platform's own (settings.py)
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
        for job in self.store.get_many(P, "job", sorted(jobs)).values():  # one query, not one per job
            tasks.update(job["_tasks"])
        return jobs, tasks

    def is_locked(self, kind: str, id: int) -> bool:
        jobs, tasks = self.locked()
        return id in (jobs if kind == "job" else tasks)

    def read_only(self, kind: str, doc: dict[str, Any]) -> bool:
        if kind == "campaign":
            return bool(doc["state"] != "unpublished")
        return self.knobs.strict_readonly and self.is_locked(kind, doc["id"])

    def relation_writable(self, kind: str, doc: dict[str, Any]) -> None:
        """``PUT /jobs/{id}/tasks``, ``POST|PUT /campaigns/{id}/jobs``: a read-only object's relations
        are read-only too (``readOnly``: "whether the resource can be modified"); with
        ``strict_readonly`` off (a guess) a published campaign's job list stays editable."""
        if self.knobs.strict_readonly or kind != "campaign":
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


def ensure_writable(ctx: Ctx, kind: str, doc: dict[str, Any]) -> None:
    if not ctx.read_only(kind, doc):
        return
    if kind == "campaign":
        raise read_only(kind, doc["id"], f"its state is '{doc['state']}'; only unpublished campaigns can be changed "
                                         "(copy it, change the copy and publish that)")
    raise read_only(kind, doc["id"], "it is used by an active or paused campaign")


# --------------------------------------------------------------------------------------------
# middleware: request id, version, auth
# --------------------------------------------------------------------------------------------


def stored_tokens(store: Store) -> dict[str, str]:
    tokens: dict[str, str] = store.kv_get(P, "tokens", {})
    return tokens


def token_valid(store: Store, settings: Settings, token: str | None) -> bool:
    if not token:
        return False
    if secrets.compare_digest(token, settings.api_key):
        return True
    expires = stored_tokens(store).get(token)
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


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return ApiError(405, 4005, "method not allowed", f"{request.method} is not allowed on {route_path(request.scope)}").response()
    if exc.status_code == 404:
        return ApiError(404, 4004, "not found", f"no such URL: {route_path(request.scope)}").response()
    return ApiError(exc.status_code, exc.status_code, "error", str(exc.detail)).response()
