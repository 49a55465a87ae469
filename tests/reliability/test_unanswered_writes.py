"""A write other than a create whose outcome is unknown (the connection dropped after the platform
committed it, or a 5xx the client's attempts did not get past) is read back before it is sent
again: a publish that took is never repeated, one that provably did not is sent once more, and one
that keeps failing fails the apply with the platform's error. The served sandbox, the real CLI."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from campaignctl.apply import WRITE_ATTEMPTS, execute_plan
from campaignctl.errors import AmbiguousWriteError, ApiError
from campaignctl.plan.model import Operation, Plan
from campaignctl.providers.base import ExecResult
from campaignctl.state.base import State, StateBackend
from tests.helpers import (
    FakeProvider,
    MemoryBackend,
    Server,
    change,
    fake_provider,
    oid,
    op,
    run_cli,
    start_server,
    stop_server,
)

CONFIG = """\
kind: Provider
name: swarms
spec: {{type: swarms, endpoint: {url}/swarms, auth: {{tokenEnv: SWARMS_TOKEN}}}}
---
kind: Task
name: rate
provider: swarms
spec:
  name: {task_name}
  components: [{{type: Rating, properties: {{steps: 5}}}}]
---
kind: Job
name: batch
provider: swarms
spec: {{tasks: [rate]}}
---
kind: Campaign
name: survey
provider: swarms
spec: {{title: Rate it, workerPayment: 0.05, results: 2, jobs: [batch], state: {state}}}
"""


class Repo:
    def __init__(self, server: Server, root: Path) -> None:
        self.server, self.root = server, root
        self.env = {"SWARMS_TOKEN": server.key}
        self.api = httpx.Client(base_url=f"{server.url}/swarms", headers={"X-Auth-Token": server.key}, timeout=10)

    def write(self, state: str = "unpublished", task_name: str = "Rate the photo") -> None:
        (self.root / "repo.yaml").write_text(CONFIG.format(url=self.server.url, state=state, task_name=task_name))

    def apply(self) -> Any:
        return run_cli("-v", "apply", self.root, "--auto-approve", env=self.env)

    def faults(self, **spec: Any) -> None:
        """Switch faults on (``{}``: off) and zero the call counters."""
        httpx.post(f"{self.server.url}/_sandbox/faults", json=spec, headers=self.server.admin, timeout=10).raise_for_status()
        httpx.post(f"{self.server.url}/_sandbox/reset-stats", headers=self.server.admin, timeout=10).raise_for_status()

    def calls(self, method: str) -> int:
        return int(self.server.stats().get("swarms", {}).get(method, 0))

    def one(self, collection: str) -> dict[str, Any]:
        items = [o for o in self.api.get(f"/{collection}").json()[collection] if not o.get("archived")]
        assert len(items) == 1, items  # nothing duplicated
        return cast(dict[str, Any], items[0])

    def frozen(self) -> float:
        """Money the campaign holds, in units of one publish (workerPayment * results * jobs, plus commission)."""
        me = self.api.get("/me").json()
        return float(me["balance"]["frozen"].split()[0]) / (0.05 * 2 * (1 + float(me.get("commissionRate") or 0)))

    def converged(self) -> bool:
        self.faults()
        return run_cli("plan", self.root, "--detailed-exitcode", env=self.env).code == 0


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    server = start_server(tmp_path)
    root = tmp_path / "repo"
    root.mkdir()
    r = Repo(server, root)
    r.write()
    assert r.apply().code == 0  # task, job and an unpublished campaign, without faults
    try:
        yield r
    finally:
        r.api.close()
        stop_server(server)


def test_publish_committed_but_unanswered_is_not_repeated(repo: Repo) -> None:
    repo.write(state="active")
    repo.faults(**{"reset-after": 1, "max": 1, "methods": "POST"})
    result = repo.apply()
    assert result.code == 0, result.err
    assert "#publish: the platform shows it done" in result.err
    assert repo.calls("POST") == 1  # published once: the lost answer was read back, not re-sent
    assert repo.one("campaigns")["state"] == "active"
    assert repo.frozen() == pytest.approx(1)  # paid for once
    assert repo.converged()


def test_publish_that_provably_did_not_happen_is_sent_again(repo: Repo) -> None:
    repo.write(state="active")
    repo.faults(**{"5xx": 1, "max": 1, "methods": "POST"})  # answered 5xx before the platform acts
    result = repo.apply()
    assert result.code == 0, result.err
    assert "#publish: the platform shows it not done" in result.err
    assert repo.calls("POST") == 2
    assert repo.one("campaigns")["state"] == "active"
    assert repo.converged()


@pytest.mark.parametrize(
    ("fault", "puts"),
    [("reset-after", 3), ("5xx", WRITE_ATTEMPTS)],
    ids=["committed-every-time-so-read-back-as-done", "never-applied-so-sent-once-more"],
)
def test_update_whose_attempts_all_failed_is_read_back(repo: Repo, fault: str, puts: int) -> None:
    repo.write(task_name="Rate the picture")
    repo.faults(**{fault: 1, "max": 3, "methods": "PUT"})  # the client's 3 attempts of the PUT
    result = repo.apply()
    assert result.code == 0, result.err
    assert repo.calls("PUT") == puts
    assert repo.one("tasks")["name"] == "Rate the picture"
    assert repo.converged()


def test_write_that_keeps_failing_fails_the_apply_clearly(repo: Repo) -> None:
    repo.write(state="active")
    repo.faults(**{"5xx": 1, "methods": "POST"})
    result = repo.apply()
    assert result.code == 1
    assert "swarms/campaign/survey#publish: POST " in result.err and "/publish -> HTTP 50" in result.err
    assert repo.calls("POST") == WRITE_ATTEMPTS  # bounded
    assert repo.one("campaigns")["state"] == "unpublished"
    assert repo.frozen() == 0
    assert not repo.converged()  # the publish is still to do
    assert repo.apply().code == 0 and repo.converged()


# -- without a platform ----------------------------------------------------------------------------
class Unanswered(FakeProvider):
    """Every non-create write's answer is lost; ``confirm`` answers from ``took``."""

    took: bool | None
    budget: int
    confirms: int

    async def execute(self, operation: Operation) -> ExecResult:
        self.calls.append(operation)
        raise AmbiguousWriteError("no answer", method="POST", url="/campaigns/1/publish", reason="ReadTimeout")

    async def confirm(self, operation: Operation) -> bool | None:
        self.confirms += 1
        if self.confirms == 1 and self.took is True:  # the first read back fails too, the second tells
            raise ApiError("busy", method="GET", url="/campaigns/1", status=503)
        return self.took

    async def may_retry(self, attempt: int) -> bool:
        self.budget -= 1
        return self.budget >= 0


def unanswered(took: bool | None, budget: int = 100) -> tuple[Unanswered, dict[str, str]]:
    provider = Unanswered(fake_provider().doc, Path("."), env={})
    provider.calls, provider.took, provider.budget, provider.confirms = [], took, budget, 0
    plan = Plan(changes=[change("c", ["update"], {"state": "active"}, kind="campaign")],
                operations=[op("c", "publish", kind="campaign", target="1")])  # fmt: skip
    result = asyncio.run(execute_plan(plan, {"fake": provider}, State(), cast(StateBackend, MemoryBackend())))
    return provider, result.failed


def test_write_read_back_as_done_is_done_and_a_failed_read_back_is_read_again() -> None:
    provider, failed = unanswered(took=True)
    assert not failed and len(provider.calls) == 1 and provider.confirms == 2


def test_write_the_platform_cannot_confirm_fails_with_its_own_error() -> None:
    provider, failed = unanswered(took=None)
    assert len(provider.calls) == 1
    assert "no answer" in failed[oid("c", "publish", "campaign")]


def test_resends_stop_when_the_retry_budget_is_spent() -> None:
    provider, failed = unanswered(took=False, budget=1)
    assert len(provider.calls) == 2  # the first send, and one resend the budget paid for
    assert "no answer" in failed[oid("c", "publish", "campaign")]
    provider, failed = unanswered(took=False)
    assert len(provider.calls) == WRITE_ATTEMPTS and provider.confirms == WRITE_ATTEMPTS


def test_errors_that_say_the_write_did_not_happen_are_not_read_back() -> None:
    provider = fake_provider(fail={oid("a", "update"): ApiError("bad", status=400)})
    plan = Plan(changes=[change("a", ["update"], {"x": 1})], operations=[op("a", "update", target="1")])
    result = asyncio.run(execute_plan(plan, {"fake": provider}, State(), cast(StateBackend, MemoryBackend())))
    assert len(provider.calls) == 1 and "HTTP 400" in result.failed[oid("a", "update")]
