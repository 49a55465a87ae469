"""`kind: Policy`: validate (offline) and plan / apply (against the embedded sandbox) enforce fair
pay, payment and spend caps and protection, each rule an error or a warning, with file:line."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from campaignctl.policy import minutes_of
from tests.helpers import copy_example, edit_file, run_cli


def write_policy(config: Path, body: str) -> Path:
    path = config / "policy.yaml"
    path.write_text(f"kind: Policy\nname: fair-pay\nspec:\n{body}")
    return path


@pytest.mark.parametrize("value, minutes", [
    ("10 sec", Decimal(10) / 60), ("60 sec", Decimal(1)), ("2 min", Decimal(2)), ("1 hour", Decimal(60)),
    ("2 days", Decimal(2880)), (30, Decimal(30)), (0.5, Decimal("0.5")), ("soon", None), (0, None), (True, None),
])  # fmt: skip
def test_minutes_of(value: object, minutes: Decimal | None) -> None:
    assert minutes_of(value) == minutes


def test_validate_enforces_fair_pay_with_file_and_line(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)  # 0.05 USD per result of "60 sec": 3 USD/h
    write_policy(config, "  minHourlyWage: {usd: 12, level: error}\n")
    refused = run_cli("validate", config)
    assert refused.code == 1, refused.text
    line = next(n for n, text in enumerate((config / "campaign.yaml").read_text().splitlines(), 1) if "workerPayment" in text)
    assert f"campaign.yaml:{line}:" in refused.err
    assert "swarms/campaign/image-rating pays 3.00 USD/h (workerPayment 0.05 USD per task, estDuration 60 sec)" in refused.err
    assert "below the minimum of 12.00 USD/h (minHourlyWage of policy fair-pay" in refused.err and "policy.yaml:4)" in refused.err

    # a warning: said on stderr, exit 0
    write_policy(config, "  minHourlyWage: {usd: 12, level: warning}\n")
    warned = run_cli("validate", config)
    assert warned.code == 0, warned.text
    assert "Warning: " in warned.err and "3.00 USD/h" in warned.err and "valid" in warned.out

    # the campaign's own estimate replaces estDuration: 0.05 USD per 10 s = 18 USD/h
    write_policy(config, "  minHourlyWage: {usd: 12}\n")
    edit_file(config / "campaign.yaml", "protect: true", "protect: true\nestimatedMinutes: 0.1666667")
    fair = run_cli("validate", config)
    assert fair.code == 0 and "Warning" not in fair.err, fair.text


def test_validate_payment_cap_protection_and_microworkers_time_limit(tmp_path: Path) -> None:
    config = copy_example("microworkers-survey", tmp_path)  # 0.12 USD for 10 min, 0.75 USD for 30 min: 0.72 and 1.50 USD/h
    write_policy(config, "  minHourlyWage: {usd: 1}\n  maxPaymentPerTask: {usd: 0.5, level: warning}\n"
                         "  requireProtect: {level: error}\n")  # fmt: skip
    done = run_cli("validate", config)
    assert done.code == 1, done.text
    assert "mw/campaign/website-survey pays 0.72 USD/h (paymentPerTask 0.12 USD per task, minutesToFinish 10)" in done.err
    assert "beta-feedback pays 1.50" not in done.err
    assert done.err.count("is not protected: add protect: true") == 2
    assert "Warning: " in done.err and "mw/campaign/beta-feedback pays 0.75 USD per task (paymentPerTask), more than 0.50 USD" in done.err

    # a bad rule is a schema error at its line
    write_policy(config, "  minHourlyWage: {usd: 12, level: fatal}\n")
    bad = run_cli("validate", config)
    assert bad.code == 1 and "policy.yaml:4:" in bad.err and "'fatal' is not one of error, warning" in bad.err


def test_plan_shows_warnings_and_refuses_errors_and_apply_sends_nothing(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)  # its first apply commits 0.36 USD
    write_policy(config, "  minHourlyWage: {usd: 12, level: warning}\n  maxSpendPerApply: {usd: 0.30}\n")
    saved = tmp_path / "plan.json"
    plan = run_cli("plan", config, "-out", saved)
    assert plan.code == 1, plan.text
    assert "Warning: policy warning: " in plan.out and "3.00 USD/h" in plan.out
    assert "Warning: policy violation (apply refuses): " in plan.out and "this plan commits 0.36 USD, more than 0.30 USD" in plan.out
    assert "refusing to plan: 1 policy violation(s)" in plan.err and "policy.yaml:5:" in plan.err
    assert not saved.exists()
    as_json = run_cli("plan", config, "--format", "json")
    assert as_json.code == 1 and any("maxSpendPerApply" in w for w in json.loads(as_json.out)["warnings"])

    applied = run_cli("apply", config, "--auto-approve")
    assert applied.code == 1 and "refusing to apply: 1 policy violation(s)" in applied.err
    assert "Apply:" not in applied.err  # no call was made
    assert "Plan: 6 to create" in run_cli("plan", config, "--max-spend", "1").out  # still nothing on the platform

    write_policy(config, "  minHourlyWage: {usd: 12, level: warning}\n  maxSpendPerApply: {usd: 0.36}\n")
    applied = run_cli("apply", config, "--auto-approve")
    assert applied.code == 0, applied.text
    assert "Warning: policy: " in applied.err and "3.00 USD/h" in applied.err
    again = run_cli("plan", config, "--detailed-exitcode")
    assert again.code == 0 and "No changes" in again.out  # spends nothing: within any cap
