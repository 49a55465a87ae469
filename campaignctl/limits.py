"""Bounds on what the platforms' answers may cost a run: their size and the run's deadline.

- **Size** (``Provider.spec.maxResponseBytes``, default :data:`DEFAULT_MAX_RESPONSE_BYTES`): the
  bytes of an answer's body as received and, when it has a ``Content-Encoding``, as decoded, each
  counted while it is read or decoded (a declared ``Content-Length`` above the cap fails before
  any byte of the body is read; a gzip bomb stops at the cap, not at its end). Below the client
  it raises :class:`ResponseTooLarge`; :class:`campaignctl.http.ApiClient` turns that into
  :class:`~campaignctl.errors.ResponseTooLargeError` naming the call and the cap.
- **Deadline** (``--deadline SECONDS`` / ``CAMPAIGNCTL_DEADLINE``): one point in time for the
  whole run (every provider, the prefetch thread included); no request starts after it, one
  under way is cut there, and either fails with :class:`~campaignctl.errors.DeadlineError`.
"""
from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator

import httpx

#: bytes of one answer's body, as received and as decoded, unless the Provider says otherwise
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: decoded bytes asked of zlib at a time: a bomb's output grows by this much, not by the cap at once
_OUT_PIECE = 1024 * 1024
#: a Content-Encoding zlib does not know (br, zstd: httpx decodes them when their packages are
#: installed) is given to httpx this many received bytes at a time, the output counted after each
_PIECE = 1024


class ResponseTooLarge(Exception):
    """An answer's body went over ``cap`` bytes (``decoded``: once its Content-Encoding was undone)."""

    def __init__(self, cap: int, decoded: bool = False, status: int | None = None) -> None:
        self.cap, self.decoded, self.status = cap, decoded, status
        super().__init__(f"the answer's body is larger than {cap} bytes{' once decoded' if decoded else ''}")


# -- size ----------------------------------------------------------------------------------------
def content_encodings(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """The codings of the ``Content-Encoding`` headers, in the order they were applied."""
    out: list[str] = []
    for name, value in headers:
        if name.lower() == b"content-encoding":
            out.extend(v.strip().lower() for v in value.decode("latin-1").split(",") if v.strip())
    return out


def decode(content: bytes, encodings: list[str], cap: int) -> bytes:
    """``content`` with its ``encodings`` undone (last applied, first undone), as httpx decodes it
    (gzip; deflate with or without its zlib header; br and zstd when httpx can; identity and any
    coding httpx does not know are left as they are), never holding more than ``cap`` + a small
    piece of decoded bytes: :class:`ResponseTooLarge` past ``cap``. A body that is not what its
    coding says raises ``httpx.DecodingError``, as httpx does."""
    for coding in reversed(encodings):
        if coding == "gzip":
            content = _inflate(content, zlib.MAX_WBITS | 16, cap)
        elif coding == "deflate":
            try:
                content = _inflate(content, zlib.MAX_WBITS, cap)
            except httpx.DecodingError:  # no zlib header: raw deflate, as httpx's DeflateDecoder retries
                content = _inflate(content, -zlib.MAX_WBITS, cap)
        elif coding != "identity":
            content = _decode_in_pieces(content, coding, cap)
    return content


def _inflate(data: bytes, wbits: int, cap: int) -> bytes:
    """zlib's decompression, asking for at most 1 MiB at a time (``max_length``) and stopping
    past ``cap``."""
    inflater = zlib.decompressobj(wbits)
    out = bytearray()
    try:
        pending = data
        while True:
            piece = inflater.decompress(pending, min(_OUT_PIECE, cap + 1 - len(out)))  # >= 1 (0 would mean no limit)
            out += piece
            if len(out) > cap:
                raise ResponseTooLarge(cap, decoded=True)
            pending = inflater.unconsumed_tail
            if not pending and (inflater.eof or not piece):
                break  # the end of the stream, or all input taken and nothing held back
        out += inflater.flush()
    except zlib.error as exc:
        raise httpx.DecodingError(str(exc)) from None
    if len(out) > cap:
        raise ResponseTooLarge(cap, decoded=True)
    return bytes(out)


class _Pieces(httpx.SyncByteStream):
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), _PIECE):
            yield self.data[start : start + _PIECE]


def _decode_in_pieces(data: bytes, coding: str, cap: int) -> bytes:
    """``data`` decoded by httpx's public API (a Response's ``iter_bytes``), as httpx decodes a
    ``coding`` (one it does not know: left as it is), counted after each piece."""
    response = httpx.Response(200, headers=[(b"Content-Encoding", coding.encode("latin-1"))], stream=_Pieces(data))
    out = bytearray()
    for piece in response.iter_bytes():
        out += piece
        if len(out) > cap:
            response.close()
            raise ResponseTooLarge(cap, decoded=True)
    return bytes(out)


async def read_bounded(response: httpx.Response, cap: int) -> httpx.Response:
    """Read a streamed httpx response (``client.send(..., stream=True)``) as ``aread`` would,
    counting its bytes as they come and as they are decoded; the response is closed either way.
    Returns the response read: ``response`` when httpx had read it already, else a copy of it that
    holds its body (httpx's public API sets a body only by reading a stream)."""
    try:
        if response.is_stream_consumed:  # an answer built from bytes (httpx read it at once): only its size to check
            if len(response.content) > cap:
                raise ResponseTooLarge(cap, decoded=True, status=response.status_code)
            return response
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:  # fail before the body, as StreamTransport does
            raise ResponseTooLarge(cap, status=response.status_code)
        raw = bytearray()
        stream: AsyncIterator[bytes] = response.aiter_raw()
        async for piece in stream:
            raw += piece
            if len(raw) > cap:
                raise ResponseTooLarge(cap, status=response.status_code)
        encodings = content_encodings(response.headers.raw)
        if encodings:  # bounded first (a gzip bomb stops at the cap); read() below decodes it as httpx does
            try:
                decode(bytes(raw), encodings, cap)
            except ResponseTooLarge as exc:
                exc.status = response.status_code
                raise
    finally:
        await response.aclose()
    read = httpx.Response(
        response.status_code, headers=response.headers, stream=httpx.ByteStream(bytes(raw)), request=response.request,
        extensions=response.extensions, history=response.history, default_encoding=response.default_encoding,
    )  # fmt: skip
    read.next_request = response.next_request
    read.read()
    read.elapsed = response.elapsed
    return read


# -- the run's deadline ------------------------------------------------------------------------------
_deadline: tuple[float, float] | None = None  # (time.monotonic() at which it passes, the seconds given)


def set_deadline(seconds: float | None) -> None:
    """The run ends ``seconds`` from now (None: no deadline)."""
    global _deadline
    _deadline = None if seconds is None else (time.monotonic() + seconds, seconds)


def deadline_left() -> float | None:
    """Seconds left before the run's deadline (<= 0: passed), None without one."""
    return None if _deadline is None else _deadline[0] - time.monotonic()


def deadline_seconds() -> float | None:
    """The seconds the deadline was set to, for messages."""
    return None if _deadline is None else _deadline[1]
