"""`campaignctl results` and `sandbox submit` as a new user runs them, on each platform's example:
apply, 50 submissions, export every answer, rate from a mixed CSV (rows validation catches, rows
only the platform refuses), re-run without rating twice, approve-all. SWARMS runs over loopback
(so the sandbox's call counters show what a dry run sends); the Microworkers ones in-process."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.helpers import (
    Result,
    Server,
    copy_example,
    edit_file,
    point_at_server,
    run_cli,
    start_server,
    stop_server,
)


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


def make_repo(platform: str, tmp_path: Path) -> Repo:
    case = CASES[platform]
    path = copy_example(case.example, tmp_path)
    # room for 50 pieces of work, and small pages so every paging style turns pages
    if platform == "swarms":
        edit_file(path / "campaign.yaml", "results: 3", "results: 25")  # 2 jobs x 25
    elif platform == "microworkers":
        with (path / "data" / "rows.csv").open("a") as rows:
            rows.writelines(f"site{n:03},https://site{n:03}.example.com/,Brand{n}\n" for n in range(31, 51))
    edit_file(path / "providers.yaml", "  endpoint: sandbox", "  pageSize: 7\n  endpoint: sandbox")
    return Repo(path, {}, case)


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([["id", "rating", "comment", "bonus", "until"], *rows])
    return path


def report(text: str) -> dict[str, dict[str, str]]:
    return {row["line"]: row for row in csv.DictReader(io.StringIO(text))}


def check_rows(case: Case, rows: list[dict[str, object]]) -> list[str]:
    """50 distinct submissions, each with worker, state, times and every answer; their ids."""
    assert len(rows) == 50 and len({r["id"] for r in rows}) == 50
    for row in rows:
        assert row["worker"] and row["state"] and row["rating"] == "" and row["submitted"] and row["started"]
        wanted = case.answers
        if case.example == "quickstart" and row["job"] == "describe-batch-1":
            wanted = ("describe-photo.TextInput.text", "describe-photo.Toggle.checked")
        assert all(row.get(column) not in (None, "", []) for column in wanted), row
    return sorted(str(r["id"]) for r in rows)


def mixed_ratings(case: Case, ids: list[str], tmp_path: Path) -> Path:
    """20 OK (5 with a bonus), 10 NOK, 5 REVISE, one row only the platform refuses, one unknown id."""
    rows = [[i, "OK", "", case.bonus if n < 5 else "", ""] for n, i in enumerate(ids[:20])]
    rows += [[i, "NOK", "Not what we asked for", "", ""] for i in ids[20:30]]
    rows += [[i, "REVISE", "Please add more detail", "", ""] for i in ids[30:35]]
    rows += [[ids[35], *case.refused_by_platform], [case.unknown_id, "OK", "", "", ""]]
    return write_csv(tmp_path / "ratings.csv", rows)


def rate_and_approve(repo: Repo, ids: list[str], tmp_path: Path) -> Path:
    """Validation, the mixed file, the same file again, approve-all; returns the ratings file."""
    case = repo.case
    # a file validation refuses as a whole: every bad line named, nothing sent
    bad = write_csv(tmp_path / "bad.csv", [
        [ids[0], "OK", "", "", ""], [ids[1], "NOK", "", "", ""], [ids[2], "GOOD", "", "", ""],
        [ids[3], "OK", "", "0.10" if case.bonus == "" else "99", ""], [ids[0], "OK", "", "", ""],
    ])
    refused = repo.cli("results", "rate", case.campaign, "--from", bad, "--yes")
    assert refused.code == 1 and "4 bad row(s)" in refused.err and "nothing was sent" in refused.err
    for line in ("3", "4", "5", "6"):
        assert f"bad.csv:{line}:" in refused.err

    ratings = mixed_ratings(case, ids, tmp_path)
    done = repo.cli("results", "rate", case.campaign, "--from", ratings, "--yes")
    assert done.code == 1, done.text  # two rows were not rated: said on stderr, in the report, in the exit code
    per_rating = "OK 20, NOK 11, REVISE 5" if case.refused_by_platform[0] == "NOK" else "OK 20, NOK 10, REVISE 6"
    assert f"to send:  36 ({per_rating})" in done.err, done.err
    if case.bonus:  # the row the platform refuses has a bonus too
        assert f"bonuses:  6, total {6 * float(case.bonus):.2f} USD" in done.err
    assert "not sent: 1 not submission(s) of this campaign (line 38)" in done.err
    outcome = report(done.out)
    assert len(outcome) == 37
    assert [o["line"] for o in outcome.values() if o["outcome"] == "failed"] == ["37", "38"]
    assert case.platform_reason in outcome["37"]["message"]
    assert "not a submission of" in outcome["38"]["message"]
    assert sum(o["outcome"] == "rated" for o in outcome.values()) == 35
    assert "2 row(s) were not rated" in done.err and case.platform_reason in done.err

    # the same file again: nothing rated twice
    ledger = repo.path / ".campaignctl" / f"ratings-{case.campaign}.jsonl"
    assert len(ledger.read_text().splitlines()) == 35
    again = repo.cli("results", "rate", case.campaign, "--from", ratings, "--yes")
    outcome = report(again.out)
    assert sum(o["outcome"] == "skipped" for o in outcome.values()) == 35
    assert not any(o["outcome"] == "rated" for o in outcome.values())
    assert "skipped:  35 sent by an earlier run" in again.err and "to send:  1 " in again.err
    assert len(ledger.read_text().splitlines()) == 35

    # approve everything still waiting: the 14 untouched rows and the refused one
    approve = repo.cli("results", "approve-all", case.campaign, "--yes")
    assert approve.code == 0, approve.text
    assert "15 submission(s) wait for a rating" in approve.err and "Approved 15 submission(s)" in approve.err
    final = {str(r["id"]): r for r in repo.export()}
    assert [final[i]["rating"] for i in ids] == ["OK"] * 20 + ["NOK"] * 10 + ["REVISE"] * 5 + ["OK"] * 15
    if case.bonus:  # paid once
        assert [float(final[i]["bonus"] or 0) for i in ids[:6]] == [float(case.bonus)] * 5 + [0.0]
    return ratings


def test_swarms_over_loopback(tmp_path: Path) -> None:
    repo = make_repo("swarms", tmp_path)
    server = start_server(tmp_path)
    try:
        repo.env, repo.server = point_at_server(repo.path, server), server
        assert run_cli("apply", repo.path, "--auto-approve", env=repo.env).code == 0
        made = repo.cli("sandbox", "submit", "image-rating", "--count", "60")
        assert made.code == 0 and "Submitted 50 piece(s) of work" in made.err and "room for only 50" in made.err
        ids = check_rows(repo.case, repo.export())

        # a dry run reads, and sends nothing
        httpx.post(f"{server.url}/_sandbox/reset-stats", headers=server.admin)
        dry = repo.cli("results", "rate", "image-rating", "--from", mixed_ratings(repo.case, ids, tmp_path), "--dry-run")
        assert "to send:  36 (OK 20, NOK 10, REVISE 6)" in dry.err
        assert sum(o["outcome"] == "would-rate" for o in report(dry.out).values()) == 36
        assert "36 would-rate" in dry.err and "(dry run: nothing sent)" in dry.err
        assert repo.stats() == {"swarms": {"GET": 8}}  # 50 results, 7 a page: reads only

        rate_and_approve(repo, ids, tmp_path)
        assert repo.stats()["swarms"]["POST"] == 36 + 1 + 1  # the first run, the refused row again, approve-all
    finally:
        stop_server(server)


def test_microworkers_v2(tmp_path: Path) -> None:
    repo = make_repo("microworkers", tmp_path)
    # before apply, and names that are not campaigns: a clear message, no traceback
    early = repo.cli("results", "export", "website-survey")
    assert early.code == 1 and "is not applied yet" in early.err and "campaignctl apply" in early.err
    unknown = repo.cli("results", "export", "no-such-campaign")
    assert unknown.code == 1 and "no campaign 'no-such-campaign'" in unknown.err and "mw/campaign/website-survey" in unknown.err
    assert run_cli("apply", repo.path, "--auto-approve", env=repo.env).code == 0

    # 45 submissions, export, 5 more, resume with the printed --since: nothing lost
    assert repo.cli("sandbox", "submit", "website-survey", "--count", "45", "--seed", "7").code == 0
    first = repo.cli("results", "export", "website-survey")
    assert "Reading submissions: 45 (7 pages)" in first.err and "Exported 45 submission(s)" in first.err
    since = first.err.split("--since ")[1].split()[0]
    assert repo.cli("sandbox", "submit", "website-survey", "--count", "5").code == 0
    newer = repo.export("--since", since)
    old = {json.loads(line)["id"] for line in first.out.splitlines()}
    assert len(old) == 45 and all(str(r["submitted"]) >= since for r in newer)

    out = tmp_path / "export.csv"  # CSV from the file name
    assert repo.cli("results", "export", "website-survey", "-o", out).code == 0
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert set(table[0]) >= {"id", "worker", "state", "rating", "started", "submitted", "loads", "product", "impression"}
    assert {r["id"] for r in table} - old <= {r["id"] for r in newer}  # the 5 new ones came with --since
    ids = check_rows(repo.case, [{**r, "job": ""} for r in table])

    ratings = mixed_ratings(repo.case, ids, tmp_path)
    no_tty = repo.cli("results", "rate", "website-survey", "--from", ratings)
    assert no_tty.code == 1 and "--yes" in no_tty.err and "stdin is not a terminal" in no_tty.err
    rate_and_approve(repo, ids, tmp_path)


def test_microworkers_v1(tmp_path: Path) -> None:
    repo = make_repo("microworkers-v1", tmp_path)
    assert run_cli("apply", repo.path, "--auto-approve", env=repo.env).code == 0
    assert repo.cli("sandbox", "submit", "mw-legacy/campaign/app-signup", "--count", "50").code == 0
    ids = check_rows(repo.case, repo.export())
    ratings = rate_and_approve(repo, ids, tmp_path)
    # without the ledger (lost, or another machine) the platform's state still says they are done
    (repo.path / ".campaignctl" / "ratings-app-signup.jsonl").unlink()
    third = repo.cli("results", "rate", "app-signup", "--from", ratings, "--yes")
    assert "skipped:  36 already rated on the platform" in third.err and "to send:  nothing" in third.err
    assert not any(o["outcome"] == "rated" for o in report(third.out).values())


def test_submit_and_export_on_served_microworkers(tmp_path: Path) -> None:
    """`sandbox submit` and `results export` against a served sandbox, both Microworkers APIs."""
    server = start_server(tmp_path)
    try:
        for platform, env_var in (("microworkers", "MW_KEY"), ("microworkers-v1", "MW1_KEY")):
            repo = make_repo(platform, tmp_path / platform)
            repo.env, repo.server = point_at_server(repo.path, server, platform, env_var), server
            assert run_cli("apply", repo.path, "--auto-approve", env=repo.env).code == 0
            made = repo.cli("sandbox", "submit", repo.case.campaign, "--count", "10")
            assert made.code == 0, made.text
            rows = repo.export()
            assert len(rows) == 10 and all(all(row.get(c) not in (None, "") for c in repo.case.answers) for row in rows)
    finally:
        stop_server(server)


def test_rate_exit_code_skipped_is_not_failed(tmp_path: Path) -> None:
    """`results rate` exits 0 when rows were only rated or skipped (a row without a rating is left
    alone on purpose), 1 when any row failed; --help and README say so."""
    repo = make_repo("microworkers-v1", tmp_path)
    assert run_cli("apply", repo.path, "--auto-approve", env=repo.env).code == 0
    assert repo.cli("sandbox", "submit", "app-signup", "--count", "5").code == 0
    ids = sorted(str(r["id"]) for r in repo.export())
    rows = [[ids[0], "OK", "", "", ""], [ids[1], "OK", "", "", ""]] + [[i, "", "", "", ""] for i in ids[2:]]
    done = repo.cli("results", "rate", "app-signup", "--from", write_csv(tmp_path / "some.csv", rows), "--yes")
    assert done.code == 0, done.text
    outcome = report(done.out)
    assert sorted(o["outcome"] for o in outcome.values()) == ["rated", "rated", "skipped", "skipped", "skipped"]
    # the same file again: every row skipped (sent before, or no rating): still not a failure
    again = repo.cli("results", "rate", "app-signup", "--from", tmp_path / "some.csv", "--yes")
    assert again.code == 0, again.text
    assert all(o["outcome"] == "skipped" for o in report(again.out).values())
    # a row that is not a submission of the campaign fails the run
    bad = repo.cli("results", "rate", "app-signup", "--from", write_csv(tmp_path / "bad.csv", [["999999", "OK", "", "", ""]]), "--yes")
    assert bad.code == 1 and "1 row(s) were not rated" in bad.err

    help_text = " ".join(run_cli("results", "rate", "--help").out.split())
    assert "Exit 0 when every row was rated or skipped" in help_text and "exit 1 when any row failed or was refused" in help_text
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "exit 1 if any row failed or was refused" in readme and "exit 1 if any row was not rated" not in readme


def test_embedded_submit_goes_through_the_sandbox_route(tmp_path: Path) -> None:
    """`sandbox submit` with `endpoint: sandbox` reaches the simulated workers through the sandbox's
    POST /_sandbox/submit (in-process), as a served sandbox does: a refusal is the platform's answer
    (its code and request id), exit 1, nothing submitted; then the same call succeeds."""
    config = copy_example("quickstart", tmp_path)
    edit_file(config / "campaign.yaml", "state: active", "state: unpublished")
    assert run_cli("apply", config, "--auto-approve").code == 0
    refused = run_cli("sandbox", "submit", "image-rating", "--dir", config, "--count", "3")
    assert refused.code == 1, refused.text
    assert "POST http://sandbox/swarms/_sandbox/submit -> HTTP 409: [3000]" in refused.err and "request id" in refused.err
    assert run_cli("results", "export", "image-rating", "--dir", config).out.strip() == ""

    edit_file(config / "campaign.yaml", "state: unpublished", "state: active")
    assert run_cli("apply", config, "--auto-approve").code == 0
    made = run_cli("sandbox", "submit", "image-rating", "--dir", config, "--count", "3")
    assert made.code == 0 and "Submitted 3 piece(s) of work" in made.err, made.text
    assert len(run_cli("results", "export", "image-rating", "--dir", config).out.splitlines()) == 3
