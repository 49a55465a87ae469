"""Who may use the sandbox's admin routes (``/_sandbox/faults``, ``/_sandbox/stats``,
``/_sandbox/reset-stats``): they change how the sandbox behaves, so a web page the user happens to
have open must not reach them.

- The key: the one the sandbox's platform APIs accept (``Settings.api_key``), in an
  ``X-Sandbox-Key: KEY`` or ``Authorization: Bearer KEY`` header. Without it: 401.
- The ``Host`` header names loopback (``127.0.0.1``, ``localhost`` or ``[::1]``, any port): a page
  that rebinds its own DNS name to 127.0.0.1 still sends its name. Else: 403.
- An ``Origin`` header, when there is one, is a loopback origin too: a cross-site request (even
  the "simple" ``text/plain`` POST a browser sends without asking) carries the page's. Else: 403.
"""
from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
KEY_HEADER = "x-sandbox-key"

Endpoint = Callable[[Request], Awaitable[Response]]


def _loopback(netloc: str, scheme: str = "http") -> bool:
    """``netloc`` (``host[:port]``) names a loopback host; ``scheme`` is http or https."""
    if scheme not in ("http", "https") or not netloc or "@" in netloc:
        return False
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return False
    return parts.hostname in LOOPBACK_NAMES and parts.netloc == netloc


def loopback_host(host: str) -> bool:
    """A ``Host`` header value that names loopback: ``127.0.0.1``, ``localhost`` or ``[::1]``, any port."""
    return _loopback(host.strip().lower())


def loopback_origin(origin: str) -> bool:
    """An ``Origin`` header value of a page served from loopback (``null`` is not one)."""
    parts = urlsplit(origin.strip().lower())
    return not parts.path and not parts.query and not parts.fragment and _loopback(parts.netloc, parts.scheme)


def is_loopback_interface(host: str) -> bool:
    """``sandbox serve --host`` listens on loopback only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(request: Request, key: str) -> Response | None:
    """The answer to a request the admin routes refuse, or None to serve it."""
    headers = request.headers
    if not loopback_host(headers.get("host", "")):
        return JSONResponse({"error": "the sandbox's admin routes answer only to a loopback Host (127.0.0.1, localhost, [::1])"}, status_code=403)
    origin = headers.get("origin")
    if origin is not None and not loopback_origin(origin):
        return JSONResponse({"error": "the sandbox's admin routes refuse requests from another origin"}, status_code=403)
    given = headers.get(KEY_HEADER)
    if given is None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else ""
    if not hmac.compare_digest(given.encode(), key.encode()):
        return JSONResponse(
            {"error": "the sandbox's admin routes need its key: X-Sandbox-Key: KEY or Authorization: Bearer KEY"},
            status_code=401, headers={"WWW-Authenticate": "Bearer"},
        )
    return None


def guarded(endpoint: Endpoint, key: Callable[[], str]) -> Endpoint:
    """``endpoint`` served only to requests :func:`refusal` lets through (``key()``: the sandbox's key)."""

    async def admin(request: Request) -> Response:
        refused = refusal(request, key())
        return refused if refused is not None else await endpoint(request)

    admin.__name__ = endpoint.__name__
    return admin
