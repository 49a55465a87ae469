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
- errors carry the method, URL, status, the platform's error code/message and the request id;
- secrets (tokens, keys, passwords) are redacted from every message.
"""
from __future__ import annotations

import asyncio
import email.utils
import json as jsonlib
import logging
import random
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .errors import AmbiguousWriteError, ApiError, TransportError
from .transport import network_transport

log = logging.getLogger("campaignctl.http")

#: parses an error response into (code, message); providers supply their platform's format
ErrorParser = Callable[[httpx.Response], tuple[str | None, str]]

RETRY_STATUSES = {429, 500, 502, 503, 504}
#: methods retried by default (reads, and writes that are idempotent by definition)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: transport errors raised before any byte of the request was sent: safe to retry any method
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0


def _error_name(exc: BaseException) -> str:
    """The httpx name of a transport error (a subclass raised by a test transport reads the same)."""
    for cls in type(exc).__mro__:
        if cls.__module__.split(".")[0] == "httpx":
            return cls.__name__
    return type(exc).__name__


def make_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """``30`` -> 30 s to read/write/wait for a pooled connection, at most 10 s to connect."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    seconds = DEFAULT_READ_TIMEOUT if timeout is None else float(timeout)
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))


def json_body(response: httpx.Response) -> Any:
    """``response.json()``, where a lone surrogate (a ``\\ud800`` escape: no character, so text that
    cannot be printed or written as UTF-8) becomes U+FFFD. Raises what ``json.loads`` raises."""
    body = response.json()
    if b"\\u" in response.content:
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


class ApiClient:
    """An async JSON client for one platform endpoint."""

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
    ) -> None:
        """``timeout``: seconds (or an httpx.Timeout); ``deadline``: seconds an attempt may take in
        all, by default the read timeout when ``transport`` is not httpx's network transport
        (in-process transports ignore httpx's timeouts), else none. ``budget``: share one
        RetryBudget between clients; by default each client has its own."""
        self.base_url = base_url.rstrip("/")
        self._base = httpx.URL(self.base_url)
        self.retry = retry or RetryPolicy()
        self.budget = budget if budget is not None else RetryBudget()
        timeouts = make_timeout(timeout)
        if deadline is None and transport is not None and not isinstance(transport, httpx.AsyncHTTPTransport):
            deadline = timeouts.read
        self.deadline = deadline
        self.error_parser = error_parser
        self.secrets = [s for s in (secrets or []) if s]
        self.request_id_header = request_id_header
        self.stats = CallStats()
        self._sem = asyncio.Semaphore(parallelism)
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers or {},
            # over the network: one keep-alive connection per slot (see campaignctl.transport)
            transport=transport if transport is not None else network_transport(self.base_url, parallelism),
            timeout=timeouts,
            limits=httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def add_secret(self, value: str) -> None:
        if value:
            self.secrets.append(value)

    def set_header(self, name: str, value: str) -> None:
        self._client.headers[name] = value

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            # also the forms a secret takes inside a URL (query params are percent-encoded)
            forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
            for form in sorted(forms, key=len, reverse=True):
                text = text.replace(form, "***")
                # error texts are cut short (a body's first 200 characters...): the cut may end in a secret's start
                for n in range(len(form) - 1, 5, -1):
                    if text.endswith(form[:n]):
                        text = text[:-n] + "***"
                        break
        return text

    def url_for(self, path_or_url: str) -> httpx.URL:
        """``/tasks`` -> base + path; a link the API returned (``/swarms/tasks?after=3``) -> same host.
        Parsed once here (httpx takes the parsed URL as it is: parsing was a tenth of a plan's CPU)."""
        try:  # a link from a reply may be no URL at all ("http://[::1"): the platform's error, not a traceback
            if path_or_url.startswith(("http://", "https://")):
                return httpx.URL(path_or_url)
            base = self._base
            if base.path not in ("", "/") and path_or_url.startswith(base.path.rstrip("/") + "/"):
                return base.copy_with(raw_path=path_or_url.encode())
            return httpx.URL(self.base_url + path_or_url)
        except httpx.InvalidURL as exc:
            raise ApiError(f"not a usable URL: {self.redact(path_or_url)[:200]!r} ({exc})") from None

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
        target = self.url_for(path if not params else f"{path}{'&' if '?' in path else '?'}{httpx.QueryParams(params)}")
        url = str(target)
        attempt = 0
        last_retry_cost = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                async with self._sem:
                    response = await self._send(method, target, json=json, data=data)
            except httpx.TransportError as exc:
                why = _error_name(exc)
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
                    raise self._budget_error(method, url, f"{why}: {self.redact(str(exc)) or why}", None) from None
                last_retry_cost = cost
                await self._sleep_before_retry(attempt, None, method, url, why)
                continue
            except httpx.DecodingError as exc:  # Content-Encoding gzip/deflate... over a body that is not
                raise ApiError(f"the platform's answer could not be decoded ({self.redact(str(exc))})", method=method, url=self.redact(url)) from None
            finally:
                self._count(method, time.perf_counter() - started)
            status = response.status_code
            log.debug("%s %s -> %s", method, self.redact(url), status)
            if status < 400 or status in ok_statuses:
                self.budget.release(last_retry_cost or self.budget.success_refund)
                return response
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

    async def _send(self, method: str, url: httpx.URL, **kwargs: Any) -> httpx.Response:
        if self.deadline is None:
            return await self._client.request(method, url, **kwargs)
        try:
            async with asyncio.timeout(self.deadline):
                return await self._client.request(method, url, **kwargs)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer within {self.deadline:g}s") from None

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
        return TransportError(f"no answer from the platform ({name}: {detail})", method=method, url=self.redact(url))

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

    def _budget_error(self, method: str, url: str, why: str, response: httpx.Response | None) -> TransportError:
        self.stats.give_ups += 1
        self.stats.budget_exhausted += 1
        detail = why
        if response is not None:
            code, message = self.error_parser(response)
            detail = self.redact(f"{why}: {f'[{code}] ' if code else ''}{message}")
        first = self.stats.budget_exhausted == 1
        log.log(logging.WARNING if first else logging.DEBUG, "retry budget exhausted (%s): not retrying %s %s after %s",
                self.budget, method, self.redact(url), detail)
        return TransportError(
            f"retry budget exhausted: too many calls to this platform failed and were retried, so it seems "
            f"to be down; not retrying ({detail}). Try again later",
            method=method,
            url=self.redact(url),
            status=response.status_code if response is not None else None,
            request_id=self.redact(response.headers.get(self.request_id_header) or "") or None if response is not None else None,
        )

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
        self.stats.retries += 1
        log.info("retrying %s %s after %s in %.2fs (attempt %d)", method, self.redact(url), why, delay, attempt + 1)
        await asyncio.sleep(delay)


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
