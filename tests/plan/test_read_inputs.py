"""A read is given its inputs (ReadInputs: known ids, wanted addresses, what state recorded, the
renames, where early-final objects go); the planner sets nothing on the provider, so two reads
with different inputs, even at once on one provider, each answer their own."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from campaignctl.inputs import make_providers, opened
from campaignctl.providers.base import Live, Provider, ReadInputs
from campaignctl.session import Session, run
from tests.helpers import copy_example


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
