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
"""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .store import Store

PREFIXES = {
    "swarms": "/swarms",
    "microworkers": "/microworkers/api/v2",
    "microworkers-v1": "/microworkers-v1",
}


@dataclass
class Settings:
    """Knobs of the fake platforms. Defaults give a well-funded account that approves at once."""

    api_key: str = "sandbox-key"  # SWARMS static X-Auth-Token; Microworkers v2/v1 API key
    swarms_email: str = "requester@sandbox.test"  # with api_key as password for /auth/token/request
    balance: float = 10_000.0  # USD available on each platform's account
    review_seconds: float = 0.0  # Microworkers: how long a new campaign stays in review
    queue_job_polls: int = 2  # Microworkers v2: polls a queue job answers before it is Uploaded
    strict_readonly: bool = False  # SWARMS: also freeze tasks/jobs linked to a published campaign
    seed: int = 0


@dataclass
class Sandbox:
    """What every platform module gets: the store, the settings, and call counters."""

    store: Store
    settings: Settings = field(default_factory=Settings)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, platform: str, method: str) -> None:
        with self._lock:
            self.calls[(platform, method)] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, dict[str, int]] = {}
            for (platform, method), n in sorted(self.calls.items()):
                out.setdefault(platform, {})[method] = n
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


def create_app(store: Store | None = None, settings: Settings | None = None) -> Starlette:
    from . import mw_v1, mw_v2, swarms

    sandbox = Sandbox(store or Store(), settings or Settings())

    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(sandbox.stats())

    async def reset_stats(request: Request) -> JSONResponse:
        with sandbox._lock:
            sandbox.calls.clear()
        return JSONResponse({})

    app = Starlette(
        routes=[
            Mount(PREFIXES["swarms"], app=swarms.create_app(sandbox)),
            Mount(PREFIXES["microworkers"], app=mw_v2.create_app(sandbox)),
            Mount(PREFIXES["microworkers-v1"], app=mw_v1.create_app(sandbox)),
            Route("/_sandbox/stats", stats),
            Route("/_sandbox/reset-stats", reset_stats, methods=["POST"]),
        ]
    )
    app.state.sandbox = sandbox
    app.add_middleware(_CallCounter, sandbox=sandbox)
    return app
