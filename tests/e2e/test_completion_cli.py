"""Shell completion (issue 23, point 8) through the real CLI: the script each shell sources, and
the completions of campaign names, state addresses and --target addresses from the config."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import copy_example, run_cli


def complete(cwd: Path, *words: str) -> list[str]:
    """What bash's completion function would offer after ``campaignctl WORDS`` (the last word is
    the one being completed)."""
    line = ["campaignctl", *words]
    done = run_cli(env={"COMP_WORDS": " ".join(line), "COMP_CWORD": str(len(line) - 1), "_CAMPAIGNCTL_COMPLETE": "bash_complete"}, cwd=cwd)
    assert done.code == 0, done.text
    return [item.split(",", 1)[1] for item in done.out.splitlines() if item]


def test_completes_campaigns_state_addresses_and_targets(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)
    assert complete(config, "results", "export", "") == ["image-rating", "swarms/campaign/image-rating"]
    assert complete(config, "state", "show", "") == []  # nothing applied yet: state is empty
    assert run_cli("apply", config, "--auto-approve").code == 0
    assert complete(config, "state", "rm", "swarms/task/rate") == ["swarms/task/rate-beach", "swarms/task/rate-forest"]
    assert complete(tmp_path, "plan", "quickstart", "--target", "swarms/j") == ["swarms/job/describe-batch-1", "swarms/job/rate-batch-1"]
    assert complete(tmp_path, "sandbox", "submit", "--dir", "quickstart", "im") == ["image-rating"]
    (tmp_path / "empty").mkdir()
    assert complete(tmp_path / "empty", "results", "export", "") == []  # no config: nothing, no error
    assert "status" in complete(config, "st")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_the_shell_loads(shell: str, tmp_path: Path) -> None:
    done = run_cli("completion", shell)
    assert done.code == 0 and "_CAMPAIGNCTL_COMPLETE" in done.out, done.text
    if shell == "bash" and shutil.which("bash"):
        script = tmp_path / "c.sh"
        script.write_text(done.out)
        loaded = subprocess.run(["bash", "-c", f"source {script} && complete -p campaignctl"], capture_output=True, text=True, check=False)
        assert loaded.returncode == 0 and "campaignctl" in loaded.stdout, loaded.stderr
