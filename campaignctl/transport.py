"""The network transport under :class:`campaignctl.http.ApiClient`: HTTP/1.1 on asyncio streams.

Why not httpx's default transport (httpcore)? Measured on 2 cores against the stub server of
``benchmarks/scale.py`` (it answers after 20 ms), 16 requests in flight, client CPU per
``ApiClient`` GET, JSON decoding of the answer included:

=============================================  ===========================  ==========================
transport                                      client CPU / request (2 KB)  at 64 in flight
=============================================  ===========================  ==========================
httpx default (httpcore pool)                  3.0-3.5 ms                   5.5-7 ms
one httpcore connection per slot               1.1-1.4 ms                   1.0-1.7 ms
this module, under httpx's client              0.40-0.55 ms                 0.39-0.41 ms
this module, ApiClient's direct path           0.16-0.21 ms                 0.18-0.19 ms
=============================================  ===========================  ==========================

(47 KB answers: 0.7-1.1 ms under httpx's client, 0.43-0.67 ms on the direct path, of which
~0.22 ms is ``json.loads``.) Of the direct path's ~0.18 ms, about half is the ``send`` system call
of the request (loopback, in a VM).

httpcore's pool re-scans every connection for every queued request each time one starts or ends
(``_assign_requests_to_connections``: ``is_idle``, ``has_expired``, a ``getpeername`` + ``poll``
per connection), so its cost per request grows with the requests in flight; and each exchange
goes through anyio, h11 and a cancel scope per socket operation. Here a request takes an idle
keep-alive connection (or opens one, up to ``size``), writes the request and reads the whole
answer. Under httpx's client (``handle_async_request``), httpx does the rest (URL, headers,
cookies, content decoding, ``Response``); ApiClient skips that client and hands the request's
bytes to :meth:`StreamTransport.exchange` itself (see :class:`campaignctl.http.ApiClient`).

HTTP/1.1 only: answers delimited by ``Content-Length``, ``Transfer-Encoding: chunked`` or the
end of the connection; no body for ``HEAD``, 1xx, 204 and 304. TLS for ``https``. httpx's
timeouts (``connect``, ``read``, ``write``, ``pool``) apply and raise httpx's exceptions, as do
connection failures (``ConnectError``: nothing was sent) and a server that hangs up
(``RemoteProtocolError`` / ``ReadError`` / ``WriteError``), so the client's retry rules read them
as they read httpcore's. Two differences with httpcore's timeouts, both to save a timer per
socket operation: ``read`` bounds the whole answer (status line, headers and body), not each
socket read, so a server trickling a large answer slower than that fails with ``ReadTimeout``
(30 s by default: far more than any answer of the platforms takes); ``write`` applies only when
the socket did not take the whole request at once (a request larger than its buffer).
An idle connection the server closed is dropped before it is reused.
``network_transport`` leaves the choice to httpx when an environment proxy applies.
"""
from __future__ import annotations

import asyncio
import collections
import ssl
from typing import Any
from urllib.parse import unquote

import httpx

MAX_HEAD = 64 * 1024  # bytes of status line + headers
DEFAULT_PORTS = {"http": 80, "https": 443}
NO_BODY_STATUSES = {204, 304}


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @property
    def usable(self) -> bool:
        return not (self.reader.at_eof() or self.writer.is_closing() or self.reader._buffer)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.writer.close()


class StreamTransport(httpx.AsyncBaseTransport):
    """Up to ``size`` keep-alive connections per origin (scheme, host, port)."""

    def __init__(self, size: int, *, verify: ssl.SSLContext | bool = True) -> None:
        self.size = max(1, size)
        self._verify = verify
        self._ssl: ssl.SSLContext | None = None
        self._idle: dict[tuple[str, str, int], collections.deque[_Conn]] = {}
        self._open: dict[tuple[str, str, int], int] = {}
        self._waiters: dict[tuple[str, str, int], collections.deque[asyncio.Future[None]]] = {}
        self._closed = False

    # -- connections ---------------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            verify = self._verify
            self._ssl = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        return self._ssl

    async def _acquire(self, origin: tuple[str, str, int], timeouts: dict[str, Any]) -> _Conn:
        idle = self._idle.setdefault(origin, collections.deque())
        while True:
            while idle:
                conn = idle.pop()
                if conn.usable:
                    return conn
                conn.close()  # the server closed it while it was idle
                self._open[origin] -= 1
            if self._open.get(origin, 0) < self.size:
                self._open[origin] = self._open.get(origin, 0) + 1
                try:
                    return await self._connect(origin, timeouts.get("connect"))
                except BaseException:
                    self._open[origin] -= 1
                    self._wake(origin)
                    raise
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(origin, collections.deque()).append(waiter)
            try:
                async with asyncio.timeout(timeouts.get("pool")):
                    await waiter
            except TimeoutError:
                raise httpx.PoolTimeout("no connection became free in time") from None
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake(origin)
                raise

    async def _connect(self, origin: tuple[str, str, int], timeout: float | None) -> _Conn:
        scheme, host, port = origin
        context = self._context() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=context, server_hostname=host if context else None, limit=MAX_HEAD
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection to {host}:{port} within {timeout:g}s") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from None
        return _Conn(reader, writer)

    def _release(self, origin: tuple[str, str, int], conn: _Conn, reuse: bool) -> None:
        if reuse and not self._closed and conn.usable:
            self._idle.setdefault(origin, collections.deque()).append(conn)
        else:
            conn.close()
            self._open[origin] -= 1
        self._wake(origin)

    def _wake(self, origin: tuple[str, str, int]) -> None:
        waiters = self._waiters.get(origin)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    # -- one exchange --------------------------------------------------------------------------
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = origin_of(request.url)
        body = await request.aread()
        head = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), request.url.raw_path)]
        chunked = False
        for name, value in request.headers.raw:
            if name.lower() == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            head.append(b"%s: %s\r\n" % (name, value))
        head.append(b"\r\n")
        if chunked:
            body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
        status, reason, headers, content = await self.exchange(
            origin, b"".join(head), body, request.method == "HEAD", request.extensions.get("timeout") or {}
        )
        return httpx.Response(
            status, headers=headers, stream=httpx.ByteStream(content), request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
        )  # fmt: skip

    async def exchange(
        self, origin: tuple[str, str, int], head: bytes, body: bytes, head_request: bool, timeouts: dict[str, Any]
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
        """Send one request already in HTTP/1.1 bytes (``head``: the request line and headers up to
        the empty line; ``body``, framed as the headers say) to ``origin`` (scheme, host, port) and
        return the answer: (status, reason phrase, raw headers, body as sent: not decoded).
        ``head_request``: the request was a HEAD (an answer without body). ``timeouts``: httpx's
        ``Timeout.as_dict()``. What :meth:`handle_async_request` does below httpx's client, and
        what :class:`campaignctl.http.ApiClient` calls directly, without building httpx's request."""
        if self._closed:
            raise RuntimeError("the transport is closed")
        conn = await self._acquire(origin, timeouts)
        reuse = False
        try:
            await self._send(conn, head + body if body else head, timeouts.get("write"))
            status, reason, headers, content, reuse = await self._receive(conn, head_request, timeouts.get("read"))
        finally:
            self._release(origin, conn, reuse)
        return status, reason, headers, content

    async def _send(self, conn: _Conn, data: bytes, timeout: float | None) -> None:
        writer = conn.writer
        try:
            writer.write(data)
            if writer.transport.get_write_buffer_size():  # the socket did not take it all at once
                async with asyncio.timeout(timeout):
                    await writer.drain()
            else:  # nothing to wait for; drain() still reports a connection lost while writing
                await writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("the request could not be sent in time") from None
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__) from None

    async def _receive(
        self, conn: _Conn, head_request: bool, timeout: float | None
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes, bool]:
        reader = conn.reader
        try:
            async with asyncio.timeout(timeout):  # the whole answer: see the module's docstring
                while True:
                    try:
                        head = await reader.readuntil(b"\r\n\r\n")
                    except asyncio.IncompleteReadError as exc:
                        if not exc.partial:
                            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from None
                        raise httpx.RemoteProtocolError("the server hung up in the middle of its answer") from None
                    except asyncio.LimitOverrunError:
                        raise httpx.RemoteProtocolError(f"an answer's headers are longer than {MAX_HEAD} bytes") from None
                    status, reason, headers, length, chunked, connection = _parse_head(head)
                    if 100 <= status < 200 and status != 101:
                        continue  # an interim answer (100 Continue...): the real one follows
                    break
                keep = connection != b"close" and (head.startswith(b"HTTP/1.1") or connection == b"keep-alive")
                if head_request or status in NO_BODY_STATUSES or status < 200:
                    return status, reason, headers, b"", keep
                if chunked:
                    return status, reason, headers, await _read_chunked(reader), keep
                if length is not None:
                    try:
                        length_value = int(length)
                        if length_value < 0:  # readexactly(-5) raises a bare ValueError: a malformed length, as said
                            raise ValueError(length_value)
                    except ValueError:
                        raise httpx.RemoteProtocolError("an answer with a malformed Content-Length") from None
                    try:
                        return status, reason, headers, await reader.readexactly(length_value), keep
                    except asyncio.IncompleteReadError:
                        raise httpx.RemoteProtocolError("the server hung up in the middle of its answer") from None
                return status, reason, headers, await reader.read(), False  # delimited by the end of the connection
        except TimeoutError:
            raise httpx.ReadTimeout("no answer in time") from None
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from None

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                conn = idle.pop()
                conn.close()
        self._idle.clear()


def origin_of(url: httpx.URL) -> tuple[str, str, int]:
    """(scheme, host, port) of ``url``, the port filled in: what one pool of connections serves."""
    return url.scheme, url.host, url.port or DEFAULT_PORTS.get(url.scheme, 80)


def _parse_head(head: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes | None, bool, bytes]:
    """(status, reason, headers, the Content-Length's value or None, chunked, Connection lower-cased)."""
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError(f"not an HTTP/1.1 answer: {lines[0][:80]!r}")
    headers = []
    length: bytes | None = None
    chunked = False
    connection = b""
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise httpx.RemoteProtocolError(f"a malformed header line: {line[:80]!r}")
        name = name.strip()
        value = value.strip()
        headers.append((name, value))
        key = name.lower()
        if key == b"content-length":
            length = value
        elif key == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif key == b"connection":
            connection = value.lower()
    return int(parts[1]), parts[2] if len(parts) > 2 else b"", headers, length, chunked, connection


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    try:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return bytes(out)
            out += await reader.readexactly(size)
            await reader.readexactly(2)
    except asyncio.IncompleteReadError:
        raise httpx.RemoteProtocolError("the server hung up in the middle of its answer") from None
    except (ValueError, asyncio.LimitOverrunError):  # a size line longer than the reader's limit
        raise httpx.RemoteProtocolError("a malformed chunk in the answer") from None


def network_transport(base_url: str, size: int) -> httpx.AsyncBaseTransport | None:
    """The transport for a client of ``base_url`` with ``size`` requests in flight, or None where
    httpx must pick its own (an environment proxy applies: HTTP(S)_PROXY / ALL_PROXY)."""
    from httpx._utils import get_environment_proxies

    if any(get_environment_proxies().values()):
        return None
    return StreamTransport(size)


class AppTransport(httpx.ASGITransport):
    """httpx's ASGITransport (an ASGI app in this process: the embedded sandbox), plus the
    :meth:`exchange` that :class:`campaignctl.http.ApiClient` hands a request's bytes to, as it
    does to :class:`StreamTransport`: the app gets the scope and body httpx's ASGITransport would
    give it (read back from the bytes), and ApiClient skips httpx's client as it does over the
    network. Through httpx's client (other requests) it is httpx's ASGITransport, unchanged."""

    async def exchange(
        self, origin: tuple[str, str, int], head: bytes, body: bytes, head_request: bool, timeouts: dict[str, Any]
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
        lines = head[:-4].split(b"\r\n")
        method, target, _ = lines[0].split(b" ", 2)
        raw_path, _, query = target.partition(b"?")
        scheme, host, port = origin
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name.strip().lower(), value.strip()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method.decode("ascii"),
            "headers": headers,
            "scheme": scheme,
            "path": unquote(raw_path.decode("ascii")),
            "raw_path": raw_path,
            "query_string": query,
            "server": (host, None if port == DEFAULT_PORTS.get(scheme) else port),
            "client": self.client,
            "root_path": self.root_path,
        }
        status: int | None = None
        response_headers: list[tuple[bytes, bytes]] = []
        parts: list[bytes] = []
        sent = False
        done = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await done.wait()
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Any) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                if message.get("body") and not head_request:
                    parts.append(message["body"])
                if not message.get("more_body", False):
                    done.set()

        await self.app(scope, receive, send)
        if status is None or not done.is_set():
            raise httpx.RemoteProtocolError("the app returned without a complete answer")
        return status, httpx.codes.get_reason_phrase(status).encode("ascii"), response_headers, b"".join(parts)
