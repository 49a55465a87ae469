"""Plans a reviewer can trust (issue 21: findings 1, 6, 10), through the real CLI against the sandbox:
every changed value in full (a template edit, a new task's components, drift), ``show`` of a saved
plan, and the task rows a plan adds (and ``results export`` joining them to submissions)."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from tests.helpers import (
    Server,
    copy_example,
    edit_file,
    edit_live,
    remote_id,
    run_cli,
    write_repo,
)

LAST_LINE = '<label>Your first impression <textarea name="impression"></textarea></label>'
NEW_LAST_LINE = '<label>Your first impression of {{brand}}, in a sentence or two <textarea name="impression" required></textarea></label>'


def _survey(tmp_path: Path) -> Path:
    config = copy_example("microworkers-survey", tmp_path)
    assert run_cli("apply", config, "--auto-approve").code == 0
    return config


def test_template_edit_at_the_end_shows_the_changed_line_in_full(tmp_path: Path) -> None:
    config = _survey(tmp_path)
    edit_file(config / "templates.yaml", LAST_LINE, NEW_LAST_LINE)
    plan = run_cli("plan", config, "--detailed-exitcode")
    assert plan.code == 2, plan.text
    out = plan.out
    assert "~ htmlCode: (6 -> 6 lines)" in out
    # the changed line, old and new, whole; the start of the template is unchanged, so it is hidden
    assert f"- {LAST_LINE}\n" in out and f"+ {NEW_LAST_LINE}\n" in out
    assert "# 2 unchanged line(s) hidden" in out
    assert "<h3>Visit {{url}}</h3>" not in out
    assert "..." not in out

    markdown = run_cli("plan", config, "--format", "markdown").out
    block = re.search(r"```diff\n(.*?)\n```", markdown, flags=re.DOTALL)
    assert block is not None
    assert f"-     {LAST_LINE}" in block.group(1) and f"+     {NEW_LAST_LINE}" in block.group(1)

    # apply's confirmation shows the same plan
    applied = run_cli("apply", config, "--auto-approve")
    assert applied.code == 0, applied.text
    assert f"+ {NEW_LAST_LINE}\n" in applied.out


def test_new_task_components_are_nested_fields(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)
    long_hint = "A dog on a beach, " + "with the sea behind it and people far away, " * 4 + "at sunset."
    edit_file(config / "tasks.yaml", 'hint: "A dog on a beach..."', f'hint: "{long_hint}"')
    plan = run_cli("plan", config)
    assert plan.code == 0, plan.text
    block = plan.out[plan.out.index("swarms/task/describe-photo  create"):]
    block = block[: block.index("\n\n")]
    assert '+ components[0].type: "Text"' in block
    assert '+ components[0].properties.text: "Describe what you see in one sentence."' in block
    assert '+ components[1].properties.url: "https://example.org/photos/city.jpg"' in block
    assert f'+ components[2].properties.hint: "{long_hint}"' in block
    assert '+ components[3].properties.checkedByDefault: false' in block
    assert "{" not in block  # no JSON blob

    markdown = run_cli("plan", config, "--format", "markdown").out
    assert f'+ components[2].properties.hint: "{long_hint}"' in markdown


def test_drift_of_a_long_value_in_full(tmp_path: Path, sandbox_server: Server) -> None:
    root = tmp_path / "repo"
    env = write_repo(root, sandbox_server, 1)
    assert run_cli("apply", root, "--auto-approve", env=env).code == 0
    tail = "and the last sentence that a reviewer must see, at character " + "x" * 300 + " (the end)"
    edited = "Batch 0\nA second line written in the platform's UI.\n" + tail
    edit_live(sandbox_server, f"/campaigns/{remote_id(root, 'swarms/campaign/c0')}", description=edited)

    drift = run_cli("drift", root, "--detailed-exitcode", env=env)
    assert drift.code == 2, drift.text
    assert "~ description: (1 -> 3 lines)" in drift.out
    assert "- Batch 0" not in drift.out  # the first line did not change
    assert "+ A second line written in the platform's UI." in drift.out and f"+ {tail}\n" in drift.out

    plan = run_cli("plan", root, env=env)
    drifted = plan.out[: plan.out.index("will perform")]
    assert f"+ {tail}\n" in drifted
    assert f"- {tail}\n" in plan.out[plan.out.index("will perform"):]  # the plan puts the config's text back

    markdown = run_cli("plan", root, "--format", "markdown", env=env).out
    details = markdown[markdown.index("### Drift in full"):]
    assert f"+     {tail}\n" in details


def test_show_a_saved_plan_offline(tmp_path: Path) -> None:
    config = _survey(tmp_path)
    edit_file(config / "templates.yaml", LAST_LINE, NEW_LAST_LINE)
    edit_file(config / "campaigns.yaml", "speed: 500", "speed: 400")
    saved = tmp_path / "plan.json"
    printed = {}
    for fmt in ("text", "json", "markdown"):
        result = run_cli("plan", config, "--format", fmt, "-out", saved)
        assert result.code == 0, result.text
        printed[fmt] = (result.out, saved.read_text())

    # offline: without the config (so without its sandbox) and from another directory
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (config / "providers.yaml").unlink()
    (config / ".campaignctl" / "sandbox.db").unlink()
    for fmt, (out, plan_file) in printed.items():
        saved.write_text(plan_file)
        shown = run_cli("show", saved, "--format", fmt, cwd=elsewhere)
        assert shown.code == 0, shown.text
        assert shown.out == out, fmt
    assert not (config / ".campaignctl" / "sandbox.db").exists()
    text = run_cli("show", saved, cwd=elsewhere).out
    assert "~ speed: 500 -> 400" in text and f"+ {NEW_LAST_LINE}" in text
    assert json.loads(run_cli("show", saved, "--format", "json").out)["format_version"] == "1.1"

    garbage = tmp_path / "not-a-plan.json"
    garbage.write_text("[1, 2]")
    bad = run_cli("show", garbage)
    assert bad.code == 1 and "is not a saved campaignctl plan" in bad.err and not bad.out
    missing = run_cli("show", tmp_path / "nope.json")
    assert missing.code != 0 and "does not exist" in missing.err
    usage = run_cli("show", "--help").out
    assert "Usage: campaignctl show [OPTIONS] PLANFILE" in usage and "[text|json|markdown]" in usage and "Offline" in usage
    assert re.search(r"^  show\s+Show a plan saved with", run_cli("--help").out, flags=re.MULTILINE)


def test_rows_added_show_in_the_plan_and_export_joins_rows(tmp_path: Path) -> None:
    config = copy_example("microworkers-survey", tmp_path)
    new = run_cli("plan", config).out  # a new campaign: the rows it uploads
    block = new[new.index("mw/campaign/website-survey  create"):]
    assert '+ title: "First impression of a company website"' in block
    assert '+ tasks.rows[site001]: url="https://acme.example.com/", brand="Acme"' in block
    assert "# ... and 10 more task rows" in block
    assert run_cli("apply", config, "--auto-approve").code == 0

    with (config / "data" / "rows.csv").open("a") as f:
        for i in range(31, 56):
            f.write(f"site{i:03d},https://extra{i}.example.com/,Extra {i}\n")
    plan = run_cli("plan", config)
    assert plan.code == 0, plan.text
    assert "~ tasks.count: 30 -> 55" in plan.out
    assert "tasks.digest" not in plan.out
    shown = re.findall(r"^\s+\+ tasks\.rows\[(site\d+)\]: (.*)$", plan.out, flags=re.MULTILINE)
    assert [i for i, _ in shown] == [f"site{i:03d}" for i in range(31, 51)]  # the first 20, in file order
    assert shown[0][1] == 'url="https://extra31.example.com/", brand="Extra 31"'
    assert "# ... and 5 more task rows" in plan.out

    doc = json.loads(run_cli("plan", config, "--format", "json").out)
    survey = next(c for c in doc["resource_changes"] if c["address"] == "mw/campaign/website-survey")
    rows = [f for f in survey["fields"] if f["path"].startswith("tasks.rows[")]
    assert len(rows) == 25 and rows[-1] == {
        "path": "tasks.rows[site055]", "before": None, "after": {"url": "https://extra55.example.com/", "brand": "Extra 55"}, "how": "update",
    }
    markdown = run_cli("plan", config, "--format", "markdown").out
    assert '+ tasks.rows[site031]: url="https://extra31.example.com/", brand="Extra 31"' in markdown
    assert run_cli("apply", config, "--auto-approve").code == 0

    # results export: each submission beside the columns of its task row
    assert run_cli("sandbox", "submit", "website-survey", "--dir", config, "--count", "40").code == 0
    out = tmp_path / "work.csv"
    assert run_cli("results", "export", "website-survey", "--dir", config, "-o", out).code == 0
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    rows_csv = {r["id"]: r for r in csv.DictReader(io.StringIO((config / "data" / "rows.csv").read_text()))}
    assert len(table) == 40
    header = list(table[0])
    assert header.index("row.url") < header.index("loads")
    for row in table:
        task = rows_csv[row["task_ids"]]
        assert (row["row.url"], row["row.brand"]) == (task["url"], task["brand"])
    assert {r["task_ids"] for r in table} & {f"site{i:03d}" for i in range(31, 56)}  # new rows too
