"""The README's "Review as code" section runs as written: its Review document, its commands in
order on a copy of the microworkers-legacy example, and the rating plan it shows is what
`results review` prints."""
from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import copy_example, run_cli
from tests.e2e.test_readme import block_after, commands, run_line

HEADING = "### Review as code: rules, gold answers, aggregation"


def test_the_review_section_runs_and_shows_the_plan_it_prints(tmp_path: Path) -> None:
    config = copy_example("microworkers-legacy", tmp_path / "examples")
    (config / "review.yaml").write_text(block_after(HEADING, "yaml"), encoding="utf-8")
    (config / "data").mkdir()
    gold = "task,field,answer\n*,proof_1,Signed up as worker42\n"  # as the section says
    (config / "data" / "gold.csv").write_text(gold, encoding="utf-8")
    (tmp_path / "truth.csv").write_text(gold, encoding="utf-8")
    assert run_cli("apply", str(config), "--auto-approve", cwd=tmp_path).code == 0
    lines = commands(block_after(HEADING, "sh"))
    said = [run_line(argv, tmp_path) for argv in lines]
    shown = block_after(HEADING, "text")
    assert said[1].startswith(shown), said[1]  # the dry run: the plan as the README shows it
    assert said[2].startswith(shown) and "Outcome: 12 rated, 0 skipped, 0 failed." in said[2]
    with (tmp_path / "labels.csv").open(encoding="utf-8") as f:
        assert [r["task"] for r in csv.DictReader(f)] == ["*"]
    assert "39e62406" in said[4] and "gold acc." in said[4]
    again = run_cli(*lines[2][1:], cwd=tmp_path)
    assert again.code == 0 and "Nothing to send" in again.err
