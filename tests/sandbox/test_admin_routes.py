"""The sandbox's admin routes are for the user's own tools, not for any web page (issue 20,
finding 11): the key, a loopback Host (DNS rebinding), no foreign Origin (cross-site POST)."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaignctl.sandbox.admin import (
    is_loopback_interface,
    loopback_host,
    loopback_origin,
)
from campaignctl.sandbox.app import create_app
from campaignctl.sandbox.core import Settings
from campaignctl.sandbox.store import Store
from tests.helpers import run_cli, start_server, stop_server

KEY = "admin-test-key"
ROUTES = [("GET", "/_sandbox/stats"), ("POST", "/_sandbox/reset-stats"), ("GET", "/_sandbox/faults"), ("POST", "/_sandbox/faults")]
#: the skilled submit route (POST /_sandbox/submit) wants a body: its own test below


def call(app: Any, method: str, path: str, host: str = "127.0.0.1:8765", **kwargs: Any) -> httpx.Response:
    async def main() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(main())


@pytest.fixture
def app() -> Any:
    return create_app(Store(), Settings(api_key=KEY))


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_admin_route_wants_the_key(app: Any, method: str, path: str) -> None:
    assert call(app, method, path).status_code == 401
    assert call(app, method, path, headers={"X-Sandbox-Key": "sandbox-key"}).status_code == 401
    assert call(app, method, path, headers={"Authorization": f"Basic {KEY}"}).status_code == 401
    assert call(app, method, path, headers={"X-Sandbox-Key": KEY}).status_code == 200
    assert call(app, method, path, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8765", "localhost", "LOCALHOST:1", "[::1]", "[::1]:8765"])
def test_loopback_hosts_are_served(app: Any, host: str) -> None:
    assert call(app, "GET", "/_sandbox/stats", host=host, headers={"X-Sandbox-Key": KEY}).status_code == 200


@pytest.mark.parametrize("host", ["attacker.example:8765", "localhost.attacker.example", "127.0.0.1.nip.io", "0.0.0.0:8765", "sandbox"])
def test_a_rebound_dns_name_is_refused_even_with_the_key(app: Any, host: str) -> None:
    refused = call(app, "POST", "/_sandbox/faults", host=host, headers={"X-Sandbox-Key": KEY}, json={"5xx": 1})
    assert refused.status_code == 403 and "loopback Host" in refused.json()["error"]
    assert app.state.sandbox.faults is None


def test_a_cross_site_post_is_refused_and_changes_nothing(app: Any) -> None:
    # what a page on another site can send without a preflight: text/plain, its Origin
    page = {"Origin": "https://attacker.example", "Content-Type": "text/plain", "X-Sandbox-Key": KEY}
    refused = call(app, "POST", "/_sandbox/faults", headers=page, content=b'{"5xx": 1}')
    assert refused.status_code == 403 and "origin" in refused.json()["error"]
    for origin in ("null", "http://localhost.attacker.example", "file://", "http://127.0.0.1@attacker.example"):
        assert call(app, "POST", "/_sandbox/reset-stats", headers={**page, "Origin": origin}).status_code == 403
    assert app.state.sandbox.faults is None
    # a page of the user's own, served from loopback, is one of theirs
    own = call(app, "POST", "/_sandbox/faults", headers={**page, "Origin": "http://localhost:3000"}, content=b'{"5xx": 1}')
    assert own.status_code == 200 and app.state.sandbox.faults is not None


def test_the_skilled_submit_route_is_guarded_and_checks_its_body(app: Any) -> None:
    """``POST /_sandbox/submit`` (``sandbox submit --accuracy`` on a served sandbox): the key, a loopback
    Host, no foreign Origin, as every admin route; then a body that is off is a 400 saying what."""
    body = {"platform": "swarms", "campaign": 1, "count": 3, "seed": 0, "skill": {"accuracy": 0.8, "truth": []}}
    assert call(app, "POST", "/_sandbox/submit", json=body).status_code == 401
    assert call(app, "POST", "/_sandbox/submit", json=body, headers={"X-Sandbox-Key": "sandbox-key"}).status_code == 401
    assert call(app, "POST", "/_sandbox/submit", json=body, host="attacker.example", headers={"X-Sandbox-Key": KEY}).status_code == 403
    page = {"X-Sandbox-Key": KEY, "Origin": "https://attacker.example", "Content-Type": "text/plain"}
    assert call(app, "POST", "/_sandbox/submit", content=b"{}", headers=page).status_code == 403
    admin = {"X-Sandbox-Key": KEY}
    for bad, says in [
        (None, "JSON object"), ({**body, "platform": "mturk"}, "platform: one of"), ({**body, "campaign": True}, "campaign"),
        ({**body, "count": -1}, "count"), ({**body, "count": 100_001}, "count"), ({**body, "seed": "7"}, "seed"),
        ({**body, "skill": {"accuracy": 2}}, "skill.accuracy"), ({**body, "skill": {"fast_share": "x"}}, "skill.fast_share"),
        ({**body, "skill": {"truth": [["1", "f"]]}}, "skill.truth"), ({**body, "skill": []}, "skill:"),
        (body, "campaign 1 does not exist"),  # the platform's simulation refuses
    ]:
        refused = call(app, "POST", "/_sandbox/submit", json=bad, headers=admin)
        assert refused.status_code == 400 and says in refused.json()["error"], (bad, refused.text)
    assert app.state.sandbox.stats() == {}  # nothing reached a platform


def test_the_platform_apis_are_untouched(app: Any) -> None:
    assert call(app, "GET", "/swarms/tasks", host="sandbox", headers={"X-Auth-Token": KEY}).status_code == 200


@pytest.mark.parametrize(("value", "ok"), [
    ("127.0.0.1", True), ("localhost:80", True), ("[::1]:1", True), ("[::1]", True),
    ("127.0.0.2", False), ("::1", False), ("localhost:", True), ("localhost:x", False), ("user@localhost", False),
    ("localhost/x", False), ("", False), ("[::1", False),
])
def test_loopback_host(value: str, ok: bool) -> None:
    assert loopback_host(value) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("http://localhost:3000", True), ("https://127.0.0.1", True), ("http://[::1]:8080", True),
    ("null", False), ("http://localhost/x", False), ("ftp://localhost", False), ("http://evil.example", False),
])
def test_loopback_origin(value: str, ok: bool) -> None:
    assert loopback_origin(value) is ok


@pytest.mark.parametrize(("host", "ok"), [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
                                          ("0.0.0.0", False), ("::", False), ("192.0.2.1", False), ("example.org", False)])
def test_is_loopback_interface(host: str, ok: bool) -> None:
    assert is_loopback_interface(host) is ok


def test_served_sandbox_wants_the_key_and_warns_off_loopback(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        assert httpx.get(f"{server.url}/_sandbox/stats", timeout=5).status_code == 401
        assert httpx.post(f"{server.url}/_sandbox/faults", json={"5xx": 1}, timeout=5).status_code == 401
        assert httpx.get(f"{server.url}/_sandbox/stats", headers=server.admin, timeout=5).status_code == 200
        rebound = httpx.get(f"{server.url}/_sandbox/stats", headers={**server.admin, "Host": "attacker.example"}, timeout=5)
        assert rebound.status_code == 403
    finally:
        err = stop_server(server)
    assert "Warning" not in err
    # 192.0.2.1 (TEST-NET-1) is on no interface: the bind fails, after the warning
    off = run_cli("sandbox", "serve", "--host", "192.0.2.1", "--port", "0", "--db", tmp_path / "off.db", timeout=60)
    assert "Warning: --host 192.0.2.1 is not loopback" in off.err
    assert "X-Sandbox-Key" in run_cli("sandbox", "serve", "--help").out
