"""Issue 20: credentials stay with their origin (findings 1, 2), header values are checked
(finding 6), paged reads are bounded (finding 7), secrets are redacted in every form (finding 12).
The hostile-server cases of findings 1 and 7 are in tests/reliability/test_hostile_origin.py."""
from __future__ import annotations

import base64
import re
import socket
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from campaignctl.errors import ApiError, ConfigError
from campaignctl.http import ApiClient
from campaignctl.inputs import make_providers
from campaignctl.origin import (
    ALLOW_ENV,
    check_endpoint,
    check_same_origin,
    header_problem,
)
from campaignctl.paging import DEFAULT_MAX_PAGES, MAX_PAGES_ENV, STALE_PAGES, PageGuard
from campaignctl.session import run
from campaignctl.validation import load_config
from tests.helpers import CANARY, run_cli


class WatchedEnv(Mapping[str, str]):
    """An environment that remembers which variables were read."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values, self.read = values, set[str]()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self.values[key]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.read.add(key)
        return self.values.get(key, default)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def provider_config(tmp_path: Path, endpoint: str, type_: str = "swarms", auth: str = "{tokenEnv: SWARMS_TOKEN}") -> Path:
    (tmp_path / "providers.yaml").write_text(
        f"# the provider\nkind: Provider\nname: p\nspec:\n  type: {type_}\n  endpoint: '{endpoint}'\n  auth: {auth}\n"
    )
    return tmp_path


def credentials(tmp_path: Path, endpoint: str, env: Mapping[str, str], **kwargs: str) -> dict[str, str]:
    config = load_config(provider_config(tmp_path, endpoint, **kwargs))
    return make_providers(config, env)["p"].credentials()


# -- 2. endpoints: official, loopback, sandbox, or the operator's allow-list -------------------------
@pytest.mark.parametrize("endpoint", [
    "https://evil.example", "http://169.254.169.254/", "http://api.swarms.com", "https://api.swarms.com.evil.example",
    "https://api.swarms.com:8443", "https://ttv.microworkers.com/api/v2",  # another platform's official endpoint
])
def test_unofficial_endpoint_is_refused_before_any_secret_is_read(tmp_path: Path, endpoint: str) -> None:
    env = WatchedEnv({"SWARMS_TOKEN": CANARY})
    with pytest.raises(ConfigError) as info:
        credentials(tmp_path, endpoint, env)
    text = str(info.value)
    assert re.match(r"\S*providers\.yaml:6:\d+: provider 'p': endpoint ", text) and ALLOW_ENV in text and "https://api.swarms.com" in text, text
    assert "SWARMS_TOKEN" not in env.read and CANARY not in text


@pytest.mark.parametrize(("type_", "endpoint", "auth"), [
    ("swarms", "https://api.swarms.com", "{tokenEnv: SWARMS_TOKEN}"),
    ("swarms", "https://api.swarms.com:443/", "{tokenEnv: SWARMS_TOKEN}"),
    ("microworkers", "https://ttv.microworkers.com/api/v2", "{apiKeyEnv: SWARMS_TOKEN}"),
    ("microworkers-v1", "https://api.microworkers.com", "{apiKeyEnv: SWARMS_TOKEN}"),
    ("swarms", "http://127.0.0.1:8080/swarms", "{tokenEnv: SWARMS_TOKEN}"),
    ("swarms", "http://localhost:9/swarms", "{tokenEnv: SWARMS_TOKEN}"),
    ("swarms", "http://[::1]:9/swarms", "{tokenEnv: SWARMS_TOKEN}"),
])
def test_official_and_loopback_endpoints_are_allowed(tmp_path: Path, type_: str, endpoint: str, auth: str) -> None:
    found = credentials(tmp_path, endpoint, {"SWARMS_TOKEN": CANARY}, type_=type_, auth=auth)
    assert CANARY in found.values()


ALLOWED = "https://proxy.corp.example/swarms/, https://other.example , http://plain.example:8080"


@pytest.mark.parametrize(("endpoint", "allowed"), [
    ("https://proxy.corp.example/swarms", True),
    ("https://proxy.corp.example/swarms/v1", True),
    ("https://proxy.corp.example/swarmsx", False),
    ("https://proxy.corp.example/other", False),
    ("https://other.example/any/path", True),
    ("https://other.example:443", True),
    ("http://other.example", False),  # the scheme is part of the origin
    ("https://other.example:8443", False),
    ("http://plain.example:8080/api", True),
    ("https://user:pw@other.example", False),  # user:password, even on an allowed origin
])
def test_the_operators_allow_list(endpoint: str, allowed: bool) -> None:
    assert (check_endpoint(endpoint, "https://api.swarms.com", {ALLOW_ENV: ALLOWED}, "SWARMS") is None) == allowed
    refused = check_endpoint(endpoint, "https://api.swarms.com", {}, "SWARMS")  # nothing allowed without it
    assert refused is not None
    if "@" in endpoint:
        assert "user:password" in refused
    else:
        assert f"endpoint {endpoint} is not the official SWARMS endpoint" in refused and ALLOW_ENV in refused


@pytest.mark.parametrize("endpoint", ["https://user:pw@api.swarms.com", "http://a:b@127.0.0.1:8080/swarms"])
def test_userinfo_in_an_endpoint_is_refused(tmp_path: Path, endpoint: str) -> None:
    with pytest.raises(ConfigError, match="user name or password"):
        credentials(tmp_path, endpoint, {"SWARMS_TOKEN": CANARY, ALLOW_ENV: "https://api.swarms.com"})


def test_the_config_cannot_allow_an_endpoint(tmp_path: Path) -> None:
    """Only the environment holds the allow-list: a Provider cannot carry one."""
    provider_config(tmp_path, "https://evil.example")
    with (tmp_path / "providers.yaml").open("a") as f:
        f.write(f"  {ALLOW_ENV}: https://evil.example\n")
    with pytest.raises(ConfigError, match=f"unknown field '{ALLOW_ENV}'"):
        load_config(tmp_path)


def listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)
    return sock


def no_connection(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_cli_refuses_an_unofficial_endpoint(tmp_path: Path, command: str) -> None:
    config = provider_config(tmp_path, "http://169.254.169.254/latest")
    done = run_cli(command, config, env={"SWARMS_TOKEN": CANARY}, timeout=60)
    assert done.code == 1 and "Traceback" not in done.text
    assert "providers.yaml:6:" in done.err and ALLOW_ENV in done.err and "not the official SWARMS endpoint" in done.err, done.err


# -- 6. header values ------------------------------------------------------------------------------
BAD_VALUES = {"crlf": ("tok\r\nX-Injected: yes", "line break"), "lf": ("tok\nX-Injected: yes", "line break"),
              "non-ascii": ("tök-ën", "non-ASCII"), "space-end": ("tok ", "white space"), "nul": ("t\x00k", "control")}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_token_that_is_no_header_value_is_refused_by_name(tmp_path: Path, case: str) -> None:
    value, why = BAD_VALUES[case]
    for type_, auth in (("swarms", "{tokenEnv: SWARMS_TOKEN}"), ("microworkers-v1", "{apiKeyEnv: SWARMS_TOKEN}")):
        with pytest.raises(ConfigError) as info:
            credentials(tmp_path, "http://127.0.0.1:9/x", {"SWARMS_TOKEN": value}, type_=type_, auth=auth)
        text = str(info.value)
        assert "SWARMS_TOKEN" in text and why in text and "providers.yaml:7:" in text, text
        assert value not in text and "X-Injected" not in text and "tök" not in text, text  # never the value


def test_a_password_may_be_any_text(tmp_path: Path) -> None:
    """Email and password go in a JSON body, not in a header: no header rule for them."""
    env = {"E": "ö@example.org", "P": "pässwörd\twith tab"}
    found = credentials(tmp_path, "http://127.0.0.1:9/x", env, auth="{emailEnv: E, passwordEnv: P}")
    assert found == {"email": env["E"], "password": env["P"]}


@pytest.mark.parametrize("case", ["crlf", "non-ascii"])
def test_cli_with_a_bad_token_names_the_variable_and_sends_nothing(tmp_path: Path, case: str) -> None:
    value, why = BAD_VALUES[case]
    sock = listening()
    try:
        config = provider_config(tmp_path, f"http://127.0.0.1:{sock.getsockname()[1]}/swarms")
        done = run_cli("plan", config, env={"SWARMS_TOKEN": value}, timeout=60)
        assert done.code == 1 and "SWARMS_TOKEN" in done.err and why in done.err, done.text
        assert "X-Injected" not in done.text and "tök" not in done.text
        assert no_connection(sock)
    finally:
        sock.close()


def test_client_checks_every_header_value() -> None:
    with pytest.raises(ApiError, match="X-Auth-Token header cannot be sent: it holds a line break") as info:
        ApiClient("https://api.test", headers={"X-Auth-Token": "abc\r\nX-Evil: 1"})
    assert "X-Evil" not in str(info.value)
    client = ApiClient("https://api.test", headers={"X-Auth-Token": "fine"})
    try:
        for value in ("s\nX-Evil: 1", "sessiön"):  # a session token a platform handed back
            with pytest.raises(ApiError, match="X-Auth-Token header cannot be sent") as info:
                client.set_header("X-Auth-Token", value)
            assert value not in str(info.value)
        assert client._client.headers["X-Auth-Token"] == "fine"
    finally:
        run(client.aclose())


def test_header_problem() -> None:
    assert header_problem("abc-DEF_123.~+/=") is None and header_problem("Bearer a b") is None
    assert header_problem("") and header_problem(" a") and header_problem("a\tb\x7f")


# -- 1. the lowest level: the client refuses a request off its origin --------------------------------
@pytest.mark.parametrize(("link", "ok"), [
    ("/tasks?after=3", True), ("/v1/tasks?after=3", True), ("https://api.swarms.test/v1/tasks?after=3", True),
    ("https://api.swarms.test:443/tasks", True), ("//evil.test/x", True),  # a path: base + href
    ("https://evil.test/v1/tasks", False), ("https://api.swarms.test:8443/tasks", False),
    ("http://api.swarms.test/tasks", False), ("https://u:p@api.swarms.test/tasks", False),
    ("https://api.swarms.test@evil.test/tasks", False), ("ftp://api.swarms.test/tasks", False),
])
def test_check_same_origin(link: str, ok: bool) -> None:
    if ok:
        check_same_origin("https://api.swarms.test/v1", link)
    else:
        with pytest.raises(ApiError, match="refusing to follow the platform's link") as info:
            check_same_origin("https://api.swarms.test/v1", link)
        assert link in str(info.value)


def test_client_sends_nothing_off_its_origin() -> None:
    """Cleartext under https, another host, user:password: refused by ApiClient.request itself."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    async def main() -> list[str]:
        client = ApiClient("https://api.swarms.test/v1", headers={"X-Auth-Token": CANARY}, secrets=[CANARY],
                           transport=httpx.MockTransport(handler))
        errors = []
        try:
            for link in ("http://api.swarms.test/v1/tasks?after=1", "https://evil.test/steal", f"https://{CANARY}:x@evil.test/"):
                with pytest.raises(ApiError) as info:
                    await client.json("GET", link)
                errors.append(str(info.value))
            await client.json("GET", "https://api.swarms.test/v1/tasks?after=1")  # its own origin: sent
        finally:
            await client.aclose()
        return errors

    errors = run(main())
    assert [str(r.url) for r in sent] == ["https://api.swarms.test/v1/tasks?after=1"]
    assert "cleartext" in errors[0] and "another origin" in errors[1] and "user name or password" in errors[2]
    assert all(CANARY not in e for e in errors)


# -- 12. redaction -----------------------------------------------------------------------------------
def forms_of(secret: str) -> list[tuple[str, int]]:
    """(a form the secret may be echoed in, how many characters of it may stay: those that encode the
    text around the secret, in base64)."""
    raw = secret.encode()
    forms = [(form, 0) for form in (
        secret.upper(), secret.lower(), secret.swapcase(), urllib.parse.quote(secret, safe=""),
        "".join(f"%{b:02x}" for b in raw), "".join(urllib.parse.quote(c, safe="") if i % 2 else c for i, c in enumerate(secret)),
    )]
    for prefix in (b"", b"k", b"ke", b"key=", b"Basic user:"):
        around = -(-4 * len(prefix) // 3) + 1
        forms += [(base64.b64encode(prefix + raw + b"!").decode(), around + 4), (base64.urlsafe_b64encode(prefix + raw).decode(), around + 4)]
    return forms


@pytest.mark.parametrize("secret", [CANARY, "p@ss w/rd+?&=é~"])
def test_redaction_in_every_form(secret: str) -> None:
    client = ApiClient("https://api.test", secrets=[secret])
    try:
        for form, slack in forms_of(secret):
            text = client.redact(f"before {form} after")
            assert text.startswith("before ") and text.endswith(" after") and "***" in text, (form, text)
            kept = text.removeprefix("before ").removesuffix(" after").replace("***", "")
            assert len(kept) <= slack, (form, text)
        assert client.redact("cut short: " + secret.upper()[:9]) == "cut short: ***"
        assert client.redact("nothing secret in here: 12345 abcdef") == "nothing secret in here: 12345 abcdef"
    finally:
        run(client.aclose())


def test_a_short_secret_is_not_looked_for_in_base64() -> None:
    """A base64 core shorter than 8 characters would match ordinary text by chance."""
    client = ApiClient("https://api.test", secrets=["abc"])
    try:
        assert client.redact("YWJj and ABC and %61bc") == "YWJj and *** and ***"
    finally:
        run(client.aclose())


# -- 7. the shared pager's bounds (the hostile-server cases are in tests/reliability) ---------------
def test_page_guard() -> None:
    guard = PageGuard("/things", limit=100, redact=lambda text: text.replace(CANARY, "***"))
    guard.items([1, 2])
    guard.follow(f"/things?after=2&k={CANARY}")
    guard.items([2, 3])  # one new item: not stale
    guard.follow("/things?after=3")
    with pytest.raises(ApiError, match="came back") as info:
        guard.follow(f"/things?after=2&k={CANARY}")
    assert CANARY not in str(info.value) and "***" in str(info.value)

    stale = PageGuard("/things")
    stale.items([1, 2])
    for n in range(STALE_PAGES - 1):
        stale.follow(n)
        stale.items([] if n else [2, 1])  # the same items, or none
    with pytest.raises(ApiError, match="only items already read, or none"):
        stale.items([1])

    odd = PageGuard("/things")  # items without usable ids neither count as new nor as stale
    for n in range(10):
        odd.follow(n)
        odd.items([None, {"not": "hashable"}])  # type: ignore[list-item]

    capped = PageGuard("/things", limit=3)
    capped.follow("a")
    capped.follow("b")
    with pytest.raises(ApiError, match="did not end after 3 pages"):
        capped.follow("c")


def test_page_cap_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, limit in (("5", 5), ("", DEFAULT_MAX_PAGES), ("0", DEFAULT_MAX_PAGES), ("many", DEFAULT_MAX_PAGES)):
        monkeypatch.setenv(MAX_PAGES_ENV, value)
        assert PageGuard("/x").limit == limit
