"""Reliability figures under injected faults and kill -9: prints a table, exits 0 (1 if a figure fails).

    python benchmarks/faults.py                       # all three platforms, 200+ resources, 20 kill trials each
    python benchmarks/faults.py --platforms swarms --kill-trials 5
    python benchmarks/faults.py --platforms swarms --kill-trials 0 --seed 3 -v   # -v: what failed in each apply

For each platform it serves the sandbox on loopback in its own process (``campaignctl sandbox
serve --faults ...``), generates a repo of at least ``--resources`` resources, and:

1. **faults**: applies it under 10 % 5xx + 5 % 429 + 5 % reset-after-commit (the ambiguous case:
   the server commits, the client sees the connection drop) + latency with jitter, re-running
   apply until ``plan --detailed-exitcode`` says nothing is left (at most ``--max-runs``). Prints:
   runs needed to converge, calls the server received, client retries (from the apply logs),
   faults injected, duplicates found on the server (objects claiming the same address), orphans
   (live objects state does not know) and the final plan's exit code (0 = empty).
2. **kill -9**: ``--kill-trials`` times, a fresh account and a smaller repo; apply is killed with
   SIGKILL after a seeded number of finished calls (read from its progress lines), then apply is
   re-run until converged. Same figures, summed over the trials.

Ground truth comes from the sandbox's SQLite file, not from the client: a duplicate is two live
objects with the same address marker (SWARMS ``properties.campaignctl``) or the same title
(Microworkers, which has no marker); an orphan is a live object whose id no state entry holds.
The final plan runs with faults switched off, so it measures the platforms, not the faults.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PREFIX = {"swarms": "/swarms", "microworkers": "/microworkers/api/v2", "microworkers-v1": "/microworkers-v1"}
KEY = "sandbox-key"
ENV = {"SWARMS_TOKEN": KEY, "MW_KEY": KEY, "MW1_KEY": KEY}
ADMIN = {"X-Sandbox-Key": KEY}  # the sandbox's admin routes want its key
DEFAULT_FAULTS = "5xx=0.10,429=0.05,retry-after=0.2,reset-after=0.05,latency=5ms,jitter=3ms"


# -- repos ------------------------------------------------------------------------------------
def provider_doc(platform: str, url: str) -> str:
    name = {"swarms": "swarms", "microworkers": "mw", "microworkers-v1": "mw1"}[platform]
    auth = {"swarms": "{tokenEnv: SWARMS_TOKEN}", "microworkers": "{apiKeyEnv: MW_KEY}", "microworkers-v1": "{apiKeyEnv: MW1_KEY}"}[platform]
    return f"kind: Provider\nname: {name}\nspec: {{type: {platform}, endpoint: {url}{PREFIX[platform]}, auth: {auth}}}\n"


def swarms_docs(resources: int) -> list[str]:
    docs = []
    per_campaign = 1 + 5 + 5 * 4
    for c in range(max(1, -(-resources // per_campaign))):
        jobs = []
        for j in range(5):
            tasks = [f"t{c}-{j}-{t}" for t in range(4)]
            for t in tasks:
                docs.append(
                    f"kind: Task\nname: {t}\nprovider: swarms\nspec:\n  components:\n"
                    f"    - {{type: Text, properties: {{text: 'Item {t}', style: Question}}}}\n"
                    f"    - {{type: Rating, properties: {{steps: 5}}}}\n"
                )
            jobs.append(f"j{c}-{j}")
            docs.append(f"kind: Job\nname: j{c}-{j}\nprovider: swarms\nspec: {{tasks: [{', '.join(tasks)}]}}\n")
        docs.append(
            f"kind: Campaign\nname: c{c}\nprovider: swarms\nspec:\n  title: Campaign {c}\n  workerPayment: 0.01\n"
            f"  results: 1\n  jobs: [{', '.join(jobs)}]\n  state: active\n"
        )
    return docs


def microworkers_docs(resources: int) -> list[str]:
    docs = [
        "kind: Template\nname: page\nprovider: mw\nspec:\n  title: Look at a page\n  htmlCode: |\n"
        "    <p>Open {{url}}</p>\n    <label>Impression <input type=\"text\" name=\"impression\" required></label>\n"
    ]
    for c in range(max(1, resources - 1)):
        rows = ", ".join(f"{{id: r{c}x{r}, url: 'https://example.com/{c}/{r}'}}" for r in range(30))
        docs.append(
            f"kind: Campaign\nname: c{c}\nprovider: mw\nspec:\n  type: basic\n  title: Page impressions {c}\n"
            f"  description: Open the page and tell us what you think.\n  categoryId: \"1001\"\n  paymentPerTask: 0.10\n"
            f"  minutesToFinish: 10\n  template: page\n  internationalZone: {{}}\n  tasks: {{rows: [{rows}]}}\n"
            f"  speed: 500\n  ttr: 7\n  state: running\n"
        )
    return docs


def microworkers_v1_docs(resources: int) -> list[str]:
    return [
        f"kind: Campaign\nname: c{c}\nprovider: mw1\nspec:\n  type: basic\n  title: Sign up and review, batch {c}\n"
        f"  zone: int\n  category: \"1001\"\n  available_positions: 40\n  payment_per_task: 0.10\n  speed: 100\n"
        f"  minutes_to_finish: 30\n  ttr: 7\n  required_work: Install the app and use it for five minutes.\n"
        f"  required_proof: The username you registered.\n  auto_rate: \"NO\"\n  file_proof: 0\n  state: running\n"
        for c in range(resources)
    ]


GENERATORS = {"swarms": swarms_docs, "microworkers": microworkers_docs, "microworkers-v1": microworkers_v1_docs}


def write_repo(root: Path, platform: str, url: str, resources: int) -> int:
    root.mkdir(parents=True, exist_ok=True)
    docs = GENERATORS[platform](resources)
    (root / "repo.yaml").write_text("---\n".join([provider_doc(platform, url), *docs]))
    return len(docs)


# -- processes --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, db: Path, faults: str) -> None:
        self.db = db
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        args = [sys.executable, "-m", "campaignctl", "sandbox", "serve", "--port", str(port), "--db", str(db), "--balance", "1000000"]
        if faults:
            args += ["--faults", faults]
        env = {**os.environ, "CAMPAIGNCTL_SANDBOX_KEY": KEY}  # the key ENV and ADMIN give, whatever the caller's environment
        self.proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/_sandbox/stats", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit("the sandbox did not start")

    def stats(self) -> dict[str, dict[str, int]]:
        return httpx.get(f"{self.url}/_sandbox/stats", headers=ADMIN, timeout=10).json()

    def faults_off(self) -> None:
        httpx.post(f"{self.url}/_sandbox/faults", json={}, headers=ADMIN, timeout=10)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "campaignctl", *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=cwd, timeout=1800
    )


RETRIES = re.compile(r"(\d+) HTTP call\(s\), (\d+) retries")


def retries_in(stderr: str) -> int:
    return sum(int(m.group(2)) for m in RETRIES.finditer(stderr))


# -- ground truth -----------------------------------------------------------------------------
def external_id(platform: str, kind: str, row: int, obj: dict[str, Any]) -> str:
    """The id the platform's API shows for a stored object (what state holds)."""
    if platform == "microworkers":
        from campaignctl.sandbox.microworkers.model import CAMPAIGN_IDS, TEMPLATE_IDS

        return (TEMPLATE_IDS if kind == "template" else CAMPAIGN_IDS).encode(row)
    if platform == "microworkers-v1":
        return str(obj.get("campaign_id"))
    return str(row)


def audit(db: Path, platform: str, root: Path, state: dict[str, Any] | None = None) -> tuple[int, int]:
    """(duplicates, orphans) on the server, from its SQLite file; ``state`` defaults to the local state file."""
    if state is None:
        path = root / ".campaignctl" / "state.json"
        state = json.loads(path.read_text()) if path.exists() else {"resources": {}}
    held = {(e.get("kind", "").lower(), str(e.get("id"))) for e in state["resources"].values()}
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT kind, id, data FROM objects WHERE platform = ?", (platform,)).fetchall()
    conn.close()
    claims: Counter[str] = Counter()
    orphans = 0
    for kind, oid, data in rows:
        obj = json.loads(data)
        if platform == "swarms":
            if kind not in ("campaign", "job", "task") or obj.get("archived"):
                continue
            claim = (obj.get("properties") or {}).get("campaignctl") or f"unmarked {kind} {oid}"
        elif platform == "microworkers":
            if kind not in ("campaign", "template"):
                continue
            claim = f"{kind} {obj.get('title')}"
        else:
            if kind != "campaign":
                continue
            claim = f"{kind} {obj.get('title')}"
        claims[claim] += 1
        if (kind, external_id(platform, kind, oid, obj)) not in held:
            orphans += 1
    duplicates = sum(n - 1 for n in claims.values() if n > 1)
    return duplicates, orphans


# -- scenarios --------------------------------------------------------------------------------
@dataclass
class Figures:
    platform: str
    scenario: str
    resources: int = 0
    runs: list[int] = field(default_factory=list)  # applies needed, per trial
    calls: int = 0
    retries: int = 0
    faults: int = 0
    duplicates: int = 0
    orphans: int = 0
    final_plan_exit: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return max(self.runs) <= 2 and self.duplicates == 0 and self.orphans == 0 and set(self.final_plan_exit) == {0}


VERBOSE = False  # -v: print what failed in every apply that did not converge


def converge(root: Path, server: Server, max_runs: int, figures: Figures) -> int:
    for run in range(1, max_runs + 1):
        done = cli("-v", "apply", str(root), "--auto-approve", "--parallelism", "16")
        figures.retries += retries_in(done.stderr)
        if "Traceback" in done.stdout + done.stderr:
            raise SystemExit(f"traceback in apply:\n{done.stderr}")
        if done.returncode == 0:
            return run
        if VERBOSE:  # warnings and errors, without the progress and retry lines
            lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith(("[", "INFO"))]
            print(f"  {figures.platform} {figures.scenario}: apply run {run} failed:", *lines, sep="\n    ", file=sys.stderr, flush=True)
    return max_runs + 1


def faults_scenario(platform: str, resources: int, faults: str, seed: int, max_runs: int, tmp: Path) -> Figures:
    figures = Figures(platform, "faults")
    server = Server(tmp / f"{platform}-faults.db", f"{faults},seed={seed}")
    root = tmp / f"{platform}-faults"
    try:
        figures.resources = write_repo(root, platform, server.url, resources)
        started = time.perf_counter()
        figures.runs.append(converge(root, server, max_runs, figures))
        figures.seconds = time.perf_counter() - started
        stats = server.stats()
        figures.faults = sum((stats.get("_faults") or {}).values()) if isinstance(stats.get("_faults"), dict) else 0
        figures.calls = sum(n for p, by in stats.items() if not p.startswith("_") for n in by.values())
        server.faults_off()
        figures.final_plan_exit.append(cli("plan", str(root), "--detailed-exitcode").returncode)
        figures.duplicates, figures.orphans = audit(server.db, platform, root)
    finally:
        server.stop()
    return figures


def kill_scenario(platform: str, resources: int, trials: int, seed: int, max_runs: int, tmp: Path) -> Figures:
    figures = Figures(platform, "kill -9")
    rng = random.Random(seed)
    started = time.perf_counter()
    for trial in range(trials):
        server = Server(tmp / f"{platform}-kill-{trial}.db", "latency=2ms")
        root = tmp / f"{platform}-kill-{trial}"
        try:
            figures.resources = write_repo(root, platform, server.url, resources)
            env = {**os.environ, **ENV, "NO_COLOR": "1"}
            proc = subprocess.Popen(
                [sys.executable, "-m", "campaignctl", "apply", str(root), "--auto-approve"],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )
            kill_after = rng.randint(1, max(1, resources))  # finished calls before the kill
            seen = 0
            assert proc.stderr is not None
            for line in proc.stderr:
                if line.startswith("["):
                    seen += 1
                    if seen >= kill_after:
                        proc.send_signal(signal.SIGKILL)
                        break
            proc.wait()
            proc.stderr.close()
            figures.runs.append(1 + converge(root, server, max_runs, figures))
            stats = server.stats()
            figures.calls += sum(n for p, by in stats.items() if not p.startswith("_") for n in by.values())
            figures.final_plan_exit.append(cli("plan", str(root), "--detailed-exitcode").returncode)
            dups, orphans = audit(server.db, platform, root)
            figures.duplicates += dups
            figures.orphans += orphans
        finally:
            server.stop()
    figures.seconds = time.perf_counter() - started
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--platforms", default="swarms,microworkers,microworkers-v1")
    ap.add_argument("--resources", type=int, default=200, help="resources per platform in the faults scenario")
    ap.add_argument("--kill-resources", type=int, default=30, help="resources per kill -9 trial")
    ap.add_argument("--kill-trials", type=int, default=20)
    ap.add_argument("--faults", default=DEFAULT_FAULTS)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-runs", type=int, default=4)
    ap.add_argument("-v", "--verbose", action="store_true", help="print what failed in each apply that did not converge")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    rows: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="campaignctl-faults-") as tmp:
        for platform in args.platforms.split(","):
            rows.append(faults_scenario(platform, args.resources, args.faults, args.seed, args.max_runs, Path(tmp)))
            print_row(rows[-1])
            if args.kill_trials:
                rows.append(kill_scenario(platform, args.kill_resources, args.kill_trials, args.seed, args.max_runs, Path(tmp)))
                print_row(rows[-1])
    failed = [r for r in rows if not r.ok]
    print(f"\nfaults: {args.faults}; kill trials: {args.kill_trials} per platform; "
          f"{'every figure holds' if not failed else 'FAILED: ' + ', '.join(f'{r.platform} {r.scenario}' for r in failed)}")
    return 1 if failed else 0


HEADER = f"{'platform':<16} {'scenario':<8} {'resources':>9} {'runs(max)':>9} {'calls':>7} {'retries':>7} {'faults':>6} {'dups':>4} {'orphans':>7} {'final plan':>10} {'seconds':>8}"
_printed = False


def print_row(r: Figures) -> None:
    global _printed
    if not _printed:
        print(HEADER)
        _printed = True
    final = "empty" if set(r.final_plan_exit) == {0} else f"exit {sorted(set(r.final_plan_exit))}"
    print(
        f"{r.platform:<16} {r.scenario:<8} {r.resources:>9} {max(r.runs):>9} {r.calls:>7} {r.retries:>7} {r.faults:>6} "
        f"{r.duplicates:>4} {r.orphans:>7} {final:>10} {r.seconds:>8.1f}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
