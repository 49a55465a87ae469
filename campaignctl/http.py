"""The one HTTP client layer every provider uses (httpx, async).

- bounded concurrency: at most ``parallelism`` requests in flight per client, and a connection
  pool of the same size;
- retries with exponential backoff and full jitter, honouring ``Retry-After`` up to a cap:
  reads (and idempotent writes such as PUT/DELETE) on timeouts, connection errors, 429 and 5xx;
  non-idempotent writes only when the platform cannot have applied them (the connection was
  never made, or a 429 refusal);
- errors carry the method, URL, status, the platform's error code/message and the request id;
- secrets (tokens, keys, passwords) are redacted from every message.
"""
from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .errors import ApiError, TransportError

log = logging.getLogger("campaignctl.http")

#: parses an error response into (code, message); providers supply their platform's format
ErrorParser = Callable[[httpx.Response], tuple[str | None, str]]

RETRY_STATUSES = {429, 500, 502, 503, 504}


def error_json(response: httpx.Response) -> tuple[Any, str | None]:
    """An error reply's decoded JSON body, or (None, a short text to show) when it is not JSON.

    Every platform's ErrorParser starts here, so an HTML error page reads the same everywhere."""
    try:
        return response.json(), None
    except ValueError:
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


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
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
        timeout: float = 30.0,
        parallelism: int = 8,
        retry: RetryPolicy | None = None,
        error_parser: ErrorParser = default_error_parser,
        secrets: list[str] | None = None,
        request_id_header: str = "X-Request-ID",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.error_parser = error_parser
        self.secrets = [s for s in (secrets or []) if s]
        self.request_id_header = request_id_header
        self.stats = CallStats()
        self._sem = asyncio.Semaphore(parallelism)
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers or {},
            transport=transport,
            timeout=timeout,
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
        return text

    def url_for(self, path_or_url: str) -> str:
        """``/tasks`` -> base + path; a link the API returned (``/swarms/tasks?after=3``) -> same host."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        base = httpx.URL(self.base_url)
        if base.path not in ("", "/") and path_or_url.startswith(base.path.rstrip("/") + "/"):
            return str(base.copy_with(raw_path=path_or_url.encode()))
        return self.base_url + path_or_url

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
        """Send one request with the retry discipline; return the response or raise ApiError."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        url = self.url_for(path)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                async with self._sem:
                    response = await self._client.request(method, url, json=json, data=data, params=params)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # the request never reached the platform: safe to retry any method
                if attempt < self.retry.attempts:
                    await self._sleep_before_retry(attempt, None, method, url, f"{type(exc).__name__}")
                    continue
                raise self._transport_error(method, url, exc) from None
            except httpx.TransportError as exc:
                if idempotent and attempt < self.retry.attempts:
                    await self._sleep_before_retry(attempt, None, method, url, f"{type(exc).__name__}")
                    continue
                raise self._transport_error(method, url, exc) from None
            finally:
                self._count(method, time.perf_counter() - started)
            status = response.status_code
            log.debug("%s %s -> %s", method, self.redact(url), status)
            if status < 400 or status in ok_statuses:
                return response
            retryable = status in RETRY_STATUSES and (idempotent or status == 429)
            if retryable and attempt < self.retry.attempts:
                await self._sleep_before_retry(attempt, response, method, url, f"HTTP {status}")
                continue
            raise self.error_from(response)

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return self.decode(response)

    def decode(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"the platform answered with a body that is not JSON: {self.redact(response.text[:120])!r}",
                method=response.request.method,
                url=self.redact(str(response.request.url)),
                status=response.status_code,
                request_id=response.headers.get(self.request_id_header),
            ) from None

    def error_from(self, response: httpx.Response) -> ApiError:
        code, message = self.error_parser(response)
        return ApiError(
            self.redact(message),
            method=response.request.method,
            url=self.redact(str(response.request.url)),
            status=response.status_code,
            code=code,
            request_id=response.headers.get(self.request_id_header),
        )

    def _transport_error(self, method: str, url: str, exc: Exception) -> TransportError:
        detail = self.redact(str(exc)) or type(exc).__name__
        return TransportError(f"no answer from the platform ({type(exc).__name__}: {detail})", method=method, url=self.redact(url))

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
