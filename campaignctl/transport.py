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
end of the connection; no body for ``HEAD``, 1xx, 204 and 304. Answers are parsed by httptools
(llhttp, Node.js's parser, in C; the sandbox server's too), which rejects what RFC 9112 says to
reject (two Content-Length headers, one that is not all digits or with Transfer-Encoding, a
malformed chunk size or header line...): ``RemoteProtocolError``, and the connection is not
reused. (h11, pure Python, is as strict, but took ~60 us to parse an answer where llhttp takes
~2 us.) An answer's body larger than ``max_response_bytes`` stops the read at once (a declared
Content-Length, before any byte of the body) with :class:`campaignctl.limits.ResponseTooLarge`.
TLS for ``https``; a certificate that does not verify is :class:`CertificateVerifyFailed`, a
``ConnectError`` the client does not retry. httpx's
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

import httptools
import httpx

from .limits import DEFAULT_MAX_RESPONSE_BYTES, ResponseTooLarge

MAX_HEAD = 64 * 1024  # bytes of status line + headers
READ_SIZE = 64 * 1024  # bytes asked of the socket at a time
DEFAULT_PORTS = {"http": 80, "https": 443}


class CertificateVerifyFailed(httpx.ConnectError):
    """The server's TLS certificate did not verify: nothing was sent, and trying again will not
    change it (see :func:`certificate_failure`)."""


def certificate_failure(exc: BaseException) -> BaseException | None:
    """The certificate verification failure behind a transport error (ours, or httpx's: its
    ConnectError over an ``ssl.SSLCertVerificationError``), or None."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, (CertificateVerifyFailed, ssl.SSLCertVerificationError)):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


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

    def __init__(
        self, size: int, *, verify: ssl.SSLContext | bool = True, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    ) -> None:
        self.size = max(1, size)
        #: bytes of an answer's body (see campaignctl.limits); ApiClient sets its provider's
        self.max_response_bytes = max_response_bytes
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
        except ssl.SSLCertVerificationError as exc:
            raise CertificateVerifyFailed(f"the TLS certificate of {host}:{port} did not verify: {exc.verify_message or exc}") from None
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
        answer = _Answer(head_request)
        parser = answer.parser = httptools.HttpResponseParser(answer)
        cap = self.max_response_bytes
        received = 0
        try:
            async with asyncio.timeout(timeout):  # the whole answer: see the module's docstring
                while not answer.done:
                    data = await reader.read(READ_SIZE)
                    if not data:
                        if answer.until_close:  # delimited by the end of the connection
                            break
                        if not received:
                            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
                        raise httpx.RemoteProtocolError("the server hung up in the middle of its answer")
                    received += len(data)
                    try:
                        parser.feed_data(data)
                    except httptools.HttpParserUpgrade:
                        raise httpx.RemoteProtocolError("the server switched protocols, which no request asked for") from None
                    except httptools.HttpParserError as exc:
                        raise httpx.RemoteProtocolError(f"a malformed answer ({exc})") from None
                    if answer.problem is not None:
                        raise httpx.RemoteProtocolError(answer.problem)
                    if answer.status is None:
                        if received - answer.size > MAX_HEAD:
                            raise httpx.RemoteProtocolError(f"an answer's headers are longer than {MAX_HEAD} bytes")
                    elif answer.size > cap or (answer.length or 0) > cap:
                        raise ResponseTooLarge(cap, status=answer.status)
        except TimeoutError:
            raise httpx.ReadTimeout("no answer in time") from None
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from None
        finally:
            answer.parser = None  # no cycle left for the garbage collector
        assert answer.status is not None
        keep = answer.keep and not answer.extra and not answer.until_close
        return answer.status, answer.reason, answer.headers, b"".join(answer.body), keep

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


class _Answer:
    """httptools' callbacks for one answer: llhttp (Node.js's HTTP parser, in C) checks the
    framing as RFC 9112 says (one valid Content-Length, never with Transfer-Encoding, chunk sizes,
    header syntax) and raises ``HttpParserError`` on anything else. Interim answers (1xx) are
    skipped; after a final one, anything more the server sends keeps the connection from reuse."""

    __slots__ = ("parser", "head_request", "status", "reason", "headers", "length", "body", "size", "keep", "until_close", "done", "extra", "problem")

    def __init__(self, head_request: bool) -> None:
        self.parser: httptools.HttpResponseParser | None = None
        self.head_request = head_request
        self.status: int | None = None  # set once the final answer's headers are complete
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.length: int | None = None  # the Content-Length
        self.body: list[bytes] = []
        self.size = 0
        self.keep = False
        self.until_close = False  # the body ends with the connection
        self.done = False
        self.extra = False  # bytes after the answer: not a connection to reuse
        self.problem: str | None = None  # what is wrong with an answer llhttp parsed

    def on_message_begin(self) -> None:
        if self.done:
            self.extra = True

    def on_status(self, reason: bytes) -> None:
        if not self.done:
            self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.done:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.done:
            return
        parser = self.parser
        assert parser is not None
        if parser.get_http_version() not in ("1.1", "1.0"):
            self.problem = f"not an HTTP/1.1 answer (HTTP/{parser.get_http_version()})"
            self.done = True  # read no further: the exchange fails
            return
        status = parser.get_status_code()
        if status < 200:
            return  # an interim answer (100 Continue...): the real one follows
        self.status = status
        self.keep = parser.should_keep_alive()
        chunked = False
        for name, value in self.headers:
            key = name.lower()
            if key == b"content-length":
                self.length = int(value)  # digits only: llhttp checked it
            elif key == b"transfer-encoding":
                chunked = value.lower().rstrip().endswith(b"chunked")
        if self.head_request or status in (204, 304):
            self.done = True  # no body, whatever the headers say
        elif self.length is None and not chunked:
            self.until_close = True

    def on_body(self, body: bytes) -> None:
        if self.done:
            self.extra = True
        else:
            self.body.append(body)
            self.size += len(body)

    def on_message_complete(self) -> None:
        if self.status is None:  # the end of an interim answer
            self.reason, self.headers = b"", []
        else:
            self.done = True


def framing_problem(headers: list[tuple[bytes, bytes]]) -> str | None:
    """What llhttp would reject in an answer's framing headers that httpx's own transport (h11,
    under an environment proxy) lets through: a Content-Length beside Transfer-Encoding, or more
    than one Content-Length (h11 takes equal ones as one)."""
    lengths = sum(1 for name, _ in headers if name.lower() == b"content-length")
    if lengths and any(name.lower() == b"transfer-encoding" for name, _ in headers):
        return "a malformed answer (Transfer-Encoding can't be present with Content-Length)"
    if lengths > 1:
        return "a malformed answer (Duplicate Content-Length)"
    return None


def network_transport(base_url: str, size: int) -> httpx.AsyncBaseTransport | None:
    """The transport for a client of ``base_url`` with ``size`` requests in flight, or None where
    httpx must pick its own (an environment proxy applies: HTTP(S)_PROXY / ALL_PROXY)."""
    import urllib.request

    # what httpx reads from the environment (trust_env): urllib's proxies for these schemes
    proxies = urllib.request.getproxies()
    if any(proxies.get(scheme) for scheme in ("http", "https", "all")):
        return None
    return StreamTransport(size)


class AppTransport(httpx.ASGITransport):
    """httpx's ASGITransport (an ASGI app in this process: the embedded sandbox), plus the
    :meth:`exchange` that :class:`campaignctl.http.ApiClient` hands a request's bytes to, as it
    does to :class:`StreamTransport`: the app gets the scope and body httpx's ASGITransport would
    give it (read back from the bytes), and ApiClient skips httpx's client as it does over the
    network. Through httpx's client (other requests) it is httpx's ASGITransport, unchanged.
    An answer's body larger than ``max_response_bytes`` raises ResponseTooLarge, as over the
    network."""

    #: bytes of an answer's body (see campaignctl.limits); ApiClient sets its provider's
    max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES

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
        size = 0
        cap = self.max_response_bytes
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
            nonlocal status, response_headers, size
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                if message.get("body") and not head_request:
                    parts.append(message["body"])
                    size += len(message["body"])
                    if size > cap:
                        raise ResponseTooLarge(cap, status=status)
                if not message.get("more_body", False):
                    done.set()

        await self.app(scope, receive, send)
        if status is None or not done.is_set():
            raise httpx.RemoteProtocolError("the app returned without a complete answer")
        return status, httpx.codes.get_reason_phrase(status).encode("ascii"), response_headers, b"".join(parts)
