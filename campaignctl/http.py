"""The one HTTP client layer every provider uses (httpx, async).

- bounded concurrency: at most ``parallelism`` requests in flight per client, and a connection
  pool of the same size;
- a timeout on every call (default 30 s to read, 10 s to connect; see :func:`make_timeout`); with
  an in-process transport (the embedded sandbox), which has no socket timeouts, the same read
  timeout is enforced as a deadline on each attempt;
- at most ``RetryPolicy.attempts`` (3) attempts per request, with exponential backoff and full
  jitter (capped at ``max_delay``), honouring ``Retry-After`` up to ``max_retry_after``;
- what is retried: reads (GET, HEAD) and idempotent writes (PUT, DELETE) on timeouts, connection
  errors, 429 and 5xx; non-idempotent writes (POST, PATCH) only when the platform cannot have
  applied them: the connection was never made (connect error or timeout, pool timeout) or a 429
  refusal. A POST/PATCH that was sent but got no answer (read timeout, connection reset) is the
  ambiguous case: never retried, it raises :class:`~campaignctl.errors.AmbiguousWriteError` so the
  caller can look the object up instead of creating a duplicate;
- a client-wide retry budget (:class:`RetryBudget`, a token bucket like the AWS SDKs' standard
  retry mode): 500 tokens; a retry costs 5, or 10 after a timeout or connection error; a request
  that succeeds after retrying gives back what its last retry cost, one that succeeds at once
  gives 1 (up to 500). When a retry cannot be paid for, the request fails at once with a
  TransportError saying the budget is exhausted: a platform that is down fails the run quickly
  (about 50-100 retries) instead of every call waiting out its backoff;
- requests skip httpx's client: the same bytes, written straight to the transport
  (:class:`~campaignctl.transport.StreamTransport` over the network,
  :class:`~campaignctl.transport.AppTransport` for the embedded sandbox), and the same
  ``httpx.Response`` (see :class:`ApiClient`); other transports go through httpx's client;
- errors carry the method, URL, status, the platform's error code/message and the request id;
- bounds (:mod:`campaignctl.limits`): an answer's body may not exceed ``max_response_bytes``
  (received, and decoded), else :class:`~campaignctl.errors.ResponseTooLargeError`; a 3xx is an
  error naming its Location (redirects are never followed); a TLS certificate that does not
  verify is a :class:`~campaignctl.errors.CertificateError`, not retried; past the run's deadline
  (``limits.set_deadline``) no request starts and one under way is cut: a
  :class:`~campaignctl.errors.DeadlineError`;
- secrets (tokens, keys, passwords) are redacted from every message, in any letter case, and
  percent-encoded or base64-encoded too (see :meth:`ApiClient.redact`);
- credentials stay with their origin: a request to another origin than the base URL's (a link a
  platform gave), a cleartext link under an https base or a link with user:password is refused
  (:func:`~campaignctl.origin.check_same_origin`); every header value is checked before it is
  sent (no CR/LF, printable ASCII only).
"""
from __future__ import annotations

import asyncio
import base64
import datetime
import email.utils
import functools
import json as jsonlib
import logging
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from . import limits
from .errors import (
    AmbiguousWriteError,
    ApiError,
    CertificateError,
    DeadlineError,
    ResponseTooLargeError,
    TransportError,
)
from .origin import check_same_origin, header_problem
from .transport import (
    AppTransport,
    StreamTransport,
    certificate_failure,
    framing_problem,
    network_transport,
    origin_of,
)

log = logging.getLogger("campaignctl.http")
httpx_log = logging.getLogger("httpx")  # its client logs every exchange at INFO: so does the direct path

#: parses an error response into (code, message); providers supply their platform's format
ErrorParser = Callable[[httpx.Response], tuple[str | None, str]]

RETRY_STATUSES = {429, 500, 502, 503, 504}
#: methods retried by default (reads, and writes that are idempotent by definition)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: transport errors raised before any byte of the request was sent: safe to retry any method
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0

#: a path (and query) httpx's URL parser keeps as it is: RFC 3986's unreserved characters,
#: sub-delimiters, ":@/?" and %-escapes; anything else (spaces, non-ASCII, "#"...) goes through it
PLAIN_TARGET = re.compile(r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*\Z")
NON_ASCII = re.compile(r"[^\x00-\x7f]+")
#: a URL with a scheme (``https://...``): see join_href
ABSOLUTE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
#: a \uD800-\uDFFF escape in JSON: maybe a lone surrogate (see json_body)
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
#: methods for which httpx sends "Content-Length: 0" when there is no body
BODY_METHODS = ("POST", "PUT", "PATCH")


def _error_name(exc: BaseException) -> str:
    """The httpx name of a transport error (a subclass raised by a test transport reads the same)."""
    for cls in type(exc).__mro__:
        if cls.__module__.split(".")[0] == "httpx":
            return cls.__name__
    return type(exc).__name__


def join_href(base: str, href: Any) -> str:
    """The URL a link the platform returned (``_links.*.href``) names, for the client of endpoint
    ``base``: as a platform's docs may write them (``"href": "/resources?after=42&..."``) and its
    SDK follow them, an href is a path under the API base, joined as text: ``base + href``
    (``http://127.0.0.1:8080/api`` + ``/tasks?after=3``). An absolute URL is taken as it is only
    on the base's origin (:func:`~campaignctl.origin.check_same_origin`); one elsewhere, or a link
    that is no string, is the platform's error (ApiError): the client never follows a link off the
    endpoint it was given.
    Every href a client follows goes through here."""
    if not isinstance(href, str) or not href.strip():
        raise ApiError(f"the platform returned a link that is not a URL: {str(href)[:100]!r}")
    root = base.rstrip("/")
    if not (href.startswith("//") or ABSOLUTE_URL.match(href)):
        return root + href if href.startswith("/") else f"{root}/{href}"  # "tasks?after=3": under the base too
    url = f"{urllib.parse.urlsplit(root).scheme}:{href}" if href.startswith("//") else href
    check_same_origin(root, url)  # another origin, a downgrade, user:password@: refused, naming the link
    return url


def make_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """``30`` -> 30 s to read/write/wait for a pooled connection, at most 10 s to connect."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    seconds = DEFAULT_READ_TIMEOUT if timeout is None else float(timeout)
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))


def json_body(response: httpx.Response) -> Any:
    """``response.json()``, where a lone surrogate (a ``\\ud800`` escape: no character, so text that
    cannot be printed or written as UTF-8) becomes U+FFFD. Raises what ``json.loads`` raises.

    orjson decodes first (a 47 KB page of 100 tasks in a third of the standard library's time, on
    the thread that reads the answers); what it refuses -- a lone surrogate, NaN, a byte order mark,
    UTF-16, or not JSON at all -- goes to ``json.loads``, whose result and messages are the rule.
    (orjson reads an integer beyond 64 bits as a float: no platform sends one.)"""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    body = response.json()
    content = response.content
    if b"\\" in content and SURROGATE_ESCAPE.search(content):  # memchr first: most bodies have no escape
        text = jsonlib.dumps(body, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            body = jsonlib.loads(text.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    return body


def error_json(response: httpx.Response) -> tuple[Any, str | None]:
    """An error reply's decoded JSON body, or (None, a short text to show) when it is not JSON.

    Every platform's ErrorParser starts here, so an HTML error page reads the same everywhere."""
    try:
        return json_body(response), None
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python recurses
        text = response.text.strip().replace("\n", " ")
        return None, (text[:200] or response.reason_phrase)


def default_error_parser(response: httpx.Response) -> tuple[str | None, str]:
    body, text = error_json(response)
    if text is not None:
        return None, text
    if isinstance(body, dict):
        code = body.get("code") or body.get("title") or body.get("error")
        message = body.get("message") or body.get("detail") or body.get("description") or response.reason_phrase
        return (str(code) if code is not None else None), str(message)
    return None, response.reason_phrase


@dataclass
class RetryPolicy:
    attempts: int = 3  # per request, first try included
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_retry_after: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


class RetryBudget:
    """A client-wide token bucket limiting retries (the AWS SDKs' "standard" retry quota).

    Starts full at ``capacity``; each retry takes ``retry_cost`` tokens (``timeout_cost`` after a
    timeout or connection error); a success after retrying gives back what its last retry took,
    a success at the first try gives ``success_refund``. No tokens, no retry."""

    def __init__(self, capacity: int = 500, retry_cost: int = 5, timeout_cost: int = 10, success_refund: int = 1) -> None:
        self.capacity = capacity
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.success_refund = success_refund
        self.tokens = capacity

    def cost(self, transport_error: bool) -> int:
        return self.timeout_cost if transport_error else self.retry_cost

    def acquire(self, amount: int) -> bool:
        if amount > self.tokens:
            return False
        self.tokens -= amount
        return True

    def release(self, amount: int) -> None:
        self.tokens = min(self.capacity, self.tokens + amount)

    def __repr__(self) -> str:
        return f"RetryBudget({self.tokens}/{self.capacity})"


@dataclass
class CallStats:
    calls: int = 0  # attempts sent (retries included)
    retries: int = 0
    give_ups: int = 0  # requests that failed on a retryable error without (more) retrying
    budget_exhausted: int = 0  # ... of which because the retry budget was empty
    ambiguous_writes: int = 0  # ... of which writes that got no answer (AmbiguousWriteError)
    by_method: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class _Target:
    """Where a request goes: ``url`` (as httpx prints it) and, when it is on the client's origin
    and plain (see ``PLAIN_TARGET``), ``raw``: its path and query as they go on the request line.
    The httpx.URL is parsed only when asked for (the in-process path, a response's request)."""

    __slots__ = ("url", "raw", "_parsed")

    def __init__(self, url: str, raw: bytes | None, parsed: httpx.URL | None) -> None:
        self.url, self.raw, self._parsed = url, raw, parsed

    def parsed(self) -> httpx.URL:
        if self._parsed is None:
            self._parsed = httpx.URL(self.url)
        return self._parsed


def encode_body(json: Any, data: Mapping[str, Any] | None) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body httpx's client sends for ``json=``/``data=`` (a form, which wins over
    ``json``), byte for byte, with no private name of httpx (its ``encode_request``: the same JSON
    -- compact, not ASCII-escaped, no NaN -- and the same form encoding, ``true``/``false``/empty
    for True/False/None, a list or tuple as repeated keys). tests/test_http_fastpath.py compares
    the bytes on the wire with httpx's."""
    if data:
        pairs = [(key, _form_value(item)) for key, value in data.items()
                 for item in (value if isinstance(value, (list, tuple)) else (value,))]  # fmt: skip
        body = urllib.parse.urlencode(pairs, doseq=True).encode("utf-8")
        kind = "application/x-www-form-urlencoded"
    elif json is not None:
        body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        kind = "application/json"
    else:
        return [], b""
    return [("Content-Length", str(len(body))), ("Content-Type", kind)], body


def _form_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


class _DirectResponse(httpx.Response):
    """The httpx.Response to a request :class:`ApiClient` sent itself. Its ``request`` (an
    httpx.Request with the method, URL, headers and body that were sent: ~45 us to build, its URL
    parsed again) is built when something asks for it (an error message, a cookie, the response's
    ``url``), not for every answer: through the public ``request`` property, overridden."""

    make_request: Callable[[], httpx.Request] | None = None
    #: the body as received, when it needs no decoding (no Content-Encoding), until read() takes it
    received: bytes | None = None
    #: its size once read() took it (httpx counts the bytes of the stream layers it goes around)
    downloaded: int | None = None

    @property
    def request(self) -> httpx.Request:
        if self.make_request is not None:
            self.request = self.make_request()  # the public setter: the response holds it from now on
            self.make_request = None
        return super().request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        httpx.Response.request.fset(self, value)  # type: ignore[attr-defined]

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """httpx's, except for the ``read()`` of a body that needs no decoding: the body whole,
        the response consumed and closed, as httpx leaves it, without going through its decoder,
        chunker and stream layers (~12 us of the ~170 us of CPU a relation read costs)."""
        body = self.received
        if body is None or chunk_size is not None:
            return super().iter_bytes(chunk_size)
        self.received = None
        self.is_stream_consumed = self.is_closed = True
        self.downloaded = len(body)
        return iter((body,) if body else ())

    @property
    def num_bytes_downloaded(self) -> int:
        return self.downloaded if self.downloaded is not None else super().num_bytes_downloaded


class ApiClient:
    """An async JSON client for one platform endpoint.

    Over the network (a :class:`~campaignctl.transport.StreamTransport`), a request to the
    client's origin skips httpx's client: :meth:`_send_direct` writes the bytes httpx would send
    (request line, Host, the client's headers, a json/data body encoded by httpx's own encoder)
    and wraps the answer in an ``httpx.Response`` (decoded as httpx decodes it, cookies kept in
    the client's jar); httpx's client building a Request, merging headers, checking auth and
    redirects, and reading the answer through its stream layers cost more CPU than the exchange
    itself. The embedded sandbox's :class:`~campaignctl.transport.AppTransport` takes the same
    bytes (its ASGI app gets the scope httpx's ASGITransport would build). Other transports
    (tests' MockTransport), other origins, cookies to send and raw bodies go through httpx's
    client as they always did.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_READ_TIMEOUT,
        deadline: float | None = None,
        parallelism: int = 8,
        retry: RetryPolicy | None = None,
        budget: RetryBudget | None = None,
        error_parser: ErrorParser = default_error_parser,
        secrets: list[str] | None = None,
        request_id_header: str = "X-Request-ID",
        max_response_bytes: int = limits.DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        """``timeout``: seconds (or an httpx.Timeout); ``deadline``: seconds an attempt may take in
        all, by default the read timeout when ``transport`` is not a network transport (httpx's or
        a StreamTransport; in-process transports ignore httpx's timeouts), else none. ``budget``:
        share one RetryBudget between clients; by default each client has its own.
        ``max_response_bytes``: the largest body of an answer, received and decoded."""
        self.base_url = base_url.rstrip("/")
        self._base = httpx.URL(self.base_url)
        self._split_base()
        self.retry = retry or RetryPolicy()
        self.budget = budget if budget is not None else RetryBudget()
        timeouts = make_timeout(timeout)
        if deadline is None and transport is not None and not isinstance(transport, (httpx.AsyncHTTPTransport, StreamTransport)):
            deadline = timeouts.read
        self.deadline = deadline
        self.error_parser = error_parser
        self.secrets = [s for s in (secrets or []) if s]
        self._redactor: tuple[tuple[str, ...], re.Pattern[str], list[str]] | None = None  # see redact
        self.request_id_header = request_id_header
        self.max_response_bytes = max_response_bytes
        for name, value in (headers or {}).items():
            self._check_header(name, value)
        self.stats = CallStats()
        self._sem = asyncio.Semaphore(parallelism)
        if transport is None:  # over the network: one keep-alive connection per slot (see campaignctl.transport)
            transport = network_transport(self.base_url, parallelism)
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers or {},
            transport=transport,
            timeout=timeouts,
            limits=httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism),
        )
        if isinstance(transport, (StreamTransport, AppTransport)):
            transport.max_response_bytes = max_response_bytes
        #: the transport _send_direct hands requests to; None: everything goes through httpx's client
        self._stream = transport if isinstance(transport, (StreamTransport, AppTransport)) and self._origin is not None else None
        self._head: tuple[bytes, frozenset[bytes]] | None = None  # see _headers_block
        self._timeouts: tuple[httpx.Timeout, dict[str, Any]] | None = None

    def _split_base(self) -> None:
        """What url_for and _send_direct need of the base URL, worked out once: ``_origin``
        (scheme, host, port) and ``_host_line`` (the Host header) when a request to it can be
        sent directly (http or https, no user:password, which httpx turns into an Authorization);
        ``_origin_text`` ("https://h.test:8443") and ``_base_path`` ("/v1" or "") when paths can be
        joined to it as text, that is when httpx prints the base URL as it is written."""
        base = self._base
        self._origin: tuple[str, str, int] | None = None
        self._host_line = b""
        self._origin_text: str | None = None
        self._base_path = ""
        if base.scheme not in ("http", "https") or not base.host or base.userinfo:
            return
        self._origin = origin_of(base)
        self._host_line = b"Host: %s\r\n" % base.netloc
        origin_text = f"{base.scheme}://{base.netloc.decode('ascii')}"
        path = base.raw_path.decode("ascii").rstrip("/")
        plain = not path or (PLAIN_TARGET.match(path) is not None and "?" not in path and "%" not in path and "/." not in path)
        if plain and not base.fragment and self.base_url == origin_text + path:
            self._origin_text, self._base_path = origin_text, path

    async def aclose(self) -> None:
        await self._client.aclose()

    def add_secret(self, value: str) -> None:
        if value:
            self.secrets.append(value)

    def set_header(self, name: str, value: str) -> None:
        self._check_header(name, value)
        self._client.headers[name] = value
        self._head = None  # _send_direct encodes them again

    def follow(self, href: Any) -> str:
        """The URL of a link a platform gave (``_links.next.href``...), joined to the base URL by
        :func:`join_href`: ApiError (redacted) naming it unless it is on the base URL's origin;
        ``request`` checks again whatever it is given."""
        try:
            return join_href(self.base_url, href)
        except ApiError as exc:
            raise ApiError(self.redact(exc.message)) from None

    def _check_header(self, name: str, value: str) -> None:
        """Refuse a header value that would not go on the wire as one header (CR/LF, non-ASCII...);
        the message names the header, never the value."""
        why = header_problem(value)
        if why is not None:
            raise ApiError(f"the value of the {name} header cannot be sent: {why}")

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``: in any letter case, percent-encoded
        (wholly or partly, ``+`` for a space: a URL's query), base64-encoded (standard or URL-safe,
        at any alignment: inside a longer encoded text), and a secret's start (6 characters or
        more) where the text ends (error texts are cut short: the cut may end in a secret)."""
        if not self.secrets:
            return text
        pattern, prefixes = self._redaction()
        text = pattern.sub("***", text)
        for form in prefixes:
            longest = len(form) - 1
            if longest < 6 or form[:6] not in text[-longest:].lower():
                continue
            for n in range(longest, 5, -1):
                if text[-n:].lower() == form[:n]:
                    text = text[:-n] + "***"
                    break
        return text

    def _redaction(self) -> tuple[re.Pattern[str], list[str]]:
        """(one regex matching every form of every secret, the lower-cased forms whose starts are
        looked for at a text's end); made again when the secrets change."""
        key = tuple(self.secrets)
        if self._redactor is None or self._redactor[0] != key:
            alternatives: list[str] = []
            prefixes: set[str] = set()
            for secret in sorted(set(key), key=len, reverse=True):
                alternatives.append("(?i:" + "".join(_char_forms(c) for c in secret) + ")")
                prefixes.update(f.lower() for f in (secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)))
                for core in _base64_cores(secret):
                    alternatives.append(re.escape(core))
            self._redactor = (key, re.compile("|".join(alternatives)), sorted(prefixes, key=len, reverse=True))
        return self._redactor[1], self._redactor[2]

    def url_for(self, path_or_url: str) -> httpx.URL:
        """``/tasks`` -> base + path; a link the API returned (``/api/tasks?after=3``) -> same host.
        Parsed once here (httpx takes the parsed URL as it is: parsing was a tenth of a plan's CPU).
        A junk link (``http://[::1``) raises ApiError."""
        return self._target(path_or_url).parsed()

    def _target(self, path_or_url: str) -> _Target:
        """url_for's answer without httpx's URL parser in the common cases: a plain path (see
        ``PLAIN_TARGET``) under the base, or a plain link on the base's origin as httpx prints it,
        is joined as text, as httpx would join it; anything else is parsed by httpx."""
        origin = self._origin_text
        if origin is not None and len(path_or_url) < 8192:
            raw: str | None = None
            if path_or_url[:1] == "/" and path_or_url[1:2] != "/":
                base = self._base_path
                raw = path_or_url if base and path_or_url.startswith(base + "/") else base + path_or_url
            elif path_or_url.startswith(origin) and path_or_url[len(origin) : len(origin) + 1] == "/":
                raw = path_or_url[len(origin) :]
            if raw is not None and PLAIN_TARGET.match(raw) and "/." not in raw:  # "/./", "/../": httpx drops them
                return _Target(origin + raw, raw.encode("ascii"), None)
        url = self._parse(path_or_url)
        direct = self._origin is not None and origin_of(url) == self._origin
        return _Target(str(url), url.raw_path if direct and not url.userinfo else None, url)

    def _parse(self, path_or_url: str) -> httpx.URL:
        try:  # a link from a reply may be no URL at all ("http://[::1"): the platform's error, not a traceback
            if path_or_url.startswith(("http://", "https://")):
                return httpx.URL(path_or_url)
            base = self._base
            if base.path not in ("", "/") and path_or_url.startswith(base.path.rstrip("/") + "/"):
                # a raw path is ASCII: other characters %-encoded as UTF-8, as httpx encodes them in a URL
                raw = NON_ASCII.sub(lambda m: urllib.parse.quote(m.group(), safe=""), path_or_url)
                return base.copy_with(raw_path=raw.encode("ascii"))
            return httpx.URL(self.base_url + path_or_url)
        except (httpx.InvalidURL, UnicodeError) as exc:  # UnicodeError: a lone surrogate
            raise ApiError(f"not a usable URL: {self.redact(path_or_url)[:200]!r} ({self.redact(str(exc))})") from None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one request with the retry discipline; return the response or raise ApiError.

        ``idempotent`` (default: GET, HEAD, OPTIONS, PUT, DELETE) says whether the request may be
        sent again after it may have reached the platform."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        target = self._target(path if not params else f"{path}{'&' if '?' in path else '?'}{httpx.QueryParams(params)}")
        url = target.url
        if target.raw is None:  # not plainly on the base's origin: a link a platform gave, say
            try:
                check_same_origin(self._base, target.parsed())
            except ApiError as exc:
                raise ApiError(self.redact(exc.message), method=method, url=self.redact(url)) from None
        attempt = 0
        last_retry_cost = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                async with self._sem:
                    response = await self._send(method, target, json=json, data=data)
            except limits.ResponseTooLarge as exc:
                raise self._too_large_error(method, url, exc) from None
            except httpx.TransportError as exc:
                why = _error_name(exc)
                if isinstance(exc, _DeadlinePassed):
                    raise self._deadline_error(method, url, sent=exc.sent, write=not idempotent) from None
                if certificate_failure(exc) is not None:  # trying again will not change the certificate
                    self.stats.give_ups += 1
                    raise self._certificate_error(method, url, exc) from None
                if not idempotent and not isinstance(exc, NOT_SENT_ERRORS):
                    # sent, no answer: the platform may have applied it; a retry could duplicate it
                    self.stats.give_ups += 1
                    self.stats.ambiguous_writes += 1
                    raise self._ambiguous_error(method, url, exc) from None
                if attempt >= self.retry.attempts:
                    self.stats.give_ups += 1
                    raise self._transport_error(method, url, exc) from None
                cost = self.budget.cost(transport_error=True)
                if not self.budget.acquire(cost):
                    raise self._budget_error(method, url, f"{why}: {self.redact(str(exc)) or why}", None, reason=why) from None
                last_retry_cost = cost
                await self._sleep_before_retry(attempt, None, method, url, why)
                continue
            except httpx.DecodingError as exc:  # Content-Encoding gzip/deflate... over a body that is not
                raise ApiError(f"the platform's answer could not be decoded ({self.redact(str(exc))})", method=method, url=self.redact(url)) from None
            finally:
                self._count(method, time.perf_counter() - started)
            status = response.status_code
            if log.isEnabledFor(logging.DEBUG):  # redact() is not free: only when it is shown
                log.debug("%s %s -> %s", method, self.redact(url), status)
            if status < 300 or status in ok_statuses:
                self.budget.release(last_retry_cost or self.budget.success_refund)
                return response
            if status < 400:  # redirects are never followed: a 3xx is not the answer asked for
                raise self._redirect_error(response)
            retryable = status in RETRY_STATUSES and (idempotent or status == 429)
            if not retryable:
                raise self.error_from(response)
            if attempt >= self.retry.attempts:
                self.stats.give_ups += 1
                raise self.error_from(response)
            cost = self.budget.cost(transport_error=False)
            if not self.budget.acquire(cost):
                raise self._budget_error(method, url, f"HTTP {status}", response)
            last_retry_cost = cost
            await self._sleep_before_retry(attempt, response, method, url, f"HTTP {status}")

    async def _send(self, method: str, target: _Target, json: Any, data: Any) -> httpx.Response:
        left = limits.deadline_left()
        if left is not None and left <= 0:
            raise _DeadlinePassed(sent=False)
        if (
            self._stream is not None
            and self._origin is not None
            and target.raw is not None
            and (data is None or isinstance(data, Mapping))  # raw bytes, files...: httpx's client
            and not self._client.cookies  # a Cookie header to work out: httpx's client
        ):
            send = self._send_direct(self._stream, self._origin, method, target, json, data)
        else:
            send = self._send_via_httpx(method, target, json, data)
        if self.deadline is None and left is None:
            return await send
        by_deadline = left is not None and (self.deadline is None or left < self.deadline)
        try:
            async with asyncio.timeout(left if by_deadline else self.deadline):
                return await send
        except TimeoutError:
            if by_deadline:
                raise _DeadlinePassed(sent=True) from None
            raise httpx.ReadTimeout(f"no answer within {self.deadline:g}s") from None

    async def _send_via_httpx(self, method: str, target: _Target, json: Any, data: Any) -> httpx.Response:
        """``self._client.request(...)``, its answer read within ``max_response_bytes`` (as
        received, and decoded): httpx's own reading has no bound. Redirects are not followed."""
        request = self._client.build_request(method, target.parsed(), json=json, data=data)
        response = await self._client.send(request, stream=True, follow_redirects=False)
        problem = framing_problem(response.headers.raw)
        if problem is not None:  # as StreamTransport's parser would have it
            await response.aclose()
            raise httpx.RemoteProtocolError(problem)
        return await limits.read_bounded(response, self.max_response_bytes)

    def _headers_block(self) -> tuple[bytes, frozenset[bytes]]:
        """The client's headers (httpx's defaults merged with ours and set_header's) as they go
        on the wire, and their names in lower case; cached until set_header."""
        if self._head is None:
            raw = self._client.headers.raw
            self._head = (b"".join(b"%s: %s\r\n" % kv for kv in raw), frozenset(k.lower() for k, _ in raw))
        return self._head

    def _timeout_dict(self) -> dict[str, Any]:
        timeout = self._client.timeout
        if self._timeouts is None or self._timeouts[0] is not timeout:
            self._timeouts = (timeout, timeout.as_dict())
        return self._timeouts[1]

    async def _send_direct(
        self, stream: StreamTransport | AppTransport, origin: tuple[str, str, int], method: str, target: _Target, json: Any, data: Any
    ) -> httpx.Response:
        """What ``self._client.request(method, url, json=json, data=data)`` does over a
        StreamTransport, for the same bytes on the wire and the same Response, minus httpx's
        client: headers in httpx's order (Host, Content-Length 0 for a POST/PUT/PATCH without
        body, the client's, the body's Content-Length/Content-Type unless the client's set them)."""
        started = time.perf_counter()
        block, names = self._head or self._headers_block()
        head = [b"%s %s HTTP/1.1\r\n" % (method.encode("ascii"), target.raw)]
        if b"host" not in names:
            head.append(self._host_line)
        body = b""
        body_lines: list[bytes] = []
        framed = b"content-length" in names or b"transfer-encoding" in names
        if json is not None or data:
            content_headers, body = encode_body(json, data)
            for name, value in content_headers:
                key = name.lower().encode("ascii")
                if key in names:
                    continue  # as httpx's Request._prepare: the client's headers win
                framed = framed or key in (b"content-length", b"transfer-encoding")
                body_lines.append(b"%s: %s\r\n" % (name.encode("ascii"), value.encode("ascii")))
        if not framed and method in BODY_METHODS:
            head.append(b"Content-Length: 0\r\n")
        head.append(block)
        head.extend(body_lines)
        head.append(b"\r\n")
        head_bytes = b"".join(head)
        timeouts = self._timeout_dict()
        status, reason, headers, content_bytes = await stream.exchange(origin, head_bytes, body, method == "HEAD", timeouts)
        response = _DirectResponse(
            status, headers=headers, stream=httpx.ByteStream(content_bytes),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )  # fmt: skip
        response.make_request = functools.partial(self._request_for, method, target, head_bytes, body, timeouts)
        encoded = cookies = False
        for field_name, _ in headers:
            lowered = field_name.lower()
            if lowered == b"content-encoding":
                encoded = True
            elif lowered == b"set-cookie":
                cookies = True
        if cookies:
            self._client.cookies.extract_cookies(response)
        if encoded:  # bounded first (a gzip bomb stops at the cap), then read() decodes it as httpx does
            try:
                limits.decode(content_bytes, limits.content_encodings(headers), self.max_response_bytes)
            except limits.ResponseTooLarge as exc:
                exc.status = status
                raise
        else:
            response.received = content_bytes  # read() takes it as it is (see iter_bytes)
        response.read()  # the body (decoded), the response closed: what aread() leaves
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - started)
        if httpx_log.isEnabledFor(logging.INFO):
            httpx_log.info('HTTP Request: %s %s "%s %d %s"', method, target.url, "HTTP/1.1", status, response.reason_phrase)
        return response

    @staticmethod
    def _request_for(method: str, target: _Target, head: bytes, body: bytes, timeouts: dict[str, Any]) -> httpx.Request:
        """The httpx.Request _send_direct sent (its headers read back from the bytes)."""
        lines = head[:-4].split(b"\r\n")[1:]
        headers = [(name, value.lstrip()) for name, _, value in (line.partition(b":") for line in lines)]
        return httpx.Request(method, target.parsed(), headers=headers, content=body, extensions={"timeout": timeouts})

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return self.decode(response)

    def decode(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return json_body(response)
        except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python recurses
            raise ApiError(
                f"the platform answered with a body that is not JSON: {self.redact(response.text[:120])!r}",
                method=response.request.method,
                url=self.redact(str(response.request.url)),
                status=response.status_code,
                request_id=self.redact(response.headers.get(self.request_id_header) or "") or None,
            ) from None

    def error_from(self, response: httpx.Response) -> ApiError:
        code, message = self.error_parser(response)
        return ApiError(
            self.redact(message) or "the platform gave no error text",  # an unknown status has no reason phrase either
            method=response.request.method,
            url=self.redact(str(response.request.url)),
            status=response.status_code,
            code=self.redact(code) if code is not None else None,  # the platform's words, like the message
            request_id=self.redact(response.headers.get(self.request_id_header) or "") or None,
        )

    def _transport_error(self, method: str, url: str, exc: Exception) -> TransportError:
        name = _error_name(exc)
        detail = self.redact(str(exc)) or name
        error = TransportError(f"no answer from the platform ({name}: {detail})", method=method, url=self.redact(url))
        error.reason = name
        return error

    def _too_large_error(self, method: str, url: str, exc: limits.ResponseTooLarge) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"the answer is larger than the limit of {exc.cap:,} bytes{' once decoded' if exc.decoded else ''} "
            "(the provider's maxResponseBytes); it was not read further",
            method=method, url=self.redact(url), status=exc.status,
        )  # fmt: skip

    def _redirect_error(self, response: httpx.Response) -> ApiError:
        location = response.headers.get("Location")
        where = f" to {self.redact(location)[:200]!r}" if location is not None else " without a Location"
        return ApiError(
            f"the platform redirected{where}; redirects are not followed (is the provider's endpoint right?)",
            method=response.request.method,
            url=self.redact(str(response.request.url)),
            status=response.status_code,
            request_id=self.redact(response.headers.get(self.request_id_header) or "") or None,
        )

    def _certificate_error(self, method: str, url: str, exc: Exception) -> CertificateError:
        failure = certificate_failure(exc)
        detail = getattr(failure, "verify_message", None) or str(failure) or str(exc)
        error = CertificateError(
            f"the server's TLS certificate did not verify ({self.redact(str(detail))}); not retried",
            method=method, url=self.redact(url),
        )  # fmt: skip
        error.reason = "CertificateVerifyFailed"
        return error

    def _deadline_error(self, method: str, url: str, sent: bool, write: bool = False, after: str = "") -> DeadlineError:
        self.stats.give_ups += 1
        seconds = limits.deadline_seconds() or 0.0
        if sent:
            what = "cut short" + (", so it may or may not have been applied" if write else "")
        else:
            what = f"not retried after {after}" if after else "not sent"
        error = DeadlineError(
            f"the run's deadline of {seconds:g} s (--deadline / CAMPAIGNCTL_DEADLINE) passed: {what}",
            method=method, url=self.redact(url),
        )  # fmt: skip
        error.reason = "DeadlinePassed"
        return error

    def _ambiguous_error(self, method: str, url: str, exc: Exception) -> AmbiguousWriteError:
        name = _error_name(exc)
        detail = self.redact(str(exc)) or name
        return AmbiguousWriteError(
            f"sent, but no answer from the platform ({name}: {detail}); it may or may not "
            "have been applied, so it is not retried (retrying could apply it twice)",
            method=method,
            url=self.redact(url),
            reason=name,
        )

    def _budget_error(self, method: str, url: str, why: str, response: httpx.Response | None, reason: str = "") -> TransportError:
        self.stats.give_ups += 1
        self.stats.budget_exhausted += 1
        detail = why
        if response is not None:
            code, message = self.error_parser(response)
            detail = self.redact(f"{why}: {f'[{code}] ' if code else ''}{message}")
        first = self.stats.budget_exhausted == 1
        log.log(logging.WARNING if first else logging.DEBUG, "retry budget exhausted (%s): not retrying %s %s after %s",
                self.budget, method, self.redact(url), detail)
        error = TransportError(
            f"retry budget exhausted: too many calls to this platform failed and were retried, so it seems "
            f"to be down; not retrying ({detail}). Try again later",
            method=method,
            url=self.redact(url),
            status=response.status_code if response is not None else None,
            request_id=self.redact(response.headers.get(self.request_id_header) or "") or None if response is not None else None,
        )
        error.reason = reason
        return error

    def _count(self, method: str, seconds: float) -> None:
        self.stats.calls += 1
        self.stats.by_method[method] = self.stats.by_method.get(method, 0) + 1
        self.stats.seconds += seconds

    async def _sleep_before_retry(
        self, attempt: int, response: httpx.Response | None, method: str, url: str, why: str
    ) -> None:
        delay = self.retry.backoff(attempt)
        if response is not None and "Retry-After" in response.headers:
            delay = min(self.retry.max_retry_after, _parse_retry_after(response.headers["Retry-After"]))
        left = limits.deadline_left()
        if left is not None and delay >= left:  # the retry would start after the deadline
            raise self._deadline_error(method, url, sent=False, after=why)
        self.stats.retries += 1
        log.info("retrying %s %s after %s in %.2fs (attempt %d)", method, self.redact(url), why, delay, attempt + 1)
        await asyncio.sleep(delay)


class _DeadlinePassed(httpx.TransportError):
    """(inside ApiClient) the run's deadline passed before (``sent`` False) or during an attempt."""

    def __init__(self, sent: bool) -> None:
        super().__init__("the run's deadline passed")
        self.sent = sent


def _char_forms(char: str) -> str:
    """A regex for one character of a secret as it may appear in a text: itself, or
    percent-encoded (its UTF-8 bytes), or ``+`` for a space."""
    forms = [re.escape(char), "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))]
    if char == " ":
        forms.append(r"\+")
    return "(?:" + "|".join(forms) + ")"


def _base64_cores(secret: str) -> list[str]:
    """The parts of the base64 encodings (standard and URL-safe) of ``secret`` that do not depend on
    what surrounds it, at each of the three alignments it can have inside a longer encoded text;
    only those of 8 characters or more (shorter ones would match by chance)."""
    data = secret.encode("utf-8", "surrogatepass")
    cores: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + data).decode("ascii")
        core = encoded[-(-8 * shift // 6) : 8 * (shift + len(data)) // 6]
        if len(core) >= 8:
            cores.update((core, core.replace("+", "-").replace("/", "_")))
    return sorted(cores, key=len, reverse=True)


def _parse_retry_after(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, when.timestamp() - time.time())
