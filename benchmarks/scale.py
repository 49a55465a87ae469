"""campaignctl at scale over loopback, with a fixed latency per request: prints a table, exits 0.

    python benchmarks/scale.py                    # scale 1: 6,200 SWARMS + 101 Microworkers v2 + 50 v1 resources
    python benchmarks/scale.py --scale 1,2,4      # how every figure grows
    python benchmarks/scale.py --quick            # = --scale 0.1, a smoke run of about a minute
    python benchmarks/scale.py --large-data 0.1,1 # a 100,000-member forEach family, a 1,000,000-row campaign

What it does, per scale factor s
--------------------------------
1. Generates a repo: ``200*s`` SWARMS campaigns, each with 5 jobs of 5 tasks (31 resources each);
   ``100*s`` Microworkers v2 basic campaigns with 100 unique task rows each (CSV files) sharing one
   Template; ``50*s`` Microworkers v1 basic campaigns.
2. Serves the sandbox in its own process (``python -m campaignctl sandbox serve --faults
   latency=<L>ms``) and runs the real CLI in another (``python -m campaignctl plan|apply ...
   --parallelism P``), as a user would. Calls are counted by the server (``/_sandbox/stats``).
3. Measures: cold ``apply`` (everything created), a no-op ``plan`` (the median of 3 runs), a
   one-field change (the text of one SWARMS task) ``plan`` then ``apply`` (made 3 times, another
   text each time: the rows are those of the median plan + apply); a per-resource baseline; an
   in-process plan; and the client's overhead per request.

The lower bound of each step
----------------------------
Only calls the step cannot avoid, from the repo's shape and the documented APIs (never from what
campaignctl happened to send). Each platform has its own client with ``P`` calls in flight (the
CLI's ``--parallelism`` is per provider) and the platforms run concurrently, so a phase costs

    max over platforms of  max(longest chain of calls that must follow one another,
                               ceil(calls / P))  x  latency

and a step is the sum of its phases (a CLI command reads before it writes, and re-reads after).
CPU time, process start and config loading are *not* in the bound: they are campaignctl's cost.
``pages(n) = ceil(n / 100)``, 100 being the largest page both SWARMS (``limit``) and Microworkers
v2 (``pageSize``) allow. With T tasks, J jobs, C campaigns on SWARMS, M v2 and N v1 campaigns:

* **read** (what ``plan`` must read; the no-op plan is exactly this):
  SWARMS: the three lists, ``pages(T) + pages(J) + pages(C)`` pages, each list's pages one after
  another (cursors come from ``_links.next``); plus one ``GET /jobs/{id}/tasks`` per job and one
  ``GET /campaigns/{id}/jobs`` per campaign, because the documented list responses do not carry
  the relations (a job in ``GET /jobs`` has no task ids); plus ``GET /me`` (balance). Chain:
  ``max(pages(T), pages(J) + 1, pages(C) + 1)`` -- a relation read can start once the page
  naming its object arrived. Microworkers v2: the template list and the basic-campaign list, the
  categories, the configuration and ``/accounts/me``; chain ``max(pages(1), pages(M))``. A
  campaign's task rows (``GET .../{id}/tasks``) need no read when the rows the config holds are
  those the last apply uploaded and the campaign still counts that many (``tasksCount``): rows can
  only be added, never edited or deleted. v1: ``list_extend``, ``categories_list`` and
  ``zones_list``; chain 1. (Lists of kinds the repo does not use -- hire-group campaigns -- are
  not counted: they could be skipped.)
* **cold apply** = read of the empty platforms (one page per list: 1 x latency) + the writes +
  the re-read of everything it touched (= read). Writes on SWARMS: ``POST /tasks`` (T), ``POST
  /jobs`` (J), ``PUT /jobs/{id}/tasks`` (J), ``POST /campaigns`` (C), ``PUT /campaigns/{id}/jobs``
  (C), ``POST /campaigns/{id}/publish`` (C); chain 4: task create -> job tasks PUT (needs the job
  and its tasks) -> campaign jobs PUT (needs the campaign and its jobs) -> publish (job create and
  campaign create run alongside the task creates). v2: template create -> M campaign creates
  (chain 2). v1: N creates (chain 1).
* **one-field change**: ``plan`` = read; ``apply`` = read + one ``PUT /tasks/{id}`` + the re-read
  of what it touched: one ``GET /tasks/{id}``. Both commands must read everything (a plan cannot
  know what changed on the platforms without reading it).

The per-resource baseline
-------------------------
What a Terraform refresh does: one ``GET`` of every managed object by id (``/tasks/{id}``,
``/jobs/{id}``, ``/campaigns/{id}``, ``/templates/{id}``, ``/basic-campaigns/{id}``,
``/campaign_b/get_info/{id}``), 10 in flight, over one keep-alive client. It is generous to the
baseline: it reads no relation (job tasks, campaign jobs, task rows), which a real refresh would.

The other figures
-----------------
* **in-process plan**: ``campaignctl plan`` of a copy of the repo pointed at the embedded sandbox
  (``endpoint: sandbox``, same data, no latency): CPU seconds (user + system, the sandbox's own
  work included, as it runs in the same process) and peak RSS of that process; then once more with
  the caches off (``CAMPAIGNCTL_CACHE_DIR=off``: documents parsed and validated again). Each scale
  starts with empty caches: the cold apply parses and validates every document, the steps after
  it find them parsed and validated, as a user's second run would (the in-process copy, another
  path, parses its files again).
* **client overhead**: campaignctl's HTTP client (``campaignctl.http.ApiClient``, the transport
  the CLI uses) sending 2,000 ``GET``s, ``P`` in flight, to a stub server in its own process that
  answers every request after the same latency with a real 100-task SWARMS page, and says in a
  header how long it held the request. Overhead of one request = what the client waited minus what
  the server held it: connection pool, HTTP encoding/parsing, JSON decoding, event-loop waits.
* ``client cpu`` / ``server cpu``: CPU seconds of the CLI process and of the sandbox process
  during a step; a server near ``wall_s`` would mean the sandbox, not campaignctl, is the limit.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
KEY = "bench-key"
PAGE = 100  # the largest page SWARMS and Microworkers v2 allow
BASELINE_PARALLELISM = 10  # Terraform's default -parallelism
NOOP_RUNS = 3  # the no-op plan changes nothing: its row is the median of this many runs (one run varies by ~5%)
#: the one-field change is made this many times (another value each time): its rows are those of the
#: change whose plan + apply took the median time
ONE_FIELD_RUNS = 3

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
        (
            "kind: Template\nname: survey\nprovider: mw\nspec:\n  title: Benchmark survey\n"
            "  htmlCode: '<p>Visit {{url}} and rate it</p><input name=\"rating\" required>'\n"
        )
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




# -- the sandbox server and the CLI, each in its own process ---------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env() -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE (set on some machines) would make every run compile campaignctl
    # again; an installed tool has its bytecode
    env = {k: v for k, v in os.environ.items() if k not in ("CAMPAIGNCTL_SANDBOX_FAULTS", "PYTHONDONTWRITEBYTECODE")}
    env["BENCH_KEY"] = KEY
    env["CAMPAIGNCTL_SANDBOX_KEY"] = KEY
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("NO_COLOR", None)
    return env


def wait_until_up(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError(f"{what} died: {proc.stderr.read().decode() if proc.stderr else ''}") from None
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{what} did not start")


class Sandbox:
    """``campaignctl sandbox serve`` with a fixed latency per request, in its own process."""

    def __init__(self, db: Path, latency_ms: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "campaignctl", "sandbox", "serve", "--port", str(self.port), "--db", str(db)]
        # the 1-field step edits a task of an active campaign: a change the strict (documented)
        # readOnly refuses; the lenient sandbox keeps the step measuring what it always did, one PUT
        cmd += ["--lenient-readonly"]
        if latency_ms > 0:
            cmd += ["--faults", f"latency={latency_ms:g}ms"]
        self.proc = subprocess.Popen(cmd, env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        wait_until_up(f"{self.url}/_sandbox/stats", self.proc, "the sandbox")

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sandbox/reset-stats", headers={"X-Sandbox-Key": KEY})

    def stats(self) -> dict[str, dict[str, int]]:
        return {k: v for k, v in httpx.get(f"{self.url}/_sandbox/stats", headers={"X-Sandbox-Key": KEY}).json().items() if not k.startswith("_")}

    def cpu(self) -> float:
        """CPU seconds the server process used so far (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


@dataclass
class Run:
    code: int
    wall: float
    cpu: float  # user + system of the CLI process
    rss_mb: float
    out: str
    err: str


def run_cli(*args: str, cwd: Path) -> Run:
    """``python -m campaignctl ARGS`` in a child process: exit code, wall, CPU, peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "campaignctl", *args], cwd=cwd, env=child_env(),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def check(run: Run, codes: tuple[int, ...], what: str) -> None:
    if run.code not in codes:
        tail = "\n".join((run.out + run.err).strip().splitlines()[-15:])
        raise SystemExit(f"{what}: exit {run.code}, expected {codes}\n{tail}")


# -- lower bounds ----------------------------------------------------------------------------------
def pages(n: int) -> int:
    return max(1, math.ceil(n / PAGE))


@dataclass
class Shape:
    tasks: int
    jobs: int
    campaigns: int
    mw2: int
    mw1: int

    @classmethod
    def of(cls, scale: float) -> Shape:
        n_swarms, n_mw2, n_mw1 = counts(scale)
        return cls(n_swarms * JOBS * TASKS, n_swarms * JOBS, n_swarms, n_mw2, n_mw1)

    @property
    def resources(self) -> int:
        return self.tasks + self.jobs + self.campaigns + self.mw2 + 1 + self.mw1


Phase = dict[str, tuple[int, int]]  # platform -> (calls, longest chain)


def read_phase(s: Shape) -> Phase:
    return {
        "swarms": (pages(s.tasks) + pages(s.jobs) + pages(s.campaigns) + s.jobs + s.campaigns + 1,
                   max(pages(s.tasks), pages(s.jobs) + 1, pages(s.campaigns) + 1)),
        "microworkers": (pages(1) + pages(s.mw2) + 3, max(pages(1), pages(s.mw2))),
        "microworkers-v1": (3, 1),
    }


def empty_read_phase() -> Phase:
    return {"swarms": (4, 1), "microworkers": (5, 1), "microworkers-v1": (3, 1)}


def write_phase(s: Shape) -> Phase:
    return {
        "swarms": (s.tasks + 2 * s.jobs + 3 * s.campaigns, 4),
        "microworkers": (1 + s.mw2, 2),
        "microworkers-v1": (s.mw1, 1),
    }


def one(platform: str = "swarms") -> Phase:
    return {platform: (1, 1)}


def bound(phases: list[Phase], parallelism: int, latency: float) -> float:
    return latency * sum(max(max(chain, math.ceil(calls / parallelism)) for calls, chain in p.values()) for p in phases)


def calls_of(phases: list[Phase]) -> int:
    return sum(calls for p in phases for calls, _ in p.values())


# -- the per-resource baseline ---------------------------------------------------------------------
BY_ID = {
    ("swarms", "Task"): "/swarms/tasks/{id}", ("swarms", "Job"): "/swarms/jobs/{id}",
    ("swarms", "Campaign"): "/swarms/campaigns/{id}",
    ("mw", "Template"): "/microworkers/api/v2/templates/{id}", ("mw", "Campaign"): "/microworkers/api/v2/basic-campaigns/{id}",
    ("mw1", "Campaign"): "/microworkers-v1/campaign_b/get_info/{id}",
}  # fmt: skip
HEADERS = {
    "swarms": {"X-Auth-Token": KEY, "X-API-Version": "1.0", "Accept": "application/json"},
    "mw": {"MicroworkersApiKey": KEY, "Accept": "application/json"},
    "mw1": {"MicroworkersApiKey": KEY, "Accept": "application/json"},
}


def state_resources(root: Path) -> dict[str, dict[str, Any]]:
    return json.loads((root / ".campaignctl" / "state.json").read_text())["resources"]


async def per_resource_baseline(url: str, root: Path, parallelism: int) -> tuple[float, int]:
    targets = [(e["provider"], BY_ID[(e["provider"], e["kind"])].format(id=e["id"])) for e in state_resources(root).values()]
    limits = httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism)
    sem = asyncio.Semaphore(parallelism)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        async def get(provider: str, path: str) -> None:
            async with sem:
                response = await client.get(path, headers=HEADERS[provider])
                response.raise_for_status()
                response.json()

        started = time.perf_counter()
        await asyncio.gather(*(get(p, path) for p, path in targets))
        return time.perf_counter() - started, len(targets)


# -- client overhead against a stub server ---------------------------------------------------------
async def stub_server(port: int, latency: float, body: bytes) -> None:
    """Answers every request after ``latency`` seconds with ``body``; ``x-held-us`` says how long it held it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                started = time.perf_counter()
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                await asyncio.sleep(latency)
                held = int((time.perf_counter() - started) * 1e6)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                             b"x-held-us: %d\r\n\r\n%s" % (len(body), held, body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


async def client_overhead(url: str, parallelism: int, requests: int) -> tuple[list[float], float]:
    """Per-request overheads (seconds) and the client's CPU seconds per request."""
    sys.path.insert(0, str(REPO))
    from campaignctl.http import ApiClient

    client = ApiClient(url, parallelism=parallelism)
    sem = asyncio.Semaphore(parallelism)  # queueing for a free slot is not overhead: wait outside
    overheads: list[float] = []

    async def one_call() -> None:
        async with sem:
            started = time.perf_counter()
            response = await client.request("GET", "/tasks", params={"limit": PAGE})
            client.decode(response)
            waited = time.perf_counter() - started
            overheads.append(waited - int(response.headers["x-held-us"]) / 1e6)

    try:
        await asyncio.gather(*(one_call() for _ in range(parallelism * 4)))  # warm the pool
        overheads.clear()
        cpu = time.process_time()
        await asyncio.gather(*(one_call() for _ in range(requests)))
        cpu = time.process_time() - cpu
    finally:
        await client.aclose()
    return overheads, cpu / requests


def measure_overhead(body: bytes, latency: float, parallelism: int, requests: int) -> tuple[float, float, float]:
    """(median, p90, CPU per request), seconds, of ``requests`` GETs answered with ``body``."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        f.write(body)
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--stub-server", str(port), "--latency-ms", str(latency * 1000),
                             "--stub-body", f.name], env=child_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, "the stub server")
        values, cpu = asyncio.run(client_overhead(f"http://127.0.0.1:{port}", parallelism, requests))
        values.sort()
        return statistics.median(values), values[int(len(values) * 0.9)], cpu
    finally:
        proc.terminate()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()
        os.unlink(f.name)


# -- one scale -------------------------------------------------------------------------------------
@dataclass
class Row:
    step: str
    wall: float
    lower: float | None
    calls: dict[str, int]
    client_cpu: float
    server_cpu: float
    note: str = ""

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def writes(self) -> int:
        return sum(n for m, n in self.calls.items() if m not in ("GET", "HEAD"))


@dataclass
class Result:
    scale: float
    shape: Shape
    rows: list[Row] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)


def by_method(stats: dict[str, dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for methods in stats.values():
        for method, n in methods.items():
            out[method] = out.get(method, 0) + n
    return out


def run_scale(scale: float, latency_ms: float, parallelism: int, overhead_requests: int, log: Any) -> Result:
    shape = Shape.of(scale)
    latency = latency_ms / 1000
    P = str(parallelism)
    result = Result(scale, shape)
    with tempfile.TemporaryDirectory(prefix="campaignctl-scale-") as tmp_name:
        tmp = Path(tmp_name)
        # empty caches (parsed and validated documents) for each scale: the cold apply parses and
        # validates every document, the steps after it find them (as a second run of a user's would)
        os.environ["CAMPAIGNCTL_CACHE_DIR"] = str(tmp / "validation-cache")
        sandbox = Sandbox(tmp / "served.db", latency_ms)
        try:
            root = tmp / "repo"
            generate(root, scale, {"base": sandbox.url})

            def step(
                name: str, args: list[str], codes: tuple[int, ...], phases: list[Phase], repeat: int = 1, record: bool = True,
            ) -> tuple[Row, Run]:
                """Run the command ``repeat`` times (a command that changes nothing); the row is the
                run of median wall time, and each run must make the same calls. ``record``: the row
                goes into the table (else the caller picks)."""
                log(f"  {name} ...")
                rows: list[tuple[Row, Run]] = []
                for _ in range(repeat):
                    sandbox.reset()
                    cpu0 = sandbox.cpu()
                    run = run_cli(*args, cwd=root)
                    check(run, codes, f"scale {scale:g}: {name}")
                    rows.append((Row(name, run.wall, bound(phases, parallelism, latency) if latency else None,
                                     by_method(sandbox.stats()), run.cpu, sandbox.cpu() - cpu0), run))
                if len({tuple(sorted(r.calls.items())) for r, _ in rows}) > 1:
                    raise SystemExit(f"scale {scale:g}: {name} made different calls each time: {[r.calls for r, _ in rows]}")
                row, run = sorted(rows, key=lambda pair: pair[0].wall)[len(rows) // 2]
                if record:
                    result.rows.append(row)
                return row, run

            read = read_phase(shape)
            step("cold apply", ["apply", ".", "--auto-approve", "--parallelism", P], (0,),
                 [empty_read_phase(), write_phase(shape), read])
            noop, _ = step(f"no-op plan (median of {NOOP_RUNS})", ["plan", ".", "--detailed-exitcode", "--parallelism", P], (0,),
                           [read], repeat=NOOP_RUNS)
            if noop.writes:
                raise SystemExit(f"the no-op plan wrote {noop.writes} time(s): {noop.calls}")
            swarms = root / "swarms.yaml"
            changes: list[tuple[Row, Row]] = []
            for n in range(1, ONE_FIELD_RUNS + 1):
                text = swarms.read_text()
                swarms.write_text(text.replace("'Item 0/0/0" + (f" changed {n - 1}'" if n > 1 else "'"), f"'Item 0/0/0 changed {n}'", 1))
                one_plan, run = step(f"1-field plan ({n} of {ONE_FIELD_RUNS})", ["plan", ".", "--detailed-exitcode", "--parallelism", P],
                                     (2,), [read], record=False)
                if "1 to update" not in run.out:
                    raise SystemExit(f"the one-field change did not plan exactly one update:\n{run.out[-2000:]}")
                one_apply, _ = step(f"1-field apply ({n} of {ONE_FIELD_RUNS})", ["apply", ".", "--auto-approve", "--parallelism", P],
                                    (0,), [read, one(), one()], record=False)
                if one_apply.total > noop.total + 8:  # the read, the PUT, a GET of the task (and of the balance)
                    raise SystemExit(f"the one-field apply re-read more than the object it changed: {one_apply.calls}")
                changes.append((one_plan, one_apply))
            one_plan, one_apply = sorted(changes, key=lambda pair: pair[0].wall + pair[1].wall)[len(changes) // 2]
            suffix = f" (median of {ONE_FIELD_RUNS})"
            one_plan, one_apply = replace(one_plan, step="1-field plan" + suffix), replace(one_apply, step="1-field apply" + suffix)
            result.rows += [one_plan, one_apply]
            lower = (one_plan.lower or 0) + (one_apply.lower or 0)
            result.rows.append(Row("1-field plan+apply" + suffix, one_plan.wall + one_apply.wall, lower if latency else None,
                                   {m: one_plan.calls.get(m, 0) + one_apply.calls.get(m, 0)
                                    for m in {*one_plan.calls, *one_apply.calls}},
                                   one_plan.client_cpu + one_apply.client_cpu, one_plan.server_cpu + one_apply.server_cpu))

            log("  per-resource baseline ...")
            sandbox.reset()
            cpu0 = sandbox.cpu()
            wall, n = asyncio.run(per_resource_baseline(sandbox.url, root, BASELINE_PARALLELISM))
            result.rows.append(Row(f"baseline: GET each ({BASELINE_PARALLELISM} in flight)", wall,
                                   latency * math.ceil(n / BASELINE_PARALLELISM) if latency else None,
                                   by_method(sandbox.stats()), 0.0, sandbox.cpu() - cpu0))
            result.figures["baseline / no-op plan"] = wall / noop.wall

            job = next(e["id"] for e in state_resources(root).values() if e["kind"] == "Job")
            samples = {  # what a plan receives: mostly relation reads, and list pages
                "relation read": httpx.get(f"{sandbox.url}/swarms/jobs/{job}/tasks", params={"limit": PAGE},
                                           headers=HEADERS["swarms"]).content,
                "100-task page": httpx.get(f"{sandbox.url}/swarms/tasks", params={"limit": PAGE},
                                           headers=HEADERS["swarms"]).content,
            }
            embedded = tmp / "embedded"
            shutil.copytree(root, embedded, ignore=shutil.ignore_patterns("*.lock"))
            (embedded / "providers.yaml").write_text(provider_docs(None))
            with sqlite3.connect(tmp / "served.db") as src, sqlite3.connect(embedded / ".campaignctl" / "sandbox.db") as dst:
                src.backup(dst)
        finally:
            sandbox.stop()

        log("  in-process plan ...")
        run = run_cli("plan", ".", "--detailed-exitcode", "--parallelism", P, cwd=embedded)
        check(run, (0,), f"scale {scale:g}: in-process plan")
        result.figures["in-process plan cpu_s"] = run.cpu
        result.figures["in-process plan wall_s"] = run.wall
        result.figures["in-process plan peak RSS MB"] = run.rss_mb
        os.environ["CAMPAIGNCTL_CACHE_DIR"] = "off"  # the same, parsing and validating every document
        run = run_cli("plan", ".", "--detailed-exitcode", "--parallelism", P, cwd=embedded)
        check(run, (0,), f"scale {scale:g}: in-process plan with the caches off")
        result.figures["in-process plan, caches off, cpu_s"] = run.cpu

    log("  client overhead ...")
    for name, body in samples.items():
        median, p90, cpu = measure_overhead(body, latency, parallelism, overhead_requests)
        what = f"overhead/request, {name} ({len(body) / 1024:.1f} KB)"
        result.figures[f"{what}: median ms"] = median * 1000
        result.figures[f"{what}: p90 ms"] = p90 * 1000
        result.figures[f"{what}: client cpu ms"] = cpu * 1000
    return result


# -- output ----------------------------------------------------------------------------------------
def fmt_calls(calls: dict[str, int]) -> str:
    return " ".join(f"{m}={n}" for m, n in sorted(calls.items())) or "-"


def print_result(r: Result, latency_ms: float, parallelism: int) -> None:
    s = r.shape
    print(f"\nscale {r.scale:g}: {s.resources} resources (SWARMS {s.tasks} tasks, {s.jobs} jobs, {s.campaigns} campaigns; "
          f"Microworkers v2 {s.mw2} campaigns x {ROWS} rows + 1 template; v1 {s.mw1} campaigns), "
          f"latency {latency_ms:g} ms, parallelism {parallelism}")
    print(f"  {'step':<34} {'wall_s':>7} {'lower_s':>7} {'ratio':>6} {'calls':>6} {'client':>7} {'server':>7}  calls by method")
    print(f"  {'':<34} {'':>7} {'':>7} {'':>6} {'':>6} {'cpu_s':>7} {'cpu_s':>7}")
    for row in r.rows:
        lower = f"{row.lower:7.2f}" if row.lower else f"{'-':>7}"
        ratio = f"{row.wall / row.lower:6.2f}" if row.lower else f"{'-':>6}"
        client = f"{row.client_cpu:7.2f}" if row.client_cpu else f"{'-':>7}"
        print(f"  {row.step:<34} {row.wall:7.2f} {lower} {ratio} {row.total:>6} {client} {row.server_cpu:7.2f}  {fmt_calls(row.calls)}")
    for name, value in r.figures.items():
        print(f"  {name:<62} {value:8.2f}")


def print_growth(results: list[Result]) -> None:
    base = results[0]
    print(f"\ngrowth relative to scale {base.scale:g}, divided by the growth of the repo (1.00 = linear)")
    names = [row.step for row in base.rows]
    figures = list(base.figures)
    header = f"  {'figure':<62}" + "".join(f" {'x' + format(r.scale / base.scale, 'g'):>7}" for r in results)
    print(header)

    def line(label: str, values: list[float]) -> None:
        cells = []
        for r, v in zip(results, values, strict=True):
            factor = r.shape.resources / base.shape.resources
            cells.append(f" {v / values[0] / factor:7.2f}" if values[0] else f" {'-':>7}")
        print(f"  {label:<62}" + "".join(cells))

    for i, name in enumerate(names):
        line(f"{name}: wall", [r.rows[i].wall for r in results])
        line(f"{name}: calls", [float(r.rows[i].total) for r in results])
        if base.rows[i].client_cpu:
            line(f"{name}: client cpu", [r.rows[i].client_cpu for r in results])
    for name in figures:
        if "overhead" in name or "/ no-op" in name:
            continue  # per-request and ratio figures should stay flat, not grow
        line(name, [r.figures[name] for r in results])
    for name in figures:
        if "overhead" in name or "/ no-op" in name:
            print(f"  {name + ' (value)':<62}" + "".join(f" {r.figures[name]:7.2f}" for r in results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="1", help="comma-separated multipliers of the repo size (default 1)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: --scale 0.1")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added to every request by the sandbox (default 20)")
    parser.add_argument("--parallelism", type=int, default=16, help="the CLI's --parallelism (default 16)")
    parser.add_argument("--overhead-requests", type=int, default=2000, help="requests of the client-overhead test")
    parser.add_argument("--large-data", metavar="F1,F2", help="only the large-data cases (benchmarks/large_data.py): a "
                        "100,000*F-member forEach family and a 1,000,000*F-row Microworkers campaign, validate and plan")
    parser.add_argument("--stub-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--stub-body", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stub_server:
        asyncio.run(stub_server(args.stub_server, args.latency_ms / 1000, args.stub_body.read_bytes()))
        return 0
    scales = [0.1] if args.quick else [float(x) for x in args.scale.split(",")]

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    if args.large_data:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import large_data

        large_data.run([float(x) for x in args.large_data.split(",")], run_cli, check, log)
        print(f"\nbenchmark process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        return 0

    print(f"campaignctl scale benchmark: {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}, httpx {httpx.__version__}")
    results = []
    for scale in scales:
        log(f"scale {scale:g}:")
        result = run_scale(scale, args.latency_ms, args.parallelism, args.overhead_requests, log)
        print_result(result, args.latency_ms, args.parallelism)
        sys.stdout.flush()
        results.append(result)
    if len(results) > 1:
        print_growth(results)
    print(f"\nbenchmark process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
