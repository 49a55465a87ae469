"""A read is given its inputs (ReadInputs: known ids, wanted addresses, what state recorded, the
renames, where early-final objects go); the planner sets nothing on the provider, so two reads
with different inputs, even at once on one provider, each answer their own."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from campaignctl.inputs import desired_of, known_of, make_providers, opened, read_inputs, wanted_of
from campaignctl.plan.builder import build_plan
from campaignctl.providers.base import Live, Provider, ReadInputs
from campaignctl.session import Session, run
from tests.helpers import copy_example, edit_file


class Sink:
    def __init__(self) -> None:
        self.batches: list[dict[str, Live]] = []

    def put(self, lives: dict[str, Live]) -> None:
        self.batches.append(lives)


def test_two_reads_with_other_inputs_answer_each_their_own(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path)
    session = Session.load(repo)
    assert run(session.apply(run(session.plan()), progress=False))[0].ok
    provider = make_providers(session.config)["swarms"]
    for planner_set in ("applied", "recorded", "moved", "on_final"):  # no hidden inputs
        assert not hasattr(provider, planner_set)
    wanted = {"swarms/task/renamed": "Task"}
    renamed = ReadInputs({}, wanted, moved={"swarms/task/rate-beach": "swarms/task/renamed"}, finals=Sink())
    plain = ReadInputs({}, wanted, finals=Sink())

    async def both() -> tuple[Any, Any]:
        async with opened({"swarms": provider}):
            return await asyncio.gather(provider.read(renamed), provider.read(plain))

    with_move, without = run(both())
    assert with_move["swarms/task/renamed"].id is not None  # its marker names the old address
    assert "swarms/task/renamed" not in without
    # the objects a read put out early are those it returns (the tasks, once their list is read)
    early = [live for batch in renamed.finals.batches for live in batch.values()]  # type: ignore[union-attr]
    assert early and all(with_move[live.address] is live for live in early)


def test_lookup_reads_with_its_own_inputs() -> None:
    """``lookup`` (after an unanswered create) asks a read for one address, nothing else."""
    seen: list[ReadInputs] = []

    class P(Provider):
        type = "p"
        kinds = ("Thing",)
        sandbox_prefix = "/p"

        def __init__(self) -> None:  # no document, no client
            pass

        async def read(self, inputs: ReadInputs, only: set[str] | None = None) -> dict[str, Live]:
            seen.append(inputs)
            return {"p/thing/a": Live("p/thing/a", "Thing", 3, {})}

    assert run(P().lookup("p/thing/a", "Thing")) == 3
    assert (dict(seen[0].known), dict(seen[0].wanted), dict(seen[0].applied)) == ({}, {"p/thing/a": "Thing"}, {})
    # the desired attributes apply hands over (what a platform without markers finds it by)
    assert run(P().lookup("p/thing/a", "Thing", {"title": "A"})) == 3
    assert dict(seen[1].desired) == {"p/thing/a": {"title": "A"}} and dict(seen[1].wanted) == {"p/thing/a": "Thing"}


# -- a read needs nothing but its inputs: desired() never ran on the provider that reads ---------
MW_TEMPLATE, MW_SURVEY, MW_HIRE, MW_NEW = ("mw/template/website-survey", "mw/campaign/website-survey",
                                           "mw/campaign/beta-feedback", "mw/campaign/second-survey")  # fmt: skip
V1_SIGNUP, V1_MODERATE, SWARMS_TASK = "mw-legacy/campaign/app-signup", "mw-legacy/campaign/moderate-images", "swarms/task/rate-beach"
SECOND_SURVEY = """---
kind: Campaign
name: second-survey
provider: mw
spec:
  type: basic
  title: A second look at the company websites
  description: Open the website and answer three short questions.
  categoryId: "1001"
  paymentPerTask: 0.12
  minutesToFinish: 10
  template: website-survey
  internationalZone: {}
  tasks: {file: data/rows.csv}
"""


@pytest.fixture(scope="module")
def changed_account(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three examples applied to the embedded sandbox, then what makes reads and plans use the
    config: objects state forgot (found again by exact title -- the Microworkers platforms carry no
    address marker -- or by marker), new task rows, a new campaign with rows, another hire group."""
    root = tmp_path_factory.mktemp("fresh")
    for name in ("quickstart", "microworkers-survey", "microworkers-legacy"):
        copy_example(name, root)
    session = Session.load(root)
    result, _ = run(session.apply(run(session.plan()), progress=False))
    assert result.ok, result.failed
    backend = session.backend
    backend.lock("test")
    try:
        state = backend.read()
        for address in (MW_TEMPLATE, MW_HIRE, V1_SIGNUP, SWARMS_TASK):
            del state.resources[address]
        backend.commit(state)
    finally:
        backend.unlock()
    rows = root / "microworkers-survey" / "data" / "rows.csv"
    rows.write_text(rows.read_text() + "".join(f"new{i:03},https://new{i}.example.com/,New {i}\n" for i in range(30)))
    campaigns = root / "microworkers-survey" / "campaigns.yaml"
    campaigns.write_text(campaigns.read_text() + SECOND_SURVEY)
    edit_file(root / "microworkers-legacy" / "campaigns.yaml", "group: image-moderators", "group: data-entry")
    return root


def _plan_with_fresh(root: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, Live], dict[str, Live]]:
    """The plan of ``root`` where provider ``name`` is an instance desired() never ran on (the
    desired attributes are computed on another), and what that instance and one desired() ran on
    read given the same inputs."""
    session = Session.load(root)
    config, state = session.config, session.state
    providers = make_providers(config)
    desired = desired_of(config, providers)
    fresh = make_providers(config)[name]

    def never(*args: Any) -> Any:
        raise AssertionError("desired() ran on the provider that reads")

    monkeypatch.setattr(fresh, "desired", never)
    used = {**providers, name: fresh}
    wanted = wanted_of(config, [name])[name]

    async def main() -> tuple[Any, dict[str, Live], dict[str, Live]]:
        async with opened({**used, "old": providers[name]}):
            inputs = read_inputs(config, state, name, known_of(state, name), wanted, desired)
            fresh_read, old_read = await asyncio.gather(fresh.read(inputs), providers[name].read(inputs))
            return await build_plan(config, state, used, desired=desired), fresh_read, old_read

    return run(main())


@pytest.mark.parametrize("name", ["swarms", "mw", "mw-legacy"])
def test_a_fresh_provider_reads_and_plans_from_its_inputs_alone(
    changed_account: Path, name: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A provider keeps nothing of desired() for its read or its plan: one desired() never ran on,
    given the ReadInputs (desired attributes, documents, state), reads and plans as the usual one."""
    expected = run(Session.load(changed_account).plan())
    plan, fresh_read, old_read = _plan_with_fresh(changed_account, name, monkeypatch)
    assert fresh_read == old_read and fresh_read

    def mine(p: Any) -> tuple[Any, ...]:
        return ([c for c in p.changes if c.provider == name], [o for o in p.operations if o.provider == name],
                [d for d in p.drift if d.provider == name],
                {a: f for a, f in p.live_fingerprints.items() if a.startswith(f"{name}/")})  # fmt: skip

    assert mine(plan) == mine(expected)
    changes = {c.address: c for c in expected.changes}
    ops = {o.id: o for o in expected.operations}
    if name == "swarms":  # found again by its address marker
        assert changes[SWARMS_TASK].actions == ["no-op"] and fresh_read[SWARMS_TASK].found_by != ""
    elif name == "mw":  # found again by title; the new rows added; the new campaign uploads its rows
        assert changes[MW_TEMPLATE].actions == changes[MW_HIRE].actions == ["no-op"]
        assert fresh_read[MW_HIRE].attrs["groupId"] == "2222"
        assert ops[f"{MW_SURVEY}#add-positions"].payload["positions"] == 30
        uploads = ops[f"{MW_NEW}#create"].payload["rows"]  # a data file's rows: named, read from it at apply
        assert uploads["count"] == 60 and sum(stop - start for start, stop in uploads["ranges"]) == 60
        assert sum(f.path.startswith("tasks.rows[") for f in changes[MW_NEW].fields) == 60
    else:  # found again by title; the group's id from the config's WorkerGroup
        assert changes[V1_SIGNUP].actions == ["no-op"] and fresh_read[V1_SIGNUP].attrs["title"]
        assert fresh_read[V1_MODERATE].attrs["group"] == "mw-legacy/workergroup/image-moderators"
        assert ops[f"{V1_MODERATE}#change-group"].payload == {"group_id": "1111"}
