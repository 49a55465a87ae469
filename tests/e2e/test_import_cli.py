"""`campaignctl import` with the real CLI: accounts filled by hand through the platforms' HTTP APIs
(as a user would with curl) on a served sandbox, imported into a repo that holds only a Provider."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaignctl.sandbox.app import PREFIXES
from tests.helpers import (
    Server,
    assert_no_canary,
    changed_addresses,
    edit_file,
    run_cli,
    start_server,
    stop_server,
)

ENV_VAR = {"swarms": "SWARMS_TOKEN", "microworkers": "MW_API_KEY", "microworkers-v1": "MW_V1_KEY"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One served sandbox for the tests of different platforms (each fills only its own account)."""
    served = start_server(tmp_path_factory.mktemp("served"))
    yield served
    stop_server(served)


def provider_repo(root: Path, server: Server, name: str, type_: str) -> tuple[Path, dict[str, str]]:
    """A config repo holding just the Provider document, pointed at the served sandbox."""
    root.mkdir(parents=True, exist_ok=True)
    auth = "tokenEnv" if type_ == "swarms" else "apiKeyEnv"
    (root / "providers.yaml").write_text(
        f"kind: Provider\nname: {name}\nspec:\n  type: {type_}\n  endpoint: {server.url}{PREFIXES[type_]}\n"
        f"  auth: {{{auth}: {ENV_VAR[type_]}}}\n"
    )
    return root, {ENV_VAR[type_]: server.key}


def state_of(config: Path) -> dict[str, Any]:
    resources: dict[str, Any] = json.loads((config / ".campaignctl" / "state.json").read_text())["resources"]
    return resources


def check_import(config: Path, env: dict[str, str], provider: str, blocker: str) -> str:
    """Import refuses an existing file, then imports; validate passes, the plan is empty, a second
    import finds nothing. Returns the import's stderr."""
    out = config / "imported" / provider
    out.mkdir(parents=True)
    (out / blocker).write_text("# mine\n")
    refused = run_cli("import", config, "--provider", provider, env=env)
    assert refused.code == 1, refused.text
    assert "refusing to overwrite" in refused.err and blocker in refused.err
    assert sorted(p.name for p in out.iterdir()) == [blocker]  # nothing written
    assert (out / blocker).read_text() == "# mine\n"
    assert not (config / ".campaignctl" / "state.json").exists()
    (out / blocker).unlink()

    imported = run_cli("import", config, "--provider", provider, env=env)
    assert imported.code == 0, imported.text
    assert "Imported" in imported.err and "Recorded" in imported.err
    valid = run_cli("validate", config)
    assert valid.code == 0, valid.text
    plan = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert plan.code == 0, plan.text + "\n" + imported.err
    assert "No changes" in plan.out
    again = run_cli("import", config, "--provider", provider, env=env)
    assert again.code == 0, again.text
    assert "Nothing to import" in again.err
    return imported.err


def one_update(config: Path, env: dict[str, str], file: Path, old: str, new: str, address: str) -> str:
    edit_file(file, old, new)
    plan = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert plan.code == 2, plan.text
    assert changed_addresses(plan.out) == [address]
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete" in plan.out
    return plan.out


# -- SWARMS --------------------------------------------------------------------------------------
class Swarms:
    def __init__(self, server: Server) -> None:
        self.client = httpx.Client(base_url=server.url + PREFIXES["swarms"], timeout=10,
                                   headers={"X-Auth-Token": server.key, "X-API-Version": "1.0"})  # fmt: skip

    def close(self) -> None:
        self.client.close()

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def task(self, name: str, *components: dict[str, Any]) -> int:
        return int(self("POST", "/tasks", {"name": name, "components": list(components)})["id"])

    def job(self, name: str, tasks: list[int], description: str = "") -> int:
        job = int(self("POST", "/jobs", {"name": name, "description": description})["id"])
        self("PUT", f"/jobs/{job}/tasks", tasks)
        return job


STARS = {"type": "Rating", "properties": {"steps": 5, "halfSteps": False}}


def fill_swarms(api: Swarms) -> None:
    image = {"type": "Image", "properties": {"url": "https://example.org/beach.jpg"}}
    beach = api.task("Rate Beach Photo", image, STARS)
    forest = api.task("rate-forest", {"type": "Image", "properties": {"url": "https://example.org/forest.jpg"}}, STARS)
    note = api.task("describe", {"type": "TextInput", "properties": {"hint": "A dog on a beach..."}, "optionalResult": True})
    api.task("lonely", {"type": "Text", "properties": {"text": "Nobody uses me", "style": "Question"}})
    batch = api.job("Batch #1", [beach, forest, beach], "Rate photos")
    api.job("describe-later", [note])
    campaign = api("POST", "/campaigns", {
        "name": "Photo review", "title": "Review photos", "workerPayment": 0.05, "results": 2,
        "estDuration": "60 sec", "startDate": "2026-12-01T08:00", "endDate": "2026-12-20T17:00",
        "properties": {"team": "vision"},
    })["id"]  # fmt: skip
    api("PUT", f"/campaigns/{campaign}/jobs", [batch])
    api("POST", f"/campaigns/{campaign}/publish")
    draft = api("POST", "/campaigns", {"name": "draft", "title": "Not yet", "workerPayment": 0.01, "results": 1})["id"]
    api("PUT", f"/campaigns/{draft}/jobs", [batch])


def test_swarms_import(tmp_path: Path, server: Server) -> None:
    api = Swarms(server)
    fill_swarms(api)
    api.close()
    config, env = provider_repo(tmp_path / "repo", server, "swarms", "swarms")
    err = check_import(config, env, "swarms", "campaign-photo-review.yaml")
    out = config / "imported" / "swarms"
    assert sorted(p.name for p in out.iterdir()) == [
        "campaign-draft.yaml", "campaign-photo-review.yaml", "components.yaml", "job-describe-later.yaml", "tasks.yaml",
    ]  # fmt: skip
    review = (out / "campaign-photo-review.yaml").read_text()
    for expected in ("kind: Schedule", "start: 2026-12-01T08:00", "schedule: photo-review", "jobs: [batch-1]",
                     "state: active", "tasks: [rate-beach-photo, rate-forest, rate-beach-photo]",
                     "name: Rate Beach Photo", "- {use: rating-steps-5}", "properties: {team: vision}"):  # fmt: skip
        assert expected in review, review
    assert "state: unpublished" in (out / "campaign-draft.yaml").read_text()
    assert "kind: Component" in (out / "components.yaml").read_text()
    assert "optionalResult: true" in (out / "job-describe-later.yaml").read_text()
    assert "name: lonely" in (out / "tasks.yaml").read_text()
    state = state_of(config)
    assert len(state) == 8 and state["swarms/campaign/photo-review"]["id"] == 1
    assert state["swarms/job/batch-1"]["attrs"]["tasks"] == ["swarms/task/rate-beach-photo", "swarms/task/rate-forest",
                                                             "swarms/task/rate-beach-photo"]  # fmt: skip
    assert "swarms/task/lonely" in err and "tasks.yaml" in err

    one_update(config, env, out / "tasks.yaml", "Nobody uses me", "Somebody uses me", "swarms/task/lonely")
    assert_no_canary(config)


def test_swarms_import_of_what_a_repo_does_not_manage(tmp_path: Path) -> None:
    server = start_server(tmp_path)  # an account of its own
    try:
        mixed_case(tmp_path, server)
    finally:
        stop_server(server)


def mixed_case(tmp_path: Path, server: Server) -> None:
    config, env = provider_repo(tmp_path / "repo", server, "swarms", "swarms")
    empty = run_cli("import", config, "--provider", "swarms", env=env)
    assert empty.code == 0 and "Nothing to import" in empty.err
    assert not (config / "imported").exists()
    unknown = run_cli("import", config, "--provider", "nope", env=env)
    assert unknown.code == 1 and "no Provider document named 'nope'" in unknown.err
    outside = run_cli("import", config, "--provider", "swarms", "--out", tmp_path / "elsewhere", env=env)
    assert outside.code == 1 and "outside the config directory" in outside.err
    (config / "managed.yaml").write_text(
        "kind: Task\nname: intro\nprovider: swarms\nspec:\n  components:\n"
        "    - {type: Text, properties: {text: Welcome, style: Instruction}}\n---\n"
        "kind: Job\nname: warmup\nprovider: swarms\nspec: {tasks: [intro]}\n"
    )
    applied = run_cli("apply", config, "--auto-approve", env=env)
    assert applied.code == 0, applied.text
    api = Swarms(server)
    intro, warmup = state_of(config)["swarms/task/intro"]["id"], state_of(config)["swarms/job/warmup"]["id"]
    extra = api.task("extra", {"type": "Text", "properties": {"text": "More", "style": "Question"}})
    job = api.job("mixed", [intro, extra])
    campaign = api("POST", "/campaigns", {"name": "both", "title": "Both jobs", "workerPayment": 0.02, "results": 1})["id"]
    api("PUT", f"/campaigns/{campaign}/jobs", [warmup, job])
    api.close()

    imported = run_cli("import", config, "--provider", "swarms", env=env)
    assert imported.code == 0, imported.text
    assert "Imported 3 object(s)" in imported.err
    assert "swarms/task/intro" not in imported.err and "swarms/job/warmup" not in imported.err
    text = (config / "imported" / "swarms" / "campaign-both.yaml").read_text()
    assert "jobs: [warmup, mixed]" in text and "tasks: [intro, extra]" in text
    plan = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert plan.code == 0, plan.text
    assert set(state_of(config)) == {"swarms/task/intro", "swarms/job/warmup", "swarms/task/extra", "swarms/job/mixed",
                                     "swarms/campaign/both"}  # fmt: skip


# -- Microworkers API v2 -------------------------------------------------------------------------
SURVEY_HTML = (
    "<h3>Visit {{url}}</h3>\n<label>Loads? <input type=\"radio\" name=\"loads\" value=\"yes\" required> yes\n"
    "<input type=\"radio\" name=\"loads\" value=\"no\"> no</label>\n<textarea name=\"impression\"></textarea>\n"
)
WEEKDAYS = {"enabled": True, "limitPerDay": 20, "standardSchedule": {  # limitPerDay beside it, as documented
    "timeZone": "Europe/Berlin", "limitPerHour": 5, "allDay": False, "allWeekdays": False,
    "daysOfWeek": [1, 2, 3, 4, 5], "workingHours": ["08:00-18:00"]}}  # fmt: skip


class V2:
    def __init__(self, server: Server) -> None:
        self.client = httpx.Client(base_url=server.url + PREFIXES["microworkers"], timeout=10,
                                   headers={"MicroworkersApiKey": server.key})  # fmt: skip

    def close(self) -> None:
        self.client.close()

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


def fill_v2(api: V2) -> None:
    survey = api("POST", "/templates", {"title": "Website survey", "htmlCode": SURVEY_HTML, "cssSection": "h3 {color: red}"})
    loads = next(q["id"] for q in survey["questions"] if q["name"] == "loads")
    api("POST", "/templates", {"title": "Unused form", "htmlCode": "<p>{{x}}</p><input name=\"a\">",
                               "questions": [{"name": "a", "type": "number", "required": True}]})  # fmt: skip
    rows = [{"id": f"site{i:02d}", "data": [{"key": "url", "value": f"https://s{i}.example.com/"}],
             "testCases": [{"questionId": loads, "answers": ["yes"]}] if i < 3 else []} for i in range(32)]  # fmt: skip
    api("POST", "/basic-campaigns", {
        "title": "First impression", "description": "Look at the website.", "categoryId": "1001",
        "paymentPerTask": 0.12, "minutesToFinish": 10, "availablePositions": 32,
        "internalTemplate": {"id": survey["id"], "ratingMethodId": 3},
        "internationalZone": {"id": "int", "excludedCountries": ["CN", "VN"]},
        "tasks": rows, "speed": 500, "maximumJobLimit": WEEKDAYS,
    })  # fmt: skip
    feedback = api("POST", "/hire-group-campaigns", {
        "title": "Beta feedback", "description": "Use the beta app.", "categoryId": "1302", "paymentPerTask": 0.75,
        "minutesToFinish": 30, "availablePositions": 20, "groupId": "2222", "maxPositionPerWorker": 2,
        "externalTemplate": {"url": "https://forms.example.com/beta", "height": "800px"},
    })  # fmt: skip
    api("PUT", f"/hire-group-campaigns/{feedback['id']}/pause")


def test_microworkers_v2_import(tmp_path: Path, server: Server) -> None:
    api = V2(server)
    fill_v2(api)
    api.close()
    config, env = provider_repo(tmp_path / "repo", server, "mw", "microworkers")
    check_import(config, env, "mw", "templates.yaml")
    out = config / "imported" / "mw"
    assert sorted(p.name for p in out.iterdir()) == [
        "campaign-beta-feedback.yaml", "campaign-first-impression.yaml", "data", "templates.yaml"]
    survey = (out / "campaign-first-impression.yaml").read_text()
    for expected in ("template: website-survey", "excludedCountries: [CN, VN]", "tasks: {file: data/first-impression.csv}",
                     "schedule: first-impression", "daysOfWeek: [mon, tue, wed, thu, fri]", "speed: 500",
                     "kind: Template", "htmlCode: |"):  # fmt: skip
        assert expected in survey, survey
    assert "questions" not in survey  # the platform reads them from htmlCode
    rows = (out / "data" / "first-impression.csv").read_text().splitlines()
    assert rows[0] == "id,url,test:loads" and rows[1] == "site00,https://s0.example.com/,yes" and len(rows) == 33
    beta = (out / "campaign-beta-feedback.yaml").read_text()
    for expected in ("groupId: '2222'", "maxPositionPerWorker: 2", "height: 800px", "state: paused", "availablePositions: 20"):
        assert expected in beta, beta
    assert "type: number" in (out / "templates.yaml").read_text()  # declared questions are kept

    one_update(config, env, out / "campaign-first-impression.yaml", "speed: 500", "speed: 400",
               "mw/campaign/first-impression")  # fmt: skip
    assert_no_canary(config)


# -- Microworkers legacy API v1 ------------------------------------------------------------------
class V1:
    def __init__(self, server: Server) -> None:
        self.client = httpx.Client(base_url=server.url + PREFIXES["microworkers-v1"], timeout=10,
                                   headers={"MicroworkersApiKey": server.key})  # fmt: skip

    def close(self) -> None:
        self.client.close()

    def __call__(self, path: str, form: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = self.client.post(path, data=form).json()
        assert body["status"] == "SUCCESS", body
        return body


def fill_v1(api: V1) -> None:
    api("/campaign_b/new_campaign", {
        "title": "Sign up and tell us", "zone": "int", "selected_countries": "US GB", "category": "1001",
        "minutes_to_finish": "30", "available_positions": "50", "payment_per_task": "0.25", "speed": "100",
        "required_work": "Sign up.", "required_proof": "Your username.", "ttr": "7", "auto_rate": "NO",
        "file_proof": "0", "qt_required": "1",
    })  # fmt: skip
    api("/campaign_hg/new_campaign", {
        "title": "Moderate images", "group_id": "3333", "category": "1011", "minutes_to_finish": "20",
        "available_positions": "40", "max_positions_per_worker": "5", "payment_per_task": "0.10",
        "description_type": "SAME", "required_work": "Flag bad images.", "required_proof[]": ["The code", "The count"],
        "ttr": "5", "auto_rate": "V", "file_proof": "0", "qt_required": "0",
    })  # fmt: skip
    api("/employer/exclude_list", {"worker[]": ["1a2b3c4d", "00001234"]})


def test_microworkers_v1_import(tmp_path: Path, server: Server) -> None:
    api = V1(server)
    fill_v1(api)
    api.close()
    config, env = provider_repo(tmp_path / "repo", server, "legacy", "microworkers-v1")
    err = check_import(config, env, "legacy", "blocklist.yaml")
    out = config / "imported" / "legacy"
    assert sorted(p.name for p in out.iterdir()) == [
        "blocklist.yaml", "campaign-moderate-images.yaml", "campaign-sign-up-and-tell-us.yaml", "groups.yaml"]
    assert "workers: ['00001234', 1a2b3c4d]" in (out / "blocklist.yaml").read_text()
    groups = (out / "groups.yaml").read_text()
    assert "name: image-moderators" in groups and "groupId: '3333'" in groups
    hire = (out / "campaign-moderate-images.yaml").read_text()
    for expected in ("group: image-moderators", "required_proof: [The code, The count]", "qt_required: false", "auto_rate: V"):
        assert expected in hire, hire
    basic = (out / "campaign-sign-up-and-tell-us.yaml").read_text()
    assert "selected_countries: [GB, US]" in basic and "speed: 100" in basic
    assert "legacy/blocklist/excluded-workers" in err

    one_update(config, env, out / "campaign-sign-up-and-tell-us.yaml", "speed: 100", "speed: 150",
               "legacy/campaign/sign-up-and-tell-us")  # fmt: skip
    assert_no_canary(config)


# -- what is over stays over ---------------------------------------------------------------------
@pytest.mark.parametrize("example, provider, campaign", [
    ("microworkers-survey", "mw", "website-survey"),
    ("microworkers-legacy", "mw-legacy", "app-signup"),
])  # fmt: skip
def test_import_skips_finished_campaigns(tmp_path: Path, example: str, provider: str, campaign: str) -> None:
    """A campaign campaignctl deleted (stopped on the platform) is not imported again, unless
    --include-finished; stderr says how many were skipped."""
    from tests.helpers import copy_example

    config = copy_example(example, tmp_path)
    assert run_cli("apply", config, "--auto-approve").code == 0
    docs = (config / "campaigns.yaml").read_text().split("---")
    kept = [d for d in docs if f"name: {campaign}\n" not in d]
    assert len(kept) == len(docs) - 1
    (config / "campaigns.yaml").write_text("---".join(kept))
    if example == "microworkers-survey":  # the schedule only that campaign used
        (config / "schedule.yaml").unlink()
    removed = run_cli("apply", config, "--auto-approve", "--force")
    assert removed.code == 0, removed.text
    assert f"{provider}/campaign/{campaign}" not in state_of(config)

    managed = set(state_of(config))
    skipped = run_cli("import", config, "--provider", provider)
    assert skipped.code == 0, skipped.text
    assert f"Skipped 1 stopped, finished, archived or cancelled object(s) on provider {provider}" in skipped.err
    assert not list(config.rglob("campaign-*.yaml"))
    assert not [a for a in set(state_of(config)) - managed if "/campaign/" in a]
    assert run_cli("plan", config, "--detailed-exitcode").code == 0

    included = run_cli("import", config, "--provider", provider, "--include-finished")
    assert included.code == 0, included.text
    assert "Skipped" not in included.err and "Imported" in included.err
    assert list((config / "imported").rglob("campaign-*.yaml"))
