"""Review as code end to end, on each platform's example with the embedded sandbox: simulated
workers of mixed skill and speed (``sandbox submit --accuracy --truth --fast-share``), a Review
document's rules (a dry run sends nothing, ``--yes`` rates everything, a second run sends
nothing), ``results aggregate`` with crowd-kit, ``results workers``, the Blocklist suggestion."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import CANARY, Result, copy_example, edit_file, point_at_server, run_cli, start_server, stop_server


@dataclass
class Case:
    example: str
    campaign: str
    truth: list[tuple[str, str, str]]  # task, field, answer
    bonus: str  # a rule's bonus (empty: the platform has none)
    count: int


CASES = {
    "swarms": Case("quickstart", "image-rating", [("2", "rate-beach.Rating.rating", "4"), ("2", "rate-forest.Rating.rating", "2"),
                                                  ("1", "describe-photo.Toggle.checked", "True")], "", 30),
    "microworkers": Case("microworkers-survey", "website-survey",
                         [(f"site{n:03}", "loads", "yes") for n in range(1, 31)]
                         + [(f"site{n:03}", "product", f"thing{n % 3}") for n in range(1, 31)], "0.02", 30),
    "microworkers-v1": Case("microworkers-legacy", "app-signup", [("*", "proof_1", "Signed up as worker42")], "0.05", 40),
}

REVIEW = """kind: Review
name: the-review
spec:
  campaign: {campaign}
  gold: {{file: data/gold.csv}}
  rules:
    - {{when: {{submittedWithin: 20s}}, rating: NOK, comment: "Too fast to be real work"}}
    - {{when: {{goldAccuracyBelow: 0.6}}, rating: NOK, comment: "Too many control answers wrong"}}
    - {{when: {{agreementBelow: 0.5}}, rating: REVISE, comment: "Please look again"}}
    - {{rating: OK{bonus}}}
  blocklist: {{goldAccuracyBelow: 0.5, minAnswers: 1}}
"""


#: the Provider's credential variable of each example pointed at a served sandbox
ENV_VARS = {"swarms": "SWARMS_TOKEN", "microworkers": "MW_KEY", "microworkers-v1": "MW1_KEY"}
SKILL = ("--accuracy", "0.75", "--fast-share", "0.15", "--seed", "7")


def write_answers(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([("task", "field", "answer"), *rows])
    return path


@dataclass
class Repo:
    path: Path
    case: Case

    def cli(self, *args: str | Path) -> Result:
        return run_cli(*args, cwd=self.path)

    def export(self) -> list[dict[str, object]]:
        done = self.cli("results", "export", self.case.campaign)
        assert done.code == 0, done.text
        return [json.loads(line) for line in done.out.splitlines()]


def make_repo(platform: str, tmp_path: Path) -> Repo:
    case = CASES[platform]
    path = copy_example(case.example, tmp_path)
    if platform == "swarms":
        edit_file(path / "campaign.yaml", "results: 3", "results: 15")
    repo = Repo(path, case)
    bonus = f", bonus: {{when: {{goldAccuracyAtLeast: 0.95}}, usd: {case.bonus}}}" if case.bonus else ""
    (path / "review.yaml").write_text(REVIEW.format(campaign=case.campaign, bonus=bonus))
    write_answers(path / "data" / "gold.csv", case.truth[: max(1, len(case.truth) * 2 // 3)])
    write_answers(tmp_path / "truth.csv", case.truth)
    assert repo.cli("validate").code == 0
    applied = repo.cli("apply", "--auto-approve")
    assert applied.code == 0, applied.text
    done = repo.cli("sandbox", "submit", case.campaign, "--count", str(case.count), "--truth", tmp_path / "truth.csv", *SKILL)
    assert done.code == 0, done.text
    return repo


@pytest.mark.parametrize("platform", list(CASES))
def test_review_rates_by_rules_then_sends_nothing_twice(platform: str, tmp_path: Path) -> None:
    repo = make_repo(platform, tmp_path)
    case = repo.case
    rows = repo.export()
    assert len(rows) == case.count and all(r["rating"] == "" for r in rows)

    dry = repo.cli("results", "review", case.campaign, "--format", "json")
    assert dry.code == 0, dry.text
    plan = json.loads(dry.out)
    assert plan["pending"] == case.count and plan["unmatched"] == 0
    assert sum(plan["ratings"].values()) == case.count
    too_fast = plan["rules"][0]
    assert too_fast["line"] == 7 and too_fast["submissions"] > 0  # --fast-share workers
    assert plan["ratings"]["OK"] > 0 and plan["ratings"]["NOK"] > 0
    assert "Dry run: nothing sent" in dry.err
    assert all(r["rating"] == "" for r in repo.export())  # the dry run sent nothing
    if case.bonus:
        bonuses = plan["bonuses"]["count"]
        assert bonuses > 0 and plan["bonuses"]["total_usd"] == f"{bonuses * float(case.bonus):.2f}"

    text = repo.cli("results", "review", case.campaign)
    assert f"{case.count} pending submission(s)" in text.out and "line   7: NOK" in text.out

    sent = repo.cli("results", "review", case.campaign, "--yes")
    assert sent.code == 0, sent.text
    assert f"Outcome: {case.count} rated, 0 skipped, 0 failed." in sent.err
    after = repo.export()
    assert all(r["rating"] in ("OK", "NOK", "REVISE") for r in after)  # nothing left pending
    from collections import Counter

    assert Counter(r["rating"] for r in after) == Counter({k: v for k, v in plan["ratings"].items() if v})

    again = repo.cli("results", "review", case.campaign, "--yes", "--format", "json")
    assert again.code == 0, again.text
    assert json.loads(again.out)["to_send"] == 0 and "Nothing to send" in again.err

    workers = repo.cli("results", "workers", case.campaign, "--format", "json")
    assert workers.code == 0, workers.text
    listed = json.loads(workers.out)
    assert {w["worker"] for w in listed} == {str(r["worker"]) for r in rows}
    assert any(w["gold_answers"] for w in listed)
    if platform == "microworkers-v1":  # the platform with a Blocklist kind: a suggestion, never applied
        suggestion = json.loads(dry.out)["blocklist_suggestion"]
        assert suggestion.startswith("# Suggested") and "kind: Blocklist\nname: excluded-workers\n" in suggestion
        assert '    - "1a2b3c4d"\n' in suggestion  # what the config lists stays
        assert repo.cli("plan", "--detailed-exitcode").code == 0  # nothing applied by the review
    else:
        assert "blocklist_suggestion" not in plan and "has no worker blocklist" in dry.err


@pytest.mark.parametrize("platform", list(CASES))
def test_aggregate_each_method_on_simulated_answers(platform: str, tmp_path: Path) -> None:
    repo = make_repo(platform, tmp_path)
    truth = {(t, f): a for t, f, a in repo.case.truth}
    methods = ("majority-vote", "dawid-skene", "glad", "mace") if platform == "swarms" else ("majority-vote", "dawid-skene")
    for method in methods:
        out = tmp_path / f"{method}.csv"
        done = repo.cli("results", "aggregate", repo.case.campaign, "--method", method, "-o", out)
        assert done.code == 0, done.text
        with out.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert rows and list(rows[0]) == ["task", "field", "answer", "confidence", "answers"]
        assert all(0 < float(r["confidence"]) <= 1 and int(r["answers"]) >= 1 for r in rows)
        labelled = {(r["task"], r["field"]): r["answer"] for r in rows}
        assert set(truth) <= set(labelled), method
        right = sum(labelled[k] == v for k, v in truth.items())
        assert right >= len(truth) // 2, (method, right, len(truth))


def test_review_refusals_name_the_line(tmp_path: Path) -> None:
    repo = make_repo("microworkers", tmp_path)
    review = repo.path / "review.yaml"
    # a bonus outside the documented range (0.1x..2x of 0.12 USD): file:line, nothing sent
    edit_file(review, "usd: 0.02", "usd: 5")
    done = repo.cli("results", "review", "website-survey", "--yes")
    assert done.code == 1 and "review.yaml:10: bonus 5 USD is outside the allowed" in done.err
    edit_file(review, "usd: 5", "usd: 0.02")
    # --max-spend below the bonuses' cost: the plan is shown, nothing sent
    capped = repo.cli("results", "review", "website-survey", "--yes", "--max-spend", "0.01")
    assert capped.code == 1 and "more than --max-spend 0.01: nothing was sent" in capped.err
    assert all(r["rating"] == "" for r in repo.export())
    # a schema error in the Review: validate names file:line
    edit_file(review, "rating: REVISE", "rating: MAYBE")
    bad = repo.cli("validate")
    assert bad.code == 1 and "review.yaml:9" in bad.err, bad.err
    edit_file(review, "rating: MAYBE", "rating: REVISE")
    edit_file(review, 'rating: NOK, comment: "Too fast to be real work"', "rating: NOK")  # the worker is told why
    edit_file(review, "{rating: OK, bonus", "{rating: REVISE, comment: x, bonus")  # a bonus goes with OK only
    bad = repo.cli("validate")
    assert bad.code == 1 and "review.yaml:7:7: spec.rules[0]: missing required field 'comment'" in bad.err, bad.err
    assert "review.yaml:10:16: spec.rules[3].rating: 'OK' was expected" in bad.err, bad.err
    # no Review for the campaign
    review.unlink()
    missing = repo.cli("results", "review", "website-survey")
    assert missing.code == 1 and "no Review document for campaign mw/campaign/website-survey" in missing.err


def answers(export: str, fields: set[str]) -> list[tuple[str, dict[str, object]]]:
    """Each exported submission's worker and its answers to the truth's fields (not its ids or times)."""
    rows = [json.loads(line) for line in export.splitlines()]
    return sorted(((str(r["worker"]), {f: r.get(f) for f in sorted(fields)}) for r in rows), key=json.dumps)


def test_skilled_submit_on_a_served_sandbox(tmp_path: Path) -> None:
    """``sandbox submit --accuracy --truth --fast-share`` against ``campaignctl sandbox serve`` (over
    HTTP, its admin route with the provider's credential as the key): the same workers and answers
    as on the embedded sandbox, for the same seed; a credential that is not the key is refused."""
    server = start_server(tmp_path)
    try:
        for platform, case in CASES.items():
            embedded = make_repo(platform, tmp_path / platform / "embedded")
            fields = {f for _, f, _ in case.truth}
            expected = answers(embedded.cli("results", "export", case.campaign).out, fields)
            served = copy_example(case.example, tmp_path / platform / "served")
            if platform == "swarms":
                edit_file(served / "campaign.yaml", "results: 3", "results: 15")
            env = point_at_server(served, server, platform, ENV_VARS[platform])
            applied = run_cli("apply", served, "--auto-approve", env=env)
            assert applied.code == 0, applied.text
            truth = tmp_path / platform / "embedded" / "truth.csv"
            done = run_cli("sandbox", "submit", case.campaign, "--dir", served, "--count", str(case.count),
                           "--truth", truth, *SKILL, env=env)
            assert done.code == 0 and f"Submitted {case.count} piece(s) of work" in done.err, done.text
            got = answers(run_cli("results", "export", case.campaign, "--dir", served, env=env).out, fields)
            assert got == expected, platform
            given = {str(a) for _, row in got for v in row.values() for a in (v if isinstance(v, list) else [v])}
            assert given & {a for _, _, a in case.truth}, platform  # the truth's answers, from skilled workers
        wrong = run_cli("sandbox", "submit", case.campaign, "--dir", served, "--count", "1", "--truth", truth, *SKILL,
                        env={ENV_VARS[platform]: "not-the-key"})
        assert wrong.code == 1 and "refused provider" in wrong.err and "credential as its key" in wrong.err, wrong.text
        assert "not-the-key" not in wrong.text and CANARY not in wrong.text
    finally:
        stop_server(server)
