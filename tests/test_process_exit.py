"""How a command's process ends (campaignctl.cli.main): as Python's does, by SystemExit with the
command's code (issue 22: no ``os._exit`` shortcut, which skipped finalizers and ``finally``
blocks to save ~50 ms), its whole output flushed and what atexit holds run. Each case runs in a
fresh interpreter, as the console script does."""
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
atexit.register(lambda: print("atexit ran"))
sys.argv = ["campaignctl", *sys.argv[1:]]
try:
    cli.main()
except SystemExit as exc:
    print(f"SystemExit({exc.code!r})")
    raise
finally:
    print("finally ran")
"""
ENDING = "finally ran\natexit ran"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # output to a pipe is buffered
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, check=False)  # fmt: skip


def test_a_plan_ends_with_its_code_its_whole_output_and_the_atexit_handlers(tmp_path: Path) -> None:
    repo = tmp_path / "quickstart"
    copy_example("quickstart", tmp_path, to=repo)
    done = run("plan", "--detailed-exitcode", str(repo), cwd=tmp_path)
    assert done.returncode == 2, done.stderr  # changes pending
    body, _, ending = done.stdout.rstrip("\n").partition("\nSystemExit(2)\n")
    assert "Plan: " in body and ending == ENDING
    assert "Traceback" not in done.stderr

    applied = run("apply", "--auto-approve", str(repo), cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.endswith("SystemExit(0)\n" + ENDING + "\n")
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
    assert done.stdout == "SystemExit(1)\n" + ENDING + "\n"
