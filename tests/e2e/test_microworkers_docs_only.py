"""Issue 19: the real CLI against a sandbox that serves only what the Microworkers docs document
(``sandbox serve --docs-only``): no guessed field in any answer, no guessed route. Every example
converges (apply, then an empty plan), through edits: rows added, pause/resume, a payment change
(a replacement), a rename with ``movedFrom``, a removal. Money and calls are counted on the server."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import (
    Server,
    copy_example,
    edit_file,
    point_at_server,
    run_cli,
    start_server,
    stop_server,
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    served = start_server(tmp_path, "--docs-only")
    yield served
    stop_server(served)


class Repo:
    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.config, self.env = config, env

    def apply(self, *extra: str) -> None:
        result = run_cli("apply", self.config, "--auto-approve", *extra, env=self.env)
        assert result.code == 0, result.text

    def plan(self) -> Any:
        return run_cli("plan", self.config, "--detailed-exitcode", env=self.env)

    def converged(self) -> None:
        result = self.plan()
        assert result.code == 0, result.text

    def edit_converges(self, file: Path, old: str, new: str, *extra: str) -> None:
        """Edit ``file``, apply (with ``extra``), and the plan after it is empty."""
        edit_file(file, old, new)
        self.apply(*extra)
        self.converged()


def _v2(server: Server) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/microworkers/api/v2", headers={"MicroworkersApiKey": server.key}, timeout=10)


def _campaigns(api: httpx.Client, collection: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get(f"/{collection}", params={"pageSize": 100}).json()["items"]
    return items


def test_v2_answers_hold_no_guess(server: Server, tmp_path: Path) -> None:
    """What the provider must do without: the sandbox really leaves the guesses out."""
    config = copy_example("microworkers-survey", tmp_path)
    repo = Repo(config, point_at_server(config, server, "microworkers", "MW_API_KEY"))
    repo.apply()
    with _v2(server) as api:
        (survey,) = _campaigns(api, "basic-campaigns")
        for field in ("uniqueTasks", "tasksCount", "autoRateOkTask", "successRate", "folder"):
            assert field not in survey
        assert api.get(f"/basic-campaigns/{survey['id']}/tasks").status_code == 404
        assert api.get("/hire-groups").status_code == 404
        (group,) = _campaigns(api, "hire-group-campaigns")
        assert "groupId" not in group
    # a slot names no task rows (taskIds is a guess): export still works, without row columns
    assert run_cli("sandbox", "submit", "website-survey", config, "--count", "3", env=repo.env).code == 0
    with _v2(server) as api:
        slots = api.get(f"/basic-campaigns/{survey['id']}/slots").json()["items"]
        assert len(slots) == 3 and not [s for s in slots if "taskIds" in s]
    export = run_cli("results", "export", "website-survey", config, "--format", "jsonl", env=repo.env)
    assert export.code == 0 and len(export.out.splitlines()) == 3, export.text
    assert not [line for line in export.out.splitlines() if '"row.' in line]


def test_v2_survey_converges_through_edits(server: Server, tmp_path: Path) -> None:
    config = copy_example("microworkers-survey", tmp_path)
    repo = Repo(config, point_at_server(config, server, "microworkers", "MW_API_KEY"))
    campaigns = config / "campaigns.yaml"
    repo.apply()  # task rows (finding 1) and a weekday schedule with a daily limit (finding 8)
    repo.converged()

    with (config / "data" / "rows.csv").open("a") as f:  # rows added: only the new ones are sent
        f.writelines(f"extra{i},https://extra{i}.example.com/,Extra {i}\n" for i in range(10))
    more = repo.plan()
    assert more.code == 2 and "/tasks-groups +10 positions (10 new rows)" in more.out, more.text
    repo.apply()
    repo.converged()

    repo.edit_converges(campaigns, "  state: running\n", "  state: paused\n")
    repo.edit_converges(campaigns, "  state: paused\n", "  state: running\n")

    repo.edit_converges(campaigns, "  speed: 500\n", "  speed: 500\n  autoRateOkTask: true\n")  # not in the documented answer

    with _v2(server) as api:
        balance = api.get("/accounts/me").json()["balance"]
        edit_file(campaigns, "paymentPerTask: 0.12", "paymentPerTask: 0.15")
        repo.apply("--allow-replace")
        repo.converged()
        basic = _campaigns(api, "basic-campaigns")
        assert sorted(c["status"] for c in basic) == ["FINISHED", "RUNNING"]  # one new campaign, the old one stopped
        # the new campaign: its 40 rows at 0.15 plus the 7.5 % fee; nothing else was paid
        assert balance - api.get("/accounts/me").json()["balance"] == pytest.approx(40 * 0.15 * 1.075)

        edit_file(campaigns, "name: website-survey\n", "name: survey-renamed\nmovedFrom: website-survey\n")
        repo.apply()
        repo.converged()
        assert len(_campaigns(api, "basic-campaigns")) == 2

        text = campaigns.read_text()
        campaigns.write_text(text[: text.index("---\n# A hire-group campaign")])
        repo.apply()
        repo.converged()
        (group,) = _campaigns(api, "hire-group-campaigns")
        assert group["status"] == "FINISHED"


def test_v2_task_rows_need_no_undocumented_field(server: Server, tmp_path: Path) -> None:
    """Finding 1 alone (no schedule): without ``uniqueTasks``, ``tasksCount`` and ``GET .../tasks``
    the rows sent are what state recorded; nothing is replaced, nothing paid twice."""
    config = copy_example("microworkers-survey", tmp_path)
    edit_file(config / "campaigns.yaml", "  schedule: weekdays\n", "")
    repo = Repo(config, point_at_server(config, server, "microworkers", "MW_API_KEY"))
    repo.apply()
    repo.converged()
    with _v2(server) as api:
        balance = api.get("/accounts/me").json()["balance"]
        with (config / "data" / "rows.csv").open("a") as f:
            f.writelines(f"extra{i},https://extra{i}.example.com/,Extra {i}\n" for i in range(5))
        repo.apply("--allow-replace")
        repo.converged()
        assert len(_campaigns(api, "basic-campaigns")) == 1  # no replacement
        assert balance - api.get("/accounts/me").json()["balance"] == pytest.approx(5 * 0.12 * 1.075)


EMPTY_SETTINGS = """\
kind: Provider
name: mw
spec:
  type: microworkers
  endpoint: sandbox
---
kind: Template
name: form
provider: mw
spec: {title: Plain form, htmlCode: '<p>Look at the site</p><input name="answer" required>'}
---
kind: Campaign
name: plain
provider: mw
spec:
  type: basic
  title: A campaign with empty settings
  description: Answer one question.
  categoryId: "1001"
  paymentPerTask: 0.10
  minutesToFinish: 10
  template: form
  internalTemplate: {adminInstructions: "", allowedFileTypes: []}
  targetedZone: {id: europe1}
  availablePositions: 30
  notificationSettings: []
"""


def test_empty_and_null_plan_alike(server: Server, tmp_path: Path) -> None:
    """Finding 2: ``""`` and ``[]`` in the config, null in the platform's answer: no replacement."""
    config = tmp_path / "empty"
    config.mkdir()
    (config / "repo.yaml").write_text(EMPTY_SETTINGS)
    repo = Repo(config, point_at_server(config, server, "microworkers", "MW_API_KEY"))
    repo.apply()
    with _v2(server) as api:
        (plain,) = _campaigns(api, "basic-campaigns")
        assert plain["internalTemplate"]["adminInstructions"] is None
        assert plain["internalTemplate"]["allowedFileTypes"] is None
    repo.converged()


def test_v1_legacy_converges_through_edits(server: Server, tmp_path: Path) -> None:
    config = copy_example("microworkers-legacy", tmp_path)
    repo = Repo(config, point_at_server(config, server, "microworkers-v1", "MW_V1_KEY"))
    campaigns = config / "campaigns.yaml"
    repo.apply()
    repo.converged()
    with httpx.Client(base_url=f"{server.url}/microworkers-v1", headers={"MicroworkersApiKey": server.key}) as v1:
        records = v1.get("/campaigns_b/list_extend").json()["campaigns"]
        assert records and not {"folder", "positions_done", "created_datetime", "category_name"} & set(records[0])

    repo.edit_converges(campaigns, "  qt_required: true\n  state: running\n", "  qt_required: true\n  state: paused\n")
    repo.edit_converges(campaigns, "  qt_required: true\n  state: paused\n", "  qt_required: true\n  state: running\n")

    repo.edit_converges(campaigns, "available_positions: 50", "available_positions: 60")  # add_positions

    repo.edit_converges(campaigns, "payment_per_task: 0.25", "payment_per_task: 0.30", "--allow-replace")

    repo.edit_converges(campaigns, "name: moderate-images\n", "name: moderate-renamed\nmovedFrom: moderate-images\n")

    text = campaigns.read_text()
    campaigns.write_text(text[: text.index("---\nkind: Campaign\nname: moderate-renamed")])
    repo.apply()
    repo.converged()


REALISTIC_V2 = """\
kind: Provider
name: mw
spec:
  type: microworkers
  endpoint: sandbox
---
kind: Schedule
name: december
spec:
  timeZone: Europe/Berlin
  events:
    - {type: recurring, start: "2026-12-01T08:00", end: "2026-12-23T18:00", daysOfWeek: [mon, wed, fri], limit: 40}
    - {type: one-time, start: "2026-12-27T10:00", end: "2026-12-27T16:00", limit: 10}
  limitPerHour: 8
---
kind: Campaign
name: label-shops
provider: mw
spec:
  type: basic
  title: Label shop fronts
  description: Open the link and answer in the form shown there.
  categoryId: "1001"
  paymentPerTask: 0.10
  minutesToFinish: 15
  externalTemplate: {url: "https://forms.example.org/label?shop={{shop}}", height: 800px, parameters: [label]}
  targetedZone: {id: europe1, countries: [DE, FR]}
  tasks:
    rows: [%s]
  schedule: december
  speed: 200
  ttr: 5
  successRate: 80
  autoRateOkTask: true
  timeToWaitAfterSlotExpiration: 30
  autoSkipTask: {enabled: true, timeLimit: 120}
  visibilityDelay: 60
---
kind: Template
name: review
provider: mw
spec: {title: Review form, htmlCode: '<p>Review the draft</p><textarea name="notes" required></textarea>'}
---
kind: Campaign
name: reviewers
provider: mw
spec:
  type: hire-group
  title: Review drafts with our group
  description: Read the draft and write what to improve.
  categoryId: "1302"
  paymentPerTask: 0.80
  minutesToFinish: 45
  template: review
  internalTemplate: {ratingMethodId: 3, numberOfFileProofs: 1, allowedFileTypes: [pdf, docx]}
  groupId: "2222"
  availablePositions: 12
  maxPositionPerWorker: 3
  taskOrder: sequential
  autoRefillPositions: true
"""


def test_v2_realistic_config_converges(server: Server, tmp_path: Path) -> None:
    """External template with row variables, targeted countries, an advanced schedule, settings the
    documented answer does not echo, and a hire-group campaign whose group the answer does not show."""
    config = tmp_path / "realistic"
    config.mkdir()
    rows = ", ".join(f"{{id: shop{i}, shop: s{i}}}" for i in range(30))
    (config / "repo.yaml").write_text(REALISTIC_V2 % rows)
    repo = Repo(config, point_at_server(config, server, "microworkers", "MW_API_KEY"))
    repo.apply()
    repo.converged()
    edit_file(config / "repo.yaml", 'groupId: "2222"', 'groupId: "3333"')  # a PATCH of a field the answer omits
    edit_file(config / "repo.yaml", "successRate: 80", "successRate: 90")
    repo.edit_converges(config / "repo.yaml", "{id: shop0, shop: s0}", "{id: shop0, shop: s0}, {id: late1, shop: l1}")
    with _v2(server) as api:
        assert len(_campaigns(api, "basic-campaigns")) == 1 and len(_campaigns(api, "hire-group-campaigns")) == 1
