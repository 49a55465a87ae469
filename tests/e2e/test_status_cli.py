"""`campaignctl status` end to end on each platform's example, in-process sandbox: apply, let 12
simulated workers submit, rate 4 OK and 3 NOK, then every campaign of the config is named with its
state, counts, money, queue jobs and finish estimate; figures without a documented source read
"unknown"."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import copy_example, edit_file, run_cli


@dataclass
class Case:
    example: str
    campaign: str  # the one that gets work
    addresses: tuple[str, ...]  # every Campaign of the example
    payment: float
    queue_jobs_documented: bool


CASES = {
    "swarms": Case("quickstart", "image-rating", ("swarms/campaign/image-rating",), 0.05, False),
    "microworkers": Case(
        "microworkers-survey", "website-survey", ("mw/campaign/beta-feedback", "mw/campaign/website-survey"), 0.12, True
    ),
    "microworkers-v1": Case(
        "microworkers-legacy", "app-signup", ("mw-legacy/campaign/app-signup", "mw-legacy/campaign/moderate-images"), 0.25, False
    ),
}


@pytest.mark.parametrize("platform", sorted(CASES))
def test_status_names_every_campaign_with_its_figures(platform: str, tmp_path: Path) -> None:
    case = CASES[platform]
    path = copy_example(case.example, tmp_path)
    if platform == "swarms":
        edit_file(path / "campaign.yaml", "results: 3", "results: 25")  # 2 jobs x 25

    before = run_cli("status", path, "--format", "json")
    assert before.code == 0, before.text
    assert {c["address"]: c["state"] for c in json.loads(before.out)["campaigns"]} == dict.fromkeys(case.addresses, "not applied")

    assert run_cli("apply", path, "--auto-approve").code == 0
    assert run_cli("sandbox", "submit", case.campaign, "--dir", path, "--count", "12").code == 0
    exported = run_cli("results", "export", case.campaign, "--dir", path)
    ids = [json.loads(line)["id"] for line in exported.out.splitlines()]
    assert len(ids) == 12
    ratings = tmp_path / "ratings.csv"
    with ratings.open("w", newline="") as f:
        csv.writer(f).writerows([["id", "rating", "comment", "bonus"], *([i, "OK", "", ""] for i in ids[:4]),
                                 *([i, "NOK", "Not what we asked for", ""] for i in ids[4:7])])
    rated = run_cli("results", "rate", case.campaign, "--dir", path, "--from", ratings, "--yes")
    assert rated.code == 0, rated.text

    done = run_cli("status", path, "--format", "json")
    assert done.code == 0, done.text
    report = {c["address"]: c for c in json.loads(done.out)["campaigns"]}
    assert sorted(report) == sorted(case.addresses)
    for address, c in report.items():
        assert c["state"] not in ("unknown", "not applied", "gone"), c
        assert isinstance(c["target"], int) and isinstance(c["money"]["committed"], float), c
        assert c["queue_jobs_in_progress"] == (0 if case.queue_jobs_documented else "unknown"), c
        if not address.endswith(f"/{case.campaign}"):
            assert (c["submitted"], c["rate_last_hour"], c["money"]["spent"]) == (0, 0, 0.0), c
            assert c["finish_estimate"].startswith("none"), c
    busy = report[next(a for a in case.addresses if a.endswith(f"/{case.campaign}"))]
    assert (busy["submitted"], busy["approved"], busy["rejected"], busy["pending"]) == (12, 4, 3, 5), busy
    assert busy["money"]["spent"] == pytest.approx(4 * case.payment)
    assert busy["rate_last_hour"] == 12
    assert busy["finish_estimate"] != "unknown"

    text = run_cli("status", path)
    assert text.code == 0 and not text.err
    for address in case.addresses:
        assert address in text.out
    assert "12 submitted" in text.out and "4 approved, 3 rejected, 5 pending" in text.out


def test_status_of_a_bad_config_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = copy_example("quickstart", tmp_path)
    edit_file(path / "campaign.yaml", "workerPayment: 0.05", "workerPayment: cheap")
    done = run_cli("status", path, "--format", "json")
    assert done.code == 1 and not done.out and "campaign.yaml:" in done.err
