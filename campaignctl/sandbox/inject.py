"""The ASGI middleware that injects the faults :mod:`.faults` decides (latency, 5xx, 429, dropped
connections, slow answers) into the requests under each platform's prefix. What a client sees,
in-process and over loopback, is described in :mod:`.faults`. Injected errors come in each
platform's own format (``fault_answer`` of its sandbox module, found through the registry)."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..platforms import PLATFORMS as REGISTRY
from .apis import api_of
from .faults import NO_FAULT, ConnectionDropped, FaultInjector


class FaultMiddleware:
    """Injects the faults of ``holder.faults`` (a :class:`FaultInjector` or None) into the requests
    under ``prefixes`` (platform -> path prefix). Must wrap the app from the outside (no error
    middleware around it), so that a drop is not turned into a 500."""

    def __init__(self, app: ASGIApp, holder: Any, prefixes: Mapping[str, str]) -> None:
        self.app = app
        self.holder = holder
        self.prefixes = dict(prefixes)

    def platform_of(self, path: str) -> str | None:
        for platform, prefix in self.prefixes.items():
            if path == prefix or path.startswith(prefix + "/"):
                return platform
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        injector: FaultInjector | None = getattr(self.holder, "faults", None)
        if scope["type"] != "http" or injector is None:
            await self.app(scope, receive, send)
            return
        platform = self.platform_of(scope.get("path", ""))
        decision = injector.decide(platform, scope["method"]) if platform else NO_FAULT
        kind = decision.kind
        if kind is None:
            if decision.delay:
                await _answer_late(self.app, scope, receive, send, decision.delay)
            else:
                await self.app(scope, receive, send)
            return
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if kind == "reset-before":
            await drop_connection(send)
        elif kind == "5xx":
            await _send_error(send, platform or "", decision.status or 500)
        elif kind == "429":
            await _send_error(send, platform or "", 429, retry_after=injector.spec.retry_after)
        elif kind == "reset-after":
            await self.app(scope, receive, _discard)
            await drop_connection(send)
        elif kind == "slow":
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            await self.app(scope, receive, hold)
            await _wait_or_disconnect(injector.spec.slow_seconds, receive)
            for message in held:
                await send(message)


async def _answer_late(app: ASGIApp, scope: Scope, receive: Receive, send: Send, delay: float) -> None:
    """Handle the request at once and send its answer ``delay`` seconds after it is ready: the
    latency of the network, added to the platform's processing time as before, but the server's
    work is done when the request arrives (requests arrive spread out) instead of when the delays
    of every request received together end at once -- then the answers queued behind each other's
    handling, and the latency grew with the load (24-27 ms for 20 ms at 16 in flight)."""
    held: list[Message] = []

    async def hold(message: Message) -> None:
        held.append(message)

    await app(scope, receive, hold)
    await asyncio.sleep(delay)
    for message in held:
        await send(message)


async def _discard(message: Message) -> None:
    """The ``send`` of a request whose answer is lost."""


async def drop_connection(send: Send) -> None:
    """Close the client's connection without an answer (see the module docstring)."""
    cycle: Any = getattr(send, "__self__", None)  # uvicorn: send is RequestResponseCycle.send
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(transport, "close") and hasattr(cycle, "disconnected"):
        transport.close()
        # let connection_lost run, so that uvicorn sees a client that left rather than an app
        # that returned without answering (which it would log and answer with a 500)
        for _ in range(100):
            if cycle.disconnected:
                break
            await asyncio.sleep(0)
        return
    raise ConnectionDropped("Server disconnected without sending a response (sandbox fault injection)")


async def _wait_or_disconnect(seconds: float, receive: Receive) -> None:
    """Sleep ``seconds``, or less if the client goes away first (over a real server)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, watcher):
            task.cancel()
        await asyncio.gather(sleeper, watcher, return_exceptions=True)


_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def error_answer(platform: str, status: int) -> tuple[bytes, bytes]:
    """The media type and body of an injected error: 502 is a proxy's HTML page, as in real
    life; any other status is in the platform's own error format (its sandbox module's
    ``fault_answer``)."""
    reason = _REASONS.get(status, "Error")
    text = f"{reason} (sandbox fault injection)"
    if status == 502 or platform not in REGISTRY:
        page = f"<html><head><title>{status} {reason}</title></head><body><h1>{text}</h1></body></html>"
        return b"text/html; charset=utf-8", page.encode()
    media, body = api_of(REGISTRY[platform]).fault_answer(status, reason, text)
    return media, body


async def _send_error(send: Send, platform: str, status: int, retry_after: float | None = None) -> None:
    media, body = error_answer(platform, status)
    headers = [(b"content-type", media), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", f"{retry_after:g}".encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
