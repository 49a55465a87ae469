"""campaignctl.http.ApiClient against httpx.MockTransport: retries, errors, redaction, concurrency."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from campaignctl.errors import AmbiguousWriteError, ApiError, TransportError
from campaignctl.http import ApiClient, RetryBudget, RetryPolicy

BASE = "https://api.example.test/v1"
SECRET = "tok-Sup3rSecret-42"

Handler = Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]


class Recorder:
    """An async MockTransport handler answering from a script, one entry per call (the last repeats)."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script[min(len(self.requests), len(self.script)) - 1]
        if isinstance(step, type) and issubclass(step, httpx.RequestError):
            raise step("simulated failure", request=request)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, int):
            return httpx.Response(step, json={"ok": step < 400})
        return step  # an httpx.Response

    @property
    def calls(self) -> int:
        return len(self.requests)


def client_for(handler: Handler, **kwargs: Any) -> ApiClient:
    kwargs.setdefault("retry", RetryPolicy(base_delay=0, max_delay=0))
    return ApiClient(BASE, transport=httpx.MockTransport(handler), **kwargs)


def call(handler: Handler, method: str, path: str = "/things", **kwargs: Any) -> tuple[Any, ApiClient]:
    """Run one request; return (response or raised exception, client)."""
    client_kwargs = {k: kwargs.pop(k) for k in ("retry", "secrets", "parallelism", "budget", "timeout") if k in kwargs}

    async def main() -> tuple[Any, ApiClient]:
        client = client_for(handler, **client_kwargs)
        try:
            return await client.request(method, path, **kwargs), client
        except ApiError as exc:
            return exc, client
        finally:
            await client.aclose()

    return asyncio.run(main())


# -- retries ---------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_get_is_retried_on_server_errors_then_succeeds(status: int) -> None:
    handler = Recorder(status, 200)
    response, client = call(handler, "GET")
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert handler.calls == 2
    assert client.stats.retries == 1
    assert client.stats.calls == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_get_gives_up_after_the_attempt_budget(status: int) -> None:
    handler = Recorder(status)
    error, client = call(handler, "GET", retry=RetryPolicy(attempts=4, base_delay=0, max_delay=0))
    assert isinstance(error, ApiError) and not isinstance(error, TransportError)
    assert error.status == status
    assert handler.calls == 4
    assert client.stats.retries == 3


def test_default_policy_tries_three_times_in_total() -> None:
    handler = Recorder(503)
    error, _ = call(handler, "GET")
    assert isinstance(error, ApiError)
    assert handler.calls == RetryPolicy().attempts == 3


def test_a_single_attempt_means_no_retry() -> None:
    handler = Recorder(503, 200)
    error, _ = call(handler, "GET", retry=RetryPolicy(attempts=1, base_delay=0, max_delay=0))
    assert isinstance(error, ApiError) and error.status == 503
    assert handler.calls == 1


def test_get_is_retried_on_read_timeout() -> None:
    handler = Recorder(httpx.ReadTimeout, 200)
    response, _ = call(handler, "GET")
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert handler.calls == 2


def test_get_read_timeouts_exhaust_into_a_transport_error() -> None:
    handler = Recorder(httpx.ReadTimeout)
    error, _ = call(handler, "GET")
    assert isinstance(error, TransportError)
    assert handler.calls == 3
    assert "ReadTimeout" in str(error)
    assert error.method == "GET"
    assert error.url == f"{BASE}/things"
    assert error.__cause__ is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    handler = Recorder(status, 200)
    error, _ = call(handler, "GET")
    assert isinstance(error, ApiError) and error.status == status
    assert handler.calls == 1


def test_ok_statuses_are_returned_not_raised() -> None:
    handler = Recorder(404)
    response, _ = call(handler, "GET", ok_statuses=(404,))
    assert isinstance(response, httpx.Response) and response.status_code == 404
    assert handler.calls == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_429_with_retry_after_zero_is_retried(method: str) -> None:
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow down"}), 201)
    response, client = call(handler, method, json={"a": 1})
    assert isinstance(response, httpx.Response) and response.status_code == 201
    assert handler.calls == 2
    assert [r.method for r in handler.requests] == [method, method]
    assert client.stats.retries == 1


def test_429_exhausted_raises_with_the_status() -> None:
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow down"}))
    error, _ = call(handler, "POST", json={})
    assert isinstance(error, ApiError) and error.status == 429
    assert error.message == "slow down"
    assert handler.calls == 3


def test_retry_after_is_honoured() -> None:
    handler = Recorder(httpx.Response(503, headers={"Retry-After": "0.3"}), 200)
    started = time.monotonic()
    response, _ = call(handler, "GET")
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert time.monotonic() - started >= 0.25


def test_retry_after_is_capped() -> None:
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}), 200)
    started = time.monotonic()
    response, _ = call(handler, "GET", retry=RetryPolicy(base_delay=0, max_delay=0, max_retry_after=0))
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_is_not_retried_on_server_errors(status: int) -> None:
    handler = Recorder(status, 201)
    error, client = call(handler, "POST", json={"title": "x"})
    assert isinstance(error, ApiError) and error.status == status
    assert handler.calls == 1
    assert client.stats.retries == 0


def test_post_is_not_retried_on_read_timeout() -> None:
    # the platform may have applied it: retrying could create a duplicate
    handler = Recorder(httpx.ReadTimeout, 201)
    error, _ = call(handler, "POST", json={"title": "x"})
    assert isinstance(error, TransportError)
    assert handler.calls == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
def test_post_is_retried_when_the_connection_was_never_made(exc: type[Exception]) -> None:
    handler = Recorder(exc, 201)
    response, _ = call(handler, "POST", json={"title": "x"})
    assert isinstance(response, httpx.Response) and response.status_code == 201
    assert handler.calls == 2


def test_connect_errors_exhaust_the_budget() -> None:
    handler = Recorder(httpx.ConnectError)
    error, _ = call(handler, "POST", json={})
    assert isinstance(error, TransportError)
    assert "ConnectError" in str(error)
    assert handler.calls == 3


def test_patch_is_not_idempotent() -> None:
    handler = Recorder(503, 200)
    error, _ = call(handler, "PATCH", json={})
    assert isinstance(error, ApiError)
    assert handler.calls == 1


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("failure", [500, 503, httpx.ReadTimeout])
def test_put_and_delete_are_idempotent(method: str, failure: Any) -> None:
    handler = Recorder(failure, 200)
    response, _ = call(handler, method)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert handler.calls == 2


def test_idempotent_flag_overrides_the_method_default() -> None:
    handler = Recorder(500, 200)
    response, _ = call(handler, "POST", json={}, idempotent=True)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    handler = Recorder(500, 200)
    error, _ = call(handler, "GET", idempotent=False)
    assert isinstance(error, ApiError) and handler.calls == 1


def test_retries_resend_the_same_body() -> None:
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "0"}), 201)
    call(handler, "POST", json={"title": "x", "n": 1})
    assert len(handler.requests) == 2
    assert handler.requests[0].content == handler.requests[1].content
    assert b'"title"' in handler.requests[0].content


# -- ambiguous writes --------------------------------------------------------------------------
SENT_BUT_NO_ANSWER = [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.WriteTimeout]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("failure", SENT_BUT_NO_ANSWER)
def test_writes_are_not_retried_after_an_ambiguous_failure(method: str, failure: type[Exception]) -> None:
    handler = Recorder(failure, 201)
    error, client = call(handler, method, f"/campaigns/{SECRET}", json={"title": "x"}, secrets=[SECRET])
    assert isinstance(error, AmbiguousWriteError) and isinstance(error, TransportError)
    assert handler.calls == 1
    assert error.method == method
    assert error.url == f"{BASE}/campaigns/***"
    assert error.reason == failure.__name__
    assert "may or may not have been applied" in str(error) and SECRET not in str(error)
    assert (client.stats.retries, client.stats.give_ups, client.stats.ambiguous_writes) == (0, 1, 1)


def test_a_get_marked_not_idempotent_is_ambiguous_too() -> None:
    # Microworkers v1 performs some actions with GET and says so with idempotent=False
    handler = Recorder(httpx.ReadTimeout, 200)
    error, _ = call(handler, "GET", "/campaign_b/start/1", idempotent=False)
    assert isinstance(error, AmbiguousWriteError) and handler.calls == 1


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_writes_are_retried_when_nothing_was_sent(failure: type[Exception]) -> None:
    handler = Recorder(failure, 201)
    response, client = call(handler, "POST", json={})
    assert isinstance(response, httpx.Response) and response.status_code == 201
    assert handler.calls == 2 and client.stats.retries == 1


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
@pytest.mark.parametrize("failure", [httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout])
def test_reads_and_idempotent_writes_are_retried_after_a_reset(method: str, failure: type[Exception]) -> None:
    handler = Recorder(failure, 200)
    response, client = call(handler, method)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert handler.calls == 2 and client.stats.retries == 1


def test_idempotent_writes_that_keep_failing_are_plain_transport_errors() -> None:
    handler = Recorder(httpx.RemoteProtocolError)
    error, client = call(handler, "PUT", json={})
    assert type(error) is TransportError
    assert handler.calls == 3
    assert (client.stats.retries, client.stats.give_ups, client.stats.ambiguous_writes) == (2, 1, 0)


# -- timeouts ------------------------------------------------------------------------------------
def test_there_is_a_default_timeout() -> None:
    client = ApiClient(BASE)
    assert client._client.timeout == httpx.Timeout(30.0, connect=10.0)
    assert client.deadline is None  # httpx's network transport enforces its timeouts itself
    asyncio.run(client.aclose())
    client = ApiClient(BASE, timeout=5, transport=httpx.MockTransport(Recorder(200)))
    assert client._client.timeout == httpx.Timeout(5.0)
    assert client.deadline == 5.0  # an in-process transport does not: the client does
    asyncio.run(client.aclose())


@pytest.mark.parametrize(("method", "calls"), [("GET", 3), ("POST", 1)])
def test_an_in_process_answer_that_never_comes_times_out(method: str, calls: int) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        hang.calls += 1  # type: ignore[attr-defined]
        await asyncio.sleep(30)
        return httpx.Response(200)

    hang.calls = 0  # type: ignore[attr-defined]
    started = time.monotonic()
    error, _ = call(hang, method, json={}, timeout=0.1)
    assert time.monotonic() - started < 2
    assert isinstance(error, TransportError) and "ReadTimeout" in str(error)
    assert isinstance(error, AmbiguousWriteError) == (method == "POST")
    assert hang.calls == calls  # type: ignore[attr-defined]


# -- the retry budget ----------------------------------------------------------------------------
def test_the_budget_stops_retries_against_a_platform_that_is_down() -> None:
    handler = Recorder(httpx.Response(503, json={"message": "down for maintenance"}, headers={"X-Request-ID": "r-9"}))

    async def main() -> tuple[list[ApiError], ApiClient]:
        client = client_for(handler)
        errors = []
        try:
            for _ in range(60):
                try:
                    await client.request("GET", "/things")
                except ApiError as exc:
                    errors.append(exc)
            return errors, client
        finally:
            await client.aclose()

    errors, client = asyncio.run(main())
    # 500 tokens, 2 retries x 5 tokens per failed request: the first 50 requests retry...
    assert all(type(e) is ApiError and e.status == 503 for e in errors[:50])
    # ... then each request fails at once
    assert handler.calls == 50 * 3 + 10
    assert client.budget.tokens == 0
    last = errors[-1]
    assert isinstance(last, TransportError) and not isinstance(last, AmbiguousWriteError)
    assert "retry budget exhausted" in str(last) and "seems to be down" in str(last)
    assert "HTTP 503: down for maintenance" in str(last)
    assert (last.method, last.url, last.status, last.request_id) == ("GET", f"{BASE}/things", 503, "r-9")
    assert (client.stats.retries, client.stats.give_ups, client.stats.budget_exhausted) == (100, 60, 10)


def test_a_down_platform_fails_the_run_quickly_despite_backoff() -> None:
    handler = Recorder(httpx.ConnectError)

    async def main() -> list[ApiError]:
        # real backoff; 20 tokens: one request's two retries after connection errors (10 each)
        client = ApiClient(BASE, transport=httpx.MockTransport(handler), budget=RetryBudget(capacity=20))
        try:
            return list(await asyncio.gather(*(_failing(client) for _ in range(20))))
        finally:
            await client.aclose()

    started = time.monotonic()
    errors = asyncio.run(main())
    assert time.monotonic() - started < 3  # without the budget: ~20 x 2 backoffs
    assert sum("retry budget exhausted" in str(e) for e in errors) >= 18
    assert handler.calls <= 22


async def _failing(client: ApiClient) -> ApiError:
    with pytest.raises(ApiError) as info:
        await client.request("POST", "/things", json={})
    return info.value


@pytest.mark.parametrize(("script", "tokens"), [((503, 503, 200), 95), ((httpx.ReadTimeout, httpx.ReadTimeout, 200), 90), ((200,), 101)])
def test_a_success_gives_back_the_last_retry_cost_or_one_token(script: tuple[Any, ...], tokens: int) -> None:
    budget = RetryBudget()
    budget.tokens = 100
    response, _ = call(Recorder(*script), "GET", budget=budget)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert budget.tokens == tokens


def test_the_budget_never_exceeds_its_capacity_and_can_be_shared() -> None:
    budget = RetryBudget(capacity=10)
    call(Recorder(200), "GET", budget=budget)
    assert budget.tokens == 10
    error, _ = call(Recorder(500), "GET", budget=budget)  # 2 retries: 10 tokens
    assert isinstance(error, ApiError) and budget.tokens == 0
    handler = Recorder(500, 200)
    error, _ = call(handler, "GET", budget=budget)  # another client, same budget: no retry left
    assert isinstance(error, TransportError) and "retry budget exhausted" in str(error)
    assert handler.calls == 1


def test_a_429_refusal_also_draws_on_the_budget() -> None:
    budget = RetryBudget(capacity=4)
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "0"}), 201)
    error, client = call(handler, "POST", json={}, budget=budget)
    assert isinstance(error, TransportError) and error.status == 429
    assert handler.calls == 1 and client.stats.budget_exhausted == 1


# -- errors ----------------------------------------------------------------------------------
def test_api_error_carries_status_code_message_and_request_id() -> None:
    response = httpx.Response(
        422, json={"code": "E_INVALID", "message": "title is required"}, headers={"X-Request-ID": "req-abc-123"}
    )
    error, _ = call(Recorder(response), "POST", "/campaigns", json={})
    assert isinstance(error, ApiError)
    assert error.status == 422
    assert error.code == "E_INVALID"
    assert error.message == "title is required"
    assert error.request_id == "req-abc-123"
    assert error.method == "POST"
    assert error.url == f"{BASE}/campaigns"
    text = str(error)
    assert "POST" in text and f"{BASE}/campaigns" in text
    assert "E_INVALID" in text and "title is required" in text
    assert "req-abc-123" in text and "422" in text


def test_api_error_without_request_id_or_code() -> None:
    error, _ = call(Recorder(httpx.Response(404, json={"detail": "no such campaign"})), "GET", "/campaigns/9")
    assert isinstance(error, ApiError)
    assert error.request_id is None and error.code is None
    assert error.message == "no such campaign"
    assert "request id" not in str(error)


def test_custom_error_parser_is_used() -> None:
    def parser(response: httpx.Response) -> tuple[str | None, str]:
        body = response.json()
        return body["err"]["id"], body["err"]["text"]

    async def main() -> ApiError:
        client = ApiClient(
            BASE,
            transport=httpx.MockTransport(Recorder(httpx.Response(400, json={"err": {"id": "X1", "text": "nope"}}))),
            error_parser=parser,
        )
        try:
            with pytest.raises(ApiError) as info:
                await client.request("GET", "/x")
            return info.value
        finally:
            await client.aclose()

    error = asyncio.run(main())
    assert (error.code, error.message) == ("X1", "nope")


def test_html_error_body_gives_a_clean_api_error() -> None:
    page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>" + "<p>filler</p>\n" * 200 + "</body></html>"
    response = httpx.Response(502, text=page, headers={"Content-Type": "text/html"})
    error, _ = call(Recorder(response), "POST", json={})
    assert type(error) is ApiError
    assert error.status == 502
    assert error.code is None
    assert "\n" not in error.message
    assert "502 Bad Gateway" in error.message
    assert len(error.message) <= 200


def test_empty_error_body_falls_back_to_the_reason_phrase() -> None:
    error, _ = call(Recorder(httpx.Response(403)), "GET")
    assert isinstance(error, ApiError)
    assert error.message == "Forbidden"


def test_secrets_are_redacted_from_error_messages_and_urls() -> None:
    response = httpx.Response(
        401, json={"code": "AUTH", "message": f"token {SECRET} is not valid"}, headers={"X-Request-ID": "r1"}
    )
    error, _ = call(Recorder(response), "GET", f"/things?api_key={SECRET}", secrets=[SECRET, ""])
    assert isinstance(error, ApiError)
    assert SECRET not in str(error)
    assert SECRET not in error.message
    assert SECRET not in error.url
    assert "***" in error.message and "***" in error.url


def test_secrets_are_redacted_from_transport_errors() -> None:
    handler = Recorder(httpx.ConnectError(f"cannot reach host for {SECRET}"))
    error, _ = call(handler, "GET", f"/x/{SECRET}", secrets=[SECRET])
    assert isinstance(error, TransportError)
    assert SECRET not in str(error)
    assert SECRET not in error.url


def test_secrets_are_redacted_from_decode_errors() -> None:
    async def main() -> ApiError:
        client = client_for(Recorder(httpx.Response(200, text=f"oops {SECRET}")), secrets=[SECRET])
        try:
            with pytest.raises(ApiError) as info:
                await client.json("GET", f"/x?k={SECRET}")
            return info.value
        finally:
            await client.aclose()

    error = asyncio.run(main())
    assert SECRET not in str(error)


def test_add_secret_later() -> None:
    client = ApiClient(BASE)
    client.add_secret("")
    client.add_secret("late-token")
    assert client.redact("a late-token b") == "a *** b"
    asyncio.run(client.aclose())


def test_decode_of_truncated_json_raises_api_error() -> None:
    async def main() -> ApiError:
        response = httpx.Response(200, text='{"items": [1, 2, {"a"', headers={"X-Request-ID": "rid-7"})
        client = client_for(Recorder(response))
        try:
            with pytest.raises(ApiError) as info:
                await client.json("GET", "/items")
            return info.value
        finally:
            await client.aclose()

    error = asyncio.run(main())
    assert not isinstance(error, ValueError)
    assert error.status == 200
    assert error.request_id == "rid-7"
    assert error.method == "GET" and error.url == f"{BASE}/items"
    assert error.__cause__ is None and error.__suppress_context__
    assert "not JSON" in str(error)


def test_json_decodes_and_empty_body_is_none() -> None:
    async def main() -> tuple[Any, Any]:
        client = client_for(Recorder(httpx.Response(200, json={"a": [1]}), httpx.Response(204)))
        try:
            return await client.json("GET", "/a"), await client.json("DELETE", "/a")
        finally:
            await client.aclose()

    assert asyncio.run(main()) == ({"a": [1]}, None)


# -- urls ------------------------------------------------------------------------------------
def test_url_for_joins_paths_and_keeps_api_links() -> None:
    client = ApiClient("https://h.test/swarms/")
    assert client.url_for("/tasks") == "https://h.test/swarms/tasks"
    assert client.url_for("/swarms/tasks?after=3") == "https://h.test/swarms/tasks?after=3"
    assert client.url_for("https://other.test/x") == "https://other.test/x"
    asyncio.run(client.aclose())


def test_headers_are_sent() -> None:
    handler = Recorder(200)

    async def main() -> None:
        client = client_for(handler, headers={"Authorization": "Bearer t"})
        client.set_header("X-Extra", "1")
        try:
            await client.request("GET", "/a", params={"page": 2})
        finally:
            await client.aclose()

    asyncio.run(main())
    request = handler.requests[0]
    assert request.headers["Authorization"] == "Bearer t"
    assert request.headers["X-Extra"] == "1"
    assert str(request.url) == f"{BASE}/a?page=2"


# -- concurrency -----------------------------------------------------------------------------
@pytest.mark.parametrize("parallelism", [1, 2, 5])
def test_concurrency_never_exceeds_parallelism(parallelism: int) -> None:
    in_flight = 0
    peak = 0
    calls = 0
    seen: set[str] = set()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak, calls
        calls += 1
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.01)
            # the first attempt of every third item fails, so retries compete for slots too
            path = request.url.path
            if path not in seen and int(path.rsplit("/", 1)[1]) % 3 == 0:
                seen.add(path)
                return httpx.Response(503)
            return httpx.Response(200, json={})
        finally:
            in_flight -= 1

    async def main() -> None:
        client = client_for(handler, parallelism=parallelism)
        try:
            await asyncio.gather(*(client.request("GET", f"/item/{i}") for i in range(20)))
        finally:
            await client.aclose()

    asyncio.run(main())
    assert peak == parallelism
    assert calls == 20 + len(seen)


@pytest.mark.parametrize("secret", ["a+b/c==", "p@ss word!", "plain-token"])
def test_secrets_sent_as_query_params_are_redacted_in_their_encoded_form(secret: str) -> None:
    response = httpx.Response(403, json={"message": "denied"})
    error, _ = call(Recorder(response), "GET", "/things", params={"key": secret}, secrets=[secret])
    assert isinstance(error, ApiError)
    assert "key=***" in error.url
    assert "key=***" in str(error)


# -- bodies ----------------------------------------------------------------------------------
def decoded(raw: bytes) -> Any:
    """What ``ApiClient.json`` makes of an answer whose body is ``raw``."""

    async def main() -> Any:
        client = client_for(Recorder(httpx.Response(200, content=raw)))
        try:
            return await client.json("GET", "/a")
        finally:
            await client.aclose()

    return asyncio.run(main())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (rb'{"a": "x\ud800y", "b": "\uDC00"}', None),  # lone surrogates: U+FFFD in their place
        (rb'{"emoji": "\ud83d\ude00", "e": "\u00e9"}', {"emoji": "\U0001f600", "e": "\u00e9"}),  # a pair: one character
        (rb'{"text": "\\ud800 is how it is written"}', {"text": "\\ud800 is how it is written"}),  # an escaped backslash
        (b'{"plain": "no escape at all"}', {"plain": "no escape at all"}),
    ],
)
def test_json_bodies_never_hold_lone_surrogates(raw: bytes, expected: Any) -> None:
    body = decoded(raw)
    str(body).encode("utf-8")  # printable, writable
    if expected is None:
        assert body["a"].startswith("x\ufffd") and body["a"].endswith("\ufffdy") and set(body["b"]) == {"\ufffd"}
    else:
        assert body == expected


@pytest.mark.parametrize(
    "raw",
    [
        b'{"ratio": NaN, "cap": Infinity}',  # not JSON, but what json.loads (the rule) reads
        b'\xef\xbb\xbf{"bom": "utf-8 with a byte order mark"}',
        '{"wide": "UTF-16, as json.loads detects it"}'.encode("utf-16"),
        b'{"big": 1e400}',
    ],
)
def test_bodies_the_fast_decoder_refuses_read_as_the_standard_library_reads_them(raw: bytes) -> None:
    assert repr(decoded(raw)) == repr(json.loads(raw))  # repr: nan != nan


def test_the_debug_log_of_each_call_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="campaignctl.http"):
        call(Recorder(200), "GET", f"/x/{SECRET}", secrets=[SECRET])
    messages = [r.getMessage() for r in caplog.records if r.name == "campaignctl.http"]
    assert any(m == f"GET {BASE}/x/*** -> 200" for m in messages)
    assert not any(SECRET in m for m in messages)
