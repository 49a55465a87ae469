"""Shared fixtures: the real CLI as a subprocess, and the sandbox served on loopback."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

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


@pytest.fixture(scope="session", autouse=True)
def validation_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The validation cache of every test (and the CLIs they start) in a temporary directory, not in
    the user's ~/.cache."""
    directory = tmp_path_factory.mktemp("validation-cache")
    before = os.environ.get("CAMPAIGNCTL_CACHE_DIR")
    os.environ["CAMPAIGNCTL_CACHE_DIR"] = str(directory)
    yield directory
    if before is None:
        del os.environ["CAMPAIGNCTL_CACHE_DIR"]
    else:
        os.environ["CAMPAIGNCTL_CACHE_DIR"] = before


@pytest.fixture
def sandbox_server(tmp_path: Path) -> Iterator[Server]:
    server = start_server(tmp_path)
    yield server
    stop_server(server)


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
    from campaignctl.sandbox.app import PREFIXES

    prefix = PREFIXES[provider_type]
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
