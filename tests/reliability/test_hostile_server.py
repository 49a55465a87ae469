"""A hostile platform on loopback (issue 20, findings 4, 5 and 8): bad framing, endless and huge
answers, a gzip bomb, a redirect, a server that never answers, a certificate that does not verify.

What must hold: every case ends within seconds, with a clear CampaignctlError (never a traceback,
never a MemoryError, never a wait until the timeout), the client's memory stays near the cap, and
attempts are bounded once. Each case runs against a raw asyncio server on 127.0.0.1 (a thread of
its own, so the real CLI can talk to it too), through every path a request can take: ApiClient's
direct path (StreamTransport.exchange), httpx's client over StreamTransport, and httpx's own
transport (the path taken when an environment proxy applies); the in-process sandbox transport
(AppTransport) where it applies.
"""
from __future__ import annotations

import asyncio
import gzip
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from campaignctl import limits
from campaignctl.errors import (
    ApiError,
    CertificateError,
    DeadlineError,
    ResponseTooLargeError,
    TransportError,
)
from campaignctl.http import ApiClient, RetryPolicy
from campaignctl.transport import AppTransport
from tests.helpers import CANARY, copy_example, run_cli

HANG = b"<hang>"  # write nothing, keep the connection open
Answer = Callable[[str], "bytes | Callable[[asyncio.StreamWriter], Awaitable[None]]"]
PATHS = ("direct", "httpx-over-stream", "httpx")


def reply(status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> bytes:
    fields = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
    return f"HTTP/1.1 {status} X\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n" + body


class Hostile:
    """A raw HTTP/1.1 server on 127.0.0.1 in a thread: ``answer(path)`` gives the bytes to write
    (HANG: none), or a coroutine function that writes them itself. Keeps the paths asked for and
    counts connections (TLS ones included, counted before their handshake)."""

    def __init__(self, answer: Answer, tls: ssl.SSLContext | None = None) -> None:
        self.answer = answer
        self.tls = tls
        self.paths: list[str] = []
        self.connections = 0
        self._ready = threading.Event()

    def __enter__(self) -> Hostile:
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        handlers: set[asyncio.Task[None]] = set()

        def protocol() -> asyncio.StreamReaderProtocol:
            self.connections += 1
            reader = asyncio.StreamReader()

            def connected(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                task = asyncio.ensure_future(self._handle(r, w))
                handlers.add(task)

            return asyncio.StreamReaderProtocol(reader, connected)

        server = await self._loop.create_server(protocol, "127.0.0.1", 0, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
                if length:
                    await reader.readexactly(length)
                path = head.split(b" ", 2)[1].decode()
                self.paths.append(path)
                answer = self.answer(path)
                if answer == HANG:
                    await asyncio.sleep(3600)
                elif isinstance(answer, bytes):
                    writer.write(answer)
                    await writer.drain()
                else:
                    await answer(writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError, ssl.SSLError, OSError):
            pass
        finally:
            writer.close()


def client_for(server: Hostile, path: str, **kwargs: Any) -> ApiClient:
    kwargs.setdefault("retry", RetryPolicy(base_delay=0, max_delay=0))
    kwargs.setdefault("timeout", 5)
    if path == "httpx":
        kwargs["transport"] = httpx.AsyncHTTPTransport()
    client = ApiClient(server.url, **kwargs)
    if path == "httpx-over-stream":
        client._stream = None  # httpx's client, StreamTransport.handle_async_request under it
    return client


def fails(server: Hostile, path: str, request_path: str = "/x", **kwargs: Any) -> tuple[ApiError, float]:
    """The ApiError a GET of ``request_path`` ends with, and the seconds it took."""

    async def main() -> tuple[ApiError, float]:
        client = client_for(server, path, **kwargs)
        started = time.monotonic()
        try:
            with pytest.raises(ApiError) as info:
                await client.json("GET", request_path)
            return info.value, time.monotonic() - started
        finally:
            await client.aclose()

    return asyncio.run(main())


# -- finding 5: framing ---------------------------------------------------------------------------
FRAMING = {
    # the last Content-Length won: the client waited for 5 bytes until its timeout
    "two Content-Length": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}",
    # int("0_2") == 2: read as a 2-byte body
    "Content-Length 0_2": b"HTTP/1.1 200 OK\r\nContent-Length: 0_2\r\n\r\n{}",
    "Content-Length with Transfer-Encoding": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "a malformed chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(FRAMING))
def test_framing_rfc_9112_rejects_is_rejected_at_once(case: str, path: str) -> None:
    with Hostile(lambda _: FRAMING[case]) as server:
        error, took = fails(server, path, timeout=5)
    assert isinstance(error, TransportError) and "RemoteProtocolError" in str(error), str(error)
    assert took < 2, f"{case}: {took:.1f} s (waited for the timeout)"
    assert len(server.paths) == 3  # a malformed answer is retried like a hang-up (a GET), then given up


@pytest.mark.parametrize("path", PATHS)
def test_a_redirect_is_an_error_naming_its_location_and_is_never_followed(path: str) -> None:
    page = b'{"tasks": [{"id": 1}], "_links": {}}'

    def answer(request_path: str) -> bytes:
        return reply(307, page, {"Location": "http://127.0.0.1:9/elsewhere", "X-Request-ID": "rid-307"})

    with Hostile(answer) as server:
        error, _ = fails(server, path, "/tasks")
    assert type(error) is ApiError and error.status == 307, str(error)
    assert "http://127.0.0.1:9/elsewhere" in str(error) and "redirect" in str(error) and error.url.endswith("/tasks")
    assert error.request_id == "rid-307"
    assert server.paths == ["/tasks"]  # not followed, not retried


# -- finding 4: size ------------------------------------------------------------------------------
def bomb(decoded: int) -> bytes:
    """A gzip body that decodes to ``decoded`` zero bytes (~1/1000 of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    return b"".join([*(packer.compress(block) for _ in range(decoded >> 20)), packer.flush()])


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    return bomb(128 << 20)  # 128 MiB decoded, ~130 KB sent


def peak_of(run: Callable[[], Any]) -> tuple[Any, int]:
    """``run()`` and the peak of Python's memory allocations meanwhile, in bytes."""
    tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("path", PATHS)
def test_a_gzip_bomb_stops_at_the_cap(path: str, gzip_bomb: bytes) -> None:
    cap = 4 << 20
    with Hostile(lambda _: reply(200, gzip_bomb, {"Content-Encoding": "gzip"})) as server:
        (error, took), peak = peak_of(lambda: fails(server, path, max_response_bytes=cap))
    assert type(error) is ResponseTooLargeError, str(error)
    assert "4,194,304 bytes once decoded" in str(error) and "maxResponseBytes" in str(error) and error.url.endswith("/x")
    assert peak < 6 * cap, f"{peak / 2**20:.0f} MiB allocated for a {cap / 2**20:.0f} MiB cap"  # httpx alone: 128 MiB and more
    assert took < 5 and server.paths == ["/x"]  # not retried


def test_a_gzip_bomb_stops_at_the_default_cap(gzip_bomb: bytes) -> None:
    with Hostile(lambda _: reply(200, gzip_bomb, {"Content-Encoding": "gzip"})) as server:
        error, _ = fails(server, "direct")
    assert type(error) is ResponseTooLargeError and f"{limits.DEFAULT_MAX_RESPONSE_BYTES:,} bytes once decoded" in str(error)


def test_a_gzip_answer_within_the_cap_decodes_as_httpx_decodes_it() -> None:
    payload = b'{"items": ["' + b"x" * 100_000 + b'"]}'
    deflated = zlib.compress(payload)
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    answers = {
        "/gzip": reply(200, gzip.compress(payload), {"Content-Encoding": "gzip"}),
        "/deflate": reply(200, deflated, {"Content-Encoding": "deflate"}),
        "/raw-deflate": reply(200, raw_deflate.compress(payload) + raw_deflate.flush(), {"Content-Encoding": "deflate"}),
        "/twice": reply(200, gzip.compress(deflated), {"Content-Encoding": "deflate, gzip"}),
    }

    async def main(server: Hostile) -> list[Any]:
        client = client_for(server, "direct", max_response_bytes=len(payload))
        try:
            return [await client.json("GET", p) for p in answers]
        finally:
            await client.aclose()

    with Hostile(lambda p: answers[p]) as server:
        got = asyncio.run(main(server))
    assert got == [{"items": ["x" * 100_000]}] * 4


async def endless_chunks(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (64 << 10, b"[" * (64 << 10))
    while True:
        writer.write(chunk)
        await writer.drain()


@pytest.mark.parametrize("path", PATHS)
def test_an_endless_chunked_answer_stops_at_the_cap(path: str) -> None:
    cap = 2 << 20
    with Hostile(lambda _: endless_chunks) as server:
        (error, took), peak = peak_of(lambda: fails(server, path, max_response_bytes=cap, timeout=10))
    assert type(error) is ResponseTooLargeError and "2,097,152 bytes" in str(error), str(error)
    assert peak < 6 * cap and took < 5


@pytest.mark.parametrize("path", PATHS)
def test_a_huge_content_length_fails_before_its_body(path: str) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000000000\r\n\r\n{"

    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(head)
        await writer.drain()
        await asyncio.sleep(3600)  # the rest never comes

    with Hostile(lambda _: answer) as server:
        error, took = fails(server, path, timeout=10)
    assert type(error) is ResponseTooLargeError and error.status == 200, str(error)
    assert f"{limits.DEFAULT_MAX_RESPONSE_BYTES:,} bytes" in str(error)
    assert took < 2


def test_the_in_process_transport_is_bounded_too(gzip_bomb: bytes) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        gz = scope["path"].endswith("/bomb")
        headers = [(b"content-type", b"application/json")] + ([(b"content-encoding", b"gzip")] if gz else [])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if gz:
            await send({"type": "http.response.body", "body": gzip_bomb})
            return
        for _ in range(64):  # 64 x 64 KiB
            await send({"type": "http.response.body", "body": b" " * (64 << 10), "more_body": True})
        await send({"type": "http.response.body", "body": b"{}"})

    async def main(direct: bool) -> list[ApiError]:
        client = ApiClient("http://sandbox/swarms", transport=AppTransport(app=app), max_response_bytes=1 << 20)
        if not direct:
            client._stream = None  # httpx's client over httpx's ASGITransport
        errors = []
        try:
            for request_path in ("/big", "/bomb"):
                with pytest.raises(ApiError) as info:
                    await client.json("GET", request_path)
                errors.append(info.value)
        finally:
            await client.aclose()
        return errors

    for direct in (True, False):
        big, gz = asyncio.run(main(direct))
        assert type(big) is ResponseTooLargeError and "1,048,576 bytes" in str(big) and big.url.endswith("/big")
        assert type(gz) is ResponseTooLargeError and "once decoded" in str(gz)


# -- finding 8: retries, certificates, the deadline ---------------------------------------------
@pytest.fixture(scope="module")
def bad_tls() -> ssl.SSLContext:
    """A server context whose certificate (for 127.0.0.1) no trust store knows."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.mark.parametrize("path", PATHS)
def test_a_certificate_that_does_not_verify_is_not_retried(path: str, bad_tls: ssl.SSLContext) -> None:
    with Hostile(lambda _: reply(200), tls=bad_tls) as server:
        error, _ = fails(server, path)
    assert type(error) is CertificateError and not error.transient, str(error)
    assert "certificate" in str(error) and "not retried" in str(error) and error.url.startswith("https://127.0.0.1")
    assert server.connections == 1  # retried: 3


def quickstart_against(tmp_path: Path, url: str, **spec: Any) -> Path:
    """The quickstart with its SWARMS provider at ``url`` (token from $SWARMS_TOKEN) and ``spec``."""
    repo = copy_example("quickstart", tmp_path)
    extra = "".join(f"  {k}: {v}\n" for k, v in spec.items())
    (repo / "providers.yaml").write_text(
        f"kind: Provider\nname: swarms\nspec:\n  type: swarms\n  endpoint: {url}/swarms\n  auth: {{tokenEnv: SWARMS_TOKEN}}\n{extra}"
    )
    return repo


def test_plan_against_a_bad_certificate_tries_each_read_once(tmp_path: Path, bad_tls: ssl.SSLContext) -> None:
    with Hostile(lambda _: reply(200), tls=bad_tls) as server:
        repo = quickstart_against(tmp_path, server.url)
        result = run_cli("plan", repo, env={"SWARMS_TOKEN": CANARY}, timeout=60)
    assert result.code == 1 and "TLS certificate did not verify" in result.err, result.err
    # the plan's first reads start together (the three lists and /me), each tried once;
    # before: 3 attempts each, in each of 3 read rounds
    assert 1 <= server.connections <= 4, server.connections


def test_plan_against_a_server_that_never_answers_makes_3_attempts_per_request(tmp_path: Path) -> None:
    with Hostile(lambda _: HANG) as server:
        repo = quickstart_against(tmp_path, server.url, timeout=0.3)
        started = time.monotonic()
        result = run_cli("plan", repo, env={"SWARMS_TOKEN": CANARY}, timeout=60)
        took = time.monotonic() - started
    assert result.code == 1 and "ReadTimeout" in result.err, result.err
    per_path = {p: server.paths.count(p) for p in set(server.paths)}
    assert per_path and max(per_path.values()) == 3, per_path  # before: 9 (3 attempts x 3 read rounds)
    assert "reading once more" not in result.err
    assert took < 20, took


@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_run_s_deadline_ends_the_calls(tmp_path: Path, how: str) -> None:
    with Hostile(lambda _: HANG) as server:
        repo = quickstart_against(tmp_path, server.url)  # default timeout: 30 s a request
        args: list[str | Path] = ["--deadline", "1.5"] if how == "option" else []
        env = {"SWARMS_TOKEN": CANARY} | ({"CAMPAIGNCTL_DEADLINE": "1.5"} if how == "environment" else {})
        started = time.monotonic()
        result = run_cli(*args, "plan", repo, env=env, timeout=60)
        took = time.monotonic() - started
    assert result.code == 1 and "deadline of 1.5 s" in result.err and "--deadline" in result.err, result.err
    assert took < 15, took  # without: 3 attempts x 30 s


def test_a_request_after_the_deadline_is_not_sent() -> None:
    async def main(server: Hostile) -> tuple[ApiError, ApiError]:
        client = client_for(server, "direct", timeout=30)
        try:
            limits.set_deadline(0.3)
            with pytest.raises(DeadlineError) as cut:
                await client.request("POST", "/x", json={})  # under way when the deadline passes
            with pytest.raises(DeadlineError) as late:
                await client.request("GET", "/y")
            return cut.value, late.value
        finally:
            limits.set_deadline(None)
            await client.aclose()

    with Hostile(lambda p: HANG if p == "/x" else reply(200)) as server:
        cut, late = asyncio.run(main(server))
    assert "cut short, so it may or may not have been applied" in str(cut) and cut.url.endswith("/x")
    assert "not sent" in str(late) and not late.transient
    assert server.paths == ["/x"]


def test_no_retry_waits_past_the_deadline() -> None:
    async def main(server: Hostile) -> tuple[ApiError, float]:
        client = client_for(server, "direct")
        started = time.monotonic()
        try:
            limits.set_deadline(1)
            with pytest.raises(DeadlineError) as info:
                await client.request("GET", "/x")
            return info.value, time.monotonic() - started
        finally:
            limits.set_deadline(None)
            await client.aclose()

    with Hostile(lambda _: reply(503, b"{}", {"Retry-After": "20"})) as server:
        error, took = asyncio.run(main(server))
    assert "deadline of 1 s" in str(error) and "not retried after HTTP 503" in str(error), str(error)
    assert took < 1 and server.paths == ["/x"]


def test_max_response_bytes_comes_from_the_provider_spec(tmp_path: Path) -> None:
    page = b'{"tasks": [], "_links": {}, "pad": "' + b"x" * 8000 + b'"}'
    with Hostile(lambda _: reply(200, page)) as server:
        repo = quickstart_against(tmp_path, server.url, maxResponseBytes=4096)
        result = run_cli("plan", repo, env={"SWARMS_TOKEN": CANARY}, timeout=60)
    assert result.code == 1 and "larger than the limit of 4,096 bytes" in result.err and server.url in result.err, result.err
    small = quickstart_against(tmp_path / "small", "http://127.0.0.1:9", maxResponseBytes=10)
    checked = run_cli("validate", small)
    assert checked.code == 1 and "maxResponseBytes" in checked.err, checked.err


@pytest.fixture(autouse=True)
def no_deadline_left() -> Iterator[None]:
    yield
    limits.set_deadline(None)
