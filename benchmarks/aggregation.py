"""What the aggregation methods are worth: accuracy against the truth for workers of mixed skill.

    python benchmarks/aggregation.py                          # 200 tasks, 5 answers each, 40 workers
    python benchmarks/aggregation.py --tasks 100 --accuracy 0.7 --fast-share 0.2 --seed 3

Workers answer with the sandbox's own model of simulated workers (:mod:`campaignctl.sandbox.skill`,
what ``campaignctl sandbox submit --accuracy --truth --fast-share`` uses): each worker has a skill
drawn around ``--accuracy`` and a share ``--fast-share`` of them answer at random. Each task has
``--labels`` possible answers and ``--overlap`` answers from distinct workers; a wrong answer of
a skilled worker is one of the wrong labels at random. Prints one line per method: accuracy
(share of tasks whose aggregated answer is the true one) and seconds; then whether Dawid-Skene
beat majority vote. Exit 0 (1 when crowd-kit is missing: pip install 'campaignctl[review]').
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campaignctl.errors import CampaignctlError  # noqa: E402
from campaignctl.results.aggregate import METHODS, aggregate  # noqa: E402
from campaignctl.sandbox.skill import Skill  # noqa: E402


def answers(args: argparse.Namespace) -> tuple[list[tuple[str, str, str, str]], dict[str, str]]:
    rng = random.Random(args.seed)
    labels = [f"label{n}" for n in range(args.labels)]
    truth = {f"t{n:04}": rng.choice(labels) for n in range(args.tasks)}
    # every label appears in the truth, so wrong answers can be any other label
    skill = Skill(args.accuracy, {(t, "answer"): a for t, a in truth.items()} | {(f"_{x}", "answer"): x for x in labels},
                  args.fast_share, args.seed)
    workers = [f"w{n:03}" for n in range(args.workers)]
    out = []
    for task, _ in truth.items():
        for worker in rng.sample(workers, args.overlap):
            drawn = rng.choice(labels)
            answer = skill.answer(worker, task, task, "answer", drawn)
            assert answer is not None
            out.append((worker, task, "answer", answer))
    return out, truth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=40)
    parser.add_argument("--overlap", type=int, default=5, help="answers per task")
    parser.add_argument("--labels", type=int, default=4, help="possible answers per task")
    parser.add_argument("--accuracy", type=float, default=0.65, help="workers' mean skill")
    parser.add_argument("--fast-share", type=float, default=0.25, help="share of workers who answer at random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    data, truth = answers(args)
    print(f"{args.tasks} tasks x {args.overlap} answers, {args.workers} workers (mean skill {args.accuracy}, "
          f"{args.fast_share:.0%} answer at random), {args.labels} labels, seed {args.seed}")
    scores: dict[str, float] = {}
    for method in args.methods.split(","):
        start = time.perf_counter()
        try:
            rows = aggregate(data, method, args.seed)
        except CampaignctlError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        took = time.perf_counter() - start
        right = sum(truth[r["task"]] == r["answer"] for r in rows)
        scores[method] = right / len(truth)
        print(f"  {method:<14} accuracy {scores[method]:.3f}   ({took:.1f} s)")
    if "majority-vote" in scores and "dawid-skene" in scores:
        gain = scores["dawid-skene"] - scores["majority-vote"]
        verdict = "beats" if gain > 0 else "does NOT beat"
        print(f"Dawid-Skene {verdict} majority vote here: {gain:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
