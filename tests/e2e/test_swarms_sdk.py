"""The official SWARMS python SDK (``swarms-sdk`` 0.13, "The Swarms API SDK") as a second client of
the sandbox served on loopback (issue 19, finding 10): it follows every ``_links`` href as a path
under the API base (``base_url + href``) and finds results only through a campaign's
``_links.results``, so the sandbox must serve links the documented way for its flows to work."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from swarms.sdk import exceptions, services
from swarms.sdk.utils.client import Client
from swarms.sdk.utils.hal import get_link, has_link

from tests.helpers import Server, start_server, stop_server

PASSWORD = "sdk-password"  # the served sandbox's key: the password of its one account
EMAIL = "requester@sandbox.test"


@pytest.fixture(params=["normal", "docs-only"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    server = start_server(tmp_path, *(["--docs-only"] if request.param == "docs-only" else []), key=PASSWORD)
    yield server
    stop_server(server)


@pytest.fixture
def sdk(served: Server) -> Iterator[SimpleNamespace]:
    saved = dict(Client.headers)  # the SDK keeps its token in a class attribute
    campaigns, jobs, tasks, results = services.get(SimpleNamespace(base_url=f"{served.url}/swarms/", username=EMAIL, password=PASSWORD))
    yield SimpleNamespace(campaigns=campaigns, jobs=jobs, tasks=tasks, results=results, client=campaigns.client, server=served)
    Client.headers.clear()
    Client.headers.update(saved)


def _task(sdk: SimpleNamespace, name: str) -> dict[str, Any]:
    task: dict[str, Any] = sdk.tasks.create({"name": name, "components": [
        {"type": "Text", "properties": {"text": f"What is in {name}?", "style": "Question"}},
        {"type": "TextInput", "properties": {"hint": "a few words"}},
    ]})
    return task


def test_authentication_by_email_and_password(served: Server) -> None:
    saved = dict(Client.headers)
    try:
        with pytest.raises(exceptions.UnexpectedHTTPStatusCode):
            services.get(SimpleNamespace(base_url=f"{served.url}/swarms", username=EMAIL, password="wrong"))
        campaigns, *_ = services.get(SimpleNamespace(base_url=f"{served.url}/swarms", username=EMAIL, password=PASSWORD))
        assert campaigns.get_all() == []
    finally:
        Client.headers.clear()
        Client.headers.update(saved)


def test_create_relate_update_and_page_through_links(sdk: SimpleNamespace) -> None:
    tasks = [_task(sdk, f"photo {i}") for i in range(12)]
    assert [t["name"] for t in sdk.tasks.get_all()] == [f"photo {i}" for i in range(12)]  # 2 pages of 10, by _links.next
    assert len(sdk.tasks.get_page()["tasks"]) == 10

    first, second = sdk.jobs.create({"name": "first"}), sdk.jobs.create({"name": "second"})
    sdk.jobs.update_tasks(first, tasks)  # PUT _links.tasks
    sdk.jobs.update_tasks(second, tasks[:1])
    assert [t["id"] for t in sdk.jobs.get_all_tasks(first)] == [t["id"] for t in tasks]  # the sub-list paged too
    assert [t["id"] for t in sdk.jobs.get_tasks(first)["tasks"]] == [t["id"] for t in tasks[:10]]

    campaign = sdk.campaigns.create({"name": "zen", "title": "Zen campaign", "estDuration": "30 sec", "workerPayment": 0.1, "results": 3})
    sdk.campaigns.add_jobs(campaign, [first])  # POST _links.jobs
    sdk.campaigns.add_jobs(campaign, [second])
    assert [j["name"] for j in sdk.campaigns.get_all_jobs(campaign)] == ["first", "second"]
    sdk.campaigns.update_jobs(campaign, [second, first])  # PUT _links.jobs
    assert [j["name"] for j in sdk.campaigns.get_jobs(campaign)["jobs"]] == ["second", "first"]

    # update through self: the whole object as read, read-only fields and _links included
    sdk.tasks.update({**tasks[0], "name": "renamed photo"})
    sdk.jobs.update({**first, "description": "the first job"})
    sdk.campaigns.update({**campaign, "title": "Zen, again"})
    assert sdk.tasks.get(tasks[0]["id"])["name"] == "renamed photo"
    assert sdk.jobs.get(first["id"])["description"] == "the first job"
    assert sdk.campaigns.get(campaign["id"])["title"] == "Zen, again"

    copy = sdk.tasks.copy(tasks[1])  # _links.copy
    assert copy["name"] == "photo 1" and copy["id"] != tasks[1]["id"]
    assert sdk.jobs.copy(first)["name"] == "first"
    sdk.tasks.delete(copy)  # DELETE self
    with pytest.raises(exceptions.UnexpectedHTTPStatusCode):
        sdk.tasks.get(copy["id"])


def _submit(server: Server, campaign_id: int, count: int) -> int:
    response = httpx.post(f"{server.url}/swarms/_sandbox/submit", headers={"X-Auth-Token": server.key},
                          json={"campaign": campaign_id, "count": count, "seed": 3})  # fmt: skip
    assert response.status_code == 200, response.text
    submitted: int = response.json()["submitted"]
    return submitted


def test_lifecycle_links_and_results_found_and_rated_through_links(sdk: SimpleNamespace) -> None:
    jobs = []
    for name in ("one", "two"):
        job = sdk.jobs.create({"name": name})
        sdk.jobs.update_tasks(job, [_task(sdk, f"{name} photo")])
        jobs.append(job)
    campaign = sdk.campaigns.create({"name": "rated", "title": "Rated", "workerPayment": 0.01, "results": 3})
    sdk.campaigns.update_jobs(campaign, jobs)
    assert not has_link(campaign, "results") and sdk.campaigns.get_all_results(campaign) == []

    sdk.campaigns.publish(campaign)  # _links.publish
    campaign = sdk.campaigns.get(campaign["id"])
    assert campaign["state"] == "active" and campaign["readOnly"] is True
    with pytest.raises(exceptions.HalLinkNotFound):
        sdk.campaigns.publish(campaign)  # not offered any more
    sdk.campaigns.pause(campaign)
    campaign = sdk.campaigns.get(campaign["id"])
    assert campaign["state"] == "paused"
    sdk.campaigns.cont(campaign)  # _links.continue
    campaign = sdk.campaigns.get(campaign["id"])
    assert campaign["state"] == "active"

    assert _submit(sdk.server, campaign["id"], 6) == 6
    found = sdk.campaigns.get_all_results(campaign)  # only through _links.results, paged by _links.next
    assert len(found) == 6 and {r["state"] for r in found} == {"InReview"}
    assert len(sdk.campaigns.get_results(campaign)["results"]) == 6

    approved, rejected, redo = found[0], found[1], found[2]
    sdk.results.approve(approved)  # the SDK's own call: POST _links.approve with a null body
    sdk.client.post(get_link(rejected, "reject"), {"reason": "Not what was asked"})  # the docs require a reason
    until = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    sdk.client.post(get_link(redo, "softReject"), {"reason": "Be more precise, please", "until": until})
    states = {r["id"]: r["state"] for r in sdk.campaigns.get_all_results(campaign)}
    assert (states[approved["id"]], states[rejected["id"]], states[redo["id"]]) == ("Approved", "Rejected", "SoftRejected")
    assert not has_link(next(r for r in sdk.campaigns.get_all_results(campaign) if r["id"] == approved["id"]), "approve")

    copy = sdk.campaigns.copy(campaign)  # _links.copy: a new, unpublished campaign
    assert copy["state"] == "unpublished"
    sdk.campaigns.cancel(campaign)  # _links.cancel; then it can be deleted, as the SDK's delete.py does
    sdk.campaigns.delete(sdk.campaigns.get(campaign["id"]))
    assert [c["id"] for c in sdk.campaigns.get_all()] == [copy["id"]]
