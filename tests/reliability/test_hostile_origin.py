"""A hostile platform on 127.0.0.1 (issue 20, findings 1, 7 and 12): credentials stay with their
origin, and no paged read runs forever.

A starlette proxy, served by uvicorn in a thread, stands in front of the served sandbox (the real
fake platforms, in their own process) and rewrites its answers: a SWARMS ``_links.next`` pointing
at another origin (a second server that records whatever reaches it) or carrying
``user:password@``, a next link that repeats, next links without end, a Microworkers v2
``nextPageToken`` that comes back, a v1 ``total_pages`` of a billion over the same tasks, an error
page echoing the key in upper case and in base64. The real CLI runs ``plan``, ``drift``,
``import`` and ``results export`` against it; the servers count what they received.
"""
from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from tests.helpers import (
    Server,
    copy_example,
    free_port,
    point_at_server,
    run_cli,
    start_server,
    stop_server,
)

#: (method, path, query, JSON body) -> the body to answer with instead, or None to pass it on
Rewrite = Callable[[str, str, dict[str, str], Any], Any]
#: (path, query) -> the query to send upstream instead
QueryRewrite = Callable[[str, dict[str, str]], dict[str, str]]
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass
class Hostile:
    """What the proxy does to the sandbox's answers, and what it (or the thief) received."""

    upstream: str = ""
    rewrite: Rewrite | None = None
    rewrite_query: QueryRewrite | None = None
    error_page: str | None = None  # answer every API call with this 500 page
    seen: list[Seen] = field(default_factory=list)

    def reset(self) -> None:
        self.rewrite = self.rewrite_query = self.error_page = None
        self.seen.clear()

    async def proxy(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        body = await request.body()
        query = dict(request.query_params)
        self.seen.append(Seen(request.method, request.url.path, request.url.query, dict(request.headers)))
        if self.error_page is not None and not request.url.path.startswith("/_sandbox"):
            await Response(self.error_page, 500, media_type="text/html")(scope, receive, send)
            return
        upstream_query = query if self.rewrite_query is None else self.rewrite_query(request.url.path, query)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.request(
                request.method, self.upstream + request.url.path, params=upstream_query, content=body, headers=headers
            )
        content = answer.content
        if self.rewrite is not None and "json" in answer.headers.get("content-type", ""):
            changed = self.rewrite(request.method, request.url.path, query, answer.json())  # the query as asked
            if changed is not None:
                content = json.dumps(changed).encode()
        out = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
        await Response(content, answer.status_code, headers=out)(scope, receive, send)

    async def thief(self, scope: Any, receive: Any, send: Any) -> None:
        """Another origin: records every request, answers an empty page."""
        request = Request(scope, receive)
        self.seen.append(Seen(request.method, request.url.path, request.url.query, dict(request.headers)))
        body = {"tasks": [], "jobs": [], "campaigns": [], "results": [], "_links": {}}
        await Response(json.dumps(body), 200, media_type="application/json")(scope, receive, send)


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` on 127.0.0.1 (a free port) in a thread, for the block; its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off", interface="asgi3"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the hostile server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class World:
    sandbox: Server
    proxy: Hostile
    proxy_url: str
    thief: Hostile
    thief_url: str
    repos: dict[str, tuple[Path, dict[str, str], str]]  # platform -> (config, env, campaign)


EXAMPLES = {  # platform -> (example, campaign, env var, submissions)
    "swarms": ("quickstart", "image-rating", "SWARMS_TOKEN", 6),
    "microworkers": ("microworkers-survey", "website-survey", "MW_API_KEY", 30),
    "microworkers-v1": ("microworkers-legacy", "app-signup", "MW_V1_KEY", 20),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The served sandbox behind the proxy; each example applied through it, with submissions."""
    tmp = tmp_path_factory.mktemp("hostile-origin")
    sandbox = start_server(tmp)
    proxy, thief = Hostile(upstream=sandbox.url), Hostile()
    try:
        with served(proxy.proxy) as proxy_url, served(thief.thief) as thief_url:
            front = Server(proxy_url, sandbox.key, sandbox.process)
            repos = {}
            for platform, (example, campaign, env_var, count) in EXAMPLES.items():
                config = copy_example(example, tmp / platform)
                env = point_at_server(config, front, platform, env_var)
                for args in (("apply", config, "--auto-approve"), ("sandbox", "submit", campaign, "--dir", config, "--count", str(count))):
                    done = run_cli(*args, env=env)
                    assert done.code == 0, done.text
                repos[platform] = (config, env, campaign)
            yield World(sandbox, proxy, proxy_url, thief, thief_url, repos)
    finally:
        stop_server(sandbox)


@pytest.fixture
def hostile(world: World) -> Iterator[World]:
    world.proxy.reset()
    world.thief.reset()
    yield world
    world.proxy.reset()
    world.thief.reset()


def first_page_of(path_pattern: str, href: Callable[[str, dict[str, str]], str]) -> Rewrite:
    """A SWARMS list whose first page (no ``after`` in the query) names ``href(path, query)`` as next."""

    def rewrite(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if method == "GET" and re.fullmatch(path_pattern, path) and "after" not in query and isinstance(body, dict):
            return {**body, "_links": {**(body.get("_links") or {}), "next": {"href": href(path, query)}}}
        return None

    return rewrite


def api(path: str) -> str:
    """A path the proxy saw (under the sandbox's ``/swarms`` mount) as an href names it: under the API base."""
    return path.removeprefix("/swarms")


def tokens_seen(seen: list[Seen]) -> list[str]:
    return [f"{s.method} {s.path}" for s in seen if "x-auth-token" in s.headers or "authorization" in s.headers]


# -- 1. the token goes only to the endpoint's origin -----------------------------------------------
COMMANDS = {
    "plan": lambda config, campaign: ("plan", config),
    "drift": lambda config, campaign: ("drift", config),
    "import": lambda config, campaign: ("import", "--provider", "swarms", config),
    "results export": lambda config, campaign: ("results", "export", campaign, "--dir", config),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", ["other-origin", "userinfo"])
def test_next_link_to_another_origin_gets_no_token(hostile: World, command: str, kind: str) -> None:
    config, env, campaign = hostile.repos["swarms"]
    thief_port = hostile.thief_url.rsplit(":", 1)[1]
    if kind == "other-origin":
        link = f"{hostile.thief_url}/steal/tasks?page=2"
    else:  # http://127.0.0.1:A@127.0.0.1:B/...: host B, and httpx would add Authorization: Basic of "127.0.0.1:A"
        link = f"http://127.0.0.1:{hostile.proxy_url.rsplit(':', 1)[1]}@127.0.0.1:{thief_port}/steal/tasks?page=2"
    lists = r"/swarms/campaigns/\d+/results" if command == "results export" else r"/swarms/(tasks|jobs|campaigns)"
    hostile.proxy.rewrite = first_page_of(lists, lambda path, query: link)
    done = run_cli(*COMMANDS[command](config, campaign), env=env)
    assert done.code == 1, done.text
    assert "refusing to follow the platform's link" in done.err and "/steal/tasks?page=2" in done.err, done.err
    assert ("another origin" if kind == "other-origin" else "user name or password") in done.err, done.err
    assert hostile.thief.seen == []  # nothing at all reached the other origin
    assert not [s for s in hostile.proxy.seen if "authorization" in s.headers]
    assert tokens_seen(hostile.proxy.seen)  # the token did go, where it belongs


def test_same_origin_next_link_is_followed(hostile: World) -> None:
    """The check lets the platform's own links through: an absolute link on the endpoint's origin."""
    config, env, campaign = hostile.repos["swarms"]
    def last_id_link(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if re.fullmatch(r"/swarms/campaigns/\d+/results", path) and "after" not in query:
            last = max(r["id"] for r in body["results"])
            return {**body, "_links": {"next": {"href": f"{hostile.proxy_url}{path}?after={last}"}}}
        return None

    hostile.proxy.rewrite = last_id_link
    done = run_cli("results", "export", campaign, "--dir", config, env=env)
    assert done.code == 0, done.text
    assert len(done.out.splitlines()) == EXAMPLES["swarms"][3]
    assert any(s.query.startswith("after=") for s in hostile.proxy.seen)
    assert hostile.thief.seen == []


# -- 7. endless pages ------------------------------------------------------------------------------
def results_calls(seen: list[Seen], pattern: str) -> int:
    return sum(1 for s in seen if re.fullmatch(pattern, s.path))


def test_swarms_results_next_link_that_repeats(hostile: World) -> None:
    config, env, campaign = hostile.repos["swarms"]

    def loop(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if re.fullmatch(r"/swarms/campaigns/\d+/results", path):
            return {**body, "_links": {"next": {"href": f"{api(path)}?after=1"}}}  # the same next page, again and again
        return None

    hostile.proxy.rewrite = loop
    done = run_cli("results", "export", campaign, "--dir", config, env=env, timeout=60)
    assert done.code == 1 and "loop" in done.err and "came back" in done.err, done.text
    assert results_calls(hostile.proxy.seen, r"/swarms/campaigns/\d+/results") == 2


def first_page_again(path: str, query: dict[str, str]) -> dict[str, str]:
    """The sandbox is asked for the first page whatever the link says."""
    return {k: v for k, v in query.items() if k != "after"}


def test_swarms_results_endless_new_links_over_the_same_page(hostile: World) -> None:
    config, env, campaign = hostile.repos["swarms"]

    def endless(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if re.fullmatch(r"/swarms/campaigns/\d+/results", path):
            after = int(query.get("after", "0")) + 1
            return {**body, "_links": {"next": {"href": f"{api(path)}?after={after}"}}}
        return None

    hostile.proxy.rewrite = endless
    hostile.proxy.rewrite_query = first_page_again
    done = run_cli("results", "export", campaign, "--dir", config, env=env, timeout=60)
    assert done.code == 1 and "only items already read" in done.err, done.text
    assert results_calls(hostile.proxy.seen, r"/swarms/campaigns/\d+/results") == 4  # the first, then 3 stale ones


def test_page_cap_stops_endless_new_pages(hostile: World) -> None:
    """New links, new items on every page: only the cap ends it (CAMPAIGNCTL_MAX_PAGES)."""
    config, env, campaign = hostile.repos["swarms"]

    def fresh(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if re.fullmatch(r"/swarms/campaigns/\d+/results", path):
            after = int(query.get("after", "0")) + 1
            results = [{**r, "id": after * 100_000 + n} for n, r in enumerate(body.get("results") or [])]
            return {**body, "results": results, "_links": {"next": {"href": f"{api(path)}?after={after}"}}}
        return None

    hostile.proxy.rewrite = fresh
    hostile.proxy.rewrite_query = first_page_again
    done = run_cli("results", "export", campaign, "--dir", config, env={**env, "CAMPAIGNCTL_MAX_PAGES": "5"}, timeout=60)
    assert done.code == 1 and "did not end after 5 pages" in done.err and "CAMPAIGNCTL_MAX_PAGES" in done.err, done.text
    assert results_calls(hostile.proxy.seen, r"/swarms/campaigns/\d+/results") == 5


def test_plan_list_next_link_that_repeats(hostile: World) -> None:
    """The providers' reads share the pager: a plan whose task list loops."""
    config, env, _ = hostile.repos["swarms"]

    def loop(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if path == "/swarms/tasks":
            return {**body, "_links": {"next": {"href": "/tasks?after=1"}}}
        return None

    hostile.proxy.rewrite = loop
    done = run_cli("plan", config, env=env, timeout=60)
    assert done.code == 1 and "loop" in done.err, done.text
    assert results_calls(hostile.proxy.seen, "/swarms/tasks") <= 2 * 3  # 2 pages, in each of at most 3 read rounds


def test_microworkers_v2_next_page_token_that_repeats(hostile: World) -> None:
    config, env, campaign = hostile.repos["microworkers"]

    def loop(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if path.endswith("/slots"):
            return {**body, "nextPageToken": "again"}
        return None

    hostile.proxy.rewrite = loop
    hostile.proxy.rewrite_query = lambda path, query: {k: v for k, v in query.items() if k != "nextPageToken"}
    done = run_cli("results", "export", campaign, "--dir", config, env=env, timeout=60)
    assert done.code == 1 and "nextPageToken 'again' came back" in done.err, done.text
    assert results_calls(hostile.proxy.seen, r".*/slots") == 2  # the first page, then 'again', which comes back


def test_microworkers_v1_total_pages_without_end(hostile: World) -> None:
    """``total_pages`` of a billion, and every page number answered with the first page's tasks."""
    config, env, campaign = hostile.repos["microworkers-v1"]
    hostile.proxy.rewrite_query = lambda path, query: {**query, "page": "1"} if "list_tasks_extend" in path else query

    def endless(method: str, path: str, query: dict[str, str], body: Any) -> Any:
        if "list_tasks_extend" in path and isinstance(body, dict):
            return {**body, "pager": {**(body.get("pager") or {}), "total_pages": 10**9}}
        return None

    hostile.proxy.rewrite = endless
    done = run_cli("results", "export", campaign, "--dir", config, env=env, timeout=60)
    assert done.code == 1 and "only items already read" in done.err, done.text
    assert results_calls(hostile.proxy.seen, r".*/list_tasks_extend/.*") == 4


# -- 12. an echoed key in another case, base64- or URL-encoded, is redacted -------------------------
def test_echoed_key_in_other_forms_is_redacted(hostile: World) -> None:
    config, env, _ = hostile.repos["swarms"]
    token = env["SWARMS_TOKEN"]
    forms = [token.upper(), base64.b64encode(f"token={token}".encode()).decode(),
             base64.urlsafe_b64encode(f"X{token}".encode()).decode(), "".join(f"%{b:02x}" for b in token.encode())]
    hostile.proxy.error_page = " | ".join(forms)  # under 200 characters: the error shows all of it
    for args in (("plan", config), ("-vv", "plan", config)):
        done = run_cli(*args, env=env, timeout=60)
        assert done.code == 1 and "HTTP 500" in done.err, done.text
        assert "***" in done.err, done.err
        for form in forms:
            assert form not in done.text, form
        assert token.lower() not in done.text.lower()
