"""One CLI grammar (issue 23, point 4), through the real CLI on the embedded sandbox: every
command takes the config as PATH (``--dir`` stays as an alias), the root's options also work after
the subcommand, ``--color`` keeps colour through a pipe, and ``sandbox serve`` run for a config
serves that config's embedded database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import copy_example, edit_file, free_port, run_cli


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    path = copy_example("quickstart", tmp_path)
    assert run_cli("apply", path, "--auto-approve").code == 0
    return path


def test_every_command_takes_the_config_as_path_and_dir_stays_an_alias(applied: Path, tmp_path: Path) -> None:
    listed = run_cli("state", "list", applied)
    assert listed.code == 0 and "swarms/campaign/image-rating\t" in listed.out, listed.text
    assert run_cli("state", "list", "--dir", applied).out == listed.out
    shown = run_cli("state", "show", "swarms/campaign/image-rating", applied)
    assert shown.code == 0 and json.loads(shown.out)["id"], shown.text
    moved = run_cli("state", "mv", "swarms/task/rate-beach", "swarms/task/beach", applied)
    assert moved.code == 0 and "swarms/task/beach\t" in run_cli("state", "list", applied).out, moved.text
    assert run_cli("state", "rm", "swarms/task/beach", applied).code == 0
    assert run_cli("sandbox", "submit", "image-rating", applied, "--count", "3").code == 0
    exported = run_cli("results", "export", "image-rating", applied)
    assert exported.code == 0 and len(exported.out.splitlines()) == 3, exported.text
    unlock = run_cli("force-unlock", "no-such-lock", applied)
    assert unlock.code == 1 and "Traceback" not in unlock.err and "Got unexpected extra argument" not in unlock.err
    # PATH and --dir that disagree: a usage error, nothing done
    other = copy_example("microworkers-legacy", tmp_path)
    both = run_cli("state", "list", applied, "--dir", other)
    assert both.code == 1 and "give one of them" in both.err and not both.out


def test_global_options_after_the_subcommand(applied: Path) -> None:
    no_color = run_cli("plan", applied, "--no-color")
    assert no_color.code == 0 and "No changes" in no_color.out, no_color.text
    verbose = run_cli("plan", applied, "-v")
    assert verbose.code == 0 and "INFO campaignctl" in verbose.err, verbose.text
    assert "DEBUG" in run_cli("status", applied, "-vv").err
    edit_file(applied / "campaign.yaml", "results: 3", "results: 4")
    for argv in (("plan", applied, "--color"), ("--color", "plan", applied)):
        coloured = run_cli(*argv)  # a pipe, and NO_COLOR set by run_cli: --color wins
        assert coloured.code == 0 and "\x1b[" in coloured.out, coloured.text
    plain = run_cli("plan", applied)
    assert "\x1b[" not in plain.out
    assert "\x1b[" not in run_cli("--color", "plan", applied, "--no-color").out


def test_sandbox_serve_for_a_config_serves_its_embedded_database(applied: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "campaignctl", "sandbox", "serve", "--port", str(port)],
        cwd=applied, env={**os.environ, "CAMPAIGNCTL_SANDBOX_KEY": "sandbox-key"},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/swarms/campaigns"
        headers = {"X-Auth-Token": "sandbox-key", "X-API-Version": "1.0"}
        deadline = time.monotonic() + 20
        while True:
            try:
                body = httpx.get(url, headers=headers, timeout=2).json()
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.1)
        assert [c["name"] for c in body["campaigns"]] == ["image-rating"], body
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()
    assert not (applied / ".campaignctl" / "sandbox-serve.db").exists()
