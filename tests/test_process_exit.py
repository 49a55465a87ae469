"""How a command's process ends (campaignctl.cli.main): after plan, drift and apply it ends without
freeing the config, state and plans object by object, and still runs what atexit holds, flushes
its output and exits with the command's code. Each case runs in a fresh interpreter, as the
console script does."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import copy_example

SCRIPT = """
import atexit, sys
from campaignctl import cli
# registered first, so it runs last, after logging's and the backends' handlers
atexit.register(lambda: print(f"atexit ran; objects kept: {len(cli._KEPT)}"))
sys.argv = ["campaignctl", *sys.argv[1:]]
cli.main()
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # output to a pipe is buffered
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, check=False)  # fmt: skip


def test_a_plan_ends_with_its_code_its_whole_output_and_the_atexit_handlers(tmp_path: Path) -> None:
    repo = tmp_path / "quickstart"
    copy_example("quickstart", tmp_path, to=repo)
    done = run("plan", "--detailed-exitcode", str(repo), cwd=tmp_path)
    assert done.returncode == 2, done.stderr  # changes pending
    body, _, last = done.stdout.rstrip("\n").rpartition("\n")
    assert "Plan: " in body and last.startswith("atexit ran; objects kept: ") and not last.endswith(": 0")
    assert "Traceback" not in done.stderr

    applied = run("apply", "--auto-approve", str(repo), cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.rstrip("\n").rpartition("\n")[2].startswith("atexit ran; objects kept: ")
    assert "Apply: " in applied.stderr  # the summary, written to stderr before the end

    again = run("plan", "--detailed-exitcode", str(repo), cwd=tmp_path)
    assert again.returncode == 0, again.stderr  # the state the apply wrote is whole
    assert "No changes." in again.stdout


def test_an_error_ends_the_process_as_before(tmp_path: Path) -> None:
    repo = tmp_path / "broken"
    repo.mkdir()
    (repo / "a.yaml").write_text("kind: Task\nname: t\nprovider: nowhere\nspec: {}\n")
    done = run("plan", str(repo), cwd=tmp_path)
    assert done.returncode == 1
    assert "problem(s) in the configuration" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == "atexit ran; objects kept: 0\n"  # nothing was loaded: the usual end
