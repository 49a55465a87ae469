"""The sandbox ASGI app: each platform of the registry (:data:`campaignctl.platforms.PLATFORMS`)
mounted under its ``prefix`` (served on loopback: ``http://127.0.0.1:PORT<prefix>``, the provider
endpoint), plus a small admin API. Each platform's app is ``create_app(sandbox)`` of its sandbox
package (``sandbox/<package>/api.py``), handed the :class:`~.core.Sandbox`; this module only
assembles them.

``/_sandbox/stats`` counts the calls each platform received (by method), so tests and benchmarks
can measure what a command cost server-side; ``/_sandbox/reset-stats`` zeroes the counters.
These admin routes (and ``/_sandbox/faults``, ``/_sandbox/submit``) want the sandbox's key (``X-Sandbox-Key: KEY`` or
``Authorization: Bearer KEY``), a loopback ``Host`` and no foreign ``Origin`` (:mod:`.admin`).

Fault injection (:mod:`campaignctl.sandbox.faults`): ``Settings.faults`` is the spec the app
starts with; ``GET /_sandbox/faults`` shows the active spec, ``POST /_sandbox/faults`` with a JSON
object of the same keys as the ``--faults`` string sets it (``{}`` clears it). While a spec is set
``/_sandbox/stats`` also holds ``"_faults"``: what was injected, by kind (``reset-before``,
``reset-after``, ``500``, ``502``, ``503``, ``429``, ``slow``), ``total`` and ``latency`` (requests
delayed). Every request received is counted, including those a fault drops.

``POST /_sandbox/submit`` lets simulated workers with a skill submit to a campaign (``campaignctl
sandbox submit --accuracy/--truth/--fast-share`` on a served sandbox; :mod:`.skilled`).
"""
from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..platforms import PLATFORMS
from .admin import guarded
from .apis import api_of
from .core import Sandbox, Settings
from .faults import FaultSpec, FaultSpecError
from .inject import FaultMiddleware
from .skilled import submit_route
from .store import Store

#: platform type -> where it is served (from the registry)
PREFIXES = {type_: platform.prefix for type_, platform in PLATFORMS.items()}


class _CallCounter:
    """ASGI middleware: counts every request by platform prefix and method."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            for platform, prefix in PREFIXES.items():
                if path == prefix or path.startswith(prefix + "/"):
                    self.sandbox.count(platform, scope["method"])
                    break
        await self.app(scope, receive, send)


class _SandboxApp(Starlette):
    """Starlette with the call counter and the fault injector outside its error middleware: a
    dropped connection must not become a 500, and a request a fault drops is still counted."""

    def build_middleware_stack(self) -> ASGIApp:
        sandbox: Sandbox = self.state.sandbox
        return _CallCounter(FaultMiddleware(super().build_middleware_stack(), sandbox, PREFIXES), sandbox)


def create_app(store: Store | None = None, settings: Settings | None = None) -> Starlette:

    sandbox = Sandbox(store or Store(), settings or Settings())

    def key() -> str:
        return sandbox.settings.api_key

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(sandbox.stats())

    async def reset_stats(request: Request) -> JSONResponse:
        with sandbox._lock:
            sandbox.calls.clear()
        if sandbox.faults is not None:
            sandbox.faults.reset_counts()
        return JSONResponse({})

    async def faults(request: Request) -> JSONResponse:
        if request.method == "POST":
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else None
            except ValueError:
                return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
            if body is not None and not isinstance(body, dict):
                return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
            try:
                spec = FaultSpec.from_mapping(body) if body else None
            except FaultSpecError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            sandbox.set_faults(spec)
        current = sandbox.faults
        return JSONResponse({"faults": current.spec.to_dict() if current else None, "spec": str(current.spec) if current else ""})

    async def submit(request: Request) -> JSONResponse:
        return await submit_route(sandbox, request)

    app = _SandboxApp(
        routes=[
            *(Mount(platform.prefix, app=api_of(platform).create_app(sandbox)) for platform in PLATFORMS.values()),
            Route("/_sandbox/stats", guarded(stats, key)),
            Route("/_sandbox/reset-stats", guarded(reset_stats, key), methods=["POST"]),
            Route("/_sandbox/faults", guarded(faults, key), methods=["GET", "POST"]),
            Route("/_sandbox/submit", guarded(submit, key), methods=["POST"]),
        ]
    )
    app.state.sandbox = sandbox
    return app
