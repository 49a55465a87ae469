"""The review engine offline: the skill model, the measures and rules, the worker record, the
aggregation's hint without crowd-kit, and crowd-kit never imported at startup."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaignctl.config.model import Document
from campaignctl.errors import CampaignctlError
from campaignctl.results import workers
from campaignctl.results.common import Submission
from campaignctl.results.gold import read_answers
from campaignctl.results.review import Measure, decide, holds, measure
from campaignctl.sandbox.skill import Skill, typed_like
from tests.helpers import ROOT

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def sub(sid: str, worker: str, seconds: int) -> Submission:
    return Submission(sid, worker, "InReview", "", T0, T0 + timedelta(seconds=seconds))


def test_skill_is_deterministic_and_near_its_accuracy() -> None:
    truth = {(f"t{n}", "q"): "yes" for n in range(400)} | {("x", "q"): "no"}
    skill = Skill(0.8, truth, 0.0, seed=1)
    again = Skill(0.8, truth, 0.0, seed=1)
    answers = [skill.answer(f"w{n % 20}", n, f"t{n}", "q", "no") for n in range(400)]
    assert answers == [again.answer(f"w{n % 20}", n, f"t{n}", "q", "no") for n in range(400)]
    assert 0.7 < answers.count("yes") / 400 < 0.9
    assert skill.answer("w1", 1, "unknown", "q", "drawn") is None  # the truth says nothing: keep it
    assert skill.fast_seconds("w1", 1) is None
    fast = Skill(0.8, truth, 1.0, seed=1)
    assert 2 <= (fast.fast_seconds("w1", 1) or 0) <= 15
    assert typed_like("4", 3) == 4 and typed_like("True", False) is True and typed_like("a", "b") == "a"


def test_truth_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "gold.csv"
    path.write_text("task,field,answer\nt1,q,yes\nt1,q,no\n")
    with pytest.raises(CampaignctlError, match=r"gold\.csv:3: task 't1' field 'q' has two different answers"):
        read_answers(path)
    path.write_text("task,answer\nt1,yes\n")
    with pytest.raises(CampaignctlError, match=r"gold\.csv:1: the header must name task, field, answer \(missing field\)"):
        read_answers(path)


def test_measures_leave_the_submission_out_and_rules_need_something_to_measure() -> None:
    subs = {"1": sub("1", "a", 100), "2": sub("2", "b", 100), "3": sub("3", "c", 5)}
    items = {"1": [("t", "q", "yes")], "2": [("t", "q", "yes")], "3": [("t", "q", "no")]}
    m = measure(subs, items, {("t", "q"): "yes"})
    assert (m["1"].agree, m["1"].compared) == (1, 1)  # agrees with "2"
    assert (m["3"].agree, m["3"].compared, m["3"].gold_accuracy) == (0, 1, 0.0)
    assert m["3"].seconds == 5
    assert holds({"submittedWithin": "20s"}, m["3"]) and not holds({"submittedWithin": "20s"}, m["1"])
    assert holds({"goldAccuracyBelow": 0.6, "agreementBelow": 0.5}, m["3"])
    assert not holds({"goldAccuracyBelow": 0.6}, Measure())  # no gold answers: the condition does not hold
    assert holds(None, Measure())
    # no start or submit time (a field the docs do not promise): unknown, so the submission stays pending
    assert holds({"submittedWithin": "20s"}, Measure()) is None
    review = Document("Review", "r", None, {"rules": [{"when": {"submittedWithin": "20s"}, "rating": "NOK", "comment": "x"},
                                                      {"rating": "OK", "bonus": {"usd": 0.1}}]},
                      None, "r.yaml")  # type: ignore[arg-type]  # no position is asked for
    timeless = {"9": Submission("9", "w", "NOTRATED", "")}
    plan = decide(review, timeless, measure(timeless, {"9": []}, {}))
    assert plan.rows == [] and len(plan.decisions) == 1  # not passed on to the OK-with-a-bonus rule


def test_worker_record_replaces_a_campaign_and_sums_over_campaigns(tmp_path: Path) -> None:
    path = tmp_path / "workers.json"
    bad = Measure(gold_right=0, gold_total=4, agree=1, compared=4)
    workers.record(path, "p/campaign/a", {"1": ("w", bad)})
    workers.record(path, "p/campaign/a", {"1": ("w", bad)})  # reviewed twice: counted once
    workers.record(path, "p/campaign/b", {"9": ("w", Measure(gold_right=2, gold_total=2))})
    rec = workers.over_time(workers.load(path))["w"]
    assert (rec.campaigns, rec.submissions, rec.gold_right, rec.gold_total) == (2, 2, 2, 6)
    picked = workers.to_block({"w": rec}, {"goldAccuracyBelow": 0.5})
    assert [r.worker for r in picked] == ["w"]
    text = workers.blocklist_yaml("Blocklist", "mw1", "excluded", ["x1"], picked)
    assert text is not None and '    - "x1"\n    - "w"  # gold accuracy 0.33 on 6' in text
    assert workers.blocklist_yaml("Blocklist", "mw1", "excluded", ["w"], picked) is None  # listed already
    path.write_text("{not json")
    with pytest.raises(CampaignctlError, match="cannot read the worker record"):
        workers.load(path)


def test_aggregate_without_the_extra_prints_a_one_line_hint(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from campaignctl.cli import _main

    monkeypatch.setitem(sys.modules, "crowdkit.aggregation", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "crowdkit", None)
    assert _main(["results", "aggregate", "anything", "-o", "-"]) == 1  # before reading any config
    err = capsys.readouterr().err
    assert err.strip() == "Error: results aggregate needs crowd-kit: pip install 'campaignctl[review]'"


def test_crowdkit_is_never_imported_at_startup() -> None:
    code = ("import sys, campaignctl.cli\n"
            "from click.testing import CliRunner\n"
            "CliRunner().invoke(campaignctl.cli.cli, ['results', 'aggregate', '--help'])\n"
            "heavy = [m for m in ('crowdkit', 'pandas', 'sklearn') if m in sys.modules]\n"
            "assert not heavy, heavy")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr


def test_dawid_skene_beats_majority_vote_on_mixed_skill() -> None:
    script = ROOT / "benchmarks" / "aggregation.py"
    done = subprocess.run([sys.executable, str(script), "--tasks", "120", "--methods", "majority-vote,dawid-skene"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Dawid-Skene beats majority vote here" in done.stdout, done.stdout
