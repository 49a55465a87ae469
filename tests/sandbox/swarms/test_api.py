"""The SWARMS API 1.0 sandbox (campaignctl.sandbox.swarms.api), exercised over HTTP."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient  # uses httpx2 (a test dependency)

from campaignctl.sandbox.apis import platform_settings
from campaignctl.sandbox.app import create_app
from campaignctl.sandbox.core import Settings
from campaignctl.sandbox.store import Store
from campaignctl.sandbox.swarms import api as swarms
from campaignctl.sandbox.swarms import common as swarms_common
from campaignctl.sandbox.swarms import validation as swarms_validation
from tests.helpers import missing_places

TOKEN = {"X-Auth-Token": "sandbox-key"}
HAL = {**TOKEN, "Accept": "application/hal+json"}
TEXT = {"type": "Text", "properties": {"text": "How good is this photo?", "style": "Question"}}
RATING = {"type": "Rating", "properties": {"steps": 5, "halfSteps": False}}


class Api:
    """A TestClient with the token set and small helpers for the objects the tests need."""

    def __init__(self, settings: Settings | None = None, store: Store | None = None) -> None:
        self.store = store or Store()
        self.app = create_app(self.store, settings or Settings())
        self.sandbox = self.app.state.sandbox
        self.client = TestClient(self.app)

    def call(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.request(method, "/swarms" + path, headers={**TOKEN, **(headers or {})}, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.call("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def task(self, name: str = "rate-image", components: list[Any] | None = None) -> dict[str, Any]:
        body = {"name": name, "components": [TEXT, RATING] if components is None else components}
        return dict(self.ok(self.post("/tasks", body), 201))

    def job(self, name: str = "batch", tasks: list[int] | None = None) -> dict[str, Any]:
        job: dict[str, Any] = self.ok(self.post("/jobs", {"name": name, "description": "d"}), 201)
        if tasks is None:
            tasks = [self.task()["id"]]
        self.ok(self.put(f"/jobs/{job['id']}/tasks", tasks))
        return job

    def campaign(self, jobs: int = 1, **fields: Any) -> dict[str, Any]:
        body = {"name": "image-rating", "title": "Review model images", "workerPayment": 0.01, "results": 3, **fields}
        campaign: dict[str, Any] = self.ok(self.post("/campaigns", body), 201)
        ids = [self.job(f"batch-{i}")["id"] for i in range(jobs)]
        if ids:
            self.ok(self.put(f"/campaigns/{campaign['id']}/jobs", ids))
        return campaign

    def published(self, jobs: int = 1, **fields: Any) -> dict[str, Any]:
        campaign = self.campaign(jobs, **fields)
        return dict(self.ok(self.post(f"/campaigns/{campaign['id']}/publish")))

    def balance(self) -> tuple[Decimal, Decimal]:
        me = self.ok(self.get("/me"))["balance"]
        return Decimal(me["available"].removesuffix(" USD")), Decimal(me["frozen"].removesuffix(" USD"))

    def follow(self, href: str) -> Any:
        """An href is a path under the API base, as the docs write them (and the SDK follows them)."""
        assert href.startswith("/") and not href.startswith("/swarms/")
        return self.ok(self.client.get("/swarms" + href, headers=TOKEN))


@pytest.fixture
def api() -> Api:
    return Api()


def error(response: Any, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["message"] and body["description"]
    return body


# --------------------------------------------------------------------------------------------
# protocol: headers, versions, auth, profile
# --------------------------------------------------------------------------------------------


def test_every_response_carries_request_id_and_version(api: Api) -> None:
    seen = set()
    for response in (api.get("/tasks"), api.get("/tasks/99"), api.client.get("/swarms/tasks"),
                     api.post("/tasks", {"name": ""})):
        assert str(uuid.UUID(response.headers["X-Request-ID"])) == response.headers["X-Request-ID"]
        assert response.headers["X-API-Version"] == "1.0"
        assert response.headers["content-type"].startswith("application/json")
        seen.add(response.headers["X-Request-ID"])
    assert len(seen) == 4


def test_api_version_header(api: Api) -> None:
    assert api.get("/tasks", headers={"X-API-Version": "1.0"}).status_code == 200
    assert api.get("/tasks", headers={"X-API-Version": "1"}).status_code == 200
    body = error(api.get("/tasks", headers={"X-API-Version": "2.0"}), 400, 1002)
    assert "2.0" in body["description"]


def test_auth_required_and_token_lifecycle(api: Api) -> None:
    error(api.client.get("/swarms/tasks"), 401, 1001)
    error(api.client.get("/swarms/me", headers={"X-Auth-Token": "nope"}), 401, 1001)
    error(api.client.get("/swarms/unknown-url"), 401, 1001)
    bad = api.client.post("/swarms/auth/token/request", json={"email": "requester@sandbox.test", "password": "x"})
    assert error(bad, 401, 1000)["message"] == "invalid credentials"
    error(api.client.post("/swarms/auth/token/request", json={"email": "requester@sandbox.test"}), 400, 2000)
    good = api.client.post("/swarms/auth/token/request",
                           json={"email": "requester@sandbox.test", "password": "sandbox-key"})
    body = api.ok(good)
    assert set(body) == {"accessToken", "expiresAt", "userId"}
    datetime.strptime(body["expiresAt"], "%Y-%m-%dT%H:%M:%S")
    header = {"X-Auth-Token": body["accessToken"]}
    assert api.client.get("/swarms/tasks", headers=header).status_code == 200
    assert api.client.post("/swarms/auth/token/discard", headers=header).status_code == 200
    error(api.client.get("/swarms/tasks", headers=header), 401, 1001)
    assert api.get("/tasks").status_code == 200  # the static API token still works


def test_profile_get_and_put(api: Api) -> None:
    me = api.ok(api.get("/me"))
    assert me["balance"] == {"available": "10000 USD", "frozen": "0 USD"}
    assert me["commissionRate"] == 0.2 and me["email"] == "requester@sandbox.test"
    updated = api.ok(api.put("/me", {"firstName": "Ada", "website": "example.org", "balance": {"available": "1 USD"}}))
    assert updated["firstName"] == "Ada" and updated["website"] == "example.org"
    assert updated["balance"]["available"] == "10000 USD"
    body = error(api.put("/me", {"nickname": "x"}), 400, 2000)
    assert "nickname" in body["description"]
    assert "firstName" in error(api.put("/me", {"firstName": 3}), 400, 2000)["description"]


def test_unknown_urls_and_methods_answer_json(api: Api) -> None:
    error(api.get("/nothing-here"), 404, 4004)
    error(api.delete("/me"), 405, 4005)


def test_markdown_preview(api: Api) -> None:
    html = api.ok(api.post("/preview/markdown", {"text": "# Feedback\n\nWell **done**, see [x](https://a.b)\n\n- one\n- two"}))["html"]
    assert "<h1>Feedback</h1>" in html and "<strong>done</strong>" in html
    assert '<a href="https://a.b">x</a>' in html and "<li>two</li>" in html
    error(api.post("/preview/markdown", {}), 400, 2000)


# --------------------------------------------------------------------------------------------
# tasks: validation and CRUD
# --------------------------------------------------------------------------------------------

ALL_COMPONENTS = [
    {"type": "AudioRecording", "properties": {"minDurationInSeconds": 1, "maxDurationInSeconds": 30}},
    {"type": "BinaryChoice", "properties": {"option1": "Yes", "option2": "No"}},
    {"type": "BinaryImageChoice", "properties": {"option1": {"id": "a", "url": "https://x/a.png", "label": "A"},
                                                 "option2": {"id": "b", "url": "https://x/b.png", "label": "B"}}},
    {"type": "ImageMarker", "properties": {"url": "https://x/i.png"}},
    {"type": "Rating", "properties": {"steps": 5, "halfSteps": True}},
    {"type": "Stepper", "properties": {"min": 0, "max": 10, "step": 2, "start": 4}},
    {"type": "TextInput", "properties": {"hint": "type here"}},
    {"type": "Toggle", "properties": {"label": "ok?", "checkedByDefault": True, "explanation": "why"}},
    {"type": "VideoRecording", "properties": {"orientation": "portrait", "minDurationInSeconds": 2}},
    {"type": "Audio", "properties": {"url": "https://x/a.mp3", "autoplay": True, "repeat": False, "mustListen": True}},
    {"type": "Image", "properties": {"url": "https://x/i.jpg"}},
    {"type": "Text", "properties": {"text": "hello", "style": "H1"}},
    {"type": "Video", "properties": {"url": "https://x/v.mp4", "autoplay": False, "repeat": True,
                                     "mustWatch": True, "playAudio": False}},
]


def test_task_with_every_component_type_round_trips(api: Api) -> None:
    components = [{**c, "sticky": True} if c["type"] == "Text" else c for c in ALL_COMPONENTS]
    created = api.ok(api.post("/tasks", {"name": "all", "components": components, "properties": {"k": "v"}}), 201)
    got = api.ok(api.get(f"/tasks/{created['id']}"))
    assert got == created
    assert got["properties"] == {"k": "v"}
    for sent, back in zip(components, got["components"], strict=True):
        assert back == {"type": sent["type"], "sticky": sent.get("sticky", False), "optionalResult": False,
                        "landscape": False, "properties": sent["properties"]}
    assert got["readOnly"] is False and got["archived"] is False
    assert got["resourcesSize"].endswith("MB") and got["estimatedUploadSize"].endswith("MB")
    datetime.strptime(got["createdAt"], "%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"components": []}, "name: required"),
        ({"name": ""}, "name: must not be empty"),
        ({"name": 5}, "name: must be a string"),
        ({"name": "t", "colour": "red"}, "colour: unknown field"),
        ({"name": "t", "components": {}}, "components: must be an array"),
        ({"name": "t", "properties": []}, "properties: must be an object"),
        ({"name": "t", "components": [{"type": "Slider"}]}, "components[0].type: unknown component type 'Slider'"),
        ({"name": "t", "components": [{"properties": {}}]}, "components[0].type: required"),
        ({"name": "t", "components": [{"type": "Image", "sticky": "yes"}]}, "components[0].sticky: must be a boolean"),
        ({"name": "t", "components": [{"type": "Image", "size": 3}]}, "components[0].size: unknown field"),
        ({"name": "t", "components": [{"type": "Image", "properties": {"alt": "x"}}]},
         "components[0].properties.alt: unknown attribute for Image"),
        ({"name": "t", "components": [{"type": "Rating", "properties": {"steps": "5"}}]},
         "components[0].properties.steps: must be a number (got string)"),
        ({"name": "t", "components": [{"type": "Rating", "properties": {"halfSteps": 1}}]},
         "components[0].properties.halfSteps: must be a boolean"),
        ({"name": "t", "components": [TEXT, {"type": "Text", "properties": {"style": "Bold"}}]},
         "components[1].properties.style: must be one of Question, Instruction, H1, H2, PlainText, Html, Quote"),
        ({"name": "t", "components": [{"type": "VideoRecording", "properties": {"orientation": "square"}}]},
         "orientation: must be one of any, portrait, landscape"),
        ({"name": "t", "components": [{"type": "BinaryImageChoice", "properties": {"option1": "a"}}]},
         "option1: must be a Option Object"),
        ({"name": "t", "components": [{"type": "BinaryImageChoice", "properties": {"option1": {"img": "x"}}}]},
         "option1.img: unknown attribute of an Option Object"),
        ({"name": "t", "components": [{"type": "Stepper", "properties": {"min": 5, "max": 1}}]},
         "min: must be <= max"),
    ],
)
def test_task_validation_names_field_and_reason(api: Api, body: dict[str, Any], needle: str) -> None:
    assert needle in error(api.post("/tasks", body), 400, 2000)["description"]


def test_task_validation_reports_all_errors_and_rejects_non_objects(api: Api) -> None:
    description = error(api.post("/tasks", {"name": "", "components": [{"type": "X"}]}), 400, 2000)["description"]
    assert "name:" in description and "components[0].type" in description
    error(api.post("/tasks", [1, 2]), 400, 2000)
    error(api.call("POST", "/tasks", content=b"{not json", headers={"Content-Type": "application/json"}), 400, 2000)


def test_task_get_put_delete(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    task = api.ok(api.post("/tasks", {"name": "a", "components": [TEXT], "properties": {"x": "1"}}), 201)
    error(api.get("/tasks/999"), 404, 4004)
    error(api.put("/tasks/999", {"name": "x"}), 404, 4004)
    error(api.delete("/tasks/999"), 404, 4004)
    monkeypatch.setattr(swarms_common, "now", lambda: datetime(2031, 1, 2, 3, 4, 5))
    updated = api.ok(api.put(f"/tasks/{task['id']}", {**task, "name": "b", "components": [RATING]}))
    assert updated["name"] == "b" and updated["components"][0]["type"] == "Rating"
    assert updated["properties"] == {"x": "1"}  # sent back (read-only fields in the body are ignored)
    assert updated["lastModifiedAt"] == "2031-01-02T03:04:05" and updated["createdAt"] == task["createdAt"]
    replaced = api.ok(api.put(f"/tasks/{task['id']}", {"name": "c"}))
    assert replaced["components"] == [] and replaced["properties"] == {}
    error(api.put(f"/tasks/{task['id']}", {"name": ""}), 400, 2000)
    api.ok(api.delete(f"/tasks/{task['id']}"))
    error(api.get(f"/tasks/{task['id']}"), 404, 4004)


# --------------------------------------------------------------------------------------------
# lists
# --------------------------------------------------------------------------------------------


def test_paging_250_tasks_with_next_and_previous_links(api: Api) -> None:
    for i in range(250):
        api.ok(api.post("/tasks", {"name": f"task {i}"}), 201)
    page = api.ok(api.get("/tasks?limit=100"))
    assert "previous" not in page["_links"]
    pages = [page]
    while "next" in page["_links"]:
        assert page["_links"]["next"]["href"].startswith("/tasks?after=")
        assert "limit=100" in page["_links"]["next"]["href"]
        page = api.follow(page["_links"]["next"]["href"])
        pages.append(page)
    assert [len(p["tasks"]) for p in pages] == [100, 100, 50]
    ids = [t["id"] for p in pages for t in p["tasks"]]
    assert ids == sorted(ids) and len(set(ids)) == 250
    back = [pages[-1]]
    while "previous" in back[-1]["_links"]:
        assert "before=" in back[-1]["_links"]["previous"]["href"]
        back.append(api.follow(back[-1]["_links"]["previous"]["href"]))
    assert [[t["id"] for t in p["tasks"]] for p in reversed(back)] == [[t["id"] for t in p["tasks"]] for p in pages]
    default = api.ok(api.get("/tasks"))
    assert len(default["tasks"]) == 10


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "limit=1.5", "order=size",
                                   "order=-colour", "after=x", "after=1&before=5"])
def test_list_parameter_validation(api: Api, query: str) -> None:
    name = query.split("=")[0]
    assert name in error(api.get(f"/tasks?{query}"), 400, 2000)["description"]


def test_order_and_search(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    for day, name in enumerate(["banana split", "Apple pie", "pineapple", "cherry apple tart"]):
        monkeypatch.setattr(swarms_common, "now", lambda day=day: datetime(2030, 1, 4 - day))
        api.ok(api.post("/jobs", {"name": name}), 201)

    def names(query: str) -> list[str]:
        return [j["name"] for j in api.ok(api.get(f"/jobs?{query}"))["jobs"]]

    assert names("order=name") == ["Apple pie", "banana split", "cherry apple tart", "pineapple"]
    assert names("order=-name") == ["pineapple", "cherry apple tart", "banana split", "Apple pie"]
    assert names("order=-id") == ["cherry apple tart", "pineapple", "Apple pie", "banana split"]
    assert names("order=createdAt") == ["cherry apple tart", "pineapple", "Apple pie", "banana split"]
    assert names("order=lastModifiedAt&limit=2") == ["cherry apple tart", "pineapple"]
    assert names("search=apple") == ["Apple pie", "cherry apple tart"]  # full words only, any case
    assert names("search=APPLE%20tart") == ["cherry apple tart"]
    assert names("search=appl") == []
    page = api.ok(api.get("/jobs?order=name&limit=3"))
    href = page["_links"]["next"]["href"]
    assert "order=name" in href and "limit=3" in href
    rest = api.follow(href)
    assert [j["name"] for j in rest["jobs"]] == ["pineapple"]
    assert "order=name" in rest["_links"]["previous"]["href"]
    assert [j["name"] for j in api.follow(rest["_links"]["previous"]["href"])["jobs"]] == names("order=name")[:3]


def test_search_pages_through_matches_only(api: Api) -> None:
    for i in range(60):
        api.ok(api.post("/tasks", {"name": f"{'cat' if i % 3 == 0 else 'dog'} {i}"}), 201)
    page = api.ok(api.get("/tasks?search=cat&limit=7"))
    found = [t["name"] for t in page["tasks"]]
    while "next" in page["_links"]:
        assert "search=cat" in page["_links"]["next"]["href"]
        page = api.follow(page["_links"]["next"]["href"])
        found += [t["name"] for t in page["tasks"]]
    assert found == [f"cat {i}" for i in range(0, 60, 3)]


def test_id_order_pages_in_sql(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(30):
        api.ok(api.post("/tasks", {"name": f"t{i}"}), 201)
    calls: list[dict[str, Any]] = []
    original = api.store.list

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(api.store, "list", spy)
    api.ok(api.get("/tasks?limit=5&after=10"))
    api.ok(api.get("/tasks?limit=5&before=10&order=-id"))
    assert calls and all(c.get("limit") is not None and c["limit"] <= 6 for c in calls)


def test_lists_include_archived_objects(api: Api) -> None:
    task = api.task()
    api.ok(api.post(f"/tasks/{task['id']}/archive"))
    listed = api.ok(api.get("/tasks"))["tasks"]
    assert [(t["id"], t["archived"]) for t in listed] == [(task["id"], True)]


# --------------------------------------------------------------------------------------------
# copy / archive
# --------------------------------------------------------------------------------------------


def test_copy_task_and_job_shallow_and_deep(api: Api) -> None:
    t1, t2 = api.task("one"), api.task("two")
    job = api.job("j", [t1["id"], t2["id"], t1["id"]])
    task_copy = api.ok(api.post(f"/tasks/{t1['id']}/copy"), 201)
    assert task_copy["id"] != t1["id"] and task_copy["name"] == "one"
    assert task_copy["components"] == t1["components"]
    shallow = api.ok(api.post(f"/jobs/{job['id']}/copy?deep=false"), 201)
    assert shallow["name"] == "j" and shallow["id"] != job["id"]
    assert [t["id"] for t in api.ok(api.get(f"/jobs/{shallow['id']}/tasks"))["tasks"]] == [t1["id"], t2["id"], t1["id"]]
    deep = api.ok(api.post(f"/jobs/{job['id']}/copy?deep=true"), 201)
    deep_ids = [t["id"] for t in api.ok(api.get(f"/jobs/{deep['id']}/tasks"))["tasks"]]
    assert deep_ids[0] == deep_ids[2] and len(set(deep_ids)) == 2
    assert not set(deep_ids) & {t1["id"], t2["id"]}
    error(api.post(f"/jobs/{job['id']}/copy?deep=maybe"), 400, 2000)


def test_copy_campaign_deep_of_published_campaign(api: Api) -> None:
    campaign = api.published(jobs=2)
    original_jobs = [j["id"] for j in api.ok(api.get(f"/campaigns/{campaign['id']}/jobs"))["jobs"]]
    shallow = api.ok(api.post(f"/campaigns/{campaign['id']}/copy"), 201)
    assert shallow["state"] == "unpublished" and shallow["readOnly"] is False and shallow["name"] == campaign["name"]
    assert shallow["workerPayment"] == 0.01 and shallow["results"] == 3
    assert [j["id"] for j in api.ok(api.get(f"/campaigns/{shallow['id']}/jobs"))["jobs"]] == original_jobs
    deep = api.ok(api.post(f"/campaigns/{campaign['id']}/copy?deep=true"), 201)
    deep_jobs = api.ok(api.get(f"/campaigns/{deep['id']}/jobs"))["jobs"]
    assert len(deep_jobs) == 2 and not {j["id"] for j in deep_jobs} & set(original_jobs)
    assert [j["name"] for j in deep_jobs] == ["batch-0", "batch-1"]
    new_tasks = api.ok(api.get(f"/jobs/{deep_jobs[0]['id']}/tasks"))["tasks"]
    old_tasks = api.ok(api.get(f"/jobs/{original_jobs[0]}/tasks"))["tasks"]
    assert new_tasks[0]["id"] != old_tasks[0]["id"] and new_tasks[0]["name"] == old_tasks[0]["name"]


def test_archive_and_unarchive_deep(api: Api) -> None:
    campaign = api.campaign(jobs=1)
    job = api.ok(api.get(f"/campaigns/{campaign['id']}/jobs"))["jobs"][0]
    task = api.ok(api.get(f"/jobs/{job['id']}/tasks"))["tasks"][0]

    def archived() -> tuple[bool, bool, bool]:
        return (api.ok(api.get(f"/campaigns/{campaign['id']}"))["archived"],
                api.ok(api.get(f"/jobs/{job['id']}"))["archived"],
                api.ok(api.get(f"/tasks/{task['id']}"))["archived"])

    api.ok(api.post(f"/jobs/{job['id']}/archive?deep=false"))
    assert archived() == (False, True, False)
    api.ok(api.post(f"/jobs/{job['id']}/unarchive"))
    assert archived() == (False, False, False)
    assert api.ok(api.post(f"/campaigns/{campaign['id']}/archive?deep=true"))["archived"] is True
    assert archived() == (True, True, True)
    api.ok(api.post(f"/campaigns/{campaign['id']}/unarchive"))
    assert archived() == (False, False, False)
    api.ok(api.post(f"/tasks/{task['id']}/archive"))
    assert archived() == (False, False, True)
    api.ok(api.post(f"/tasks/{task['id']}/unarchive"))
    error(api.post("/tasks/999/archive"), 404, 4004)


def test_running_campaign_cannot_be_archived(api: Api) -> None:
    campaign = api.published()
    error(api.post(f"/campaigns/{campaign['id']}/archive"), 409, 3000)
    api.ok(api.post(f"/campaigns/{campaign['id']}/cancel"))
    assert api.ok(api.post(f"/campaigns/{campaign['id']}/archive"))["archived"] is True


# --------------------------------------------------------------------------------------------
# job tasks and campaign jobs
# --------------------------------------------------------------------------------------------


def test_job_tasks_ordered_with_duplicates_and_paged(api: Api) -> None:
    tasks = [api.task(f"t{i}")["id"] for i in range(3)]
    order = [tasks[i % 3] for i in (2, 0, 0, 1, 2, 1, 0, 0, 2, 1, 1, 0)] * 2
    job = api.job("j", order)
    page = api.ok(api.get(f"/jobs/{job['id']}/tasks?limit=10"))
    got = [t["id"] for t in page["tasks"]]
    while "next" in page["_links"]:
        page = api.follow(page["_links"]["next"]["href"])
        got += [t["id"] for t in page["tasks"]]
    assert got == order
    back = api.follow(page["_links"]["previous"]["href"])
    assert [t["id"] for t in back["tasks"]] == order[10:20]
    assert api.ok(api.get(f"/jobs/{job['id']}/tasks"))["tasks"][0]["name"] == "t2"


def test_job_tasks_rejects_unknown_and_archived_ids(api: Api) -> None:
    task, archived = api.task(), api.task("old")
    api.ok(api.post(f"/tasks/{archived['id']}/archive"))
    job = api.job("j", [task["id"]])
    assert "task 4242" in error(api.put(f"/jobs/{job['id']}/tasks", [task["id"], 4242]), 400, 2001)["description"]
    assert f"task {archived['id']} is archived" in error(
        api.put(f"/jobs/{job['id']}/tasks", [archived["id"]]), 400, 2001)["description"]
    error(api.put(f"/jobs/{job['id']}/tasks", {"ids": [1]}), 400, 2000)
    error(api.put(f"/jobs/{job['id']}/tasks", ["a"]), 400, 2000)
    error(api.put("/jobs/999/tasks", [task["id"]]), 404, 4004)
    assert [t["id"] for t in api.ok(api.get(f"/jobs/{job['id']}/tasks"))["tasks"]] == [task["id"]]


def test_job_sizes_follow_changes_to_their_tasks(tmp_path: Path) -> None:
    """A job's sizes add up its tasks' (kept between requests): a task changed through the API, or
    by another process's commit to the database, shows in the next answer."""
    api = Api(store=Store(tmp_path / "sandbox.db"))
    image = {"type": "Image", "properties": {"url": "https://x/i.jpg"}}  # 1 MB to load
    video = {"type": "Video", "properties": {"url": "https://x/v.mp4"}}  # 10 MB
    recording = {"type": "VideoRecording", "properties": {"orientation": "portrait"}}  # 20 MB to upload
    a, b = api.task("a", [image]), api.task("b", [video])
    job = api.job("j", [a["id"], b["id"], a["id"]])
    campaign = api.campaign(jobs=0)
    api.ok(api.put(f"/campaigns/{campaign['id']}/jobs", [job["id"]]))

    def sizes() -> set[tuple[str, str]]:
        """The job's sizes in each answer that carries them (one, its list, its campaign's jobs)."""
        answers = [api.ok(api.get(f"/jobs/{job['id']}")), *api.ok(api.get("/jobs"))["jobs"],
                   *api.ok(api.get(f"/campaigns/{campaign['id']}/jobs"))["jobs"]]
        return {(j["resourcesSize"], j["estimatedUploadSize"]) for j in answers}

    assert sizes() == {("12MB", "0MB")}
    api.ok(api.put(f"/tasks/{a['id']}", {"name": "a", "components": [image, recording]}))
    assert sizes() == {("12MB", "40MB")}
    other = Store(tmp_path / "sandbox.db")  # another process's connection
    task = other.get("swarms", "task", b["id"])
    assert task is not None
    other.put("swarms", "task", b["id"], {**task, "components": []})
    other.close()
    assert sizes() == {("2MB", "40MB")}
    api.ok(api.delete(f"/tasks/{b['id']}"))
    assert sizes() == {("2MB", "40MB")}


def test_store_memo_is_emptied_when_its_objects_may_have_changed(tmp_path: Path) -> None:
    store = Store(tmp_path / "sandbox.db")
    store.insert("p", "k", {"v": 1})
    store.memo("p", "k")[1] = "derived"
    store.memo("p", "other")[1] = "kept"
    assert store.memo("p", "k") == {1: "derived"}
    store.put("p", "k", 1, {"id": 1, "v": 2})
    assert store.memo("p", "k") == {} and store.memo("p", "other") == {1: "kept"}
    store.memo("p", "k")[1] = "derived"
    store.insert("p", "k", {"v": 3})
    assert store.memo("p", "k") == {}
    with pytest.raises(RuntimeError), store.transaction():
        store.put("p", "k", 1, {"id": 1, "v": 4})
        store.memo("p", "k")[1] = "derived from a write that is rolled back"
        raise RuntimeError
    assert store.memo("p", "k") == {} and store.get("p", "k", 1) == {"id": 1, "v": 2}
    store.memo("p", "k")[1] = "derived"
    other = Store(tmp_path / "sandbox.db")
    other.kv_set("p", "anything", 1)  # any commit of another connection
    other.close()
    assert store.memo("p", "k") == {} and store.memo("p", "other") == {}
    store.memo("p", "k")[1] = "derived"
    store.delete("p", "k", 2)
    assert store.memo("p", "k") == {}


def test_campaign_jobs_add_replace_and_states(api: Api) -> None:
    campaign = api.campaign(jobs=0)
    j1, j2, j3 = (api.job(f"j{i}") for i in range(3))
    cid = campaign["id"]

    def jobs() -> list[int]:
        return [j["id"] for j in api.ok(api.get(f"/campaigns/{cid}/jobs"))["jobs"]]

    api.ok(api.post(f"/campaigns/{cid}/jobs", [j1["id"], j2["id"]]))
    api.ok(api.post(f"/campaigns/{cid}/jobs", [j2["id"], j3["id"]]))
    assert jobs() == [j1["id"], j2["id"], j3["id"]]
    api.ok(api.put(f"/campaigns/{cid}/jobs", [j3["id"], j1["id"]]))
    assert jobs() == [j3["id"], j1["id"]]
    assert "repeated" in error(api.put(f"/campaigns/{cid}/jobs", [j1["id"], j1["id"]]), 400, 2000)["description"]
    assert "job 77" in error(api.post(f"/campaigns/{cid}/jobs", [77]), 400, 2001)["description"]
    api.ok(api.post(f"/campaigns/{cid}/publish"))
    error(api.post(f"/campaigns/{cid}/jobs", [j2["id"]]), 409, 3001)  # active: read-only, its job list too
    api.ok(api.post(f"/campaigns/{cid}/pause"))
    error(api.put(f"/campaigns/{cid}/jobs", [j1["id"]]), 409, 3001)  # paused: read-only
    assert jobs() == [j3["id"], j1["id"]]
    api.ok(api.post(f"/campaigns/{cid}/cancel"))
    body = error(api.put(f"/campaigns/{cid}/jobs", [j2["id"]]), 409, 3000)
    assert "cancelled" in body["description"]
    error(api.post(f"/campaigns/{cid}/jobs", [j2["id"]]), 409, 3000)


# --------------------------------------------------------------------------------------------
# campaigns: validation, lifecycle, read-only, delete, money
# --------------------------------------------------------------------------------------------

FULL_CAMPAIGN = {
    "name": "c", "title": "T", "description": "D", "terms": "none", "estDuration": "10 sec",
    "workerPayment": 0.05, "results": 3, "maxResultsPerWorker": 1, "workerGroup": 1, "maxWorkTime": "10 min",
    "maxUploadTime": "4 hours", "maxReviewTime": "1 day", "training": True, "startDate": "2030-01-01T10:00",
    "endDate": "2030-02-01T10:00", "properties": {"campaignctl/address": "swarms/campaign/c"},
}


def test_campaign_round_trip(api: Api) -> None:
    created = api.ok(api.post("/campaigns", FULL_CAMPAIGN), 201)
    assert {k: created[k] for k in FULL_CAMPAIGN} == FULL_CAMPAIGN
    assert created["state"] == "unpublished" and created["readOnly"] is False
    minimal = api.ok(api.post("/campaigns", {"name": "m"}), 201)
    assert minimal["title"] is None and minimal["training"] is False and minimal["properties"] == {}
    assert set(minimal) == set(created)


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("estDuration", "10 seconds", "estDuration: must be a duration"),
        ("maxWorkTime", "ten min", "maxWorkTime: must be a duration"),
        ("maxUploadTime", 4, "maxUploadTime: must be a duration"),
        ("workerPayment", 0, "workerPayment: must be > 0"),
        ("workerPayment", "0.01", "workerPayment: must be a number"),
        ("results", 0, "results: must be >= 1"),
        ("results", 2.5, "results: must be a whole number"),
        ("training", "yes", "training: must be a boolean"),
        ("startDate", "2030-01-01 10:00", "startDate: must be a date"),
        ("startDate", "2030-02-30T10:00", "startDate: must be a date"),
        ("endDate", "2029-01-01T10:00", "endDate: must be after startDate"),
        ("title", 3, "title: must be a string"),
        ("budget", 3, "budget: unknown field"),
    ],
)
def test_campaign_validation(api: Api, field: str, value: Any, needle: str) -> None:
    body = {**FULL_CAMPAIGN, field: value}
    assert needle in error(api.post("/campaigns", body), 400, 2000)["description"]


@pytest.mark.parametrize("duration", ["1 sec", "10 min", "1 hour", "4 hours", "1 day", "3 days"])
def test_campaign_duration_forms(api: Api, duration: str) -> None:
    api.ok(api.post("/campaigns", {"name": "d", "estDuration": duration}), 201)


def test_lifecycle_legal_transitions(api: Api) -> None:
    cid = api.campaign()["id"]
    for action, state in [("publish", "active"), ("pause", "paused"), ("continue", "active"), ("pause", "paused"),
                          ("cancel", "cancelled")]:
        assert api.ok(api.post(f"/campaigns/{cid}/{action}"))["state"] == state
    cid = api.published()["id"]
    assert api.ok(api.post(f"/campaigns/{cid}/cancel"))["state"] == "cancelled"


ILLEGAL = [
    ("unpublished", "pause"), ("unpublished", "continue"), ("unpublished", "cancel"),
    ("active", "publish"), ("active", "continue"),
    ("paused", "publish"), ("paused", "pause"),
    ("cancelled", "publish"), ("cancelled", "pause"), ("cancelled", "continue"), ("cancelled", "cancel"),
    ("finished", "publish"), ("finished", "pause"), ("finished", "continue"), ("finished", "cancel"),
]


def _campaign_in(api: Api, state: str) -> int:
    if state == "unpublished":
        return int(api.campaign()["id"])
    cid = int(api.published(results=1)["id"])
    if state == "paused":
        api.ok(api.post(f"/campaigns/{cid}/pause"))
    elif state == "cancelled":
        api.ok(api.post(f"/campaigns/{cid}/cancel"))
    elif state == "finished":
        swarms.simulate_submissions(api.sandbox, cid, 1)
        api.ok(api.post(f"/campaigns/{cid}/results/approve-all", {}))
    assert api.ok(api.get(f"/campaigns/{cid}"))["state"] == state
    return cid


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_lifecycle_illegal_transitions(api: Api, state: str, action: str) -> None:
    cid = _campaign_in(api, state)
    body = error(api.post(f"/campaigns/{cid}/{action}"), 409, 3000)
    assert state in body["description"] and action in body["description"]
    assert api.ok(api.get(f"/campaigns/{cid}"))["state"] == state


def test_publish_preconditions(api: Api) -> None:
    empty = api.campaign(jobs=0)
    assert "no jobs" in error(api.post(f"/campaigns/{empty['id']}/publish"), 409, 3004)["description"]
    job = api.job("empty", [])
    api.ok(api.put(f"/campaigns/{empty['id']}/jobs", [job["id"]]))
    assert f"job {job['id']} has no tasks" in error(api.post(f"/campaigns/{empty['id']}/publish"), 409, 3004)["description"]
    untitled = api.ok(api.post("/campaigns", {"name": "u"}), 201)
    assert "title" in error(api.post(f"/campaigns/{untitled['id']}/publish"), 409, 3004)["description"]
    assert api.ok(api.get(f"/campaigns/{empty['id']}"))["state"] == "unpublished"
    error(api.post("/campaigns/999/publish"), 404, 4004)


def test_publish_freezes_money_and_cancel_unfreezes(api: Api) -> None:
    campaign = api.campaign(jobs=2, workerPayment=0.5, results=4)
    assert api.balance() == (Decimal(10000), Decimal(0))
    api.ok(api.post(f"/campaigns/{campaign['id']}/publish"))
    frozen = Decimal("0.5") * 4 * 2 * Decimal("1.2")
    assert api.balance() == (Decimal(10000) - frozen, frozen)
    api.ok(api.post(f"/campaigns/{campaign['id']}/cancel"))
    assert api.balance() == (Decimal(10000), Decimal(0))


def test_publish_needs_balance() -> None:
    api = Api(Settings(balance=1.0))
    campaign = api.campaign(jobs=1, workerPayment=0.5, results=2)  # 0.5 * 2 * 1 * 1.2 = 1.2 > 1
    body = error(api.post(f"/campaigns/{campaign['id']}/publish"), 409, 3003)
    assert "1.2 USD" in body["description"]
    assert api.ok(api.get(f"/campaigns/{campaign['id']}"))["state"] == "unpublished"
    assert api.balance() == (Decimal(1), Decimal(0))


def test_adding_jobs_to_active_campaign_freezes_more() -> None:
    api = Api(Settings(platforms=platform_settings(strict_readonly=False)))  # the lenient guess: a running campaign's job list stays editable
    campaign = api.published(jobs=1, workerPayment=1, results=1)
    assert api.balance()[1] == Decimal("1.2")
    api.ok(api.post(f"/campaigns/{campaign['id']}/jobs", [api.job("more")["id"]]))
    assert api.balance()[1] == Decimal("2.4")
    empty = api.job("empty", [])
    error(api.post(f"/campaigns/{campaign['id']}/jobs", [empty["id"]]), 409, 3004)


def test_published_campaign_is_read_only(api: Api) -> None:
    campaign = api.published()
    assert campaign["readOnly"] is True
    body = error(api.put(f"/campaigns/{campaign['id']}", {**campaign, "title": "new"}), 409, 3001)
    assert "active" in body["description"]
    unpublished = api.campaign()
    updated = api.ok(api.put(f"/campaigns/{unpublished['id']}", {**unpublished, "title": "new", "results": 5}))
    assert updated["title"] == "new" and updated["results"] == 5
    # readOnly covers the relations: the job list of a published campaign cannot change either
    job = api.ok(api.get(f"/campaigns/{campaign['id']}/jobs"))["jobs"][0]
    error(api.put(f"/campaigns/{campaign['id']}/jobs", [job["id"]]), 409, 3001)
    error(api.post(f"/campaigns/{campaign['id']}/jobs", [api.job("more")["id"]]), 409, 3001)
    api.ok(api.put(f"/campaigns/{unpublished['id']}/jobs", [job["id"]]))


def test_lenient_readonly_leaves_linked_jobs_and_job_lists_editable() -> None:
    api = Api(Settings(platforms=platform_settings(strict_readonly=False)))  # the old guess, still switchable
    campaign = api.published()
    job = api.ok(api.get(f"/campaigns/{campaign['id']}/jobs"))["jobs"][0]
    assert job["readOnly"] is False
    api.ok(api.put(f"/jobs/{job['id']}", {"name": "renamed"}))
    api.ok(api.put(f"/campaigns/{campaign['id']}/jobs", [job["id"]]))


def test_readonly_freezes_linked_jobs_and_tasks(api: Api) -> None:
    campaign = api.campaign()
    job = api.ok(api.get(f"/campaigns/{campaign['id']}/jobs"))["jobs"][0]
    task = api.ok(api.get(f"/jobs/{job['id']}/tasks"))["tasks"][0]
    api.ok(api.put(f"/tasks/{task['id']}", {"name": "before publish"}))
    api.ok(api.post(f"/campaigns/{campaign['id']}/publish"))
    assert api.ok(api.get(f"/jobs/{job['id']}"))["readOnly"] is True
    assert api.ok(api.get(f"/tasks/{task['id']}"))["readOnly"] is True
    error(api.put(f"/tasks/{task['id']}", {"name": "x"}), 409, 3001)
    error(api.put(f"/jobs/{job['id']}", {"name": "x"}), 409, 3001)
    error(api.put(f"/jobs/{job['id']}/tasks", [task["id"]]), 409, 3001)
    other = api.task("free")
    assert api.ok(api.get(f"/tasks/{other['id']}"))["readOnly"] is False
    api.ok(api.post(f"/campaigns/{campaign['id']}/cancel"))
    api.ok(api.put(f"/tasks/{task['id']}", {"name": "after cancel"}))


@pytest.mark.parametrize(("state", "status"), [("unpublished", 200), ("active", 409), ("paused", 409),
                                               ("cancelled", 200), ("finished", 200)])
def test_campaign_delete_rules(api: Api, state: str, status: int) -> None:
    cid = _campaign_in(api, state)
    response = api.delete(f"/campaigns/{cid}")
    if status == 409:
        assert "cancel" in error(response, 409, 3002)["description"]
        assert api.get(f"/campaigns/{cid}").status_code == 200
    else:
        api.ok(response)
        error(api.get(f"/campaigns/{cid}"), 404, 4004)
        assert api.balance()[1] == 0


def test_deleting_tasks_and_jobs(api: Api) -> None:
    campaign = api.published()
    job = api.ok(api.get(f"/campaigns/{campaign['id']}/jobs"))["jobs"][0]
    task = api.ok(api.get(f"/jobs/{job['id']}/tasks"))["tasks"][0]
    error(api.delete(f"/tasks/{task['id']}"), 409, 3005)
    error(api.delete(f"/jobs/{job['id']}"), 409, 3005)
    api.ok(api.post(f"/campaigns/{campaign['id']}/cancel"))
    api.ok(api.delete(f"/tasks/{task['id']}"))
    assert api.ok(api.get(f"/jobs/{job['id']}/tasks"))["tasks"] == []
    api.ok(api.delete(f"/jobs/{job['id']}"))
    assert api.ok(api.get(f"/campaigns/{campaign['id']}/jobs"))["jobs"] == []


# --------------------------------------------------------------------------------------------
# HAL
# --------------------------------------------------------------------------------------------


def _links(api: Api, path: str) -> set[str]:
    response = api.get(path, headers={"Accept": "application/hal+json"})
    assert response.headers["content-type"].startswith("application/hal+json")
    links = response.json()["_links"]
    assert links["self"]["href"] == path  # under the API base, without the sandbox's mount prefix
    return set(links)


def test_hal_links_follow_state(api: Api) -> None:
    campaign = api.campaign()
    cid = campaign["id"]
    path = f"/campaigns/{cid}"
    assert _links(api, path) == {"self", "publish", "jobs", "copy", "archive"}
    api.ok(api.post(f"{path}/publish"))
    assert _links(api, path) == {"self", "pause", "cancel", "jobs", "results", "copy"}
    api.ok(api.post(f"{path}/pause"))
    assert _links(api, path) == {"self", "continue", "cancel", "jobs", "results", "copy"}
    api.ok(api.post(f"{path}/cancel"))
    assert _links(api, path) == {"self", "jobs", "results", "copy", "archive"}
    api.ok(api.post(f"{path}/archive"))
    assert _links(api, path) == {"self", "jobs", "results", "copy", "unarchive"}
    job = api.ok(api.get(f"{path}/jobs"))["jobs"][0]
    assert "_links" not in job
    assert _links(api, f"/jobs/{job['id']}") == {"self", "tasks", "copy", "archive"}
    task = api.ok(api.get(f"/jobs/{job['id']}/tasks"))["tasks"][0]
    assert _links(api, f"/tasks/{task['id']}") == {"self", "copy", "archive"}
    hal_list = api.ok(api.get("/campaigns", headers={"Accept": "application/hal+json"}))
    assert hal_list["campaigns"][0]["_links"]["jobs"]["href"] == f"/campaigns/{cid}/jobs"
    assert "_links" not in api.ok(api.get("/campaigns"))["campaigns"][0]
    assert api.ok(api.get("/campaigns"))["_links"] == {}


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------

INTERACTIVE_TASK = [
    TEXT,
    {"type": "AudioRecording", "properties": {"maxDurationInSeconds": 10}},
    {"type": "BinaryChoice", "properties": {"option1": "Cat", "option2": "Dog"}},
    {"type": "BinaryImageChoice", "properties": {"option1": {"id": "left"}, "option2": {"id": "right"}}},
    {"type": "ImageMarker", "properties": {"url": "https://x/i.png"}},
    {"type": "Rating", "properties": {"steps": 4, "halfSteps": True}},
    {"type": "Stepper", "properties": {"min": 3, "max": 9, "step": 2}},
    {"type": "TextInput", "properties": {}},
    {"type": "Toggle", "properties": {"label": "ok"}},
    {"type": "VideoRecording", "properties": {}},
    {"type": "Image", "properties": {"url": "https://x/i.jpg"}},
]


def _result_campaign(api: Api, jobs: int = 2, results: int = 3) -> dict[str, Any]:
    task = api.task("all", INTERACTIVE_TASK)
    campaign = api.ok(api.post("/campaigns", {"name": "r", "title": "R", "workerPayment": 1, "results": results}), 201)
    ids = [api.job(f"j{i}", [task["id"], task["id"]])["id"] for i in range(jobs)]
    api.ok(api.put(f"/campaigns/{campaign['id']}/jobs", ids))
    return dict(api.ok(api.post(f"/campaigns/{campaign['id']}/publish")))


def test_simulated_results_have_documented_shapes(api: Api) -> None:
    campaign = _result_campaign(api)
    results = swarms.simulate_submissions(api.sandbox, campaign["id"], 6, seed=3)
    assert len(results) == 6
    assert len({(r["worker"], r["job"]) for r in results}) == 6
    for result in results:
        assert set(result) == {"worker", "job", "startedAt", "completedAt", "state", "taskResults", "id", "assignmentId"}
        assert result["state"] == "InReview" and result["startedAt"] <= result["completedAt"]
        assert len(result["taskResults"]) == 2
        for task_result in result["taskResults"]:
            assert task_result["task"]["name"] == "all"
            values = {c["data"]["type"]: c["result"] for c in task_result["components"]}
            assert set(values) == {"AudioRecording", "BinaryChoice", "BinaryImageChoice", "ImageMarker", "Rating",
                                   "Stepper", "TextInput", "Toggle", "VideoRecording"}
            assert values["AudioRecording"]["url"].endswith(".aac")
            assert values["ImageMarker"]["url"].endswith(".png")
            assert values["VideoRecording"]["url"].endswith(".mp4")
            assert values["BinaryChoice"]["selectedOption"] in ("Cat", "Dog")
            assert values["BinaryImageChoice"]["selectedOption"] in ("left", "right")
            assert 1 <= values["Rating"]["rating"] <= 4 and values["Rating"]["rating"] * 2 == int(values["Rating"]["rating"] * 2)
            assert values["Stepper"]["result"] in (3, 5, 7, 9)
            assert isinstance(values["TextInput"]["text"], str) and values["TextInput"]["text"]
            assert isinstance(values["Toggle"]["checked"], bool)
    # the campaign holds at most results x jobs; a worker never gets the same job twice
    more = swarms.simulate_submissions(api.sandbox, campaign["id"], 10, seed=3)
    assert len(more) == 0
    with pytest.raises(ValueError):
        swarms.simulate_submissions(api.sandbox, api.campaign()["id"], 1)


def test_simulate_is_deterministic_for_a_seed() -> None:
    def run(seed: int) -> list[Any]:
        api = Api()
        campaign = _result_campaign(api, jobs=3, results=4)
        out = swarms.simulate_submissions(api.sandbox, campaign["id"], 10, seed=seed)
        for result in out:
            result.pop("startedAt"), result.pop("completedAt")
            for task_result in result["taskResults"]:
                task_result.pop("startedAt"), task_result.pop("completedAt")
        return out

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_results_paging_and_filters(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    campaign = _result_campaign(api, jobs=5, results=5)
    cid = campaign["id"]
    first = swarms.simulate_submissions(api.sandbox, cid, 5)
    monkeypatch.setattr("campaignctl.sandbox.swarms.submit.now", lambda: datetime(2099, 1, 1))
    later = swarms.simulate_submissions(api.sandbox, cid, 20)
    page = api.ok(api.get(f"/campaigns/{cid}/results?limit=10"))
    assert "previous" not in page["_links"]
    ids = [r["id"] for r in page["results"]]
    while "next" in page["_links"]:
        page = api.follow(page["_links"]["next"]["href"])
        ids += [r["id"] for r in page["results"]]
    assert ids == [r["id"] for r in first + later]
    assert "previous" in page["_links"]
    assert len(api.ok(api.get(f"/campaigns/{cid}/results"))["results"]) == 10
    since = api.ok(api.get(f"/campaigns/{cid}/results?limit=100&since=2098-12-31T00:00"))["results"]
    assert [r["id"] for r in since] == [r["id"] for r in later]
    api.ok(api.post(f"/results/{first[0]['id']}/approve", {}))
    approved = api.ok(api.get(f"/campaigns/{cid}/results?state=Approved"))["results"]
    assert [r["id"] for r in approved] == [first[0]["id"]]
    assert len(api.ok(api.get(f"/campaigns/{cid}/results?state=InReview&limit=100"))["results"]) == 24
    error(api.get(f"/campaigns/{cid}/results?state=Done"), 400, 2000)
    error(api.get(f"/campaigns/{cid}/results?since=yesterday"), 400, 2000)
    error(api.get(f"/campaigns/{cid}/results?limit=500"), 400, 2000)
    error(api.get("/campaigns/999/results"), 404, 4004)


def test_workers_and_worker_results(api: Api) -> None:
    campaign = _result_campaign(api, jobs=3, results=3)
    cid = campaign["id"]
    results = swarms.simulate_submissions(api.sandbox, cid, 9, seed=1)
    workers = api.ok(api.get(f"/campaigns/{cid}/workers?limit=100"))["workers"]
    by_worker: dict[int, int] = {}
    for result in results:
        by_worker[result["worker"]] = by_worker.get(result["worker"], 0) + 1
    assert {w["id"]: w["results"]["inReview"] for w in workers} == by_worker
    worker = workers[0]
    assert set(worker) == {"id", "reputation", "experience", "results"}
    assert set(worker["reputation"]) == {"me", "global"}
    body = api.ok(api.get(f"/campaigns/{cid}/workers/{worker['id']}/results"))
    assert body["worker"]["id"] == worker["id"]
    assert {r["worker"] for r in body["results"]} == {worker["id"]}
    approved = api.ok(api.post(f"/campaigns/{cid}/workers/{worker['id']}/approve-all", {"message": "Well done!"}))
    assert approved == {"approved": by_worker[worker["id"]]}
    in_review = api.ok(api.get(f"/campaigns/{cid}/workers?InReview=true&limit=100"))["workers"]
    assert worker["id"] not in {w["id"] for w in in_review}
    assert len(in_review) == len(by_worker) - 1
    error(api.get(f"/campaigns/{cid}/workers/99999/results"), 404, 4004)
    page = api.ok(api.get(f"/campaigns/{cid}/workers?limit=2"))
    assert len(page["workers"]) == 2 and "after=" in page["_links"]["next"]["href"]


def test_review_actions_and_money(api: Api) -> None:
    campaign = _result_campaign(api, jobs=1, results=3)  # workerPayment 1 -> 1.2 per result, 3.6 frozen
    cid = campaign["id"]
    assert api.balance() == (Decimal("9996.4"), Decimal("3.6"))
    r1, r2, r3 = swarms.simulate_submissions(api.sandbox, cid, 3)
    approved = api.ok(api.post(f"/results/{r1['id']}/approve", {"message": "thanks"}))
    assert approved["state"] == "Approved"
    assert api.balance() == (Decimal("9996.4"), Decimal("2.4"))
    error(api.post(f"/results/{r1['id']}/approve"), 409, 3000)
    error(api.post(f"/results/{r1['id']}/reject", {"reason": "no"}), 409, 3000)
    assert "reason" in error(api.post(f"/results/{r2['id']}/reject", {}), 400, 2000)["description"]
    assert api.ok(api.post(f"/results/{r2['id']}/reject", {"reason": "Cheating detected!"}))["state"] == "Rejected"
    past = (datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    future = (datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert "until" in error(api.post(f"/results/{r3['id']}/soft-reject", {"reason": "redo", "until": past}),
                            400, 2000)["description"]
    error(api.post(f"/results/{r3['id']}/soft-reject", {"until": future}), 400, 2000)
    soft = api.ok(api.post(f"/results/{r3['id']}/soft-reject", {"reason": "Be more precise", "until": future}))
    assert soft["state"] == "SoftRejected"
    error(api.post(f"/results/{r3['id']}/soft-reject", {"reason": "again", "until": future}), 409, 3000)
    api.ok(api.post(f"/results/{r3['id']}/approve"))
    assert api.balance() == (Decimal("9996.4"), Decimal("1.2"))
    assert api.ok(api.get(f"/campaigns/{cid}"))["state"] == "active"  # the rejected slot is open again
    (r4,) = swarms.simulate_submissions(api.sandbox, cid, 5)
    assert api.ok(api.post(f"/campaigns/{cid}/results/approve-all", {})) == {"approved": 1}
    assert api.ok(api.get(f"/campaigns/{cid}"))["state"] == "finished"
    assert api.balance() == (Decimal("9996.4"), Decimal(0))
    assert api.ok(api.get(f"/results/{r4['id']}"))["state"] == "Approved"
    error(api.post("/results/999/approve"), 404, 4004)


def test_cancel_keeps_money_for_results_in_review(api: Api) -> None:
    campaign = _result_campaign(api, jobs=2, results=2)  # 4 x 1.2 = 4.8 frozen
    results = swarms.simulate_submissions(api.sandbox, campaign["id"], 2)
    api.ok(api.post(f"/campaigns/{campaign['id']}/cancel"))
    assert api.balance() == (Decimal(10000) - Decimal("2.4"), Decimal("2.4"))
    api.ok(api.post(f"/results/{results[0]['id']}/approve"))
    api.ok(api.post(f"/results/{results[1]['id']}/reject", {"reason": "wrong"}))
    assert api.balance() == (Decimal(10000) - Decimal("1.2"), Decimal(0))


def test_result_hal_links(api: Api) -> None:
    campaign = _result_campaign(api, jobs=1, results=1)
    (result,) = swarms.simulate_submissions(api.sandbox, campaign["id"], 1)
    links = api.ok(api.get(f"/results/{result['id']}", headers={"Accept": "application/hal+json"}))["_links"]
    assert set(links) == {"self", "approve", "reject", "softReject"}  # the python SDK's names
    assert links["approve"]["href"] == f"/results/{result['id']}/approve"


# --------------------------------------------------------------------------------------------
# docs-only mode: documented fields, link names and routes only (issue 19, finding 9)
# --------------------------------------------------------------------------------------------

COMMON = {"id", "readOnly", "lastModifiedAt", "createdAt", "archived", "_links"}
DOCUMENTED = {  # the fields the docs show, per object
    "task": {"name", "components", "properties", "resourcesSize", "estimatedUploadSize"} | COMMON,
    "component": {"type", "sticky", "optionalResult", "landscape", "properties"},
    "job": {"name", "description", "properties", "resourcesSize", "estimatedUploadSize"} | COMMON,
    "campaign": set(swarms_validation.CAMPAIGN_FIELDS) | {"state"} | COMMON,
    "result": {"worker", "job", "startedAt", "completedAt", "state", "taskResults", "id", "assignmentId", "_links"},
    "taskResult": {"task", "startedAt", "completedAt", "components"},
    "resultComponent": {"data", "result"},
    "resultData": {"type", "landscape", "properties", "sticky"},
    "worker": {"id", "reputation", "experience", "results"},
    "profile": {"firstName", "lastName", "phone", "organization", "website", "id", "customerId", "balance", "email",
                "logo", "commissionRate", "charity"},
}
#: the link names the docs (next, previous) and the python SDK (the rest) follow
DOCUMENTED_LINKS = {"self", "next", "previous", "copy", "tasks", "jobs", "results", "publish", "pause", "continue",
                    "cancel", "approve", "reject", "softReject"}


def _documented(kind: str, obj: dict[str, Any]) -> None:
    assert set(obj) <= DOCUMENTED[kind], (kind, set(obj) - DOCUMENTED[kind])
    assert set(obj.get("_links", {})) <= DOCUMENTED_LINKS, (kind, obj["_links"])
    for comp in obj.get("components", []) if kind == "task" else []:
        _documented("component", comp)
    for task_result in obj.get("taskResults", []):
        _documented("taskResult", task_result)
        for comp in task_result["components"]:
            _documented("resultComponent", comp)
            _documented("resultData", comp["data"])


def _listed(body: dict[str, Any], key: str, kind: str) -> list[dict[str, Any]]:
    assert set(body) <= {"_links", key}, body.keys()
    assert set(body["_links"]) <= {"next", "previous"}
    for item in body[key]:
        _documented(kind, item)
    items: list[dict[str, Any]] = body[key]
    return items


def test_docs_only_answers_hold_documented_fields_links_and_routes_only() -> None:
    api = Api(Settings(docs_only=True))
    hal = {"headers": {"Accept": "application/hal+json"}}
    campaign = _result_campaign(api, jobs=2, results=3)
    assert campaign == {}  # publish: no body in the docs
    cid = api.ok(api.get("/campaigns"))["campaigns"][0]["id"]
    unpublished = api.ok(api.post("/campaigns", {"name": "draft"}, **hal), 201)
    _documented("campaign", unpublished)
    results = swarms.simulate_submissions(api.sandbox, cid, 6, seed=3)
    for plural, kind in (("tasks", "task"), ("jobs", "job"), ("campaigns", "campaign")):
        for item in _listed(api.ok(api.get(f"/{plural}?limit=1", **hal)), plural, kind):
            _documented(kind, api.ok(api.get(f"/{plural}/{item['id']}", **hal)))
    _documented("campaign", api.ok(api.get(f"/campaigns/{cid}", **hal)))
    assert "results" in api.ok(api.get(f"/campaigns/{cid}", **hal))["_links"]  # the SDK finds results by it
    jobs = _listed(api.ok(api.get(f"/campaigns/{cid}/jobs", **hal)), "jobs", "job")
    _listed(api.ok(api.get(f"/jobs/{jobs[0]['id']}/tasks", **hal)), "tasks", "task")
    listed = _listed(api.ok(api.get(f"/campaigns/{cid}/results?limit=2", **hal)), "results", "result")
    assert set(listed[0]["_links"]) == {"approve", "reject", "softReject"}  # no self: GET /results/{id} is a guess
    workers = _listed(api.ok(api.get(f"/campaigns/{cid}/workers", **hal)), "workers", "worker")
    body = api.ok(api.get(f"/campaigns/{cid}/workers/{workers[0]['id']}/results", **hal))
    assert set(body) == {"_links", "results", "worker"}
    _documented("worker", body["worker"])
    _documented("profile", api.ok(api.get("/me", **hal)))
    # guessed routes are unknown URLs; guessed answers are empty
    error(api.get(f"/results/{results[0]['id']}", **hal), 404, 4004)
    assert api.ok(api.post(f"/results/{results[0]['id']}/approve", **hal)) == {}
    assert api.ok(api.post(f"/results/{results[1]['id']}/reject", {"reason": "no"}, **hal)) == {}
    assert api.ok(api.post(f"/campaigns/{cid}/workers/{results[2]['worker']}/approve-all", **hal)) == {}
    assert api.ok(api.post(f"/campaigns/{cid}/results/approve-all", {"message": "thanks"}, **hal)) == {}
    for action in ("pause", "continue", "cancel"):
        assert api.ok(api.post(f"/campaigns/{cid}/{action}", **hal)) == {}
    assert api.ok(api.post("/preview/markdown", {"text": "# hi"})) == {}
    # the same calls in normal mode carry the guesses (so the test above can tell them apart)
    normal = Api()
    assert "html" in normal.ok(normal.post("/preview/markdown", {"text": "# hi"}))
    assert "archive" in normal.ok(normal.get(f"/tasks/{normal.task()['id']}", **hal))["_links"]


def test_every_guess_is_listed_with_what_docs_only_does_with_it() -> None:
    from campaignctl.sandbox.swarms.guesses import GUESSES

    names = [g.name for g in GUESSES]
    assert len(names) == len(set(names))
    assert {g.docs_only for g in GUESSES} == {"off", "kept", "switch"}
    for guess in GUESSES:  # every place named exists (and is defined there): "module:name, name; module:name"
        assert missing_places("campaignctl.sandbox.swarms", guess.where) == [], guess.name
