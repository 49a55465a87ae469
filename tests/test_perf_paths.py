"""The fast paths behind the scale figures (issue 8): they must say exactly what the slow ones did."""
from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from campaignctl.config.nodes import MarkedDict
from campaignctl.config.yamlload import load_documents
from campaignctl.plan.diff import _deepdiff, field_changes
from campaignctl.platforms.swarms.provider import Lanes
from campaignctl.transport import StreamTransport


# -- field_changes: a direct walk, the same answer as DeepDiff -------------------------------------
def _random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.25:
        return {rng.choice("abcdefg"): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    if depth < 3 and roll < 0.45:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return rng.choice([0, 1, 2, 1.0, 2.5, True, False, None, "a", "b", "", "xy"])


def _mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if rng.random() < 0.15:
        return _random_value(rng, depth)
    if isinstance(value, dict):
        out = dict(value)
        for key in list(out):
            if rng.random() < 0.3:
                out[key] = _mutate(rng, out[key], depth + 1)
            elif rng.random() < 0.1:
                del out[key]
        if rng.random() < 0.2:
            out[rng.choice("abcdefgh")] = _random_value(rng, depth + 1)
        return MarkedDict(out) if rng.random() < 0.05 else out
    if isinstance(value, list):
        items = [_mutate(rng, x, depth + 1) if rng.random() < 0.3 else x for x in value]
        if rng.random() < 0.15:
            items.append(_random_value(rng, depth + 1))
        if items and rng.random() < 0.1:
            items.pop(rng.randrange(len(items)))
        return items
    return rng.choice([0, 1, 1.0, "a", None, True]) if rng.random() < 0.4 else value


def test_field_changes_match_deepdiff() -> None:
    rng = random.Random(8)
    for _ in range(400):
        before = {key: _random_value(rng, 1) for key in "abcde"}
        after = _mutate(rng, before)
        if not isinstance(after, dict):
            continue
        ours = [(f.path, repr(f.before), repr(f.after)) for f in field_changes(before, after)]
        reference = sorted((f.path, repr(f.before), repr(f.after)) for f in _deepdiff(before, after, []))
        assert ours == reference, (before, after)


def test_field_changes_of_one_component_attribute() -> None:
    before = {"components": [{"type": "Text", "properties": {"text": "a"}}, {"type": "Rating", "properties": {"steps": 5}}]}
    after = {"components": [{"type": "Text", "properties": {"text": "b"}}, {"type": "Rating", "properties": {"steps": 5}}]}
    assert [(f.path, f.before, f.after) for f in field_changes(before, after)] == [("components[0].properties.text", "a", "b")]


# -- the read path's lanes --------------------------------------------------------------------------
def test_lanes_let_a_list_page_go_first_and_survive_cancellation() -> None:
    async def main() -> tuple[list[str], int]:
        gate, order = Lanes(2), []

        async def user(name: str, lane: int, hold: float) -> None:
            async with gate.slot(lane):
                order.append(name)
                await asyncio.sleep(hold)

        first = [asyncio.ensure_future(user(n, 1, 0.05)) for n in ("a", "b")]
        await asyncio.sleep(0.01)
        later = [asyncio.ensure_future(user(n, lane, 0.01)) for n, lane in (("r1", 1), ("r2", 1), ("page", 0))]
        gone = asyncio.ensure_future(user("cancelled", 0, 0.01))
        await asyncio.sleep(0.01)
        gone.cancel()
        await asyncio.gather(*first, *later)
        return order, gate.free

    order, free = asyncio.run(main())
    assert order == ["a", "b", "page", "r1", "r2"] and free == 2


# -- the stream transport ---------------------------------------------------------------------------
ANSWERS = {
    b"/length": b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\": 1.0}",
    b"/chunked": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"ok\r\n8\r\n\": true}\r\n0\r\n\r\n",
    b"/empty": b"HTTP/1.1 204 No Content\r\n\r\n",
    b"/close": b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{\"until\": \"eof\"}",
    b"/hangup": b"",
}


def test_stream_transport_frames_answers_and_reuses_connections() -> None:
    async def main() -> dict[str, Any]:
        connections = 0
        bodies: list[bytes] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
                    bodies.append(await reader.readexactly(length) if length else b"")
                    path = head.split(b" ")[1]
                    answer = ANSWERS[path]
                    if not answer:
                        break  # hang up without a word
                    writer.write(answer)
                    await writer.drain()
                    if path == b"/close":
                        break
            except asyncio.IncompleteReadError:
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        out: dict[str, Any] = {}
        async with server, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", transport=StreamTransport(2)) as client:
            out["length"] = (await client.get("/length")).json()
            out["chunked"] = (await client.get("/chunked")).json()
            out["empty"] = (await client.head("/empty")).status_code
            out["post"] = (await client.post("/length", json={"a": 1})).json()
            out["reused"] = connections
            out["close"] = (await client.get("/close")).json()
            await asyncio.sleep(0.05)  # the server's close reaches the idle connection
            out["after-close"] = (await client.get("/length")).json()
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/hangup")
            out["connections"] = connections
        out["bodies"] = bodies
        return out

    out = asyncio.run(main())
    assert out["length"] == {"ok": 1.0} and out["chunked"] == {"ok": True} and out["empty"] == 204
    assert out["post"] == {"ok": 1.0} and b'{"a":1}' in out["bodies"]
    assert out["reused"] == 1  # four exchanges, one keep-alive connection
    assert out["close"] == {"until": "eof"} and out["after-close"] == {"ok": 1.0}
    assert out["connections"] == 2  # a new one once the server closed the first (the hang-up is on the second)


def test_stream_transport_connect_error_is_httpx_s() -> None:
    async def main() -> None:
        async with httpx.AsyncClient(transport=StreamTransport(1)) as client:
            await client.get("http://127.0.0.1:9/")  # discard port: nothing listens

    with pytest.raises(httpx.ConnectError):
        asyncio.run(main())


# -- the YAML alias budget counts what aliases add, not the file's size --------------------------------
def test_a_large_plain_file_is_no_alias_bomb() -> None:
    text = "---\n".join(f"kind: Task\nname: t{i}\nspec: {{components: [{{type: Text, properties: {{text: x{i}}}}}]}}\n"
                        for i in range(20_000))  # fmt: skip
    docs, diags = load_documents(text, "big.yaml")
    assert not diags and len(docs) == 20_000


# -- a command's result is never formatted on the way out of the event loop -----------------------
def test_run_hands_back_its_result_without_formatting_it() -> None:
    """asyncio.Runner (Python 3.11) formats its SIGINT handler's repr on leaving, which holds the
    main task and so its result: a whole plan, spelled out for nothing."""
    from campaignctl.session import run

    class Big:
        reprs = 0

        def __repr__(self) -> str:
            Big.reprs += 1
            return "Big()"

    async def work() -> Big:
        return Big()

    result = run(work())
    assert isinstance(result, Big) and Big.reprs == 0
