"""ApiClient's direct path over a real loopback socket: what it sends, what it gives back, its errors.

Over the network (a StreamTransport), ApiClient writes the request bytes itself instead of going
through httpx.AsyncClient (campaignctl.http.ApiClient._send_direct). These tests hold it to what
httpx's client sends and returns: the bytes on the wire are compared with the ones the same
client sends through httpx (``client._stream = None`` forces that path), and the answers, errors
and timeouts are the ones the retry logic and the providers read.
"""
from __future__ import annotations

import asyncio
import gzip
import logging
import pickle
import random
import socket
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaignctl.errors import AmbiguousWriteError, ApiError, TransportError
from campaignctl.http import ApiClient, RetryPolicy, encode_body
from campaignctl.transport import AppTransport, StreamTransport

SECRET = "tok-Sup3rSecret-42"
HANG = b"hang"  # an answer that never comes
HANG_UP = b""  # the server closes the connection without answering

Answer = Callable[[bytes, bytes], bytes]
T = TypeVar("T")


def reply(status: int = 200, body: bytes = b"{}", headers: dict[str, str] | None = None, reason: str = "OK") -> bytes:
    fields = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return f"HTTP/1.1 {status} {reason}\r\n{head}\r\n".encode() + body


def ok(head: bytes, body: bytes) -> bytes:
    return reply(200, b'{"ok": true}', {"X-Request-ID": "rid-1"})


class Server:
    """A loopback HTTP/1.1 server: ``answer(head, body)`` -> the bytes to write back (HANG: none,
    HANG_UP: close); every request is kept as it arrived in ``requests`` (head + body)."""

    def __init__(self, answer: Answer = ok, *, read: bool = True) -> None:
        self.answer = answer
        self.read = read
        self.requests: list[bytes] = []
        self.connections = 0
        self.handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        for task in self.handlers:
            task.cancel()
        await asyncio.gather(*self.handlers)
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            if not self.read:
                await asyncio.sleep(3600)
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                answer = self.answer(head, body)
                if answer == HANG:
                    await asyncio.sleep(3600)
                if answer == HANG_UP:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # cancelled: the test is over (a cancelled handler would be logged as an error)
        finally:
            writer.close()


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(main())


def client_for(url: str, **kwargs: Any) -> ApiClient:
    kwargs.setdefault("retry", RetryPolicy(base_delay=0, max_delay=0))
    kwargs.setdefault("headers", {"Accept": "application/json", "User-Agent": "campaignctl"})
    client = ApiClient(url, **kwargs)
    assert isinstance(client._stream, StreamTransport)  # the direct path, as for every network client
    return client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- which path ----------------------------------------------------------------------------------
def test_only_network_clients_take_the_direct_path() -> None:
    async def main() -> None:
        network = ApiClient("http://127.0.0.1:9/v1")
        mock = ApiClient("http://127.0.0.1:9/v1", transport=httpx.MockTransport(lambda r: httpx.Response(200)))
        asgi = ApiClient("http://sandbox/v1", transport=httpx.ASGITransport(app=lambda *a: None))
        stream = ApiClient("http://127.0.0.1:9/v1", transport=StreamTransport(2))
        app = ApiClient("http://sandbox/v1", transport=AppTransport(app=lambda *a: None), timeout=7)
        try:
            assert isinstance(network._stream, StreamTransport) and network.deadline is None
            assert mock._stream is None and asgi._stream is None
            assert stream._stream is not None and stream.deadline is None  # it keeps httpx's timeouts itself
            assert isinstance(app._stream, AppTransport) and app.deadline == 7  # in-process: the client's deadline
        finally:
            for client in (network, mock, asgi, stream, app):
                await client.aclose()

    run(main)


def test_an_environment_proxy_means_httpx_s_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    client = ApiClient("https://api.example.test/v1")
    assert client._stream is None
    run(client.aclose)


# -- the bytes on the wire -----------------------------------------------------------------------
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/tasks", {"params": {"limit": 100, "flag": True, "none": None, "list": [1, 2], "q": "a b&c/é"}}),
    ("GET", "/v1/tasks?after=3&limit=100", {}),  # a link from a reply, base path included
    ("GET", "{origin}/v1/tasks?after=4", {}),  # an absolute link on the same origin
    ("GET", "/tasks/a b/é?x=[1]#frag", {}),  # not plain: httpx's parser quotes it
    ("GET", "/tasks/./x/../y", {}),
    ("HEAD", "/tasks/1", {}),
    ("DELETE", "/tasks/1", {}),
    ("POST", "/tasks", {}),  # no body: Content-Length: 0
    ("PATCH", "/tasks/1", {"json": {}}),
    ("PUT", "/tasks/1", {"json": {"title": "é ü", "n": [1, 2.5, None, True], "nested": {"a": "b"}}}),
    ("POST", "/tasks", {"data": {"a": "é b", "n": 1, "t": True, "none": None, "l": [1, 2]}}),
    ("POST", "/tasks", {"data": {}, "json": {"x": 1}}),
    ("PUT", "/tasks", {"data": {}}),
]


async def wire(client: ApiClient, server: Server, direct: bool) -> list[bytes]:
    """What the server received for REQUESTS, sent directly or through httpx's client."""
    server.requests.clear()
    stream = client._stream
    if not direct:
        client._stream = None  # through httpx's client, over the same transport
    try:
        for method, path, kwargs in REQUESTS:
            await client.request(method, path.format(origin=server.url), **kwargs)
    finally:
        client._stream = stream
    return list(server.requests)


def test_the_direct_path_sends_what_httpx_s_client_sends() -> None:
    async def main() -> tuple[list[bytes], list[bytes]]:
        async with Server() as server:
            client = client_for(server.url + "/v1", headers={"Accept": "application/json", "X-Key": SECRET})
            try:
                direct = await wire(client, server, True)
                via_httpx = await wire(client, server, False)
            finally:
                await client.aclose()
        return direct, via_httpx

    direct, via_httpx = run(main)
    assert len(direct) == len(REQUESTS)
    for mine, theirs in zip(direct, via_httpx, strict=True):
        assert mine == theirs
    first = direct[0].decode()
    assert first.startswith("GET /v1/tasks?limit=100&flag=true&none=&list=1&list=2&q=a+b%26c%2F%C3%A9 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert f"\r\nUser-Agent: python-httpx/{httpx.__version__}\r\n" in first  # none set: httpx's
    assert "\r\nAccept-Encoding: gzip, deflate" in first and "\r\nAccept: application/json\r\n" in first
    assert f"\r\nX-Key: {SECRET}\r\n" in first
    put = httpx.Request("PUT", "http://h.test/", json=REQUESTS[9][2]["json"]).content  # 0.28: compact, UTF-8
    assert direct[9].endswith(b"\r\nContent-Length: %d\r\nContent-Type: application/json\r\n\r\n%s" % (len(put), put))
    assert b"\r\nContent-Length: 0\r\n" in direct[7]
    assert direct[10].endswith(b"Content-Type: application/x-www-form-urlencoded\r\n\r\na=%C3%A9+b&n=1&t=true&none=&l=1&l=2")


def test_set_header_changes_what_is_sent() -> None:
    async def main() -> list[bytes]:
        async with Server() as server:
            client = client_for(server.url)
            try:
                await client.request("GET", "/a")
                client.set_header("X-Auth-Token", "t1")
                await client.request("GET", "/a")
                client.set_header("X-Auth-Token", "t2")
                client.set_header("user-agent", "campaignctl/2")
                await client.request("GET", "/a")
            finally:
                await client.aclose()
            return server.requests

    first, second, third = run(main)
    assert b"X-Auth-Token" not in first and b"\r\nUser-Agent: campaignctl\r\n" in first
    assert b"\r\nX-Auth-Token: t1\r\n" in second
    assert b"\r\nX-Auth-Token: t2\r\n" in third and b"t1" not in third
    assert b"\r\nuser-agent: campaignctl/2\r\n" in third and b"User-Agent: campaignctl\r\n" not in third  # as httpx spells it


def test_client_headers_win_over_the_body_s() -> None:
    async def main() -> bytes:
        async with Server() as server:
            client = client_for(server.url, headers={"Content-Type": "application/vnd.api+json"})
            try:
                await client.request("POST", "/a", json={"a": 1})
            finally:
                await client.aclose()
            return server.requests[0]

    sent = run(main)
    body = httpx.Request("POST", "http://h.test/", json={"a": 1}).content
    assert sent.count(b"Content-Type") == 1 and b"\r\nContent-Type: application/vnd.api+json\r\n" in sent
    assert b"\r\nContent-Length: %d\r\n" % len(body) in sent and sent.endswith(b"\r\n\r\n" + body)


def test_links_off_the_origin_and_with_credentials_are_refused() -> None:
    """Issue 20: a link to another origin, or with user:password (httpx would add an Authorization:
    Basic of it), is refused before anything is sent; the error names the link."""
    async def main() -> tuple[list[bytes], list[bytes], list[str]]:
        async with Server() as one, Server() as other:
            client = client_for(one.url)
            errors = []
            try:
                for link in (f"{other.url}/elsewhere?x=1", f"http://user:pw@127.0.0.1:{one.port}/creds"):
                    with pytest.raises(ApiError) as info:
                        await client.json("GET", link)
                    errors.append(str(info.value))
            finally:
                await client.aclose()
            return one.requests, other.requests, errors

    one, other, errors = run(main)
    assert one == [] and other == []
    assert "/elsewhere?x=1" in errors[0] and "another origin" in errors[0]
    assert "/creds" in errors[1] and "user name or password" in errors[1]


# -- the answer ------------------------------------------------------------------------------------
def test_the_answer_reads_as_httpx_s_response(caplog: pytest.LogCaptureFixture) -> None:
    body = b'{"items": [1, 2], "name": "\\u00e9t\\u00e9"}'

    def answer(head: bytes, _: bytes) -> bytes:
        return reply(200, body, {"X-Request-ID": "r-7", "X-Multi": "a", "x-multi": "b"}, reason="Fine")

    async def main() -> tuple[httpx.Response, Any]:
        async with Server(answer) as server:
            client = client_for(server.url + "/v1")
            try:
                with caplog.at_level(logging.INFO, logger="httpx"):
                    response = await client.request("GET", "/things", params={"a": 1})
                return response, client.decode(response)
            finally:
                await client.aclose()

    response, decoded = run(main)
    assert isinstance(response, httpx.Response)
    assert (response.status_code, response.reason_phrase, response.http_version) == (200, "Fine", "HTTP/1.1")
    assert response.content == body and response.text == body.decode() and response.json() == decoded
    assert decoded == {"items": [1, 2], "name": "été"}
    assert response.headers["x-request-id"] == "r-7" and response.headers.get("X-Request-Id") == "r-7"
    assert response.headers.get_list("x-multi") == ["a", "b"]
    assert response.num_bytes_downloaded == len(body) and response.is_closed and response.elapsed.total_seconds() >= 0
    assert response.is_stream_consumed and b"".join(response.iter_bytes(7)) == body and "".join(response.iter_text(5)) == body.decode()
    assert response.read() == body
    with pytest.raises(httpx.StreamConsumed):  # as httpx's own: read whole, nothing left to stream
        list(response.iter_raw())
    assert response.request.method == "GET"
    assert str(response.request.url) == str(response.url) and str(response.url).endswith("/v1/things?a=1")
    assert response.request.headers["host"].startswith("127.0.0.1:") and response.request.content == b""
    assert response.raise_for_status() is response
    assert any(r.getMessage().startswith("HTTP Request: GET http://127.0.0.1:") and r.getMessage().endswith('"HTTP/1.1 200 Fine"')
               for r in caplog.records)  # fmt: skip
    copy = pickle.loads(pickle.dumps(response))
    assert copy.request.method == "GET" and copy.content == body


def test_an_error_answer_names_the_request_and_redacts_secrets() -> None:
    def answer(head: bytes, _: bytes) -> bytes:
        return reply(401, f'{{"code": "AUTH", "message": "token {SECRET} is not valid"}}'.encode(), {"X-Request-ID": "r1"},
                     reason="Unauthorized")  # fmt: skip

    async def main() -> ApiError:
        async with Server(answer) as server:
            client = client_for(server.url, secrets=[SECRET])
            try:
                with pytest.raises(ApiError) as info:
                    await client.request("POST", f"/things/{SECRET}", json={"a": 1})
                return info.value
            finally:
                await client.aclose()

    error = run(main)
    assert (error.status, error.code, error.method, error.request_id) == (401, "AUTH", "POST", "r1")
    assert error.url is not None and error.url.endswith("/things/***")
    assert SECRET not in str(error) and "is not valid" in str(error)


def test_a_body_that_is_not_json_is_an_api_error_with_the_request() -> None:
    async def main() -> ApiError:
        async with Server(lambda h, b: reply(200, b"<html>oops</html>", {"Content-Type": "text/html"})) as server:
            client = client_for(server.url)
            try:
                with pytest.raises(ApiError) as info:
                    await client.json("GET", "/page")
                return info.value
            finally:
                await client.aclose()

    error = run(main)
    assert error.method == "GET" and error.url is not None and error.url.endswith("/page") and "not JSON" in str(error)


def test_a_gzip_answer_is_decoded_and_a_broken_one_is_a_clear_error() -> None:
    payload = b'{"items": ["' + b"x" * 5000 + b'"]}'

    def answer(head: bytes, _: bytes) -> bytes:
        if head.startswith(b"GET /broken"):
            return reply(200, b"not gzip at all", {"Content-Encoding": "gzip"})
        if head.startswith(b"GET /chunked"):
            packed = gzip.compress(payload)
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(packed[i : i + 700]), packed[i : i + 700]) for i in range(0, len(packed), 700))
            return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")  # fmt: skip
        return reply(200, gzip.compress(payload), {"Content-Encoding": "gzip"})

    async def main() -> tuple[Any, int, Any, ApiError]:
        async with Server(answer) as server:
            client = client_for(server.url)
            try:
                response = await client.request("GET", "/gz")
                plain = client.decode(response)
                downloaded = response.num_bytes_downloaded
                chunked = await client.json("GET", "/chunked")
                with pytest.raises(ApiError) as info:
                    await client.json("GET", "/broken")
                return plain, downloaded, chunked, info.value
            finally:
                await client.aclose()

    plain, downloaded, chunked, error = run(main)
    assert plain == chunked == {"items": ["x" * 5000]}
    assert downloaded == len(gzip.compress(payload))  # the bytes received, as httpx counts them
    assert "could not be decoded" in str(error) and error.method == "GET" and not isinstance(error, TransportError)


def test_cookies_the_server_sets_are_sent_back() -> None:
    def answer(head: bytes, _: bytes) -> bytes:
        return reply(200, b"{}", {"Set-Cookie": "session=abc; Path=/"} if head.startswith(b"GET /login") else {})

    async def main() -> tuple[list[bytes], list[bytes]]:
        sent = []
        for direct in (True, False):
            async with Server(answer) as server:
                client = client_for(server.url)
                if not direct:
                    client._stream = None
                try:
                    await client.request("GET", "/login")
                    await client.request("GET", "/next")
                finally:
                    await client.aclose()
                sent.append(server.requests)
        return sent[0], sent[1]

    direct, via_httpx = run(main)
    assert b"\r\nCookie: session=abc\r\n" in direct[1]
    without_host = [[b"\r\n".join(line for line in r.split(b"\r\n") if not line.startswith(b"Host:")) for r in sent]
                    for sent in (direct, via_httpx)]  # fmt: skip
    assert without_host[0] == without_host[1]


def test_head_and_no_content_answers_have_no_body() -> None:
    def answer(head: bytes, _: bytes) -> bytes:
        if head.startswith(b"HEAD"):
            return b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
        return b"HTTP/1.1 204 No Content\r\n\r\n"

    async def main() -> tuple[httpx.Response, Any, int]:
        async with Server(answer) as server:
            client = client_for(server.url)
            try:
                head = await client.request("HEAD", "/x")
                deleted = await client.json("DELETE", "/x")
                await client.request("GET", "/x")
                return head, deleted, server.connections
            finally:
                await client.aclose()

    head, deleted, connections = run(main)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == "1234"
    assert deleted is None and connections == 1  # one keep-alive connection for all three


# -- an ASGI app in this process (the embedded sandbox) ----------------------------------------------
def recording_app(seen: list[dict[str, Any]]) -> Any:
    """An ASGI app that records its scope and the body it reads, and answers in two body messages."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append({**scope, "body": body})
        status = 404 if scope["path"].endswith("/missing") else 201
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"x-request-id", b"r-1")]})
        await send({"type": "http.response.body", "body": b'{"got": ', "more_body": True})
        await send({"type": "http.response.body", "body": b'"it"}'})

    return app


@pytest.mark.parametrize("base_url", ["http://sandbox/swarms", "http://127.0.0.1:8000/api/v2"])
def test_an_app_transport_gives_the_app_what_httpx_s_asgi_transport_gives_it(base_url: str) -> None:
    """ApiClient hands an AppTransport the request's bytes; the app must not see the difference
    with httpx's client over httpx's ASGITransport, nor the caller in the answer."""

    async def main(direct: bool) -> tuple[list[dict[str, Any]], list[httpx.Response]]:
        seen: list[dict[str, Any]] = []
        client = ApiClient(base_url, headers={"X-Auth-Token": SECRET, "Accept": "application/json"},
                           transport=AppTransport(app=recording_app(seen)))
        if not direct:
            client._stream = None  # httpx's client over the same (ASGITransport) transport
        try:
            answers = [
                await client.request("POST", "/tasks", json={"name": "caf\u00e9 \u2713", "n": [1, 2]}),
                await client.request("GET", "/jobs/7/tasks", params={"limit": 100, "q": "a b/c"}),
                await client.request("PUT", "/a%20b/x"),
                await client.request("HEAD", "/tasks"),
            ]
            with pytest.raises(ApiError) as info:
                await client.request("GET", "/missing")
            assert info.value.status == 404 and info.value.request_id == "r-1"
            return seen, answers
        finally:
            await client.aclose()

    direct_seen, direct_answers = asyncio.run(main(True))
    httpx_seen, httpx_answers = asyncio.run(main(False))
    assert len(direct_seen) == len(httpx_seen) == 5
    for mine, theirs in zip(direct_seen, httpx_seen, strict=True):
        assert mine == theirs
    for mine, theirs in zip(direct_answers, httpx_answers, strict=True):
        assert (mine.status_code, mine.reason_phrase, mine.headers.raw, mine.content, str(mine.request.url)) == (
            theirs.status_code, theirs.reason_phrase, theirs.headers.raw, theirs.content, str(theirs.request.url))
    assert direct_answers[0].json() == {"got": "it"} and direct_answers[0].reason_phrase == "Created"
    assert direct_answers[3].content == b""  # HEAD


def test_an_app_that_drops_the_connection_is_a_transport_error_to_retry() -> None:
    calls = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(scope["method"])
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"[]"})

    async def main() -> Any:
        client = ApiClient("http://sandbox/v1", transport=AppTransport(app=app), retry=RetryPolicy(attempts=2, base_delay=0))
        try:
            return await client.json("GET", "/x")
        finally:
            await client.aclose()

    assert run(main) == [] and calls == ["GET", "GET"]


# -- urls ------------------------------------------------------------------------------------------
def reference_url_for(base_url: str, path_or_url: str) -> httpx.URL:
    """ApiClient.url_for as it was, parsing every URL with httpx (but for a non-ASCII link under
    the base path, where httpx's copy_with(raw_path=...) raised UnicodeDecodeError)."""
    base = httpx.URL(base_url)
    if path_or_url.startswith(("http://", "https://")):
        return httpx.URL(path_or_url)
    if base.path not in ("", "/") and path_or_url.startswith(base.path.rstrip("/") + "/"):
        return base.copy_with(raw_path="".join(c if c.isascii() else quote(c) for c in path_or_url).encode())
    return httpx.URL(base_url + path_or_url)


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8080", "https://api.example.test/v1", "http://h.test/a/b/"])
def test_url_for_joins_as_httpx_parses(base_url: str) -> None:
    rng = random.Random(7)
    alphabet = "abz09/?&=%#._~-!$'()*+,;:@ [ ]{}|\\^`\"<>é\t"
    candidates = ["/", "//x", "/.", "/..", "/a/./b", "/a/../b", "/x?", "/%41%zz", "?q", "x", "/v1", "/v1/", "/a/b/c"]
    client = ApiClient(base_url)
    origin = client._origin_text
    assert origin is not None and client.base_url == origin + client._base_path
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        candidates += ["/" + text, client._base_path + "/" + text, origin + "/" + text, origin + text]
    direct = 0
    for path in candidates:
        try:
            expected = reference_url_for(client.base_url, path)
        except httpx.InvalidURL:
            with pytest.raises(ApiError, match="not a usable URL"):
                client._target(path)
            continue
        target = client._target(path)
        assert target.url == str(expected), path
        assert client.url_for(path) == expected and str(client.url_for(path)) == str(expected), path
        if target.raw is not None:
            direct += 1
            assert target.raw == expected.raw_path, path
            assert (expected.scheme, expected.host, expected.port or {"http": 80, "https": 443}[expected.scheme]) == client._origin
    assert direct > 3000  # most of them without httpx's parser
    run(client.aclose)


@pytest.mark.parametrize("link", ["http://[::1", "http://h.test:port/x", "http://exa\x00mple.test/x", "/a\ud800b/", "/v1/\ud800", "http://" + "a" * 70000])
def test_a_junk_link_is_an_api_error(link: str) -> None:
    async def main() -> ApiError:
        async with Server() as server:
            client = client_for(server.url + "/v1", secrets=[SECRET])
            try:
                with pytest.raises(ApiError) as info:
                    await client.json("GET", link + SECRET)
                return info.value
            finally:
                await client.aclose()

    error = run(main)
    assert "not a usable URL" in str(error) and SECRET not in str(error)


def test_a_link_under_the_base_path_may_have_any_character() -> None:
    async def main() -> tuple[list[bytes], ApiError]:
        async with Server() as server:
            client = client_for(server.url + "/v1")
            try:
                await client.json("GET", "/v1/tâches/a b?q=é")
                with pytest.raises(ApiError) as info:
                    await client.json("GET", "/v1/\x00")
                return server.requests, info.value
            finally:
                await client.aclose()

    sent, error = run(main)
    assert sent[0].startswith(b"GET /v1/t%C3%A2ches/a%20b?q=%C3%A9 HTTP/1.1\r\n")
    assert "not a usable URL" in str(error)


# -- timeouts and failures -----------------------------------------------------------------------
def hang_on(prefix: bytes) -> Answer:
    return lambda head, body: HANG if head.startswith(prefix) else ok(head, body)


@pytest.mark.parametrize(("method", "calls"), [("GET", 2), ("POST", 1)])
def test_an_answer_that_never_comes_is_a_read_timeout(method: str, calls: int) -> None:
    async def main() -> tuple[ApiError, int, httpx.Response]:
        async with Server(hang_on(method.encode() + b" /slow")) as server:
            client = client_for(server.url, timeout=0.2, retry=RetryPolicy(attempts=2, base_delay=0, max_delay=0))
            try:
                with pytest.raises(ApiError) as info:
                    await client.request(method, "/slow", json={"a": 1})
                after = await client.request("GET", "/fine")  # the timed-out connection is not reused
                return info.value, len(server.requests) - 1, after
            finally:
                await client.aclose()

    error, sent, after = run(main)
    assert isinstance(error, TransportError) and "ReadTimeout" in str(error)
    assert isinstance(error, AmbiguousWriteError) == (method == "POST")
    assert sent == calls and after.status_code == 200


def test_the_read_timeout_bounds_the_whole_answer() -> None:
    # one deadline per answer (documented in campaignctl.transport): a server trickling its
    # answer, each piece sooner than the read timeout, still times out
    async def main() -> tuple[type[BaseException], float]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                for _ in range(100):
                    await asyncio.sleep(0.05)
                    writer.write(b"x")
            except ConnectionError:
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        transport = StreamTransport(1)
        started = asyncio.get_running_loop().time()
        try:
            async with server:
                origin = ("http", "127.0.0.1", server.sockets[0].getsockname()[1])
                with pytest.raises(httpx.TimeoutException) as info:
                    await transport.exchange(origin, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"", False, {"read": 0.3})
        finally:
            await transport.aclose()
        return type(info.value), asyncio.get_running_loop().time() - started

    kind, took = run(main)
    assert kind is httpx.ReadTimeout and took < 2


def test_connect_failures_are_httpx_s_and_writes_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there

    async def main() -> tuple[ApiError, ApiError]:
        client = client_for(f"http://127.0.0.1:{port}", timeout=httpx.Timeout(5, connect=0.2))
        try:
            with pytest.raises(ApiError) as refused:
                await client.request("POST", "/x", json={})
            real = asyncio.open_connection

            async def slow(*args: Any, **kwargs: Any) -> Any:
                await asyncio.sleep(5)
                return await real(*args, **kwargs)

            monkeypatch.setattr(asyncio, "open_connection", slow)
            with pytest.raises(ApiError) as slow_connect:
                await client.request("POST", "/x", json={})
            return refused.value, slow_connect.value
        finally:
            await client.aclose()

    refused, slow_connect = run(main)
    assert type(refused) is TransportError and "ConnectError" in str(refused)  # retried: nothing was sent
    assert type(slow_connect) is TransportError and "ConnectTimeout" in str(slow_connect)


def test_pool_and_write_timeouts_are_httpx_s() -> None:
    async def main() -> tuple[BaseException, BaseException]:
        async with Server(hang_on(b"GET")) as hanging, Server(read=False) as deaf:
            transport = StreamTransport(1)
            get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            try:
                first = asyncio.ensure_future(transport.exchange(("http", "127.0.0.1", hanging.port), get, b"", False, {}))
                await asyncio.sleep(0.1)  # it holds the only connection
                with pytest.raises(httpx.PoolTimeout) as pool:
                    await transport.exchange(("http", "127.0.0.1", hanging.port), get, b"", False, {"pool": 0.1})
                first.cancel()
                body = b"x" * (64 << 20)  # more than the socket buffers hold: the deaf server reads nothing
                post = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
                with pytest.raises(httpx.WriteTimeout) as write:
                    await transport.exchange(("http", "127.0.0.1", deaf.port), post, body, False, {"write": 0.2})
                with pytest.raises(asyncio.CancelledError):
                    await first
            finally:
                await transport.aclose()
            return pool.value, write.value

    pool, write = run(main)
    assert isinstance(pool, httpx.PoolTimeout) and isinstance(write, httpx.WriteTimeout)


def test_a_hang_up_is_retried_for_reads_and_ambiguous_for_writes() -> None:
    calls = {"n": 0}

    def answer(head: bytes, body: bytes) -> bytes:
        calls["n"] += 1
        return HANG_UP if calls["n"] == 1 or head.startswith(b"POST") else ok(head, body)

    async def main() -> tuple[Any, ApiError]:
        async with Server(answer) as server:
            client = client_for(server.url)
            try:
                got = await client.json("GET", "/x")
                with pytest.raises(ApiError) as info:
                    await client.request("POST", "/x", json={})
                return got, info.value
            finally:
                await client.aclose()

    got, error = run(main)
    assert got == {"ok": True}
    assert isinstance(error, AmbiguousWriteError) and error.reason == "RemoteProtocolError"


# -- the body the direct path encodes, against httpx's public Request ---------------------------------
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_FORM_VALUE = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_FORM = st.dictionaries(st.text(max_size=8), _FORM_VALUE | st.lists(_FORM_VALUE, max_size=3) | st.tuples(_FORM_VALUE), max_size=5)


@settings(max_examples=300, deadline=None)
@given(json=_JSON | st.none(), data=st.none() | _FORM)
def test_the_direct_path_encodes_a_body_as_httpx_does(json: Any, data: dict[str, Any] | None) -> None:
    """encode_body uses no private name of httpx (issue 22): it must still give, for json= and
    data=, the headers and bytes of httpx's public ``Request`` -- this fails if httpx changes how
    it encodes them."""
    headers, body = encode_body(json, data)
    # a GET: httpx adds no "Content-Length: 0" to it (_send_direct adds that one for a POST itself)
    theirs = httpx.Request("GET", "http://h.test/x", json=json, data=data)
    assert body == theirs.read()
    assert [(k.encode(), v.encode()) for k, v in headers] == [(k, v) for k, v in theirs.headers.raw if k != b"Host"]


@pytest.mark.parametrize("module", ["http", "limits", "transport"])
def test_the_client_names_nothing_private_of_httpx(module: str) -> None:
    """No ``httpx._module`` import and no private attribute of an httpx Response in the client,
    its bounds and its transports (issue 22: nothing bounds the httpx version, and these names
    may change in any release)."""
    import ast
    import importlib
    import inspect

    tree = ast.parse(inspect.getsource(importlib.import_module(f"campaignctl.{module}")))
    private = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("httpx._")]
    private += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names if alias.name.startswith("httpx._")]
    private += [node.attr for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and node.attr in ("_content", "_request", "_num_bytes_downloaded", "_decoders")]  # fmt: skip
    assert private == []
