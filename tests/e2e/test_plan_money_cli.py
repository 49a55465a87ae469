"""Plans reviewers can trust (issue 21): what apply refuses is in the plan (text, markdown, JSON),
every call that commits money carries its cost and counts towards --max-spend and the balance
(money counted on the sandbox's side), saved plans apply from anywhere and name what moved, and
the prompt takes only 'yes' when a plan commits money or destroys — the real CLI."""
from __future__ import annotations

import hashlib
import json
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from campaignctl import schemas
from campaignctl.sandbox.core import Sandbox
from campaignctl.sandbox.store import Store
from tests.helpers import (
    CANARY,
    Result,
    Server,
    copy_example,
    edit_file,
    point_at_server,
    run_cli,
    start_server,
    stop_server,
)

CAMPAIGN = "swarms/campaign/image-rating"
NEW_JOB = """---
kind: Job
name: rate-batch-2
provider: swarms
spec:
  description: Rate the forest again
  tasks: [rate-forest]
"""


def swarms_me(server: Server) -> dict[str, str]:
    with httpx.Client(base_url=f"{server.url}/swarms", headers={"X-Auth-Token": server.key, "X-API-Version": "1.0"}) as api:
        return dict(api.get("/me").json()["balance"])


def writes(server: Server) -> int:
    calls = server.stats().get("swarms", {})
    return sum(n for method, n in calls.items() if method in ("POST", "PUT", "PATCH", "DELETE"))


def as_json(result: Result) -> dict[str, object]:
    assert result.code in (0, 2), result.text
    doc: dict[str, object] = json.loads(result.out)
    errors = [e.message for e in schemas.validator("plan.json").iter_errors(doc)]
    assert not errors, errors
    return doc


# ------------------------------------------------------------------------ finding 2: refusals

def test_a_replacement_of_a_running_campaign_is_refused_in_the_plan_and_applies_with_the_flags(tmp_path: Path, sandbox_server: Server) -> None:
    config = copy_example("quickstart", tmp_path)
    env = point_at_server(config, sandbox_server)
    assert run_cli("apply", config, "--auto-approve", env=env).code == 0
    edit_file(config / "campaign.yaml", "workerPayment: 0.05", "workerPayment: 0.06")  # published: a replacement

    text = run_cli("plan", config, "--detailed-exitcode", env=env)
    assert text.code == 2, text.text
    assert "Apply will refuse this plan without an override (2):" in text.out
    assert f"[--force] {CAMPAIGN} is protected (protect: true): refusing to replace it without --force" in text.out
    assert f"[--allow-replace] {CAMPAIGN} must be replaced (" in text.out
    assert text.out.index("Apply will refuse") < text.out.index("Plan: 0 to create")

    doc = as_json(run_cli("plan", config, "--format", "json", env=env))
    assert [(r["flag"], r["addresses"]) for r in doc["refusals"]] == [("--force", [CAMPAIGN]), ("--allow-replace", [CAMPAIGN])]  # type: ignore[index,union-attr]

    md = run_cli("plan", config, "--format", "markdown", env=env)
    assert md.code == 0, md.text
    caution = md.out[md.out.index("> [!CAUTION]"):]
    assert caution.startswith("> [!CAUTION]\n> **`campaignctl apply` will refuse this plan** without an override (2):\n")
    assert "> - `--allow-replace`: swarms/campaign/image-rating must be replaced" in caution
    assert md.out.index("> [!CAUTION]") < md.out.index("### Changes")

    plan_file = tmp_path / "plan.json"
    assert run_cli("plan", config, "-out", plan_file, env=env).code == 0
    digest = hashlib.sha256(plan_file.read_bytes()).hexdigest()
    before = writes(sandbox_server)
    refused = run_cli("apply", plan_file, "--checksum", digest, "--allow-replace", env=env)  # --force is missing
    assert refused.code == 1 and "refusing to apply (nothing was sent)" in refused.err
    assert "refusing to replace it without --force" in refused.err and "must be replaced" not in refused.err
    assert writes(sandbox_server) == before
    done = run_cli("apply", plan_file, "--checksum", digest, "--allow-replace", "--force", env=env)
    assert done.code == 0, done.text
    assert run_cli("plan", config, "--detailed-exitcode", env=env).code == 0


def test_max_spend_given_to_plan_is_listed(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)
    plan = run_cli("plan", config, "--max-spend", "0.10")
    assert "[--max-spend] this plan commits 0.36 USD, more than --max-spend 0.10 USD" in plan.out
    doc = as_json(run_cli("plan", config, "--format", "json", "--max-spend", "0.10"))
    (refusal,) = doc["refusals"]  # type: ignore[misc]
    assert refusal["flag"] == "--max-spend" and refusal["addresses"] == [CAMPAIGN]
    assert as_json(run_cli("plan", config, "--format", "json"))["refusals"] == []


# ------------------------------------------------------------------------ finding 3: money

def _store_balance(db: Path, platform: str) -> Decimal:
    """The account's available money as the sandbox itself counts it (its own SQLite file)."""
    from campaignctl.sandbox.microworkers import model as mw_v2_model
    from campaignctl.sandbox.microworkers_v1 import core as mw_v1_core
    from campaignctl.sandbox.swarms.account import get_balance

    store = Store(db)
    try:
        sb = Sandbox(store)
        if platform == "swarms":
            return get_balance(store, sb.settings)["available"]
        if platform == "microworkers":
            return mw_v2_model.balance(sb)
        return Decimal(str(mw_v1_core.balance(sb)))
    finally:
        store.close()


def _add_swarms_job(config: Path) -> None:
    (config / "jobs.yaml").write_text((config / "jobs.yaml").read_text() + NEW_JOB)
    edit_file(config / "campaign.yaml", "jobs: [rate-batch-1, describe-batch-1]", "jobs: [rate-batch-1, describe-batch-1, rate-batch-2]")


def _add_survey_rows(config: Path) -> None:
    with (config / "data" / "rows.csv").open("a") as f:
        for i in range(31, 41):
            f.write(f"site{i:03d},https://extra{i}.example.com/,Extra {i}\n")


def _add_legacy_positions(config: Path) -> None:
    edit_file(config / "campaigns.yaml", "available_positions: 50", "available_positions: 70")


MONEY: dict[str, tuple[str, str, Callable[[Path], None], str, tuple[str, ...]]] = {
    # example, sandbox platform, a change that commits money, the call that commits it, the flags apply needs
    # a published SWARMS campaign is read-only, its job list too: a job added to it is a new campaign,
    # published (the money), and the old one cancelled (which gives back what it had not spent)
    "swarms: a job added to an active campaign": ("quickstart", "swarms", _add_swarms_job, "POST /campaigns/{id}/publish",
                                                  ("--allow-replace", "--force")),
    "microworkers: rows added (tasks-groups)": ("microworkers-survey", "microworkers", _add_survey_rows, "/tasks-groups +10 positions", ()),
    "microworkers-v1: positions added": ("microworkers-legacy", "microworkers-v1", _add_legacy_positions, "add_positions", ()),
}


@pytest.mark.parametrize("case", list(MONEY))
def test_every_call_that_commits_money_is_costed_and_capped(tmp_path: Path, case: str) -> None:
    example, platform, change, call, flags = MONEY[case]
    config = copy_example(example, tmp_path)
    db = config / ".campaignctl" / "sandbox.db"

    def committed(*args: str) -> tuple[Decimal, Decimal]:
        """(the plan's cost, what apply took from the account on the sandbox's books)"""
        cost = Decimal(str(as_json(run_cli("plan", config, "--format", "json"))["cost"]["total"]))  # type: ignore[index]
        before = _store_balance(db, platform)  # the plan made the sandbox's file
        applied = run_cli("apply", config, "--auto-approve", *args)
        assert applied.code == 0, applied.text
        return cost, before - _store_balance(db, platform)

    cost, spent = committed()  # creating everything
    assert cost > 0 and spent == cost

    change(config)
    plan = run_cli("plan", config)
    line = next(ln for ln in plan.out.splitlines() if call in ln)
    assert line.endswith(" USD)"), line  # the call shows what it commits
    doc = as_json(run_cli("plan", config, "--format", "json"))
    cost = Decimal(str(doc["cost"]["total"]))  # type: ignore[index]
    assert cost > 0 and f"commits {cost:.2f} USD" in plan.out

    held = _store_balance(db, platform)
    refused = run_cli("apply", config, "--auto-approve", "--max-spend", "0.01", *flags)
    assert refused.code == 1 and f"this plan commits {cost:.2f} USD, more than --max-spend 0.01 USD" in refused.err
    assert _store_balance(db, platform) == held  # not a cent moved

    cost, spent = committed("--max-spend", str(cost), *flags)
    if flags:  # the replaced campaign's cancel gave back what it held: never more spent than the plan said
        assert 0 < spent <= cost, (spent, cost)
    else:
        assert spent == cost, (spent, cost)
    assert run_cli("plan", config, "--detailed-exitcode").code == 0


# ------------------------------------------------------------------------ finding 4: the balance

def test_a_plan_over_the_balance_is_refused_before_any_call(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--balance", "0.10")
    try:
        config = copy_example("quickstart", tmp_path)
        env = point_at_server(config, server)
        plan = run_cli("plan", config, env=env)
        assert "[--force] provider swarms: this plan commits 0.36 USD but only 0.10 USD is available" in plan.out
        doc = as_json(run_cli("plan", config, "--format", "json", env=env))
        assert [(r["flag"], r["addresses"]) for r in doc["refusals"]] == [("--force", [CAMPAIGN])]  # type: ignore[index,union-attr]
        plan_file = tmp_path / "plan.json"
        assert run_cli("plan", config, "-out", plan_file, env=env).code == 0

        for args in ((config, "--auto-approve"), (plan_file,)):
            refused = run_cli("apply", *args, env=env)
            assert refused.code == 1, refused.text
            assert "refusing to apply (nothing was sent)" in refused.err and "only 0.10 USD is available" in refused.err
            assert writes(server) == 0  # not a single write reached the platform
            assert swarms_me(server)["available"] == "0.1 USD"  # as the sandbox spells it
            assert not (config / ".campaignctl" / "state.json").exists()
    finally:
        stop_server(server)


def test_a_saved_plan_is_checked_against_the_balance_at_apply_time(tmp_path: Path) -> None:
    """Refused while the account is short; once topped up, the same reviewed plan applies."""
    from campaignctl.sandbox.swarms.account import set_balance

    config = copy_example("quickstart", tmp_path)
    db = config / ".campaignctl" / "sandbox.db"

    def fund(amount: str) -> None:
        store = Store(db)
        try:
            set_balance(store, {"available": Decimal(amount), "frozen": Decimal(0)})
        finally:
            store.close()

    assert run_cli("validate", config).code == 0 and run_cli("plan", config).code == 0  # makes the sandbox's file
    fund("0.10")
    plan_file = tmp_path / "plan.json"
    made = run_cli("plan", config, "-out", plan_file)
    assert "[--force] provider swarms: this plan commits 0.36 USD but only 0.10 USD is available" in made.out
    refused = run_cli("apply", plan_file)
    assert refused.code == 1 and "only 0.10 USD is available" in refused.err
    fund("1.00")
    done = run_cli("apply", plan_file)
    assert done.code == 0, done.text
    assert _store_balance(db, "swarms") == Decimal("0.64")  # 0.36 USD frozen, as planned


def test_the_balance_is_checked_per_account(tmp_path: Path) -> None:
    """One repo, two accounts: SWARMS (in-process, 10,000 USD) is covered, the Microworkers v2
    account (served, 5 USD) is not: only that one is refused, naming its campaigns."""
    server = start_server(tmp_path, "--balance", "5")
    try:
        config = copy_example("quickstart", tmp_path)
        shutil.copytree(copy_example("microworkers-survey", tmp_path / "mw"), config / "survey")
        env = point_at_server(config, server, "microworkers", "MW_API_KEY")
        doc = as_json(run_cli("plan", config, "--format", "json", env=env))
        refusals = doc["refusals"]
        assert [r["flag"] for r in refusals] == ["--force"], refusals  # type: ignore[index,union-attr]
        reason = refusals[0]["reason"]  # type: ignore[index]
        assert reason.startswith("provider mw: this plan commits ") and "but only 5.00 USD is available" in reason
        assert refusals[0]["addresses"] == ["mw/campaign/beta-feedback", "mw/campaign/website-survey"]  # type: ignore[index]
        assert doc["cost"]["by_provider"]["swarms"] > 0  # type: ignore[index]
    finally:
        stop_server(server)


# ------------------------------------------------------------------------ finding 7: saved plans

def test_a_saved_plan_applies_from_any_directory(tmp_path: Path) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = copy_example("quickstart", work)
    made = run_cli("plan", "quickstart", "-out", "plan.json", cwd=work)  # as in the issue: relative paths
    assert made.code == 0, made.text
    saved = json.loads((work / "plan.json").read_text())
    assert saved["config_root"] == str(config.resolve()) and saved["config_root_relative"] == "quickstart"
    # the plan file alone, elsewhere: its config is found by its absolute path
    shutil.copy(work / "plan.json", elsewhere / "plan.json")
    digest = hashlib.sha256((elsewhere / "plan.json").read_bytes()).hexdigest()
    ok = run_cli("apply", "plan.json", "--checksum", digest, cwd=elsewhere)
    assert ok.code == 0, ok.text
    assert "problem(s)" not in ok.err

    # the config and its plan moved together (another checkout): found relative to the plan file
    edit_file(config / "campaign.yaml", "state: active", "state: paused")
    assert run_cli("plan", "quickstart", "-out", "plan.json", cwd=work).code == 0
    moved = work.rename(tmp_path / "moved")
    ok = run_cli("apply", moved / "plan.json", cwd=elsewhere)
    assert ok.code == 0, ok.text
    assert run_cli("plan", moved / "quickstart", "--detailed-exitcode").code == 0

    gone = run_cli("apply", elsewhere / "plan.json", cwd=elsewhere)  # its config moved away from the absolute path
    assert gone.code == 1 and "the configuration directory of this plan is not there" in gone.err


# ------------------------------------------------------------------------ finding 8: confirmation

def run_in_terminal(*args: str | Path, answer: str, cwd: Path | None = None) -> Result:
    """The real CLI with a pseudo-terminal as stdin, typing ``answer`` at the prompt."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWARMS_", "MICROWORKERS_"))}
    env.update({"NO_COLOR": "1", "PYTHONWARNINGS": "error"})
    try:
        proc = subprocess.Popen([sys.executable, "-m", "campaignctl", *map(str, args)], cwd=cwd, env=env,
                                stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.close(slave)
        slave = -1
        os.write(master, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=120)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    result = Result(proc.returncode, out, err)
    assert "Traceback" not in result.text and CANARY not in result.text, result.text
    return result


def test_money_needs_yes_typed_out(tmp_path: Path) -> None:
    config = copy_example("quickstart", tmp_path)
    state = config / ".campaignctl" / "state.json"
    for answer in ("y", "Y", "YES", ""):
        declined = run_in_terminal("apply", config, answer=answer)
        assert declined.code == 1, declined.text
        assert "This plan commits 0.36 USD. Only 'yes' will be accepted to approve." in declined.err
        assert "cancelled" in declined.err and not state.exists()
    accepted = run_in_terminal("apply", config, answer="yes")
    assert accepted.code == 0, accepted.text
    assert "10 call(s) done, 0 failed" in accepted.err

    # an in-place change that commits nothing (a pause): y/N as before
    edit_file(config / "campaign.yaml", "state: active", "state: paused")
    small = run_in_terminal("apply", config, answer="y")
    assert small.code == 0, small.text
    assert "Only 'yes'" not in small.err and "[y/N]" in small.err

    # a deletion (here: cancelling the campaign) needs 'yes' too
    edit_file(config / "campaign.yaml", "state: paused", "state: cancelled")
    cancel = run_in_terminal("apply", config, answer="y")
    assert cancel.code == 1 and "makes 1 destructive call(s) (cancel)" in cancel.err


# ------------------------------------------------------------------------ finding 3: bonuses

def test_bonuses_count_the_fee_and_never_start_over_the_balance(tmp_path: Path) -> None:
    from campaignctl.sandbox.microworkers import model as mw_v2_model

    config = copy_example("microworkers-survey", tmp_path)
    db = config / ".campaignctl" / "sandbox.db"
    assert run_cli("apply", config, "--auto-approve").code == 0
    assert run_cli("sandbox", "submit", "website-survey", "--dir", config, "--count", "30").code == 0
    ids = [json.loads(line)["id"] for line in run_cli("results", "export", "website-survey", "--dir", config).out.splitlines()]
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("id,rating,comment,bonus\n" + "".join(f"{i},OK,,0.20\n" for i in ids[:5]))

    def set_balance(amount: str) -> None:
        store = Store(db)
        try:
            store.kv_set(mw_v2_model.P, "balance", amount)
        finally:
            store.close()

    set_balance("1.00")  # the bonuses are 1.00 USD; with the 7.5 % fee, 1.075
    refused = run_cli("results", "rate", "website-survey", "--dir", config, "--from", ratings, "--yes")
    assert refused.code == 1, refused.text
    assert "bonuses:  5, total 1.00 USD (1.08 USD with the platform's fee)" in refused.err
    assert "NOT ENOUGH for the bonuses" in refused.err
    assert "the bonuses cost 1.08 USD (fee included) but only 1.00 USD is available: nothing was sent" in refused.err
    assert _store_balance(db, "microworkers") == Decimal("1.00")
    exported = [json.loads(line) for line in run_cli("results", "export", "website-survey", "--dir", config).out.splitlines()]
    assert all(r["rating"] == "" for r in exported)  # not one rating sent

    set_balance("2.00")
    done = run_cli("results", "rate", "website-survey", "--dir", config, "--from", ratings, "--yes")
    assert done.code == 0, done.text
    assert Decimal("2.00") - _store_balance(db, "microworkers") == Decimal("1.075")  # what the summary said, on the sandbox's books
