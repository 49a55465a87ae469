"""The sandbox ASGI app: each platform mounted under its own prefix, plus a small admin API.

=====================  ==========================  =========================================
platform               prefix                      provider endpoint when served on loopback
=====================  ==========================  =========================================
SWARMS API 1.0         ``/swarms``                 ``http://127.0.0.1:PORT/swarms``
Microworkers API v2    ``/microworkers/api/v2``    ``http://127.0.0.1:PORT/microworkers/api/v2``
Microworkers API v1    ``/microworkers-v1``        ``http://127.0.0.1:PORT/microworkers-v1``
=====================  ==========================  =========================================

``/_sandbox/stats`` counts the calls each platform received (by method), so tests and benchmarks
can measure what a command cost server-side; ``/_sandbox/reset-stats`` zeroes the counters.
These admin routes (and ``/_sandbox/faults``) want the sandbox's key (``X-Sandbox-Key: KEY`` or
``Authorization: Bearer KEY``), a loopback ``Host`` and no foreign ``Origin`` (:mod:`.admin`).

Fault injection (:mod:`campaignctl.sandbox.faults`): ``Settings.faults`` is the spec the app
starts with; ``GET /_sandbox/faults`` shows the active spec, ``POST /_sandbox/faults`` with a JSON
object of the same keys as the ``--faults`` string sets it (``{}`` clears it). While a spec is set
``/_sandbox/stats`` also holds ``"_faults"``: what was injected, by kind (``reset-before``,
``reset-after``, ``500``, ``502``, ``503``, ``429``, ``slow``), ``total`` and ``latency`` (requests
delayed). Every request received is counted, including those a fault drops.
"""
from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..platforms import PLATFORMS, sandbox_module
from .admin import guarded
from .faults import FaultInjector, FaultMiddleware, FaultSpec, FaultSpecError
from .store import Store

#: platform type -> where it is served (from the registry)
PREFIXES = {type_: platform.prefix for type_, platform in PLATFORMS.items()}


@dataclass
class Settings:
    """Knobs of the fake platforms. Defaults give a well-funded account that approves at once."""

    api_key: str = "sandbox-key"  # SWARMS static X-Auth-Token; Microworkers v2/v1 API key
    swarms_email: str = "requester@sandbox.test"  # with api_key as password for /auth/token/request
    balance: float = 10_000.0  # USD available on each platform's account
    review_seconds: float = 0.0  # Microworkers: how long a new campaign stays in review
    queue_job_polls: int = 2  # Microworkers v2: polls a queue job answers before it is Uploaded
    #: SWARMS: a published campaign's job list and the tasks/jobs linked to an active or paused
    #: campaign are read-only (``readOnly`` "indicates whether the resource can be modified");
    #: False is the old guess that left them editable (``sandbox serve --lenient-readonly``)
    strict_readonly: bool = True
    seed: int = 0
    #: serve only what the platforms' docs document: no guessed field in any answer, no guessed route
    #: (``sandbox serve --docs-only``; ``CAMPAIGNCTL_SANDBOX_DOCS_ONLY=1`` for the embedded sandbox)
    docs_only: bool = False
    faults: FaultSpec | None = None  # injected faults (see campaignctl.sandbox.faults)


@dataclass
class Sandbox:
    """What every platform module gets: the store, the settings, and call counters."""

    store: Store
    settings: Settings = field(default_factory=Settings)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    faults: FaultInjector | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.faults is None and self.settings.faults is not None:
            self.faults = FaultInjector(self.settings.faults)

    def set_faults(self, spec: FaultSpec | None) -> None:
        """Start injecting ``spec`` (a fresh random sequence and fault count), or stop (None)."""
        self.faults = FaultInjector(spec) if spec is not None else None

    def count(self, platform: str, method: str) -> None:
        with self._lock:
            self.calls[(platform, method)] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, dict[str, int]] = {}
            for (platform, method), n in sorted(self.calls.items()):
                out.setdefault(platform, {})[method] = n
        faults = self.faults
        if faults is not None:
            out["_faults"] = faults.stats()
        return out


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

    app = _SandboxApp(
        routes=[
            *(Mount(platform.prefix, app=sandbox_module(platform).create_app(sandbox)) for platform in PLATFORMS.values()),
            Route("/_sandbox/stats", guarded(stats, key)),
            Route("/_sandbox/reset-stats", guarded(reset_stats, key), methods=["POST"]),
            Route("/_sandbox/faults", guarded(faults, key), methods=["GET", "POST"]),
        ]
    )
    app.state.sandbox = sandbox
    return app
