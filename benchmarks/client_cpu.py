"""Client CPU per request of :class:`campaignctl.transport.StreamTransport`: prints a table, exits 0.

    python benchmarks/client_cpu.py                     # 4,000 requests of each answer, 16 in flight
    python benchmarks/client_cpu.py --requests 1000 --parallelism 16

A server in its own process (plain asyncio on 127.0.0.1, so its CPU is not counted) answers every
request with one canned answer: a small JSON object (a relation read) or a ~47 KB JSON page (100
SWARMS tasks, as ``benchmarks/scale.py`` serves them). The client sends ``--requests`` GETs through
one StreamTransport with ``--parallelism`` in flight (``exchange``: the path ApiClient takes over
the network: request bytes in, status, headers and the body as sent out), and reports the client
process's CPU time (user + system, ``time.process_time``) per request, and the wall time.

It measures the transport only (connection pool, socket calls, HTTP/1.1 framing and parsing), not
JSON decoding. The machine may be busy: run it several times, alternating the versions compared,
and compare medians.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import time
from pathlib import Path

import campaignctl
from campaignctl.transport import StreamTransport

SMALL = json.dumps({"id": 1234567, "name": "rate-beach", "readOnly": False}).encode()
PAGE = json.dumps(
    {
        "_links": {"self": {"href": "/swarms/tasks?limit=100"}, "next": {"href": "/swarms/tasks?limit=100&after=100"}},
        "tasks": [
            {
                "id": i,
                "name": f"task-{i:05d}",
                "readOnly": False,
                "archived": False,
                "createdAt": "2026-12-01T09:00:00Z",
                "lastModifiedAt": "2026-12-01T09:00:00Z",
                "components": [
                    {"type": "Text", "properties": {"text": "How good is this photo? " * 2, "style": "Question"}},
                    {"type": "Image", "properties": {"url": f"https://example.org/images/{i:05d}.jpg"}},
                    {"type": "Rating", "properties": {"steps": 5, "halfSteps": False}},
                ],
                "properties": {"campaignctl": f"swarms/task/task-{i:05d}"},
            }
            for i in range(100)
        ],
    }
).encode()


def answer(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"x-request-id: 0f8e0c4e-6f5e-4e51-9d62-1f1c3c1b2a55\r\nx-api-version: 1.0\r\n"
        b"date: Mon, 07 Dec 2026 20:00:00 GMT\r\nserver: uvicorn\r\n\r\n" % len(body)
    ) + body


def serve(port_pipe: multiprocessing.connection.Connection) -> None:  # type: ignore[name-defined]
    canned = {b"/small": answer(SMALL), b"/page": answer(PAGE)}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                writer.write(canned[path])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_pipe.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def measure(port: int, path: str, requests: int, parallelism: int) -> tuple[float, float]:
    """(client CPU ms per request, wall s) of ``requests`` GETs of ``path``."""
    transport = StreamTransport(parallelism)
    origin = ("http", "127.0.0.1", port)
    head = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: application/json\r\nUser-Agent: campaignctl\r\n\r\n" % (
        path.encode(), port,
    )  # fmt: skip
    timeouts = {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    expected = len(SMALL if path == "/small" else PAGE)
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            status, _, _, body = await transport.exchange(origin, head, b"", False, timeouts)
            assert status == 200 and len(body) == expected

    try:
        # warm up: open the connections, first calls
        await asyncio.gather(*(transport.exchange(origin, head, b"", False, timeouts) for _ in range(parallelism)))
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(parallelism)))
        return (time.process_time() - cpu) * 1000 / requests, time.perf_counter() - wall
    finally:
        await transport.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each answer; the median is printed")
    args = parser.parse_args()
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(send,), daemon=True)
    server.start()
    try:
        port = receive.recv()
        print(f"{args.requests} requests, {args.parallelism} in flight, median of {args.repeat} (campaignctl from {Path(campaignctl.__file__).parent})")
        print(f"{'answer':<22} {'client CPU ms/request':>22} {'wall s':>8}")
        for path, label in (("/small", f"small ({len(SMALL)} B)"), ("/page", f"page ({len(PAGE) // 1024} KB)")):
            runs = [asyncio.run(measure(port, path, args.requests, args.parallelism)) for _ in range(args.repeat)]
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            print(f"{label:<22} {cpu:>22.3f} {wall:>8.2f}")
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
