"""Fault injection in the sandbox (campaignctl.sandbox.faults): the spec parser, the seeded
choice, every fault kind in-process, and drops/latency over a real loopback server."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from campaignctl.errors import AmbiguousWriteError, ApiError, CampaignctlError
from campaignctl.http import ApiClient, RetryPolicy
from campaignctl.sandbox import embedded
from campaignctl.sandbox.app import create_app
from campaignctl.sandbox.core import Settings
from campaignctl.sandbox.faults import (
    ENV_VAR,
    PLATFORMS,
    ConnectionDropped,
    FaultInjector,
    FaultSpec,
    FaultSpecError,
    parse_faults,
)
from campaignctl.sandbox.store import Store
from tests.helpers import Server, run_cli, start_server, stop_server

KEY = "sandbox-key"
SWARMS = {"X-Auth-Token": KEY}
TASK = {"name": "t", "components": [{"type": "Text", "properties": {"text": "x", "style": "Question"}}]}
FAST = RetryPolicy(base_delay=0, max_delay=0, max_retry_after=0)


# -- the spec string ---------------------------------------------------------------------------
def test_the_documented_example_parses() -> None:
    spec = parse_faults(
        "latency=20ms,jitter=5ms,5xx=0.1,429=0.05,retry-after=1,reset-after=0.05,reset-before=0.02,"
        "slow=0.01,slow-seconds=40,seed=7,platforms=swarms+microworkers"
    )
    assert spec == FaultSpec(
        latency_ms=20, jitter_ms=5, error_rate=0.1, rate_429=0.05, retry_after=1, reset_after=0.05,
        reset_before=0.02, slow_rate=0.01, slow_seconds=40, seed=7, platforms=("swarms", "microworkers"),
    )
    assert spec.methods is None and spec.max_faults is None
    assert FaultSpec.parse(str(spec)) == spec  # str() is the compact form again


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latency=0.5s, jitter=20", {"latency_ms": 500, "jitter_ms": 20}),  # spaces; bare latency is ms
        ("retry-after=250ms,slow-seconds=2", {"retry_after": 0.25, "slow_seconds": 2}),  # bare is s
        ("5xx=10%,error_rate=0.1", None),  # the same key twice (alias) is an error: checked below
        ("5xx=10%", {"error_rate": 0.1}),
        ("rate-429=0.5,slow-rate=0.5", {"rate_429": 0.5, "slow_rate": 0.5}),
        ("max=3,seed=-2", {"max_faults": 3, "seed": -2}),
        ("platforms=all,methods=writes", {"platforms": PLATFORMS, "methods": ("POST", "PUT", "PATCH", "DELETE")}),
        ("methods=get+Post", {"methods": ("GET", "POST")}),
        ("methods=all", {"methods": None}),
        ("platforms=microworkers-v1", {"platforms": ("microworkers-v1",)}),
    ],
)
def test_values_units_and_aliases(text: str, expected: dict[str, Any] | None) -> None:
    if expected is None:
        with pytest.raises(FaultSpecError, match="given twice"):
            parse_faults(text)
        return
    spec = parse_faults(text)
    assert spec is not None
    for name, value in expected.items():
        assert getattr(spec, name) == pytest.approx(value) if isinstance(value, float) else getattr(spec, name) == value


@pytest.mark.parametrize("text", [None, "", "  ", "off", "none"])
def test_empty_means_no_faults(text: str | None) -> None:
    assert parse_faults(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus=1", "unknown key 'bogus'; known keys: latency, jitter, 5xx"),
        ("5xx", "expected key=value"),
        ("5xx=1.5", "5xx=1.5: expected a rate between 0 and 1"),
        ("429=often", "429=often: expected a rate"),
        ("latency=fast", "latency=fast: expected a duration such as 20ms"),
        ("slow-seconds=-1", "expected a duration"),
        ("seed=x", "seed=x: expected a whole number"),
        ("max=-1", "max=-1: expected a whole number >= 0"),
        ("platforms=swarms+mturk", "unknown platform mturk"),
        ("methods=FETCH", "unknown method FETCH"),
        ("5xx=0.5,reset-after=0.6", "add up to 1.1; at most 1"),
        ("seed=1,seed=2", "seed: given twice"),
    ],
)
def test_bad_specs_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        parse_faults(text)
    assert message in str(info.value)


def test_the_json_form_takes_the_same_keys() -> None:
    spec = FaultSpec.from_mapping({"5xx": 0.5, "latency": "20ms", "platforms": ["swarms"], "methods": "POST", "max": 2, "seed": None})
    assert spec == FaultSpec(error_rate=0.5, latency_ms=20, platforms=("swarms",), methods=("POST",), max_faults=2)
    with pytest.raises(FaultSpecError, match="reset-after"):
        FaultSpec.from_mapping({"reset-after": True})


def test_serve_rejects_a_bad_spec_without_a_traceback(tmp_path: Path) -> None:
    result = run_cli("sandbox", "serve", "--port", "0", "--db", tmp_path / "x.db", "--faults", "5xx=2")
    assert result.code != 0
    assert "Invalid value for '--faults'" in result.err
    assert "5xx=2: expected a rate between 0 and 1" in result.err


# -- the seeded choice ---------------------------------------------------------------------------
def _draw(spec: FaultSpec, requests: list[tuple[str, str]]) -> list[tuple[Any, ...]]:
    injector = FaultInjector(spec)
    return [(d.kind, d.status, round(d.delay, 9)) for d in (injector.decide(p, m) for p, m in requests)]


MIX = FaultSpec(latency_ms=10, jitter_ms=5, error_rate=0.2, rate_429=0.1, reset_before=0.1, reset_after=0.1, slow_rate=0.1, seed=7)
SEQUENCE = [("swarms", "POST"), ("microworkers", "GET"), ("microworkers-v1", "PUT")] * 200


def test_same_seed_same_faults() -> None:
    first = _draw(MIX, SEQUENCE)
    assert first == _draw(MIX, SEQUENCE)
    assert first != _draw(FaultSpec(**{**MIX.__dict__, "seed": 8}), SEQUENCE)
    kinds = [kind for kind, _, _ in first]
    # shares come out about as asked (600 draws)
    assert 0.13 < kinds.count("5xx") / len(kinds) < 0.27
    assert 0.33 < kinds.count(None) / len(kinds) < 0.47  # 1 - 0.6
    assert {status for kind, status, _ in first if kind == "5xx"} == {500, 502, 503}
    assert all(0.005 <= delay <= 0.015 for _, _, delay in first)


def test_requests_a_spec_does_not_cover_draw_nothing() -> None:
    swarms_only = FaultSpec(**{**MIX.__dict__, "platforms": ("swarms",), "methods": ("POST",)})
    mixed = _draw(swarms_only, SEQUENCE)
    assert all(d == (None, None, 0) for d in mixed[1::3] + mixed[2::3])
    # the swarms POSTs get the same faults whether or not uncovered requests came in between
    assert mixed[::3] == _draw(swarms_only, [("swarms", "POST")] * 200)


def test_max_bounds_the_faults_but_not_the_latency() -> None:
    injector = FaultInjector(FaultSpec(latency_ms=1, reset_after=1, max_faults=3))
    decisions = [injector.decide("swarms", "GET") for _ in range(10)]
    assert [d.kind for d in decisions] == ["reset-after"] * 3 + [None] * 7
    assert all(d.delay == pytest.approx(0.001) for d in decisions)
    assert injector.stats() == {"latency": 10, "reset-after": 3, "total": 3}


# -- in-process: every kind ----------------------------------------------------------------------
ADMIN = {"X-Sandbox-Key": Settings().api_key}  # the admin routes' key: the sandbox's own


def make_app(spec: str | None = None) -> Starlette:
    return create_app(Store(), Settings(faults=parse_faults(spec)))


def tasks(app: Starlette) -> int:
    return int(app.state.sandbox.store.count("swarms", "task"))


async def send(app: Starlette, method: str, path: str, **kwargs: Any) -> httpx.Response | Exception:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        try:
            return await client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            return exc


def post_task(app: Starlette) -> httpx.Response | Exception:
    return asyncio.run(send(app, "POST", "/swarms/tasks", headers=SWARMS, json=TASK))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_answers_before_anything_happens(status: int) -> None:
    app = make_app("5xx=1,seed=1")
    seen: set[int] = set()
    for _ in range(12):
        response = post_task(app)
        assert isinstance(response, httpx.Response)
        seen.add(response.status_code)
    assert status in seen and seen <= {500, 502, 503}
    assert tasks(app) == 0
    assert app.state.sandbox.stats()["swarms"] == {"POST": 12}


def test_a_5xx_body_is_in_the_platforms_format_so_errors_read_well() -> None:
    from campaignctl.platforms.microworkers.provider import mw_error
    from campaignctl.platforms.microworkers_v1.provider import v1_error
    from campaignctl.platforms.swarms.provider import swarms_error

    app = make_app("5xx=1,seed=3")
    calls = [("/swarms/tasks", swarms_error), ("/microworkers/api/v2/campaigns", mw_error), ("/microworkers-v1/campaigns_b/list", v1_error)]

    async def main() -> list[ApiError]:
        errors = []
        for path, parser in calls * 3:
            client = ApiClient("http://sandbox", transport=httpx.ASGITransport(app=app), retry=RetryPolicy(attempts=1), error_parser=parser)
            try:
                await client.request("GET", path)
            except ApiError as exc:
                errors.append(exc)
            finally:
                await client.aclose()
        return errors

    errors = asyncio.run(main())
    assert len(errors) == 9 and all(type(e) is ApiError for e in errors)
    assert {e.status for e in errors} == {500, 502, 503}
    assert all("sandbox fault injection" in e.message for e in errors), [e.message for e in errors]


def test_429_carries_retry_after_and_changes_nothing() -> None:
    app = make_app("429=1,retry-after=2")
    response = post_task(app)
    assert isinstance(response, httpx.Response)
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    assert tasks(app) == 0


def test_reset_before_raises_a_transport_error_and_nothing_happens() -> None:
    app = make_app("reset-before=1")
    error = post_task(app)
    assert isinstance(error, httpx.RemoteProtocolError) and isinstance(error, ConnectionDropped)
    assert tasks(app) == 0
    assert app.state.sandbox.stats() == {"swarms": {"POST": 1}, "_faults": {"reset-before": 1, "total": 1}}


def test_reset_after_commits_then_drops() -> None:
    app = make_app("reset-after=1")
    error = post_task(app)
    assert isinstance(error, httpx.TransportError)
    assert tasks(app) == 1  # it happened, but the client cannot know


def test_the_client_sees_an_ambiguous_write_and_retries_reads() -> None:
    app = make_app("reset-after=1,max=2,platforms=swarms")

    async def main() -> tuple[AmbiguousWriteError, httpx.Response, ApiClient]:
        client = ApiClient("http://sandbox/swarms", headers=SWARMS, transport=httpx.ASGITransport(app=app), retry=FAST)
        try:
            with pytest.raises(AmbiguousWriteError) as info:
                await client.request("POST", "/tasks", json=TASK)
            return info.value, await client.request("GET", "/tasks"), client
        finally:
            await client.aclose()

    error, response, client = asyncio.run(main())
    assert error.method == "POST" and error.url == "http://sandbox/swarms/tasks"
    assert "RemoteProtocolError" in str(error) and "not retried" in str(error)
    assert response.status_code == 200 and len(response.json()["tasks"]) == 1  # 2nd fault hit the GET: retried
    assert (client.stats.calls, client.stats.retries, client.stats.ambiguous_writes) == (3, 1, 1)


def test_slow_holds_the_answer_past_the_client_deadline() -> None:
    app = make_app("slow=1,slow-seconds=30,max=2")

    async def main() -> tuple[float, float, ApiClient]:
        client = ApiClient("http://sandbox/swarms", headers=SWARMS, transport=httpx.ASGITransport(app=app), timeout=0.3, retry=FAST)
        try:
            started = time.monotonic()
            with pytest.raises(AmbiguousWriteError, match="ReadTimeout"):
                await client.request("POST", "/tasks", json=TASK)
            write = time.monotonic() - started
            started = time.monotonic()
            await client.request("GET", "/tasks")  # times out once, then answered
            return write, time.monotonic() - started, client
        finally:
            await client.aclose()

    write, read, client = asyncio.run(main())
    assert 0.25 < write < 2 and 0.25 < read < 2
    assert tasks(app) == 1  # the slow write was applied
    assert client.stats.retries == 1
    assert app.state.sandbox.stats()["_faults"] == {"slow": 2, "total": 2}


def test_latency_delays_without_blocking_other_requests() -> None:
    app = make_app("latency=300ms,platforms=swarms")

    async def main() -> tuple[float, float]:
        async def timed(path: str, headers: dict[str, str]) -> float:
            started = time.monotonic()
            response = await send(app, "GET", path, headers=headers)
            assert isinstance(response, httpx.Response) and response.status_code == 200, response
            return time.monotonic() - started

        started = time.monotonic()
        slow = await asyncio.gather(*(timed("/swarms/tasks", SWARMS) for _ in range(5)))
        total = time.monotonic() - started
        fast = await timed("/microworkers-v1/campaigns_b/list", {"MicroworkersApiKey": KEY})
        assert all(s >= 0.29 for s in slow)
        return total, fast

    total, fast = asyncio.run(main())
    assert total < 1.2  # five concurrent 300 ms delays overlap
    assert fast < 0.25


def test_latency_is_added_to_the_answer_of_a_request_handled_on_arrival() -> None:
    """The platform handles a request when it arrives; its answer leaves ``latency`` later. A write
    is visible to another reader before its own answer is back (as over a real network), and a
    request a fault refuses waits the latency out before it is refused, and nothing happens."""
    app = make_app("latency=400ms,methods=POST,platforms=swarms")

    async def main() -> tuple[float, int]:
        started = time.monotonic()
        write = asyncio.ensure_future(send(app, "POST", "/swarms/tasks", headers=SWARMS, json=TASK))
        await asyncio.sleep(0.2)
        listed = await send(app, "GET", "/swarms/tasks", headers=SWARMS)  # GETs have no latency here
        assert isinstance(listed, httpx.Response) and not write.done()
        response = await write
        assert isinstance(response, httpx.Response) and response.status_code == 201, response
        return time.monotonic() - started, len(listed.json()["tasks"])

    elapsed, seen = asyncio.run(main())
    assert seen == 1 and elapsed >= 0.39

    refused = make_app("latency=300ms,5xx=1")
    started = time.monotonic()
    response = post_task(refused)
    assert isinstance(response, httpx.Response) and response.status_code >= 500
    assert time.monotonic() - started >= 0.29 and tasks(refused) == 0


def test_faults_are_set_and_cleared_at_run_time() -> None:
    app = make_app()

    async def main() -> None:
        async def admin(body: Any) -> httpx.Response:
            response = await send(app, "POST", "/_sandbox/faults", content=body if isinstance(body, bytes) else None,
                                  json=None if isinstance(body, bytes) else body, headers=ADMIN)
            assert isinstance(response, httpx.Response)
            return response

        assert isinstance(await send(app, "POST", "/swarms/tasks", headers=SWARMS, json=TASK), httpx.Response)
        response = await admin({"reset-before": 1, "platforms": ["swarms"], "methods": "POST"})
        assert response.status_code == 200
        assert response.json()["spec"] == "reset-before=1,seed=0,platforms=swarms,methods=POST"
        assert isinstance(await send(app, "POST", "/swarms/tasks", headers=SWARMS, json=TASK), ConnectionDropped)
        shown = await send(app, "GET", "/_sandbox/faults", headers=ADMIN)
        assert isinstance(shown, httpx.Response) and shown.json()["faults"]["reset-before"] == 1
        stats = await send(app, "GET", "/_sandbox/stats", headers=ADMIN)
        assert isinstance(stats, httpx.Response)
        assert stats.json() == {"swarms": {"POST": 2}, "_faults": {"reset-before": 1, "total": 1}}
        bad = await admin({"5xx": 7})
        assert bad.status_code == 400 and "5xx=7: expected a rate" in bad.json()["error"]
        assert (await admin(b"[1]")).status_code == 400
        assert (await admin({})).json() == {"faults": None, "spec": ""}
        assert isinstance(await send(app, "POST", "/swarms/tasks", headers=SWARMS, json=TASK), httpx.Response)
        stats = await send(app, "GET", "/_sandbox/stats", headers=ADMIN)
        assert isinstance(stats, httpx.Response) and "_faults" not in stats.json()

    asyncio.run(main())
    assert tasks(app) == 2


def test_the_same_seed_replays_the_same_run_in_process() -> None:
    def run() -> list[Any]:
        app = make_app("5xx=0.2,429=0.2,reset-before=0.2,reset-after=0.2,seed=11")
        outcomes = []
        for _ in range(30):
            result = post_task(app)
            outcomes.append(result.status_code if isinstance(result, httpx.Response) else type(result).__name__)
        return [*outcomes, tasks(app)]

    first = run()
    assert first == run()
    assert {"ConnectionDropped", 201, 429} <= set(first)


# -- the embedded sandbox reads CAMPAIGNCTL_SANDBOX_FAULTS --------------------------------------
@pytest.fixture
def embedded_root(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    path = str(embedded.sandbox_db_path(tmp_path).resolve())
    embedded._faults_env.pop(path, None)
    app = embedded._apps.pop(path, None)
    if app is not None:
        app.state.sandbox.store.close()


def test_the_embedded_sandbox_takes_faults_from_the_environment(embedded_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "5xx=0.5,seed=4,platforms=swarms")
    app = embedded.embedded_app(embedded_root)
    assert app.state.sandbox.faults.spec == FaultSpec(error_rate=0.5, seed=4, platforms=("swarms",))
    monkeypatch.setenv(ENV_VAR, "reset-after=0.1")
    assert embedded.embedded_app(embedded_root) is app
    assert app.state.sandbox.faults.spec == FaultSpec(reset_after=0.1)
    monkeypatch.delenv(ENV_VAR)
    assert embedded.embedded_app(embedded_root).state.sandbox.faults is None
    monkeypatch.setenv(ENV_VAR, "5xx=lots")
    with pytest.raises(CampaignctlError, match="CAMPAIGNCTL_SANDBOX_FAULTS: 5xx=lots: expected a rate"):
        embedded.embedded_app(embedded_root)


# -- over loopback: what httpx really sees from uvicorn ------------------------------------------
def stop(server: Server) -> str:
    """Stop the server; its stderr (which must hold no error log)."""
    return stop_server(server)


DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


def test_reset_after_over_loopback_commits_while_the_client_sees_a_transport_error(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--faults", "reset-after=1,platforms=swarms,methods=POST")
    try:
        headers = {"X-Auth-Token": server.key, **server.admin}
        with httpx.Client(base_url=server.url, headers=headers, timeout=5) as client:
            # the dropped connection reads as a clean close, or as a reset when the kernel sends RST
            with pytest.raises(DROPPED):
                client.post("/swarms/tasks", json=TASK)
            listed = client.get("/swarms/tasks")  # GET is not covered: answered
            assert listed.status_code == 200 and [t["name"] for t in listed.json()["tasks"]] == ["t"]

        async def through_the_client() -> AmbiguousWriteError:
            api = ApiClient(f"{server.url}/swarms", headers=headers, retry=FAST, secrets=[server.key])
            try:
                with pytest.raises(AmbiguousWriteError) as info:
                    await api.request("POST", "/tasks", json={**TASK, "name": "u"})
                assert api.stats.calls == 1
                return info.value
            finally:
                await api.aclose()

        error = asyncio.run(through_the_client())
        assert error.method == "POST" and error.url == f"{server.url}/swarms/tasks"
        with httpx.Client(base_url=server.url, headers=headers, timeout=5) as client:
            assert sorted(t["name"] for t in client.get("/swarms/tasks").json()["tasks"]) == ["t", "u"]
            # reset-before over loopback: the same error, but nothing happened
            client.post("/_sandbox/faults", json={"reset-before": 1, "methods": "POST"})
            with pytest.raises(DROPPED):
                client.post("/swarms/tasks", json={**TASK, "name": "v"})
            assert len(client.get("/swarms/tasks").json()["tasks"]) == 2
            assert client.get("/_sandbox/stats").json()["_faults"] == {"reset-before": 1, "total": 1}
    finally:
        err = stop(server)
    assert "Traceback" not in err and "ERROR" not in err and "Exception" not in err


def test_latency_and_slow_over_loopback(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--faults", "latency=250ms,jitter=20ms,platforms=swarms,methods=GET")
    try:
        headers = {"X-Auth-Token": server.key, **server.admin}
        with httpx.Client(base_url=server.url, headers=headers, timeout=5) as client:
            started = time.monotonic()
            assert client.get("/swarms/tasks").status_code == 200
            assert time.monotonic() - started >= 0.22
            started = time.monotonic()
            assert client.post("/swarms/tasks", json=TASK).status_code == 201  # POST not covered
            assert time.monotonic() - started < 0.2
            assert client.get("/_sandbox/stats").json()["_faults"] == {"latency": 1}
            # slow: the client times out; the write was applied anyway
            client.post("/_sandbox/faults", json={"slow": 1, "slow-seconds": 20, "methods": "POST", "max": 1})
            with pytest.raises(httpx.ReadTimeout):
                client.post("/swarms/tasks", json={**TASK, "name": "slow"}, timeout=0.5)
            names = [t["name"] for t in client.get("/swarms/tasks").json()["tasks"]]
            assert names == ["t", "slow"]
    finally:
        started = time.monotonic()
        err = stop(server)
    assert time.monotonic() - started < 5  # the held answer does not keep the server from stopping
    assert "Traceback" not in err and "ERROR" not in err

