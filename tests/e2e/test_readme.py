"""The README's command blocks, run as written and in the order shown, do what the README says.

The first block's command 1 is also run verbatim by ``.ci/run`` before the suite; here each
block runs in a copy of the examples (``copy_example``), so the checkout is never touched."""
from __future__ import annotations

import csv
import re
import shlex
import uuid
from pathlib import Path

from tests.helpers import ROOT, copy_example, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", README, flags=re.DOTALL | re.MULTILINE)


def block_after(heading: str, lang: str) -> str:
    """The first ``lang`` block under the README heading ``heading``."""
    section = README.split(f"\n{heading}\n", 1)[1]
    return re.search(rf"^```{lang}\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE).group(1)  # type: ignore[union-attr]


def commands(block: str) -> list[list[str]]:
    """Each line of a sh block as argv, comments dropped."""
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip() and not line.startswith("#")]


def run_line(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    assert argv[0] == "campaignctl", argv
    done = run_cli(*argv[1:], cwd=cwd, env=env)
    assert done.code == 0, (argv, done.text)
    return done.text


def test_command_1_is_the_quickstart_and_converges(tmp_path: Path) -> None:
    first = blocks("sh")[0]
    line = next(text for text in first.splitlines() if text and not text.startswith("#"))
    install, *steps = [part.strip() for part in line.split("&&")]
    assert install == "python3 -m pip install -e ."
    copy_example("quickstart", tmp_path / "examples")
    outputs = [run_line(shlex.split(step), tmp_path) for step in steps[:-1]]
    assert "Plan: " in outputs[0] and "to create" in outputs[0]
    last = shlex.split(steps[-1])
    assert last[-1] == "--detailed-exitcode"
    assert run_cli(*last[1:], cwd=tmp_path).code == 0  # applied: no changes pending


def test_the_results_block_runs_in_order(tmp_path: Path) -> None:
    copy_example("microworkers-legacy", tmp_path / "examples")
    # the ratings file the README shows under the commands
    (tmp_path / "ratings.csv").write_text(block_after("## Results: export and rate", "csv"), encoding="utf-8")
    for argv in commands(block_after("## Results: export and rate", "sh")):
        run_line(argv, tmp_path)
    with (tmp_path / "work.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == 50  # --count 50
    with (tmp_path / "outcome.csv").open(encoding="utf-8") as f:
        outcome = list(csv.DictReader(f))
    assert [row["outcome"] for row in outcome] == ["rated"] * 3  # so the --dry-run before sent none of them
    export = run_cli("results", "export", "app-signup", "--dir", "examples/microworkers-legacy", "--format", "jsonl",
                     "--state", "pending", cwd=tmp_path)  # fmt: skip
    assert export.code == 0 and export.out.strip() == ""  # approve-all left nothing waiting


def test_the_postgres_block_moves_the_state_and_keeps_workspaces_apart(tmp_path: Path, pg_dsn: str) -> None:
    config = copy_example("quickstart", tmp_path)
    assert run_cli("apply", "--auto-approve", cwd=config).code == 0  # a local state to migrate
    workspace = f"readme-{uuid.uuid4().hex[:10]}"
    backend = block_after("## Team state on PostgreSQL", "yaml").replace("workspace: prod", f"workspace: {workspace}")
    (config / "backend.yaml").write_text(backend, encoding="utf-8")
    lines = commands(block_after("## Team state on PostgreSQL", "sh"))
    assert lines[0][:3] == ["python3", "-m", "pip"] and lines[1][0] == "export"
    env = {"CAMPAIGNCTL_PG_DSN": pg_dsn}
    said = [run_line(argv, config, env) for argv in lines[2:]]
    assert "No changes" in said[1]  # the migrated state is the applied one
    # staging: another state, empty, so the live objects are found by their address markers and
    # adopted into it (recorded in state only), never created again
    assert "Plan: 0 to create" in said[2] and "(state only)" in said[2]


def test_the_plan_shown_is_what_plan_prints(tmp_path: Path) -> None:
    """"What a plan shows": the survey example, applied, then its template's last question reworded
    and its campaign's payment raised, as the README says; remote ids aside, the plan is the one shown."""
    section = README.split("\n### What a plan shows\n", 1)[1]
    shown = re.search(r"^```\n(.*?)^```$", section, flags=re.S | re.M).group(1)  # type: ignore[union-attr]
    config = copy_example("microworkers-survey", tmp_path)
    assert run_cli("apply", config, "--auto-approve").code == 0
    template, campaigns = config / "templates.yaml", config / "campaigns.yaml"
    template.write_text(template.read_text().replace(
        '<label>Your first impression <textarea name="impression"></textarea></label>',
        '<label>Your first impression, in one sentence <textarea name="impression" required></textarea></label>', 1))
    campaigns.write_text(campaigns.read_text().replace("paymentPerTask: 0.12", "paymentPerTask: 0.15", 1))
    printed = run_cli("plan", config).out

    def ids(text: str) -> str:
        return re.sub(r"\b(T?)[0-9a-f]{12,}\b", r"\1<id>", text)

    assert ids(printed) == ids(shown)


REVIEW_HEADING = "### Review as code: rules, gold answers, aggregation"


def test_the_review_section_runs_and_shows_the_plan_it_prints(tmp_path: Path) -> None:
    config = copy_example("microworkers-legacy", tmp_path / "examples")
    (config / "review.yaml").write_text(block_after(REVIEW_HEADING, "yaml"), encoding="utf-8")
    (config / "data").mkdir()
    gold = "task,field,answer\n*,proof_1,Signed up as worker42\n"  # as the section says
    (config / "data" / "gold.csv").write_text(gold, encoding="utf-8")
    (tmp_path / "truth.csv").write_text(gold, encoding="utf-8")
    assert run_cli("apply", str(config), "--auto-approve", cwd=tmp_path).code == 0
    lines = commands(block_after(REVIEW_HEADING, "sh"))
    said = [run_line(argv, tmp_path) for argv in lines]
    shown = block_after(REVIEW_HEADING, "text")
    assert said[1].startswith(shown), said[1]  # the dry run: the plan as the README shows it
    assert said[2].startswith(shown) and "Outcome: 12 rated, 0 skipped, 0 failed." in said[2]
    with (tmp_path / "labels.csv").open(encoding="utf-8") as f:
        assert [r["task"] for r in csv.DictReader(f)] == ["*"]
    assert "39e62406" in said[4] and "gold acc." in said[4]
    again = run_cli(*lines[2][1:], cwd=tmp_path)
    assert again.code == 0 and "Nothing to send" in again.err
