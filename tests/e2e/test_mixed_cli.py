"""One repo with several providers plans and applies them all in one run."""
from __future__ import annotations

from pathlib import Path

from tests.helpers import EXAMPLES, copy_example, run_cli

MIXED = ("quickstart", "microworkers-survey", "microworkers-legacy")


def test_mixed_repo_plans_and_applies_every_provider(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    present = [name for name in MIXED if (EXAMPLES / name).is_dir()]
    for name in present:
        copy_example(name, repo)
    assert run_cli("validate", repo).code == 0
    plan = run_cli("plan", repo, "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "+ swarms/campaign/image-rating" in plan.out
    assert "+ mw/campaign/website-survey" in plan.out
    applied = run_cli("apply", repo, "--auto-approve")
    assert applied.code == 0, applied.text
    again = run_cli("plan", repo, "--detailed-exitcode")
    assert again.code == 0, again.text
