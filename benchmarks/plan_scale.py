"""Scale figures for the SWARMS path, in-process (no added latency): prints a table, exits 0.

    python benchmarks/plan_scale.py --campaigns 20 --scale 1,2

For each scale: generate a repo of N campaigns x 5 jobs x 5 tasks against the embedded sandbox,
then measure cold apply (everything created), a no-op plan, and a one-field change plan + apply:
wall seconds, CPU seconds, API calls by method (counted server-side) and peak RSS.
This is a first yardstick; benchmarks/scale.py (issue 8) adds loopback latency and lower bounds.
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

from campaignctl.sandbox.embedded import embedded_app
from campaignctl.session import Session


def generate(root: Path, campaigns: int) -> None:
    docs = ["kind: Provider\nname: swarms\nspec: {type: swarms, endpoint: sandbox}\n"]
    for c in range(campaigns):
        jobs = []
        for j in range(5):
            tasks = []
            for t in range(5):
                name = f"t-{c}-{j}-{t}"
                tasks.append(name)
                docs.append(
                    f"kind: Task\nname: {name}\nprovider: swarms\nspec:\n  components:\n"
                    f"    - {{type: Text, properties: {{text: 'Item {c}/{j}/{t}', style: Question}}}}\n"
                    f"    - {{type: Rating, properties: {{steps: 5}}}}\n"
                )
            job = f"j-{c}-{j}"
            jobs.append(job)
            docs.append(f"kind: Job\nname: {job}\nprovider: swarms\nspec: {{tasks: [{', '.join(tasks)}]}}\n")
        docs.append(
            f"kind: Campaign\nname: c-{c}\nprovider: swarms\nspec:\n  title: Campaign {c}\n  workerPayment: 0.01\n"
            f"  results: 1\n  jobs: [{', '.join(jobs)}]\n  state: active\n"
        )
    (root / "repo.yaml").write_text("---\n".join(docs))


def measure(label: str, fn, root: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    sandbox = embedded_app(root).state.sandbox
    sandbox.calls.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    stats = sandbox.stats().get("swarms", {})
    return {
        "step": label,
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "calls": sum(stats.values()),
        "by_method": " ".join(f"{m}={n}" for m, n in sorted(stats.items())),
    }


def run_scale(campaigns: int) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, campaigns)
        rows = []

        def apply_all() -> None:
            session = Session.load(root, parallelism=16)
            plan = asyncio.run(session.plan())
            result, check = asyncio.run(session.apply(plan, progress=False))
            assert result.ok and check is not None and not check.pending

        def noop_plan() -> None:
            plan = asyncio.run(Session.load(root, parallelism=16).plan())
            assert not plan.has_changes

        def one_change() -> None:
            path = root / "repo.yaml"
            path.write_text(path.read_text().replace("'Item 0/0/0'", "'Item 0/0/0 changed'", 1))
            session = Session.load(root, parallelism=16)
            plan = asyncio.run(session.plan())
            assert len(plan.operations) == 1, [o.id for o in plan.operations]
            result, _ = asyncio.run(session.apply(plan, progress=False))
            assert result.ok

        resources = campaigns * 31
        for label, fn in (("cold apply", apply_all), ("no-op plan", noop_plan), ("1-field plan+apply", one_change)):
            row = measure(label, fn, root)
            row["resources"] = resources
            rows.append(row)
        return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=20, help="campaigns at scale 1 (each 5 jobs x 5 tasks)")
    parser.add_argument("--scale", default="1,2", help="comma-separated multipliers")
    args = parser.parse_args()
    print(f"{'scale':>5} {'resources':>9} {'step':<20} {'wall_s':>7} {'cpu_s':>6} {'calls':>6}  by method")
    for factor in (int(x) for x in args.scale.split(",")):
        for row in run_scale(args.campaigns * factor):
            print(f"{factor:>5} {row['resources']:>9} {row['step']:<20} {row['wall_s']:>7} {row['cpu_s']:>6} {row['calls']:>6}  {row['by_method']}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
