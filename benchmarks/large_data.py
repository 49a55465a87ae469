"""Large data (issue 23, point 2): a forEach family and a campaign of task rows, validate and plan.

Run through ``python benchmarks/scale.py --large-data 0.1,1``: per factor f, a repo with a
SWARMS forEach family of ``100,000*f`` Tasks (CSV rows) and one with a Microworkers v2 basic
campaign of ``1,000,000*f`` task rows (CSV), both against the embedded sandbox (no latency: what is
measured is campaignctl's own cost). For each: ``validate`` and ``plan`` with empty caches, wall
seconds, microseconds per row and the peak RSS of the CLI process; a campaign of at most
``APPLY_ROWS`` rows is also applied (every row uploaded, 10,000 a call: the CLI process holds the
embedded sandbox too) and planned again, which must find nothing to do. Then, over the factors, how
time and memory grow (1.0 = linear).
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

FAMILY_ROWS = 100_000
TASK_ROWS = 1_000_000
APPLY_ROWS = 100_000  # a campaign this size or smaller is applied too (the sandbox account holds 10,000 USD)

FAMILY = """kind: Provider
name: swarms
spec: {type: swarms, endpoint: sandbox}
---
kind: Task
name: rate-photo
provider: swarms
forEach: {file: photos.csv, key: id}
spec:
  components:
    - {type: Text, properties: {text: "How good is photo {{ row.id }}?", style: Question}}
    - {type: Image, properties: {url: "{{ row.url }}"}}
"""

CAMPAIGN = """kind: Provider
name: mw
spec: {type: microworkers, endpoint: sandbox}
---
kind: Template
name: survey
provider: mw
spec: {title: Survey, htmlCode: "<p>Visit {{url}} and rate {{brand}}</p>"}
---
kind: Campaign
name: big-survey
provider: mw
spec:
  type: basic
  title: A survey of many websites
  description: Open the website and answer two questions.
  categoryId: "1101"
  paymentPerTask: 0.05
  minutesToFinish: 10
  template: survey
  internationalZone: {excludedCountries: []}
  tasks: {file: rows.csv}
  speed: 500
  ttr: 7
  state: running
"""


def generate(root: Path, kind: str, rows: int) -> None:
    root.mkdir(parents=True)
    if kind == "family":
        (root / "main.yaml").write_text(FAMILY)
        with (root / "photos.csv").open("w") as fh:
            fh.write("id,url\n")
            fh.writelines(f"p{i:07d},https://example.org/photos/{i}.jpg\n" for i in range(rows))
    else:
        (root / "main.yaml").write_text(CAMPAIGN)
        with (root / "rows.csv").open("w") as fh:
            fh.write("id,url,brand\n")
            fh.writelines(f"site{i:07d},https://site{i:07d}.example.com/page,Brand number {i}\n" for i in range(rows))


def run(factors: list[float], run_cli: Callable[..., Any], check: Callable[..., None], log: Callable[[str], None]) -> None:
    """Measure and print the table (stdout) and the growth between factors."""
    import os

    figures: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    print(f"{'case':<34} {'rows':>10} {'wall_s':>8} {'us/row':>8} {'peak RSS MB':>12}")
    for factor in factors:
        for kind, size in (("family", int(FAMILY_ROWS * factor)), ("campaign", int(TASK_ROWS * factor))):
            work = Path(tempfile.mkdtemp(prefix=f"campaignctl-large-{kind}-"))
            try:
                generate(work / "repo", kind, max(size, 30))
                os.environ["CAMPAIGNCTL_CACHE_DIR"] = str(work / "cache")
                steps = ["validate", "plan"] + (["apply", "plan again"] if kind == "campaign" and size <= APPLY_ROWS else [])
                for step in steps:
                    log(f"  {kind} {size:,} rows: {step}")
                    shutil.rmtree(work / "cache", ignore_errors=True)  # empty caches: the cold cost
                    if step == "apply":
                        result = run_cli("apply", "repo", "--auto-approve", cwd=work)
                    elif step == "plan again":  # after the apply: nothing to do
                        result = run_cli("plan", "repo", "--detailed-exitcode", cwd=work)
                    else:
                        result = run_cli(step, "repo", cwd=work)
                    check(result, (0,), f"{step} of a {kind} of {size:,} rows")
                    name = f"{'forEach family' if kind == 'family' else 'Microworkers task rows'} {step}"
                    print(f"{name:<34} {size:>10,} {result.wall:>8.2f} {result.wall / size * 1e6:>8.1f} {result.rss_mb:>12.0f}")
                    figures.setdefault((kind, step), []).append((size, result.wall, result.rss_mb))
            finally:
                os.environ.pop("CAMPAIGNCTL_CACHE_DIR", None)
                shutil.rmtree(work, ignore_errors=True)
    if len(factors) > 1:
        print("\ngrowth from the smallest to the largest factor, per row (1.0 = linear):")
        for (kind, step), points in figures.items():
            if len(points) < 2:  # run at one factor only (apply)
                continue
            (n0, t0, m0), (n1, t1, m1) = points[0], points[-1]
            print(f"  {kind} {step}: time x{(t1 / n1) / (t0 / n0):.2f} per row, peak RSS x{m1 / m0:.2f} for x{n1 / n0:.0f} rows")


__all__ = ["run"]
