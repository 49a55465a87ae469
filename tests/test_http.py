"""campaignctl.http.ApiClient against httpx.MockTransport: retries, errors, redaction, concurrency."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from campaignctl.errors import ApiError, TransportError
from campaignctl.http import ApiClient, RetryPolicy

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
    client_kwargs = {k: kwargs.pop(k) for k in ("retry", "secrets", "parallelism") if k in kwargs}

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
