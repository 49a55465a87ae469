"""What the CLI writes to disk, against hostile content and a failing disk (issue 20: 3, 9, 10):
CSV exports never carry a live spreadsheet formula, a file system error is a clean error that
leaves no temporary file behind, and what campaignctl keeps is readable by its owner only."""
from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

from campaignctl.sandbox.microworkers_v1.core import P as MW1
from campaignctl.sandbox.store import Store
from tests.helpers import copy_example, edit_file, run_cli

HOSTILE = ["=HYPERLINK(\"http://evil.example/\",\"click\")", "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
NUMBERS = ["-2.5", "+3", "-1e5"]


def _legacy_with_work(tmp_path: Path) -> Path:
    repo = copy_example("microworkers-legacy", tmp_path)
    assert run_cli("apply", repo, "--auto-approve").code == 0
    done = run_cli("sandbox", "submit", "app-signup", "--dir", repo, "--count", str(len(HOSTILE) + len(NUMBERS)))
    assert done.code == 0, done.text
    # the workers' answers, as a hostile worker would write them
    store = Store(repo / ".campaignctl" / "sandbox.db")
    try:
        tasks = sorted(store.list(MW1, "task"), key=lambda t: t["id"])
        for task, answer in zip(tasks, HOSTILE + NUMBERS, strict=True):
            task["proofs"] = [answer] * len(task["proofs"])
            task["proof"] = "\n".join(task["proofs"])
            store.put(MW1, "task", task["id"], task)
    finally:
        store.close()
    return repo


def test_csv_export_neutralises_formulas_jsonl_and_raw_stay_exact(tmp_path: Path) -> None:
    repo = _legacy_with_work(tmp_path)
    out = tmp_path / "work.csv"
    assert run_cli("results", "export", "app-signup", "--dir", repo, "-o", out).code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    proofs = sorted(r["proof_1"] for r in rows)
    assert proofs == sorted(["'" + h for h in HOSTILE] + NUMBERS)

    raw = tmp_path / "raw.csv"
    assert run_cli("results", "export", "app-signup", "--dir", repo, "-o", raw, "--raw").code == 0
    raw_rows = csv.DictReader(io.StringIO(raw.read_bytes().decode("utf-8"), newline=""))
    assert sorted(r["proof_1"] for r in raw_rows) == sorted(HOSTILE + NUMBERS)

    jsonl = run_cli("results", "export", "app-signup", "--dir", repo)
    assert sorted(json.loads(line)["proof_1"] for line in jsonl.out.splitlines()) == sorted(HOSTILE + NUMBERS)

    helptext = run_cli("results", "export", "--help").out
    assert "--raw" in helptext and "formula" in helptext


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".tmp") or p.name.startswith("state.lock"))


def test_a_plan_saved_to_a_full_disk_is_a_clean_error(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path)
    full = run_cli("plan", repo, "-out", "/dev/full")
    assert full.code == 1
    assert "cannot save the plan: /dev/full: No space left on device" in full.err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written to, never replaced
    assert _leftovers(repo) == []


def test_a_state_that_cannot_be_written_is_a_clean_error_and_the_journal_keeps_the_calls(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path)
    assert run_cli("apply", repo, "--auto-approve").code == 0
    state_dir = repo / ".campaignctl"
    before = (state_dir / "state.json").read_text()
    # the backup cannot be written (a folder stands in its way): the state file cannot be replaced
    (state_dir / "state.json.backup").unlink(missing_ok=True)
    (state_dir / "state.json.backup").mkdir()
    (state_dir / "state.json.backup" / "x").write_text("")
    edit_file(repo / "campaign.yaml", "state: active", "state: paused")  # one call, in place
    failed = run_cli("apply", repo, "--auto-approve")
    assert failed.code == 1
    assert "cannot write the state" in failed.err and "state.json.backup" in failed.err
    assert "the calls made are kept in" in failed.err
    assert (state_dir / "state.json").read_text() == before
    assert _leftovers(repo) == []
    # the way cleared, the next run takes the journal in: nothing more to change
    (state_dir / "state.json.backup" / "x").unlink()
    (state_dir / "state.json.backup").rmdir()
    again = run_cli("plan", repo, "--detailed-exitcode")
    assert again.code == 0, again.text


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_what_campaignctl_keeps_is_private_whatever_the_umask(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"CAMPAIGNCTL_CACHE_DIR": str(cache)}
    previous = os.umask(0o022)
    try:
        repo = _legacy_with_work(tmp_path)
        ratings = tmp_path / "ratings.csv"
        export = run_cli("results", "export", "app-signup", "--dir", repo)
        first = json.loads(export.out.splitlines()[0])["id"]
        ratings.write_text(f"id,rating\n{first},OK\n")
        assert run_cli("results", "rate", "app-signup", "--dir", repo, "--from", ratings, "--yes").code == 0
        plan_file = tmp_path / "saved" / "plan.json"
        assert run_cli("plan", repo, "-out", plan_file, env=env).code == 0
        assert run_cli("apply", repo, "--auto-approve", env=env).code == 0  # nothing to change: the state is written again
    finally:
        os.umask(previous)
    state_dir = repo / ".campaignctl"
    assert _mode(state_dir) == 0o700
    for name in ("state.json", "state.json.backup", "sandbox.db", "ratings-app-signup.jsonl"):
        assert _mode(state_dir / name) == 0o600, name
    assert _mode(plan_file) == 0o600 and _mode(plan_file.parent) == 0o700
    assert _mode(cache) == 0o700
    cached = list(cache.iterdir())
    assert cached and all(_mode(p) == 0o600 for p in cached), [(p.name, oct(_mode(p))) for p in cached]


def test_an_export_to_a_full_disk_is_a_clean_error(tmp_path: Path) -> None:
    repo = _legacy_with_work(tmp_path)
    full = run_cli("results", "export", "app-signup", "--dir", repo, "-o", "/dev/full", "--format", "csv")
    assert full.code == 1 and "Error: cannot write the export: /dev/full: No space left on device" in full.err
    missing = run_cli("results", "export", "app-signup", "--dir", repo, "-o", tmp_path / "no" / "such" / "x.csv")
    assert missing.code == 1 and f"cannot write the export: {tmp_path / 'no' / 'such' / 'x.csv'}: No such file" in missing.err
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("id,rating\n1000001,OK\n")
    report = run_cli("results", "rate", "app-signup", "--dir", repo, "--from", ratings, "--dry-run", "--report", "/dev/full")
    assert report.code == 1 and "cannot write the report: /dev/full: No space left on device" in report.err
    unopened = run_cli("results", "rate", "app-signup", "--dir", repo, "--from", ratings, "--dry-run", "--report", tmp_path / "no" / "r.csv")
    assert unopened.code == 1 and f"cannot write the report: {tmp_path / 'no' / 'r.csv'}: No such file" in unopened.err


def test_a_file_system_error_anywhere_else_is_a_clean_error_naming_the_path(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    served = run_cli("sandbox", "serve", "--port", "0", "--db", blocked / "sandbox.db")
    assert served.code == 1 and f"Error: {blocked}:" in served.err
