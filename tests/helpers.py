"""What tests share (fixtures live in conftest.py): the real CLI as a subprocess, the sandbox served
on loopback, the examples, a fake provider with an in-memory state backend for the executor, and
the PostgreSQL test cluster's helpers. No test imports another test module; they import this one."""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaignctl.apply import ApplyResult
from campaignctl.config.model import Document
from campaignctl.config.nodes import MarkedDict
from campaignctl.plan.model import Operation, Plan, ResourceChange
from campaignctl.platforms import PLATFORMS
from campaignctl.providers.base import ExecResult, Provider
from campaignctl.sandbox import embedded
from campaignctl.sandbox.core import Sandbox
from campaignctl.session import Session
from campaignctl.state.base import State

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
#: a secret that must never show up in any output, state or plan file
CANARY = "canary-Secret-7f3a9c1e5b"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
    """Run ``python -m campaignctl ARGS`` as a user would (no stdin, no terminal)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SWARMS_", "MICROWORKERS_"))}
    full_env.update({"NO_COLOR": "1", "PYTHONWARNINGS": "error"})
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "campaignctl", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in result.text, result.text
    assert CANARY not in result.text
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    key: str
    process: subprocess.Popen[bytes]

    @property
    def admin(self) -> dict[str, str]:
        """The headers of a call to the admin routes (``/_sandbox/...``): the sandbox's key."""
        return {"X-Sandbox-Key": self.key}

    def stats(self) -> dict[str, dict[str, int]]:
        return httpx.get(f"{self.url}/_sandbox/stats", headers=self.admin).json()


def start_server(tmp: Path, *extra: str, key: str = CANARY) -> Server:
    port = free_port()
    env = {**os.environ, "CAMPAIGNCTL_SANDBOX_KEY": key}
    proc = subprocess.Popen(
        [sys.executable, "-m", "campaignctl", "sandbox", "serve", "--port", str(port), "--db", str(tmp / "served.db"), *extra],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_sandbox/stats", timeout=1)
            return Server(url, key, proc)
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "sandbox died") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("sandbox did not start")


def stop_server(server: Server) -> str:
    """Stop the server; returns what it wrote on stderr."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        server.process.kill()
        server.process.wait()
    err = ""
    if server.process.stderr:
        err = server.process.stderr.read().decode(errors="replace")
        server.process.stderr.close()
    return err


def copy_example(name: str, dest: Path, *, to: Path | None = None) -> Path:
    """Copy ``examples/<name>`` to ``dest/<name>`` (or exactly to ``to``) and return the copy.

    The example's ``.campaignctl/`` (the sandbox database and state a README command such as the
    quickstart leaves in the clone) is never copied: every test starts from the example as written,
    whatever was run in the checkout before. Every test copies an example through this function."""
    target = to if to is not None else dest / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns(".campaignctl"))
    return target


def point_at_server(config: Path, server: Server, provider_type: str = "swarms", env_var: str = "SWARMS_TOKEN") -> dict[str, str]:
    """Rewrite the Provider documents of ``provider_type`` to use the served sandbox; returns the env."""
    prefix = PLATFORMS[provider_type].prefix
    for file in config.rglob("*.yaml"):
        text = file.read_text()
        if f"type: {provider_type}\n" in text and "endpoint: sandbox" in text:
            auth_key = "tokenEnv" if provider_type == "swarms" else "apiKeyEnv"
            text = text.replace("endpoint: sandbox", f"endpoint: {server.url}{prefix}\n  auth: {{{auth_key}: {env_var}}}")
            file.write_text(text)
    return {env_var: server.key}


def assert_no_canary(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file() and file.suffix != ".db":
            assert CANARY not in file.read_text(errors="replace"), file


def edit_file(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in ``path`` (which must contain it) by ``new``."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def changed_addresses(plan_text: str) -> list[str]:
    """The addresses a text plan lists as changing, in plan order."""
    return re.findall(r"^\s*(?:\+|~|-|-/\+|\+/-) (\S+/\S+/\S+)\s", plan_text, flags=re.MULTILINE)


# -- a provider against the embedded sandbox, in-process (tests/platforms) ---------------------
#: a Microworkers v1 Provider on the embedded sandbox and a basic campaign of it (no ``state``)
MW1_PROVIDER = "kind: Provider\nname: mw1\nspec: {type: microworkers-v1, endpoint: sandbox}\n"
MW1_BASIC = """kind: Campaign
name: signup
provider: mw1
spec:
  type: basic
  title: Sign up
  zone: int
  category: "1001"
  available_positions: 40
  payment_per_task: 0.2
  speed: 100
  minutes_to_finish: 10
  ttr: 7
  required_work: Do it
  required_proof: Username
  auto_rate: "NO"
  file_proof: 0
"""


def write_config(root: Path, *docs: str) -> Path:
    """A config repo of one file, ``root/c.yaml``, holding ``docs``; returns ``root``."""
    (root / "c.yaml").write_text("---\n".join(docs))
    return root


def edit_config(root: Path, old: str, new: str) -> None:
    """:func:`edit_file` on ``root/c.yaml``."""
    edit_file(root / "c.yaml", old, new)


def plan_config(root: Path) -> Plan:
    return asyncio.run(Session.load(root).plan())


def apply_config(root: Path) -> ApplyResult:
    """Plan and apply ``root``'s config in-process: no plan error, every operation done, nothing pending."""
    session = Session.load(root)
    plan = asyncio.run(session.plan())
    assert not plan.errors, plan.errors
    result, check = asyncio.run(session.apply(plan, progress=False))
    assert result.ok, result.failed
    assert check is None or not check.pending, [c.address for c in check.pending]
    return result


def embedded_sandbox_of(root: Path) -> Sandbox:
    """The embedded sandbox behind ``root``'s ``endpoint: sandbox`` providers (looked up when called,
    so a test's monkeypatched ``embedded.embedded_app`` is the one asked)."""
    sandbox: Sandbox = embedded.embedded_app(root).state.sandbox
    return sandbox


# -- the executor's fakes (campaignctl.apply) -------------------------------------------------
class FakeProvider(Provider):
    """Records every call; fails the op ids in ``fail``; a create returns ``id-<name>``."""

    type = "fake"
    kinds = ("Task", "Job", "Campaign")
    sandbox_prefix = "/fake"
    calls: list[Operation]
    events: list[tuple[str, str]]
    in_flight: int
    peak: int
    fail: dict[str, Exception]
    delays: dict[str, float]

    async def execute(self, op: Operation) -> ExecResult:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.events.append(("start", op.id))
        self.calls.append(op)
        try:
            await asyncio.sleep(self.delays.get(op.id, 0.005))
            if op.id in self.fail:
                raise self.fail[op.id]
        finally:
            self.in_flight -= 1
            self.events.append(("end", op.id))
        return ExecResult(id=f"id-{op.address.rsplit('/', 1)[-1]}" if op.records == "create" else None)


def fake_provider(fail: dict[str, Exception] | None = None, delays: dict[str, float] | None = None) -> FakeProvider:
    doc = Document("Provider", "fake", None, {"type": "fake", "endpoint": "sandbox"}, MarkedDict(), "providers.yaml")
    provider = FakeProvider(doc, Path("."), env={})
    provider.calls = []
    provider.events = []
    provider.in_flight = 0
    provider.peak = 0
    provider.fail = fail or {}
    provider.delays = delays or {}
    return provider


class MemoryBackend:
    """The two writes execute_plan makes, kept in a list."""

    def __init__(self) -> None:
        self.journal: list[tuple[str, dict[str, Any] | None]] = []
        self.committed: list[State] = []

    def record(self, address: str, entry: dict[str, Any] | None) -> None:
        self.journal.append((address, None if entry is None else dict(entry)))

    def commit(self, state: State) -> None:
        self.committed.append(state)


def addr(name: str, kind: str = "task") -> str:
    return f"fake/{kind}/{name}"


def op(name: str, action: str = "create", *, after: Sequence[str] = (), kind: str = "task", **kwargs: Any) -> Operation:
    address = addr(name, kind)
    return Operation(f"{address}#{action}", address, "fake", action, f"{action.upper()} /{kind}s", after=list(after), **kwargs)


def oid(name: str, action: str = "create", kind: str = "task") -> str:
    return f"{addr(name, kind)}#{action}"


def change(name: str, actions: list[str], after: dict[str, Any] | None, kind: str = "task", protect: bool = False) -> ResourceChange:
    return ResourceChange(addr(name, kind), "fake", kind.capitalize(), name, actions, after=after, protect=protect)


# -- the PostgreSQL test cluster --------------------------------------------------------------
PG_SCRIPT = ROOT / ".ci" / "postgres.sh"


def pg_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI for the postgres state backend's tests: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL for the postgres state backend's tests: {reason}")


def pg_password(dsn: str) -> str:
    import psycopg

    return str(psycopg.conninfo.conninfo_to_dict(dsn).get("password") or "")


# -- a SWARMS repo and its live objects, over the served sandbox -------------------------------
def write_repo(root: Path, server: Server, campaigns: int, *, extra: str = "") -> dict[str, str]:
    """``campaigns`` unpublished SWARMS campaigns with one job of one task each."""
    root.mkdir(parents=True, exist_ok=True)
    docs = [f"kind: Provider\nname: swarms\nspec: {{type: swarms, endpoint: {server.url}/swarms, auth: {{tokenEnv: SWARMS_TOKEN}}}}\n"]
    for c in range(campaigns):
        docs.append(
            f"kind: Task\nname: t{c}\nprovider: swarms\nspec:\n  components:\n"
            f"    - {{type: Text, properties: {{text: 'Item {c}', style: Question}}}}\n"
        )
        docs.append(f"kind: Job\nname: j{c}\nprovider: swarms\nspec: {{tasks: [t{c}]}}\n")
        docs.append(
            f"kind: Campaign\nname: c{c}\nprovider: swarms\nspec:\n  title: Campaign {c}\n"
            f"  description: Batch {c}\n  workerPayment: 0.02\n  results: 1\n  jobs: [j{c}]\n"
        )
    (root / "repo.yaml").write_text("---\n".join(docs) + extra)
    return {"SWARMS_TOKEN": server.key}


def remove_campaigns(root: Path, names: list[str]) -> None:
    docs = (root / "repo.yaml").read_text().split("---\n")
    keep = [d for d in docs if not any(f"\nname: {n}\n" in "\n" + d for n in names)]
    (root / "repo.yaml").write_text("---\n".join(keep))


def swarms_api(server: Server) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/swarms", headers={"X-Auth-Token": server.key, "X-API-Version": "1.0"})


def remote_id(root: Path, address: str) -> int:
    state = json.loads((root / ".campaignctl" / "state.json").read_text())
    return int(state["resources"][address]["id"])


def edit_live(server: Server, path: str, **changes: object) -> None:
    """What a colleague does in the platform's UI: GET, modify, PUT."""
    with swarms_api(server) as api:
        body = api.get(path).json()
        body.update(changes)
        assert api.put(path, json=body).status_code == 200


# -- forEach: a family of tasks from a rows file (tests/e2e/test_foreach_cli.py, tests/config/test_foreach.py)
FOREACH_PROVIDER = """kind: Provider
name: swarms
spec: {type: swarms, endpoint: sandbox}
---
kind: Component
name: five-stars
spec: {type: Rating, properties: {steps: 5, halfSteps: false}}
"""

FOREACH_FAMILY = """kind: Task
name: rate-photo
provider: swarms
forEach: {file: data/photos.csv, key: id}
spec:
  components:
    - {type: Text, properties: {text: "How good is photo {{ row.id }}?", style: Question}}
    - {type: Image, properties: {url: "{{ row.url }}"}}
    - use: five-stars
"""

FOREACH_JOB = """kind: Job
name: photo-batch
provider: swarms
spec: {description: All photos, tasks: [rate-photo]}
"""


def write_foreach_config(tmp_path: Path, rows: int, *docs: str) -> Path:
    config = tmp_path / "repo"
    (config / "data").mkdir(parents=True)
    (config / "main.yaml").write_text("---\n".join([FOREACH_PROVIDER, *docs]))
    lines = ["id,url", *(f"p{i:04d},https://example.org/{i}.jpg" for i in range(1, rows + 1))]
    (config / "data" / "photos.csv").write_text("\n".join(lines) + "\n")
    return config


def missing_places(package: str, where: str) -> list[str]:
    """What a sandbox guess's ``where`` (``"module:name, name; module:name"``, modules of ``package``,
    a name may be ``Class.method`` or ``function.inner_function``; ``module docstring`` names the
    module's own docstring) names that
    does not exist, or is not defined in that module (only imported there)."""
    import importlib

    missing = []
    for place in where.split(";"):
        module, sep, names = place.strip().partition(":")
        try:
            found = importlib.import_module(f"{package}.{module}")
        except ImportError:
            missing.append(f"{package}.{module}: no such module")
            continue
        if not sep or not names.strip():
            missing.append(f"{place.strip()!r}: module:name expected")
            continue
        for name in (n.strip() for n in names.split(",")):
            if name == "module docstring":
                if not found.__doc__:
                    missing.append(f"{found.__name__}: no docstring")
                continue
            target: Any = found
            for part in name.split("."):
                code = getattr(target, "__code__", None)
                if code is not None:  # a function: ``outer.inner`` names a function defined in it
                    target = next((c for c in code.co_consts if getattr(c, "co_name", None) == part), None)
                else:
                    target = getattr(target, part, None)
            home = getattr(getattr(found, name.split(".")[0], None), "__module__", found.__name__)
            if target is None or home != found.__name__:
                missing.append(f"{found.__name__}:{name}" + (f" (defined in {home})" if target is not None else ""))
    return missing


def write_survey_rows(config: Path, count: int, brand: str = "Brand") -> None:
    """``data/rows.csv`` of the microworkers-survey example with ``count`` rows ``site0000``..."""
    with (config / "data" / "rows.csv").open("w") as fh:
        fh.write("id,url,brand\n")
        fh.writelines(f"site{i:04d},https://site{i:04d}.example.com/,{brand} {i}\n" for i in range(count))


def survey_rows_table(tmp_path: Path, count: int) -> tuple[Path, Any]:
    """A copy of the microworkers-survey example with ``count`` task rows, and its campaign's
    :class:`RowTable`."""
    from campaignctl.platforms.microworkers.rows import RowTable, load_rows
    from campaignctl.validation import load_config

    config = copy_example("microworkers-survey", tmp_path)
    write_survey_rows(config, count)
    campaign = next(d for d in load_config(config).documents if d.kind == "Campaign" and d.spec.get("tasks"))
    rows = load_rows(campaign, config)
    assert rows is not None and not rows.diags and isinstance(rows.rows, RowTable)
    return config, rows.rows
