"""A campaign of many task rows through the real CLI (issue 23, large data), at a small size: the
plan lists the first 1,000 rows and counts the rest, naming their data file; the saved plan names
the file in place of the rows; apply reads the rows from the file, 10,000 a call, and refuses a
file that changed since the plan. The 1,000,000-row figures are in ``benchmarks/large_data.py``."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from campaignctl import schemas
from campaignctl.sandbox.store import Store
from tests.helpers import copy_example, edit_file, run_cli

SURVEY = "mw/campaign/website-survey"
ROWS = 10_050  # past one call's 10,000 rows and a plan's 1,000 listed ones


def _write_rows(config: Path, count: int, first: int = 0, mode: str = "w") -> None:
    with (config / "data" / "rows.csv").open(mode) as fh:
        if mode == "w":
            fh.write("id,url,brand\n")
        fh.writelines(f"site{i:05d},https://site{i:05d}.example.com/,Brand {i}\n" for i in range(first, first + count))


def _uploaded(config: Path) -> int:
    """Task rows the sandbox holds (counted on its books, not by the client)."""
    store = Store(config / ".campaignctl" / "sandbox.db")
    try:
        return store.count("microworkers", "taskrow")
    finally:
        store.close()


def test_many_rows_plan_names_their_file_and_apply_reads_it(tmp_path: Path) -> None:
    config = copy_example("microworkers-survey", tmp_path)
    _write_rows(config, ROWS)
    sha = hashlib.sha256((config / "data" / "rows.csv").read_bytes()).hexdigest()

    # the plan, for people: 20 rows, then a count naming the file
    text = run_cli("plan", config)
    assert text.code == 0, text.text
    assert '+ tasks.rows[site00000]: url="https://site00000.example.com/", brand="Brand 0"' in text.out
    assert (f"# ... and {ROWS - 20} more task rows (980 in --format json and the saved plan, {ROWS - 1000} listed nowhere: "
            f"the rows of ") in text.out and f"rows.csv (sha256 {sha[:16]}), which apply reads again" in text.out
    assert "POST /basic-campaigns (10000 of 10050 rows)  (1290.00 USD)" in text.out
    assert "POST /basic-campaigns/{id}/tasks-groups +50 positions (50 new rows from row 10001)  (6.45 USD)" in text.out
    assert "+ tasks.count: 10050" in text.out

    # the JSON plan: 1,000 rows listed, the rest counted; the calls name the file, not the rows
    doc = json.loads(run_cli("plan", config, "--format", "json").out)
    assert not [e.message for e in schemas.validator("plan.json").iter_errors(doc)]
    survey = next(c for c in doc["resource_changes"] if c["address"] == SURVEY)
    listed = [f for f in survey["fields"] if f["path"].startswith("tasks.rows[")]
    assert len(listed) == 1000 and listed[999]["path"] == "tasks.rows[site00999]"
    assert survey["fields"][-1] == {"path": "tasks.rows", "before": None, "how": "update",
                                    "after": {"more": ROWS - 1000, "file": survey["fields"][-1]["after"]["file"], "sha256": sha}}
    create, more = (o for o in doc["operations"] if o["address"] == SURVEY)
    named = {"file": "data/rows.csv", "sha256": sha, "count": ROWS}
    assert {k: create["payload"]["rows"][k] for k in named} == named and create["payload"]["rows"]["ranges"] == [[0, 10_000]]
    assert "tasks" not in create["payload"]["body"] and create["payload"]["body"]["availablePositions"] == 10_000
    assert more["id"] == f"{SURVEY}#add-positions@rows-10001" and more["payload"]["rows"]["ranges"] == [[10_000, ROWS]]
    assert more["payload"]["expect"] == {"availablePositions": ROWS}
    assert survey["cost"] == round(ROWS * 0.12 * 1.075, 2)  # every row's position, across both calls

    # a saved plan whose data file changed (the same ids, one value) is refused: nothing is sent
    saved = tmp_path / "plan.json"
    assert run_cli("plan", config, "-out", saved).code == 0
    assert len(saved.read_text()) < 1_000_000  # the rows are named, not held
    original = (config / "data" / "rows.csv").read_text()
    edit_file(config / "data" / "rows.csv", "Brand 5000\n", "Brand five thousand\n")
    refused = run_cli("apply", saved)
    assert refused.code == 1 and "data/rows.csv (edited)" in refused.err and "run plan again" in refused.err
    assert _uploaded(config) == 0
    (config / "data" / "rows.csv").write_text(original)

    # the saved plan of the file as planned: every row uploaded, two calls for the campaign
    assert run_cli("plan", config, "-out", saved).code == 0
    applied = run_cli("apply", saved)
    assert applied.code == 0, applied.text
    assert _uploaded(config) == ROWS
    state = json.loads((config / ".campaignctl" / "state.json").read_text())
    assert len(state["resources"][SURVEY]["recorded"]["rows"]) == ROWS
    empty = run_cli("plan", config, "--detailed-exitcode")
    assert empty.code == 0, empty.text

    # more rows later: one tasks-groups call, read from the file at apply
    _write_rows(config, 30, first=ROWS, mode="a")
    added = run_cli("plan", config, "--detailed-exitcode")
    assert added.code == 2 and "tasks-groups +30 positions (30 new rows)" in added.out
    assert run_cli("apply", config, "--auto-approve").code == 0
    assert _uploaded(config) == ROWS + 30
    assert run_cli("plan", config, "--detailed-exitcode").code == 0
