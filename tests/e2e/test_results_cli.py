"""`campaignctl results` and `sandbox submit` as a new user runs them, on each platform's example:
apply, 50 submissions, export every answer, rate from a mixed CSV (rows validation catches, rows
only the platform refuses), re-run without rating twice, approve-all. SWARMS runs over loopback
(so the sandbox's call counters show what a dry run sends); the Microworkers ones in-process."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import Result, Server, copy_example, edit_file, point_at_server, run_cli, start_server, stop_server


@dataclass
class Case:
    example: str
    campaign: str
    answers: tuple[str, ...]  # answer columns every row has (SWARMS: per job)
    unknown_id: str
    bonus: str  # a bonus in the documented range (0.1x..2x the payment)
    refused_by_platform: tuple[str, str, str, str]  # rating, comment, bonus, until: only the platform says no
    platform_reason: str


CASES = {
    "swarms": Case(
        "quickstart", "image-rating", ("rate-beach.Rating.rating", "rate-forest.Rating.rating"),
        "999999", "", ("REVISE", "Please redo", "", "2020-01-01T00:00"), "until: must be in the future",
    ),
    "microworkers": Case(
        "microworkers-survey", "website-survey", ("loads", "product", "impression"),
        "ffffffffffff", "0.05", ("NOK", "Wrong site", "0.05", ""), "A bonus can only be given with rating OK",
    ),
    "microworkers-v1": Case(
        "microworkers-legacy", "app-signup", ("proof_1",),
        "999999", "0.10", ("NOK", "Wrong app", "0.10", ""), "Bonus can only be added to OK rated task",
    ),
}


@dataclass
class Repo:
    path: Path
    env: dict[str, str]
    case: Case
    server: Server | None = None

    def cli(self, *args: str | Path) -> Result:
        return run_cli(*args, "--dir", self.path, env=self.env)

    def export(self, *args: str) -> list[dict[str, object]]:
        done = self.cli("results", "export", self.case.campaign, *args)
        assert done.code == 0, done.text
        return [json.loads(line) for line in done.out.splitlines()]

    def stats(self) -> dict[str, dict[str, int]]:
        assert self.server is not None
        return self.server.stats()


@pytest.fixture(params=list(CASES))
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Repo]:
    case = CASES[request.param]
    path = copy_example(case.example, tmp_path)
    # room for 50 pieces of work, and small pages so every paging style turns pages
    if request.param == "swarms":
        edit_file(path / "campaign.yaml", "results: 3", "results: 25")  # 2 jobs x 25
    elif request.param == "microworkers":
        with (path / "data" / "rows.csv").open("a") as rows:
            rows.writelines(f"site{n:03},https://site{n:03}.example.com/,Brand{n}\n" for n in range(31, 51))
    edit_file(path / "providers.yaml", "  endpoint: sandbox", "  pageSize: 7\n  endpoint: sandbox")
    server = None
    env: dict[str, str] = {}
    if request.param == "swarms":
        server = start_server(tmp_path)
        env = point_at_server(path, server)
    yield Repo(path, env, case, server)
    if server is not None:
        stop_server(server)


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([["id", "rating", "comment", "bonus", "until"], *rows])
    return path


def report(text: str) -> dict[str, dict[str, str]]:
    return {row["line"]: row for row in csv.DictReader(io.StringIO(text))}


def test_export_and_rate(repo: Repo, tmp_path: Path) -> None:
    case = repo.case
    # before apply: a clear message, no traceback
    early = repo.cli("results", "export", case.campaign)
    assert early.code == 1 and "is not applied yet" in early.err and "campaignctl apply" in early.err
    unknown = repo.cli("results", "export", "no-such-campaign")
    assert unknown.code == 1 and "no campaign 'no-such-campaign'" in unknown.err
    assert run_cli("apply", repo.path, "--auto-approve", env=repo.env).code == 0

    # 45 submissions, export, 5 more, resume with the printed --since: nothing lost
    made = repo.cli("sandbox", "submit", case.campaign, "--count", "45", "--seed", "7")
    assert made.code == 0 and "Submitted 45 piece(s) of work" in made.err, made.text
    first = repo.cli("results", "export", case.campaign)
    since = first.err.split("--since ")[1].split()[0]
    assert "Reading submissions: 45 (7 pages)" in first.err
    assert repo.cli("sandbox", "submit", case.campaign, "--count", "5").code == 0
    newer = repo.export("--since", since)
    old_ids = {json.loads(line)["id"] for line in first.out.splitlines()}
    rows = repo.export()
    assert len(rows) == 50 and len({r["id"] for r in rows}) == 50
    assert {r["id"] for r in rows} - old_ids <= {r["id"] for r in newer}
    assert all(str(r["submitted"]) >= since for r in newer)

    # every row: worker, state, times, every answer
    for row in rows:
        assert row["worker"] and row["state"] and row["rating"] == "" and row["submitted"] and row["started"]
        wanted = case.answers
        if case.example == "quickstart" and row["job"] == "describe-batch-1":
            wanted = ("describe-photo.TextInput.text", "describe-photo.Toggle.checked")
        assert all(row.get(column) not in (None, "", []) for column in wanted), row
    table = list(csv.DictReader(io.StringIO(repo.cli("results", "export", case.campaign, "--format", "csv").out)))
    assert len(table) == 50 and set(case.answers) <= set(table[0])

    ids = sorted(str(r["id"]) for r in rows)
    # a file validation refuses as a whole: every bad line named, nothing sent
    bad_bonus = "0.10" if case.bonus == "" else "99"
    bad = write_csv(tmp_path / "bad.csv", [
        [ids[0], "OK", "", "", ""], [ids[1], "NOK", "", "", ""], [ids[2], "GOOD", "", "", ""],
        [ids[3], "OK", "", bad_bonus, ""], [ids[0], "OK", "", "", ""],
    ])
    refused = repo.cli("results", "rate", case.campaign, "--from", bad, "--yes")
    assert refused.code == 1 and "4 bad row(s)" in refused.err and "nothing was sent" in refused.err
    for line in ("3", "4", "5", "6"):
        assert f"bad.csv:{line}:" in refused.err
    assert "Traceback" not in refused.err and all(r["rating"] == "" for r in repo.export())

    # the mixed file: 20 OK (5 with a bonus), 10 NOK, 5 REVISE, one row only the platform refuses, one unknown id
    mixed = [[i, "OK", "", case.bonus if n < 5 else "", ""] for n, i in enumerate(ids[:20])]
    mixed += [[i, "NOK", "Not what we asked for", "", ""] for i in ids[20:30]]
    mixed += [[i, "REVISE", "Please add more detail", "", ""] for i in ids[30:35]]
    mixed += [[ids[35], *case.refused_by_platform], [case.unknown_id, "OK", "", "", ""]]
    ratings = write_csv(tmp_path / "ratings.csv", mixed)
    total = f"{6 * float(case.bonus or 0):.2f}"  # the row the platform refuses has one too
    per_rating = "OK 20, NOK 11, REVISE 5" if case.refused_by_platform[0] == "NOK" else "OK 20, NOK 10, REVISE 6"

    no_tty = repo.cli("results", "rate", case.campaign, "--from", ratings)
    assert no_tty.code == 1 and "--yes" in no_tty.err and "stdin is not a terminal" in no_tty.err
    if repo.server is not None:
        httpx.post(f"{repo.server.url}/_sandbox/reset-stats")
    dry = repo.cli("results", "rate", case.campaign, "--from", ratings, "--dry-run")
    assert f"to send:  36 ({per_rating})" in dry.err, dry.err
    if case.bonus:
        assert f"bonuses:  6, total {total} USD" in dry.err
    assert sum(o["outcome"] == "would-rate" for o in report(dry.out).values()) == 36
    if repo.server is not None:
        assert repo.stats() == {"swarms": {"GET": 8}}  # 50 results, 7 a page: reads only
    assert all(r["rating"] == "" for r in repo.export())

    done = repo.cli("results", "rate", case.campaign, "--from", ratings, "--yes")
    assert done.code == 1, done.text  # two rows were not rated: said on stderr, in the report, in the exit code
    outcome = report(done.out)
    assert len(outcome) == 37
    assert [o["line"] for o in outcome.values() if o["outcome"] == "failed"] == ["37", "38"]
    assert case.platform_reason in outcome["37"]["message"]
    assert "not a submission of" in outcome["38"]["message"]
    assert sum(o["outcome"] == "rated" for o in outcome.values()) == 35
    assert "2 row(s) were not rated" in done.err and case.platform_reason in done.err
    after = {str(r["id"]): r for r in repo.export()}
    assert [after[i]["rating"] for i in ids[:36]] == ["OK"] * 20 + ["NOK"] * 10 + ["REVISE"] * 5 + [""]
    if case.bonus:
        assert [float(after[i]["bonus"] or 0) for i in ids[:6]] == [float(case.bonus)] * 5 + [0.0]

    # the same file again: nothing rated twice
    ledger = repo.path / ".campaignctl" / f"ratings-{case.campaign}.jsonl"
    assert len(ledger.read_text().splitlines()) == 35
    again = repo.cli("results", "rate", case.campaign, "--from", ratings, "--yes")
    outcome = report(again.out)
    assert sum(o["outcome"] == "skipped" for o in outcome.values()) == 35
    assert not any(o["outcome"] == "rated" for o in outcome.values())
    assert "35 sent by an earlier run" in again.err
    assert len(ledger.read_text().splitlines()) == 35
    ledger.unlink()  # even without the ledger, the platform's state says they are done
    third = report(repo.cli("results", "rate", case.campaign, "--from", ratings, "--yes").out)
    assert sum("already rated on the platform" in o["message"] for o in third.values()) == 35
    assert {str(r["id"]): (r["rating"], r.get("bonus")) for r in repo.export()} == {i: (r["rating"], r.get("bonus")) for i, r in after.items()}

    # approve everything still waiting (the 14 untouched rows and the refused one)
    approve = repo.cli("results", "approve-all", case.campaign, "--yes")
    assert approve.code == 0, approve.text
    assert "15 submission(s) wait for a rating" in approve.err and "Approved 15 submission(s)" in approve.err
    assert repo.export("--state", "pending") == []
    assert len(repo.export("--state", "OK")) == 35
