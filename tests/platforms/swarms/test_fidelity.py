"""SWARMS fidelity (issue 19): hrefs joined to the API base, relations of read-only objects, renamed
objects found again by the address they had."""
from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from campaignctl.config.model import Document
from campaignctl.config.nodes import MarkedDict
from campaignctl.errors import ApiError
from campaignctl.http import ApiClient, RetryPolicy, join_href
from campaignctl.plan.builder import detect_drift, remote_ids
from campaignctl.platforms.swarms.provider import SwarmsProvider
from campaignctl.platforms.swarms.results import SwarmsReviewer
from campaignctl.providers.base import Live, Resource

BASE = "https://api.example.test/swarms"


# -- join_href ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("href", "url"),
    [
        ("/tasks?after=42&limit=100", f"{BASE}/tasks?after=42&limit=100"),  # the docs' form: a path under the base
        ("/swarms/tasks?after=3", f"{BASE}/swarms/tasks?after=3"),  # never read as a path on the origin
        ("tasks?after=3", f"{BASE}/tasks?after=3"),
        (f"{BASE}/tasks?after=3", f"{BASE}/tasks?after=3"),  # absolute, on the base's origin: as it is
        ("https://api.example.test/other", "https://api.example.test/other"),
        ("//api.example.test/swarms/x", f"{BASE}/x"),
    ],
)
def test_join_href_puts_a_path_under_the_api_base(href: str, url: str) -> None:
    assert join_href(BASE + "/", href) == url


@pytest.mark.parametrize(
    "href",
    ["https://evil.example/tasks", "http://api.example.test/swarms/x", "https://api.example.test:8443/x",
     "//evil.example/x", "https://[::1", "", None, 42, {"x": 1}],
)
def test_join_href_refuses_links_off_the_endpoint_and_junk(href: Any) -> None:
    with pytest.raises(ApiError):
        join_href(BASE, href)


# -- paging and results follow hrefs the documented way ---------------------------------------------
def _provider(handler: Any, tmp_path: Path) -> SwarmsProvider:
    doc = Document(kind="Provider", name="swarms", provider=None, spec={"type": "swarms", "endpoint": BASE}, raw=MarkedDict(), file="p.yaml")
    provider = SwarmsProvider(doc, tmp_path, env={})
    provider._client = ApiClient(BASE, transport=httpx.MockTransport(handler), retry=RetryPolicy(base_delay=0, max_delay=0))
    return provider


def _paged(request: httpx.Request, key: str) -> httpx.Response:
    """Two pages; the next link is a path under the API base whose first segment repeats the base's
    path (``/swarms/...``): only ``base + href`` reaches the second page."""
    if request.url.params.get("after") == "1":
        assert request.url.path == "/swarms/swarms/p2", request.url
        return httpx.Response(200, json={"_links": {}, key: [{"id": 2}]})
    return httpx.Response(200, json={"_links": {"next": {"href": "/swarms/p2?after=1"}}, key: [{"id": 1}]})


def test_list_pages_follow_next_hrefs_under_the_api_base(tmp_path: Path) -> None:
    provider = _provider(lambda request: _paged(request, "tasks"), tmp_path)
    assert [t["id"] for t in asyncio.run(provider._list("/tasks", "tasks"))] == [1, 2]


def test_results_pages_follow_next_hrefs_under_the_api_base(tmp_path: Path) -> None:
    provider = _provider(lambda request: _paged(request, "results"), tmp_path)
    reviewer = SwarmsReviewer(SimpleNamespace(provider=provider, remote_id=7))  # type: ignore[arg-type]
    reviewer.to_submission = lambda result: result["id"]  # type: ignore[method-assign]

    async def main() -> list[Any]:
        return [s async for s in reviewer.submissions()]

    assert asyncio.run(main()) == [1, 2]


def test_a_next_link_off_the_endpoint_is_an_error_not_a_request(tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"_links": {"next": {"href": "https://evil.example/tasks?after=1"}}, "tasks": []})

    with pytest.raises(ApiError, match="another origin than the endpoint"):
        asyncio.run(_provider(handler, tmp_path)._list("/tasks", "tasks"))
    assert seen == [f"{BASE}/tasks?limit=100"]


# -- finding 5: a relation of a read-only object is planned like its fields ----------------------------
def _res(kind: str, live_attrs: dict[str, Any], desired: dict[str, Any], *, status: str | None = None, read_only: bool = False) -> Resource:
    address = f"swarms/{kind.lower()}/x"
    live = Live(address, kind, 5, live_attrs, status=status, read_only=read_only)
    return Resource(address, kind, "x", desired, live)


def _job(tasks: list[str]) -> dict[str, Any]:
    return {"name": "x", "description": None, "properties": {}, "tasks": tasks}


def test_the_task_list_of_a_read_only_job_is_an_error_in_the_plan_with_no_call(tmp_path: Path) -> None:
    provider = _provider(lambda request: httpx.Response(500), tmp_path)
    change, ops = provider.plan_change(_res("Job", _job(["swarms/task/a"]), _job(["swarms/task/a", "swarms/task/b"]), read_only=True))
    assert change.errors and "read-only" in change.errors[0] and "tasks" in change.errors[0]
    assert ops == []
    # a writable job: the documented replacement of its list
    change, ops = provider.plan_change(_res("Job", _job(["swarms/task/a"]), _job(["swarms/task/a", "swarms/task/b"])))
    assert not change.errors and [o.call for o in ops] == ["PUT /jobs/{id}/tasks"]


def _campaign(jobs: list[str], state: str) -> dict[str, Any]:
    return {"name": "c", "title": "t", "workerPayment": 0.01, "results": 1, "training": False, "properties": {}, "jobs": jobs, "state": state}


@pytest.mark.parametrize(("state", "read_only"), [("active", True), ("paused", True), ("active", False)])
def test_the_job_list_of_a_published_campaign_forces_a_replacement(tmp_path: Path, state: str, read_only: bool) -> None:
    provider = _provider(lambda request: httpx.Response(500), tmp_path)
    live, desired = _campaign(["swarms/job/a"], state), _campaign(["swarms/job/a", "swarms/job/b"], state)
    change, ops = provider.plan_change(_res("Campaign", live, desired, status=state, read_only=read_only))
    assert change.actions == ["create", "delete"] and "read-only" in change.reasons[0]
    calls = [o.call for o in ops]
    assert calls[0] == "POST /campaigns" and "POST /campaigns/{id}/cancel" in calls
    assert [o.target for o in ops if o.call == "PUT /campaigns/{id}/jobs"] != [5]  # the new campaign's list, never the old one's
    # unpublished: its list is replaced in place
    unpublished = _campaign(["swarms/job/a"], "unpublished")
    change, ops = provider.plan_change(_res("Campaign", unpublished, {**desired, "state": "unpublished"}, status="unpublished"))
    assert change.actions == ["update"] and [o.call for o in ops] == ["PUT /campaigns/{id}/jobs"]


# -- finding 6: drift compares references by remote id (shared by every platform) ---------------------
def test_drift_compares_references_by_the_remote_object_they_name() -> None:
    def comparable(res: Resource) -> dict[str, Any]:
        raise KeyError("the long way")

    provider = SimpleNamespace(name="mw", references={"Campaign": {"template": "Template", "groups": "Group"}}, comparable=comparable)
    entry = {"kind": "Campaign", "name": "c", "attrs": {"template": "mw/template/old", "groups": ["mw/group/g", "mw/group/#9"], "title": "t"}}
    live = Live("mw/campaign/c", "Campaign", 1, {"template": "mw/template/new", "groups": ["mw/group/g", "mw/group/h"], "title": "t"})
    ids = {"mw/template/new": 4, "mw/template/old": 4, "mw/group/g": 8, "mw/group/h": 9}
    assert detect_drift("mw/campaign/c", entry, live, provider, [], ids) is None  # type: ignore[arg-type]
    drifted = detect_drift("mw/campaign/c", entry, live, provider, [], {**ids, "mw/template/old": 3})  # type: ignore[arg-type]
    assert drifted is not None and [f.path for f in drifted.fields] == ["template"]
    live.attrs["title"] = "changed by hand"
    drifted = detect_drift("mw/campaign/c", entry, live, provider, [], ids)  # type: ignore[arg-type]
    assert drifted is not None and [f.path for f in drifted.fields] == ["title"]


def test_remote_ids_know_an_object_by_its_movedfrom_address_too(tmp_path: Path) -> None:
    from campaignctl.state.base import State

    doc = Document(kind="Task", name="new", provider="swarms", spec={}, raw=MarkedDict(), file="t.yaml", moved_from="old")
    config = SimpleNamespace(resources={"swarms/task/new": doc})
    state = State(resources={"swarms/task/new": {"provider": "swarms", "kind": "Task", "id": 7}})
    assert remote_ids(config, state, {}) == {"swarms/task/new": 7, "swarms/task/old": 7}  # type: ignore[arg-type]
