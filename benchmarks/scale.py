"""placeholder, rewritten below"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

N_SWARMS, N_MW2, N_MW1 = 200, 100, 50  # campaigns at scale 1
JOBS, TASKS, ROWS = 5, 5, 100  # jobs per SWARMS campaign, tasks per job, task rows per MW v2 campaign


def counts(scale: float) -> tuple[int, int, int]:
    return tuple(max(1, round(n * scale)) for n in (N_SWARMS, N_MW2, N_MW1))  # type: ignore[return-value]


def provider_docs(endpoints: dict[str, str] | None) -> str:
    """Provider documents: the embedded sandbox (``endpoints`` None) or the served one."""
    def spec(name: str, type_: str, prefix: str, auth: str) -> str:
        if endpoints is None:
            return f"kind: Provider\nname: {name}\nspec: {{type: {type_}, endpoint: sandbox}}\n"
        return (f"kind: Provider\nname: {name}\nspec: {{type: {type_}, endpoint: '{endpoints['base']}{prefix}', "
                f"auth: {{{auth}: BENCH_KEY}}}}\n")
    return "---\n".join([
        spec("swarms", "swarms", "/swarms", "tokenEnv"),
        spec("mw", "microworkers", "/microworkers/api/v2", "apiKeyEnv"),
        spec("mw1", "microworkers-v1", "/microworkers-v1", "apiKeyEnv"),
    ])


def generate(root: Path, scale: float, endpoints: dict[str, str] | None) -> dict[str, int]:
    n_swarms, n_mw2, n_mw1 = counts(scale)
    root.mkdir(parents=True, exist_ok=True)
    (root / "providers.yaml").write_text(provider_docs(endpoints))
    docs = []
    for c in range(n_swarms):
        jobs = []
        for j in range(JOBS):
            tasks = []
            for t in range(TASKS):
                name = f"t-{c}-{j}-{t}"
                tasks.append(name)
                docs.append(
                    f"kind: Task\nname: {name}\nprovider: swarms\nspec:\n  components:\n"
                    f"    - {{type: Text, properties: {{text: 'Item {c}/{j}/{t}', style: Question}}}}\n"
                    f"    - {{type: Rating, properties: {{steps: 5}}}}\n"
                )
            job = f"j-{c}-{j}"
            jobs.append(job)
            docs.append(f"kind: Job\nname: {job}\nprovider: swarms\nspec: {{description: 'Batch {c}/{j}', tasks: [{', '.join(tasks)}]}}\n")
        docs.append(
            f"kind: Campaign\nname: c-{c}\nprovider: swarms\nspec:\n  title: Campaign {c}\n  workerPayment: 0.01\n"
            f"  results: 1\n  jobs: [{', '.join(jobs)}]\n  state: active\n"
        )
    (root / "swarms.yaml").write_text("---\n".join(docs))
    data = root / "data"
    data.mkdir(exist_ok=True)
    docs = [
        "kind: Template\nname: survey\nprovider: mw\nspec:\n  title: Benchmark survey\n"
        "  htmlCode: '<p>Visit {{url}} and rate it</p><input name=\"rating\" required>'\n"
    ]
    for c in range(n_mw2):
        rows = "\n".join(f"r{c}x{i},https://site{c}-{i}.example.com/" for i in range(ROWS))
        (data / f"rows-{c}.csv").write_text(f"id,url\n{rows}\n")
        docs.append(
            f"kind: Campaign\nname: mw-{c}\nprovider: mw\nspec:\n  type: basic\n  title: Benchmark survey {c}\n"
            f"  description: Rate a website.\n  categoryId: '1001'\n  paymentPerTask: 0.12\n  minutesToFinish: 10\n"
            f"  template: survey\n  internationalZone: {{excludedCountries: [CN]}}\n  tasks: {{file: data/rows-{c}.csv}}\n"
            f"  state: running\n"
        )
    (root / "mw.yaml").write_text("---\n".join(docs))
    docs = []
    for c in range(n_mw1):
        docs.append(
            f"kind: Campaign\nname: v1-{c}\nprovider: mw1\nspec:\n  type: basic\n  title: Benchmark sign-up {c}\n"
            f"  zone: int\n  category: '1001'\n  available_positions: 40\n  payment_per_task: 0.25\n  speed: 100\n"
            f"  minutes_to_finish: 30\n  ttr: 7\n  required_work: Sign up and tell us what you think.\n"
            f"  required_proof: The username you registered.\n  auto_rate: 'NO'\n  file_proof: 0\n  state: running\n"
        )
    (root / "mw1.yaml").write_text("---\n".join(docs))
    return {"swarms": n_swarms * (1 + JOBS + JOBS * TASKS), "mw": n_mw2 + 1, "mw1": n_mw1}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(generate(args.out, args.scale, None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
