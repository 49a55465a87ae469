"""Where credentials may go (issue 20).

- :func:`check_endpoint`: a Provider's ``endpoint`` is its platform's official endpoint (each
  provider class's ``official_endpoint``), ``sandbox``, a loopback address, or one the operator lists in
  ``CAMPAIGNCTL_ALLOWED_ENDPOINTS`` (comma-separated URLs or origins) -- an environment variable,
  never the config, so a pull request that edits ``endpoint:`` cannot send the CI's secrets
  elsewhere. No user:password in it. Checked before any credential is read.
- :func:`check_same_origin`: a URL that came from a server (a ``_links.next`` href...) is only
  requested, with the client's credentials, on the endpoint's own origin (scheme, host, port): no
  other host or port, no https -> http downgrade, no user:password (httpx would add an
  ``Authorization: Basic`` of it). :class:`~campaignctl.http.ApiClient` calls it for every
  request that is not plainly on its origin; pagers call it on each link to name it.
- :func:`header_problem`: a header value goes on the wire as one header: printable ASCII only.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

import httpx

from .errors import ApiError

#: the operator's list of other endpoints credentials may be sent to
ALLOW_ENV = "CAMPAIGNCTL_ALLOWED_ENDPOINTS"
DEFAULT_PORTS = {"http": 80, "https": 443}
#: what a header value may hold: visible ASCII, spaces and tabs (RFC 9110 field-value, no obs-text)
HEADER_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?\Z")

#: the endpoint that means "the embedded sandbox" (in-process, next to the config), and the key it
#: accepts: no secret, nothing real is behind it
SANDBOX_ENDPOINT = "sandbox"
SANDBOX_KEY = "sandbox-key"


def _parse(url: str) -> httpx.URL | None:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, UnicodeError):
        return None
    return parsed if parsed.scheme in DEFAULT_PORTS and parsed.host else None


def origin(url: httpx.URL) -> tuple[str, str, int]:
    """(scheme, host, port), the port filled in."""
    return url.scheme, url.host, url.port or DEFAULT_PORTS[url.scheme]


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _under(endpoint: httpx.URL, allowed: httpx.URL) -> bool:
    """``endpoint`` is ``allowed`` (an origin, or a URL and every path below it)."""
    if origin(endpoint) != origin(allowed) or allowed.userinfo:
        return False
    prefix = allowed.path.rstrip("/")
    path = endpoint.path.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")


def check_endpoint(endpoint: str, official: str | None, env: Mapping[str, str], platform: str = "") -> str | None:
    """Why credentials must not be sent to ``endpoint`` (a Provider's, whose platform's official
    endpoint is ``official``), or None."""
    if endpoint == "sandbox":
        return None
    url = _parse(endpoint)
    if url is None:
        return f"endpoint {endpoint!r} is not an http:// or https:// URL"
    if url.userinfo:
        return "endpoint holds a user name or password (user:password@): credentials come only from environment variables"
    if is_loopback(url.host):
        return None
    if official is not None and origin(url) == origin(httpx.URL(official)):
        return None
    for entry in (e.strip() for e in env.get(ALLOW_ENV, "").split(",")):
        allowed = _parse(entry) if entry else None
        if allowed is not None and _under(url, allowed):
            return None
    shown = f"the official one is {official}; " if official else ""
    return (
        f"endpoint {endpoint} is not the official {platform} endpoint ({shown}loopback and `sandbox` are allowed too): "
        f"credentials go to another endpoint only when the operator lists it in the environment variable {ALLOW_ENV} "
        "(comma-separated URLs or origins), never from the config"
    )


def check_same_origin(endpoint: str | httpx.URL, url: str | httpx.URL) -> None:
    """Raise ApiError (naming ``url``) unless ``url`` -- absolute, or a path joined to ``endpoint``
    as the client joins it (``endpoint + url``) -- is on ``endpoint``'s origin, without user:password."""
    base = endpoint if isinstance(endpoint, httpx.URL) else httpx.URL(str(endpoint))
    text = str(url)
    try:
        target = url if isinstance(url, httpx.URL) else httpx.URL(text if "://" in text[:12] else str(base).rstrip("/") + text)
    except (httpx.InvalidURL, UnicodeError):
        raise ApiError(f"the platform gave a link that is not a usable URL: {text[:200]!r}") from None
    if target.userinfo:
        why = "it holds a user name or password (user:password@), which would be sent as credentials"
    elif target.scheme not in DEFAULT_PORTS or not target.host:
        why = "it is not an http(s) URL"
    elif base.scheme == "https" and target.scheme == "http":
        why = f"it is cleartext http:// under the https:// endpoint {_origin_text(base)}"
    elif origin(target) != origin(base):
        why = f"it points at another origin than the endpoint's ({_origin_text(base)})"
    else:
        return
    raise ApiError(f"refusing to follow the platform's link {text[:300]}: {why}; credentials are sent only to the endpoint's origin")


def _origin_text(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


def header_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as one HTTP header value, or None."""
    if HEADER_VALUE.match(value):
        return None
    if any(c in value for c in "\r\n"):
        return "it holds a line break (CR or LF), which would start another header"
    if not value.isascii():
        return "it holds non-ASCII characters"
    if value != value.strip():
        return "it starts or ends with white space"
    return "it holds control characters" if value else "it is empty"
